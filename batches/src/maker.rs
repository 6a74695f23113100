//! Sealing this validator's client transactions into batches.

use cairn_crypto::Hash;
use cairn_types::Transaction;
use parity_scale_codec::Encode;

/// The transactions of the batch being filled.
#[derive(Default)]
pub(crate) struct Maker {
    txs: Vec<Transaction>,
    hashes: Vec<Hash>,
    bytes: usize,
    since_ms: Option<u64>,
}

/// A sealed batch's transactions and their hashes.
pub(crate) type Sealed = (Vec<Transaction>, Vec<Hash>);

impl Maker {
    /// Adds `tx`; if it would not fit, the batch so far is sealed first and returned.
    pub fn push(
        &mut self,
        tx: Transaction,
        hash: Hash,
        now_ms: u64,
        max_txs: usize,
        max_bytes: usize,
    ) -> Option<Sealed> {
        let size = tx.encoded_size();
        let sealed = (!self.txs.is_empty()
            && (self.txs.len() >= max_txs || self.bytes + size > max_bytes))
            .then(|| self.take());
        self.since_ms.get_or_insert(now_ms);
        self.bytes += size;
        self.txs.push(tx);
        self.hashes.push(hash);
        sealed
    }

    /// Whether the batch is full or its first transaction waited `linger_ms`.
    pub fn due(&self, now_ms: u64, linger_ms: u64, max_txs: usize) -> bool {
        self.txs.len() >= max_txs
            || self
                .since_ms
                .is_some_and(|since| now_ms.saturating_sub(since) >= linger_ms)
    }

    /// Transactions and bytes in the batch so far.
    pub fn filled(&self) -> (usize, usize) {
        (self.txs.len(), self.bytes)
    }

    /// Seals the batch so far (maybe empty).
    pub fn take(&mut self) -> Sealed {
        self.bytes = 0;
        self.since_ms = None;
        (
            std::mem::take(&mut self.txs),
            std::mem::take(&mut self.hashes),
        )
    }
}
