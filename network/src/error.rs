//! The crate's error type.

use cairn_types::ValidatorId;

/// Errors of the network layer. Each says what went wrong and carries the values.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The local network key is not one of the genesis validators' peer ids.
    #[error(
        "local peer id {peer_id} is not in the validator set; use the network key the genesis names"
    )]
    NotAValidator {
        /// The local peer id.
        peer_id: String,
    },
    /// A validator id outside the validator set.
    #[error("{id} is not a validator (the set has {n} validators)")]
    UnknownValidator {
        /// The id asked for.
        id: ValidatorId,
        /// Size of the validator set.
        n: usize,
    },
    /// A payload larger than the configured cap.
    #[error("payload of {len} bytes exceeds the cap of {max} bytes")]
    TooLarge {
        /// Payload size.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// A validator address in the configuration is not a usable multiaddr.
    #[error("bad address {address:?}: {reason}")]
    BadAddress {
        /// The address text.
        address: String,
        /// Why it was refused.
        reason: String,
    },
    /// Building or starting the libp2p swarm failed (e.g. the listen port is taken).
    #[error("could not start the network: {0}")]
    Start(String),
    /// The network task has stopped; the handle can no longer be used.
    #[error("the network task has stopped")]
    Stopped,
    /// Too many requests are already outstanding to this peer.
    #[error("too many outstanding requests to {0}; retry later")]
    Busy(ValidatorId),
    /// A request failed: not connected, timed out, or the peer did not answer.
    #[error("request to {to} failed: {reason}")]
    Request {
        /// The peer asked.
        to: ValidatorId,
        /// What happened.
        reason: String,
    },
}

/// Result with [`NetworkError`].
pub type Result<T> = std::result::Result<T, NetworkError>;
