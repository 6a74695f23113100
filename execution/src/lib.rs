//! cairn's deterministic ledger state machine.
//!
//! Consensus orders blocks; this crate decides what their transactions do. Executing a
//! committed block yields, for every transaction, a [`cairn_types::Receipt`] (applied,
//! or rejected with a [`cairn_types::RejectReason`]), the sequence of
//! [`StateChange`]s that storage writes in the same atomic batch as the block, and the
//! block's state hash: a hash chain over all executed blocks that two validators
//! compare to know they computed the same ledger.
//!
//! * [`execute_block`] / [`execute_blocks`]: run committed blocks on top of a
//!   [`StateView`] of the state after their parent (the [`cairn_storage::Store`], or a
//!   [`MemoryState`] in tests). Nothing is written; the caller commits the result.
//! * [`genesis_state`]: the accounts of the genesis document and the state hash `S_0`.
//! * [`precheck`]: the sender checks of execution against committed state, for callers
//!   that want to refuse a transaction early.
//! * [`state_hash`]: the exact state-hash construction (also in `docs/PROTOCOL.md`,
//!   section "Execution"), for auditors and other implementations.
//!
//! Execution is a pure function of (state, chain id, blocks): no clock, no randomness,
//! no iteration over hash maps, checked arithmetic everywhere, and no panic on any
//! input. The rules are written down in `docs/EXECUTION.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod apply;
mod block;
mod error;
mod genesis;
mod pending;
mod precheck;
mod signatures;
pub mod state_hash;
mod view;

pub use block::{BlockResult, execute_block, execute_blocks, execute_blocks_verified};
pub use cairn_storage::StateChange;
pub use error::{ExecError, Result};
pub use genesis::genesis_state;
pub use pending::PendingState;
pub use precheck::precheck;
pub use state_hash::{block_state_root, encode_changes, genesis_state_root};
pub use view::{MemoryState, StateView};
