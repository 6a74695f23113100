//! Hard limits on everything decoded from outside. Genesis parameters may lower the
//! block limits but never raise them above these.

/// Longest state key, in bytes.
pub const MAX_KEY_BYTES: usize = 256;
/// Longest state value, in bytes.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Largest encoded transaction, in bytes (a maximal `Put` plus headers fits).
pub const MAX_TX_BYTES: usize = MAX_VALUE_BYTES + MAX_KEY_BYTES + 1024;
/// Most transactions in one block.
pub const MAX_BLOCK_TXS: usize = 10_000;
/// Largest encoded block, in bytes.
pub const MAX_BLOCK_BYTES: usize = 16 * 1024 * 1024;
/// Most validators in a set (and so most signatures in a certificate).
pub const MAX_VALIDATORS: usize = 256;
/// Largest encoded consensus message other than a block proposal, in bytes.
pub const MAX_CERT_BYTES: usize = 64 * 1024;
/// Most siblings in a Merkle proof (a tree of 2^64 leaves has 64 levels).
pub const MAX_PROOF_SIBLINGS: usize = 64;
/// Most transactions in one batch (docs/DATAPATH.md).
pub const MAX_BATCH_TXS: usize = 4_000;
/// Most encoded bytes of one batch's transactions.
pub const MAX_BATCH_BYTES: usize = 2 * 1024 * 1024;
/// Most proofs of availability in one proposal.
pub const MAX_BLOCK_BATCHES: usize = 512;
