//! Limits of the pool.

use cairn_types::limits::MAX_TX_BYTES;

/// How large the pool may grow and what it accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MempoolConfig {
    /// Most pending transactions; an insert beyond it is refused with `Busy`.
    pub capacity: usize,
    /// Most bytes of pending transactions (their encoded sizes); beyond it, `Busy`.
    pub max_bytes: usize,
    /// How far ahead of its committed nonce a sender may queue: nonces
    /// `committed .. committed + max_nonce_ahead` are admitted.
    pub max_nonce_ahead: u64,
    /// Largest encoded transaction admitted (the genesis `max_tx_bytes`).
    pub max_tx_bytes: usize,
    /// How many evicted transaction hashes (with the reason) to remember for
    /// [`crate::Mempool::status`]; the oldest are forgotten first.
    pub evicted_memory: usize,
}

impl Default for MempoolConfig {
    /// 50,000 transactions, 64 MiB, 1,000 nonces ahead, the protocol's largest
    /// transaction, 100,000 evicted hashes remembered.
    fn default() -> Self {
        MempoolConfig {
            capacity: 50_000,
            max_bytes: 64 * 1024 * 1024,
            max_nonce_ahead: 1_000,
            max_tx_bytes: MAX_TX_BYTES,
            evicted_memory: 100_000,
        }
    }
}
