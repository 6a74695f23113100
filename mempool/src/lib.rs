//! cairn's transaction pool.
//!
//! Between `tx_submit` and a block proposal, a transaction lives here:
//!
//! * [`BatchVerifier`] checks signatures in batches, off the async runtime's threads,
//!   and computes each transaction's hash once;
//! * [`Mempool::insert`] admits a verified transaction against its sender's committed
//!   account (chain, role, nonce window, duplicate nonce, balance, size) into a pool
//!   bounded in count and bytes — a full pool answers [`AdmitError::Busy`] rather than
//!   grow;
//! * [`Mempool::select`] picks a block's payload: per sender only consecutive nonces
//!   from its committed nonce, round-robin across senders in order of arrival;
//! * [`Mempool::on_commit`] drops committed transactions and evicts those whose nonce a
//!   committed transaction used, remembering why for [`Mempool::status`].
//!
//! The pool is a plain data structure (no I/O, no clock); the node owns it and calls it
//! from one task. Admission checks are cheap pre-checks: execution
//! (`cairn-execution`) is authoritative. See `docs/EXECUTION.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod config;
mod error;
mod evicted;
mod pool;
mod select;
mod sender;
mod verify;

pub use config::MempoolConfig;
pub use error::{AdmitError, Result};
pub use pool::{Admitted, Mempool, TxStatus};
pub use verify::BatchVerifier;
