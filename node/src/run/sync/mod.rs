//! Block sync: how a node that is behind — new, wiped, restored from an old backup,
//! down for hours, or a full node following the chain — catches up with its peers.
//!
//! It asks every peer for its committed head with the certificate that proves it
//! ([`REQUEST_STATUS`](crate::run::wire::REQUEST_STATUS)), takes the highest proven
//! head as the target, and asks several peers at once for ranges of committed blocks
//! ([`REQUEST_BLOCKS`](crate::run::wire::REQUEST_BLOCKS)) forward from its own head.
//! Every block is checked against the validator set before it is used — it extends
//! the block below, its justify QC verifies, its payload root matches — and applied
//! (executed and stored, one synced write per batch) only once a commit certificate
//! of it or a later block in the same answer has verified. A peer that answers with
//! a wrong block is reported; one that withholds blocks it claimed or is slow is
//! asked no more in this sync; its ranges go to the others.
//!
//! docs/NETWORK.md gives the wire format; docs/OPERATING.md the measured rates.

mod client;
mod serve;

pub use client::{OnApplied, SyncOutcome, Syncer};
pub use serve::SyncServer;

use cairn_types::{Block, BoundedVec, Height, QuorumCert};
use parity_scale_codec::{Decode, Encode};

/// Most blocks one range answer holds.
pub const MAX_CHUNK_BLOCKS: usize = 256;
/// Bytes of blocks a range answer holds at most (it always holds at least one block).
pub const CHUNK_BYTES: usize = 8 * 1024 * 1024;

/// The answer to a status request: the peer's committed head and the certificate
/// that proves it committed (none at genesis).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ChainStatus {
    /// The committed height.
    pub height: Height,
    /// The commit certificate of the block at `height`: a QC whose `parent_id` is that
    /// block and whose round follows the block's (docs/PROTOCOL.md §7).
    pub certificate: Option<QuorumCert>,
}

/// A request for committed blocks `from`, `from + 1`, … (at most `max_blocks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct BlockRange {
    /// The first height wanted.
    pub from: Height,
    /// How many blocks at most.
    pub max_blocks: u32,
}

/// One committed block and, if it was the last block of a commit, the certificate
/// stored with it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct CommittedBlock {
    /// The block.
    pub block: Block,
    /// Its commit certificate, if the store holds one at its height.
    pub certificate: Option<QuorumCert>,
}

/// The answer to a range request: consecutive committed blocks from the height asked
/// for (empty if the peer has not committed it).
pub type BlockChunk = BoundedVec<CommittedBlock, MAX_CHUNK_BLOCKS>;
