//! Why a proposal's proofs cannot be assembled into transactions.

use cairn_crypto::Hash;
use cairn_types::Round;

/// A proposal's list of proofs breaks a rule every validator checks alike.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BatchesError {
    /// A proof's batch expired before the block's round.
    #[error("batch {digest} expires at round {expires}, the block is of round {round}")]
    Expired {
        /// The batch's digest.
        digest: Hash,
        /// Its expiry round.
        expires: Round,
        /// The block's round.
        round: Round,
    },
    /// The same batch twice in one block.
    #[error("batch {digest} appears twice")]
    Repeated {
        /// The batch's digest.
        digest: Hash,
    },
}
