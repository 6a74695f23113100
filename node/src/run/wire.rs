//! What the node sends over the network: message and request kinds (docs/NETWORK.md).

/// A consensus message: `SCALE(cairn_consensus::Message)`.
pub const KIND_CONSENSUS: u8 = 1;
/// Client transactions a full node forwards to the validator that batches their
/// sender's: `SCALE(Vec<Transaction>)`, at most `forward::MAX_FORWARD_TXS` of them.
pub const KIND_FORWARD: u8 = 2;
/// A batch of this validator's client transactions, sent once to every validator:
/// `SCALE(Batch)` (docs/PROTOCOL.md §14).
pub const KIND_BATCH: u8 = 3;
/// A vote for a batch, to its author: `SCALE(BatchVote)`.
pub const KIND_BATCH_VOTE: u8 = 4;
/// A batch's proof of availability, from its author to every validator:
/// `SCALE(ProofOfAvailability)`.
pub const KIND_BATCH_PROOF: u8 = 5;
/// A proposal carrying its batches' proofs instead of their transactions:
/// `SCALE(BatchedProposal)`.
pub const KIND_BATCHED_PROPOSAL: u8 = 6;
/// A request for a block by id: the 32-byte id; the answer is `SCALE(Block)`, or empty
/// when the peer does not have it.
pub const REQUEST_BLOCK: u8 = 1;
/// A request for the peer's committed head: empty; the answer is
/// `SCALE(sync::ChainStatus)`.
pub const REQUEST_STATUS: u8 = 2;
/// A request for a range of committed blocks: `SCALE(sync::BlockRange)`; the answer is
/// `SCALE(sync::BlockChunk)`.
pub const REQUEST_BLOCKS: u8 = 3;
/// A request for a batch by digest: the 32-byte digest; the answer is `SCALE(Batch)`,
/// or empty when the peer does not hold it.
pub const REQUEST_BATCH: u8 = 4;
/// Bytes of a block besides its transactions, at most: the header with its justify QC
/// (a QC is at most `MAX_CERT_BYTES`) and the length prefix.
pub const BLOCK_OVERHEAD_BYTES: usize = cairn_types::limits::MAX_CERT_BYTES + 4 * 1024;
/// Bytes of a proposal besides its block, at most: the timeout certificate and the
/// signature.
pub const PROPOSAL_OVERHEAD_BYTES: usize = cairn_types::limits::MAX_CERT_BYTES + 1024;

/// The network's message cap for a chain whose blocks are at most `max_block_bytes`:
/// a maximal proposal must fit.
pub fn max_message_bytes(max_block_bytes: usize) -> usize {
    use cairn_types::{Batch, BatchedProposal, Wire};
    max_block_bytes
        .saturating_add(PROPOSAL_OVERHEAD_BYTES)
        .max(Batch::MAX_BYTES)
        .max(BatchedProposal::MAX_BYTES)
}
