//! Batches of client transactions, disseminated once and certified available, as a
//! pure state machine (in the manner of Narwhal's workers and Aptos's Quorum Store).
//!
//! Each validator groups the transactions its own clients submit into batches and
//! sends each batch once to every other validator ([`Action::Disseminate`]). A
//! validator that receives a batch — its transactions' signatures already checked by
//! the driver — stores it durably and signs its [`cairn_types::BatchInfo`]
//! ([`Action::StoreAndVote`]). The author gathers `2f + 1` votes into a
//! [`cairn_types::ProofOfAvailability`] and broadcasts it ([`Action::BroadcastProof`]).
//! Leaders propose proofs, not bytes ([`Batches::pull`]); a validator turns a
//! proposal's proofs back into transactions with [`Batches::assemble`], fetching from a
//! proof's signers what it lacks ([`Action::Fetch`]).
//!
//! What keeps one validator from flooding the others: a batch must come from its
//! author, carry an expiry within a window of the receiver's round, and fit its
//! author's quota of batches and bytes held; batches leave when a committed block
//! holds them or their expiry round is committed past. Like the consensus core, there
//! is no clock, I/O or randomness here: the driver feeds [`Event`]s with the time and
//! performs the [`Action`]s; the simulator drives the same code.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod certified;
mod config;
mod error;
mod event;
mod held;
mod machine;
mod maker;
mod votes;

#[cfg(test)]
mod tests;

pub use config::Config;
pub use error::BatchesError;
pub use event::{Action, Assembly, Event, Refusal};
pub use held::HeldBatch;
pub use machine::Batches;
