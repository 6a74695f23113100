//! What [`crate::Store::verify_chain`] and [`crate::audit::ChainAudit`] can find wrong
//! with a chain.

use cairn_crypto::Hash;
use cairn_types::{ChainId, Height, Round};

/// The first problem found at one height (the height is in
/// [`crate::StorageError::InvalidChain`] or [`crate::audit::AuditFault`]). Each variant
/// carries the values compared.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainFault {
    /// The audit was asked for another chain than the store's.
    #[error("the store belongs to chain {store}, not {asked}")]
    WrongStore {
        /// The store's chain.
        store: ChainId,
        /// The chain asked for.
        asked: ChainId,
    },
    /// The height index has no block at a height at or below the head.
    #[error("no block in the height index")]
    MissingBlock,
    /// The height index names a block whose header is not stored.
    #[error("header of block {id} is missing")]
    MissingHeader {
        /// The indexed id.
        id: Hash,
    },
    /// A stored entry does not decode strictly.
    #[error("{what} does not decode: {reason}")]
    Undecodable {
        /// Which entry ("header", "transaction 3", "commit certificate", ...).
        what: String,
        /// The decoder's reason.
        reason: String,
    },
    /// The header's hash is not the id it is stored and indexed under (or, for blocks
    /// from another source, the id that source names it by).
    #[error("header hashes to {computed}, but is stored or named as block {indexed}")]
    IdMismatch {
        /// The id in the height index (or the id the source states).
        indexed: Hash,
        /// blake3 of the header.
        computed: Hash,
    },
    /// The header says another height.
    #[error("header says height {found}")]
    WrongHeight {
        /// The header's height.
        found: Height,
    },
    /// The header names another chain.
    #[error("header names chain {found}")]
    WrongChain {
        /// The header's chain id.
        found: ChainId,
    },
    /// The parent link does not name the block below.
    #[error("parent is {found}, but the block below is {expected}")]
    ParentLink {
        /// The id of the block at the height below (the chain id for height 1).
        expected: Hash,
        /// The header's parent.
        found: Hash,
    },
    /// The justify QC does not certify the parent block.
    #[error(
        "justify QC certifies block {certified} (height {certified_height}, round \
         {certified_round}), not the parent {parent} (round {parent_round})"
    )]
    JustifyNotParent {
        /// The parent's id.
        parent: Hash,
        /// The parent's round.
        parent_round: Round,
        /// The block the QC certifies.
        certified: Hash,
        /// The QC's height.
        certified_height: Height,
        /// The QC's round.
        certified_round: Round,
    },
    /// The block's round is not above its justify QC's round.
    #[error("round {round} is not above the justify QC's round {justify_round}")]
    RoundNotAbove {
        /// The block's round.
        round: Round,
        /// The QC's round.
        justify_round: Round,
    },
    /// The justify QC does not verify against the validator set.
    #[error("justify QC is invalid: {reason}")]
    JustifyInvalid {
        /// Why.
        reason: String,
    },
    /// The stored transactions have a gap, or too many.
    #[error("transaction {expected} is missing (found position {found:?})")]
    TxGap {
        /// The position expected next.
        expected: u32,
        /// The position found instead (height, index), if any.
        found: Option<(Height, u32)>,
    },
    /// The transactions do not hash to the header's payload root.
    #[error("payload root is {header}, but the stored transactions give {computed}")]
    PayloadRoot {
        /// The header's payload root.
        header: Hash,
        /// The Merkle root of the stored transactions' hashes.
        computed: Hash,
    },
    /// A transaction has no receipt, or one that does not match it.
    #[error("receipt of transaction {index}: {problem}")]
    Receipt {
        /// The transaction's position.
        index: u32,
        /// What is wrong.
        problem: String,
    },
    /// A transaction is missing from the tx-hash index.
    #[error("transaction {index} ({tx_hash}) is not in the tx-hash index")]
    TxIndexMissing {
        /// Its position.
        index: u32,
        /// Its hash.
        tx_hash: Hash,
    },
    /// The stored commit certificate does not verify against the validator set.
    #[error("commit certificate is invalid: {reason}")]
    CertificateInvalid {
        /// Why.
        reason: String,
    },
    /// The stored commit certificate is valid but does not prove this block committed.
    #[error(
        "commit certificate (round {round}, height {height}, parent {parent_id} of round \
         {parent_round}) does not prove block {block} of round {block_round} committed"
    )]
    CertificateNotCommitting {
        /// The certificate's round.
        round: Round,
        /// The certificate's height.
        height: Height,
        /// The parent it names.
        parent_id: Hash,
        /// The parent round it names.
        parent_round: Round,
        /// This block's id.
        block: Hash,
        /// This block's round.
        block_round: Round,
    },
    /// The head block has no stored commit certificate.
    #[error("the head block has no commit certificate")]
    HeadNotCertified,
    /// The recorded head is not the block at its height.
    #[error("head is recorded as {recorded}, but the block at its height is {found}")]
    HeadMismatch {
        /// The head id in the metadata.
        recorded: Hash,
        /// The id in the height index.
        found: Hash,
    },
    /// A block is stored above the recorded head.
    #[error("a block {id} is stored above the head")]
    AboveHead {
        /// Its id.
        id: Hash,
    },
    /// The header's state claim is below its parent's (claims never go back).
    #[error("state claim of height {state_height} is below the parent's {parent}")]
    StateClaimBackwards {
        /// This header's `state_height`.
        state_height: Height,
        /// The parent's.
        parent: Height,
    },
    /// The header vouches for another state than re-executing the chain gives.
    #[error(
        "header vouches for state {claimed} at height {state_height}, but re-executing the \
         chain gives {computed}"
    )]
    StateClaim {
        /// The height it vouches for.
        state_height: Height,
        /// What it claims.
        claimed: Hash,
        /// What re-execution gives.
        computed: Hash,
    },
    /// A transaction's recorded outcome is not what re-executing the chain gives.
    #[error("transaction {index} is recorded as {recorded}, but re-executing gives {computed}")]
    OutcomeMismatch {
        /// Its position.
        index: u32,
        /// The outcome the source recorded.
        recorded: String,
        /// The outcome re-execution gives.
        computed: String,
    },
    /// The source's state hash after this block is not what re-executing gives.
    #[error("the source records state {recorded} after this block, re-executing gives {computed}")]
    ResultState {
        /// What the source records.
        recorded: Hash,
        /// What re-execution gives.
        computed: Hash,
    },
}
