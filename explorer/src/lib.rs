//! The auditor's tool behind `cairn explorer …`: browse a cairn chain, prove that a
//! transaction is committed, and audit the whole chain — trusting nothing but the
//! chain's genesis.
//!
//! * A [`Source`] is a node's JSON-RPC ([`Source::connect`]) or, offline, a node's data
//!   directory opened read-only ([`Source::open_store`]; works while the node runs),
//!   where the node's own RPC handlers are served in-process so both give the same
//!   answers.
//! * [`TrustRoot`] is what verification believes: the genesis chain id and validator
//!   set.
//! * [`prove::verify_tx_proof`] checks a `tx_proof` answer (transaction hash, Merkle
//!   path, header chain, commit certificate under the 2-chain rule) and names the first
//!   thing wrong as a [`prove::ProofFault`].
//! * [`audit::verify_chain`] audits genesis to head: offline with
//!   `Store::verify_chain`, online by fetching every block and certificate and running
//!   the same [`cairn_storage::audit::ChainAudit`] locally; with the genesis state it
//!   also re-executes the chain ([`replay`]): every client signature checked, every
//!   outcome, state hash and header state claim compared.
//! * [`cli::run`] runs one command of the command line ([`cli::ExplorerArgs`]), printing
//!   tables or JSON; [`Explorer`] does the same into any writer.
//!
//! Every command, its output and what `--prove` and `verify` check: `docs/EXPLORER.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod audit;
pub mod cli;
mod error;
mod explorer;
mod local;
pub mod parse;
mod progress;
pub mod prove;
pub mod render;
pub mod replay;
mod source;
mod trust;
pub mod watch;

pub use error::{ExplorerError, Result};
pub use explorer::Explorer;
pub use local::LocalNode;
pub use progress::Progress;
pub use source::Source;
pub use trust::{TrustRoot, load_genesis};
