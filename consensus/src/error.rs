//! The error type of `cairn-consensus`.

use cairn_types::ValidatorId;

/// Why a [`crate::Consensus`] could not be set up. Once running, the state machine
/// never fails: bad input is dropped (and counted by the driver from the actions it
/// does not get), never returned as an error.
#[derive(Debug, thiserror::Error)]
pub enum ConsensusError {
    /// This validator's id is not in the validator set.
    #[error("validator {id} is not in the validator set of {n}")]
    NotAValidator {
        /// The id given.
        id: ValidatorId,
        /// Size of the set.
        n: usize,
    },
    /// The signing key does not match the validator set's key for this id.
    #[error("the consensus key does not match validator {id}'s key in the genesis")]
    WrongKey {
        /// The id given.
        id: ValidatorId,
    },
    /// The persisted safety state belongs to another chain.
    #[error("the persisted safety state is for another chain: {0}")]
    ForeignSafetyState(String),
}
