//! The durable home of a cairn node: the committed, hash-chained log of blocks, its
//! indexes, receipts, the application state and the consensus safety state, in RocksDB.
//!
//! * [`Store::open`] (the node, one writer per directory) and [`Store::open_read_only`]
//!   (the explorer, also while the node runs); both refuse a directory of another chain
//!   or schema version.
//! * [`Store::commit`] writes a [`CommitBatch`] — blocks, indexes, receipts, state
//!   changes, commit certificate, new head — as one atomic, synced RocksDB write batch.
//! * [`Store::put_pending_block`] keeps blocks consensus votes for until they commit.
//! * [`Store::put_admitted`] records transactions the node acknowledged to clients
//!   (synced) until they leave its mempool; [`Store::admitted`] returns them on restart.
//! * [`Store::put_safety_state`] persists consensus's safety state with a synced write;
//!   the vote or timeout it protects may leave the node only after it returns.
//! * Reads: blocks by height or id, header ranges, transactions by hash with receipt and
//!   position, state, accounts, head, commit certificates, safety state.
//! * [`Store::verify_chain`] audits the whole chain against the validator set; its
//!   per-block checks are [`audit::ChainAudit`], which audits blocks from any source
//!   (the explorer feeds it blocks fetched over JSON-RPC).
//!
//! The on-disk layout is in [`schema`] and `docs/STORAGE.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod admitted;
pub mod audit;
mod batches;
mod check;
mod commit;
mod error;
mod fault;
mod options;
mod pending;
mod read;
pub mod schema;
mod secondary;
#[cfg(feature = "slow-sync")]
mod slow_sync;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod verify;

pub use commit::{CommitBatch, StateChange};
pub use error::{Result, StorageError};
pub use fault::ChainFault;
pub use read::TxRecord;
pub use store::{Head, Store};
pub use verify::VerifyReport;
