//! The error type of `cairn-types`.

use cairn_crypto::CryptoError;

use crate::{Round, ValidatorId};

/// Result alias for this crate.
pub type Result<T, E = TypesError> = std::result::Result<T, E>;

/// Why bytes could not be decoded or a message or certificate is not valid.
#[derive(Debug, thiserror::Error)]
pub enum TypesError {
    /// The input is larger than the type allows.
    #[error("{what} of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The type being decoded.
        what: &'static str,
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input is not one valid SCALE encoding of the type.
    #[error("cannot decode {what}: {reason}")]
    Decode {
        /// The type being decoded.
        what: &'static str,
        /// What the decoder reported.
        reason: String,
    },
    /// A bounded collection was given more items than it may hold.
    #[error("{len} items exceed the limit of {max}")]
    TooMany {
        /// Items given.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A validator set is unusable.
    #[error("invalid validator set: {0}")]
    InvalidValidatorSet(String),
    /// A message names a signer that is not in the validator set.
    #[error("unknown validator {id}: the set has {n} validators")]
    UnknownValidator {
        /// The claimed signer.
        id: ValidatorId,
        /// Size of the set.
        n: usize,
    },
    /// A message was signed for another chain.
    #[error("message is for another chain")]
    WrongChain,
    /// A signature did not verify.
    #[error(transparent)]
    Signature(#[from] CryptoError),
    /// A certificate is malformed or has too few signers.
    #[error("invalid {what} for round {round}: {problem}")]
    InvalidCertificate {
        /// "quorum certificate" or "timeout certificate".
        what: &'static str,
        /// The certificate's round.
        round: Round,
        /// What is wrong.
        problem: String,
    },
    /// A block's contents contradict its header.
    #[error("invalid block at height {height}: {problem}")]
    InvalidBlock {
        /// The block's height.
        height: u64,
        /// What is wrong.
        problem: String,
    },
    /// A batch, batch vote or proof of availability is not what it claims.
    #[error("invalid batch {sequence} of validator {author}: {problem}")]
    InvalidBatch {
        /// The batch's author.
        author: crate::ValidatorId,
        /// Its sequence number.
        sequence: u64,
        /// What is wrong.
        problem: String,
    },
}
