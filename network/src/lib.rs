//! Permissioned libp2p networking between cairn validators.
//!
//! [`Network::start`] binds a TCP listener (Noise, Yamux), connects to the other
//! validators named in the genesis (and any it discovers through Kademlia), and
//! returns a [`NetworkHandle`] to broadcast, send and request, plus a receiver of
//! [`Incoming`] messages and requests tagged with the sender's `ValidatorId`. Only
//! the genesis validators' peer ids may connect. libp2p stays inside this crate.
//! Protocols, framing and limits are described in `docs/NETWORK.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod behaviour;
mod codec;
mod config;
mod driver;
mod envelope;
mod error;
mod events;
mod gate;
mod handle;
mod inbox;
mod metrics;
mod outbox;
mod peers;
mod stream;

pub use behaviour::peer_id_of;
pub use config::{Limits, NetworkConfig, parse_dial_address};
pub use envelope::{ENVELOPE_VERSION, Envelope, EnvelopeError};
pub use error::{NetworkError, Result};
pub use handle::{Incoming, Network, NetworkHandle, Offence, Responder};
pub use inbox::Inbox;
pub use libp2p::multiaddr::Protocol;
pub use libp2p::{Multiaddr, PeerId};
pub use metrics::{DisconnectReason, DropReason, Metrics};
pub use peers::TokenBucket;
