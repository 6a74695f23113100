//! cairn's local testnet: `cairn testnet up|status|down|bench`.
//!
//! * [`up::up`] creates a network in a directory — validator homes made with
//!   `cairn node init`, funded accounts, a genesis, ports `base + 10·i` (+0 p2p,
//!   +1 RPC, +2 metrics) — or resumes the one already there, starts every validator as
//!   its own `cairn node run` process on 127.0.0.1 and waits until blocks commit.
//! * [`status::status`] and [`status::down`] inspect and stop them (SIGTERM).
//! * [`bench::bench`] is the load generator: real signed transactions from many
//!   accounts to every node, commits followed over a WebSocket subscription, and
//!   committed transactions per second with submit-to-commit latency percentiles.
//!
//! * [`faults::run`] is the fault runner: validators on their own hosts (network
//!   namespaces), a scenario of kills, pauses, wipes and partitions under load, and a
//!   checker that trusts no node.
//!
//! The directory layout is in [`layout`]; the commands and their output in
//! `docs/TESTNET.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod bench;
pub mod byzantine;
pub mod cli;
mod create;
pub mod error;
pub mod faults;
pub mod layout;
pub mod process;
pub mod status;
mod table;
pub mod up;

pub use error::{Result, TestnetError};
