//! cairn's JSON-RPC API: a jsonrpsee server serving HTTP and WebSocket on one port, a
//! typed [`Client`], and an OpenRPC description of every method.
//!
//! * [`RpcServer::start`] serves the methods of [`methods::METHODS`] from an
//!   [`RpcContext`]: the node's [`cairn_storage::Store`], its genesis, its mempool and
//!   status through [`NodeApi`], and a `watch` of the committed head that drives
//!   `chain_subscribeHeads`.
//! * [`types`] holds the JSON shapes (binary values as `0x` hex, see [`hex`]); they
//!   derive JSON Schema, from which [`openrpc::document`] builds `rpc.discover`.
//! * Errors are JSON-RPC errors with the stable codes of [`codes`], with structured
//!   `data` where there are values to report.
//! * Limits: request and response size, connections, subscriptions per connection,
//!   batch length, a per-connection token-bucket rate limit, and slow subscribers are
//!   closed rather than buffered without bound ([`RpcConfig`]).
//! * [`RpcMetrics`] counts calls by method and outcome, and open subscriptions.
//!
//! The methods, their parameters and results, the error codes and the limits are
//! documented for users in `docs/RPC.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod api_error;
mod block_ref;
mod client;
mod convert;
mod error;
mod handlers;
pub mod hex;
pub mod methods;
mod metrics;
mod middleware;
mod module;
mod node_api;
pub mod openrpc;
mod params;
mod reads;
mod server;
mod subscription;
pub mod types;

pub use client::Client;
pub use convert::reject_reason_code;
pub use error::{Result, RpcError, codes};
pub use handlers::system::PROTOCOL_VERSION;
pub use hex::{Hex, HexHash, HexKey};
pub use metrics::RpcMetrics;
pub use module::build_module;
pub use node_api::{NodeApi, NodeHealth, PeerStatus, PendingStatus, SubmitError};
pub use server::{RpcConfig, RpcContext, RpcServer};
pub use types::{BlockRef, HeadEvent};
