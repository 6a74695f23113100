//! What the node sends over the network: message and request kinds (docs/NETWORK.md).

/// A consensus message: `SCALE(cairn_consensus::Message)`.
pub const KIND_CONSENSUS: u8 = 1;
/// A batch of client transactions shared with the other validators:
/// `SCALE(Vec<Transaction>)`, at most [`MAX_GOSSIP_TXS`] of them.
pub const KIND_TXS: u8 = 2;
/// A request for a block by id: the 32-byte id; the answer is `SCALE(Block)`, or empty
/// when the peer does not have it.
pub const REQUEST_BLOCK: u8 = 1;
/// Most transactions in one gossip batch.
pub const MAX_GOSSIP_TXS: usize = 512;
