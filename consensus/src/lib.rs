//! 2-chain HotStuff (Jolteon / DiemBFT-v4 rules) as a pure state machine.
//!
//! [`Consensus::handle`] takes an [`Event`] (a message from a validator, a local timer
//! going off, a payload or a fetched block) and returns [`Action`]s for the driver
//! (persist safety state, send, broadcast, arm a timer, ask for a payload, commit
//! blocks, fetch a block, report evidence, report a recovery of the safety state). There is no clock, no I/O and no
//! randomness inside: the same events give the same actions, which is what lets the
//! simulator (`sim`, feature `sim`) replay any run from a seed.
//!
//! The driver's duties are documented on each [`Action`]; the one that keeps the chain
//! safe is: **persist [`Action::PersistSafety`] (synced) before sending anything that
//! follows it**. See `consensus/README.md` for the protocol in one page.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod action;
mod block_tree;
mod collect;
mod config;
mod core;
mod error;
mod event;
mod evidence;
mod handle;
mod leader;
mod message;
mod safety;
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(test)]
mod tests;

pub use action::{Action, Recovery, RecoveryReason};
pub use block_tree::BlockInfo;
pub use config::Config;
pub use core::{Consensus, RoundView, Setup};
pub use error::ConsensusError;
pub use event::Event;
pub use evidence::Evidence;
pub use leader::{LeaderRecord, active_window, failure_window, history_needed};
pub use message::{Message, RoundStatus};
#[cfg(feature = "unsafe-test-variants")]
pub use safety::UnsafeVariant;
pub use safety::{SafetyData, SafetyError};
