//! Answering `RequestPayload`: the leader's block contents.

use std::collections::HashSet;

use cairn_consensus::Event;
use cairn_crypto::Hash;
use cairn_types::{Block, Transaction};

use super::{Driver, now_ms};

/// Most blocks kept in [`Driver::recent`]; beyond it the highest are dropped first
/// (the uncommitted ancestors a proposal needs are the lowest).
const MAX_RECENT: usize = 1_024;

impl Driver {
    /// The answer to the waiting payload request, with whatever is ready (maybe
    /// nothing): for a request that may not wait, or when the heartbeat is up.
    pub(super) fn payload_event(&mut self) -> Option<Event> {
        let wait = self.payload_wait.take()?;
        let txs = self.ready_txs(&wait.parent);
        Some(self.payload(wait.round, txs))
    }

    /// The answer to the waiting payload request if transactions are ready for it;
    /// otherwise it keeps waiting (for more transactions or the heartbeat).
    pub(super) fn payload_if_ready(&mut self) -> Option<Event> {
        let wait = self.payload_wait.as_ref()?;
        let txs = self.ready_txs(&wait.parent);
        if txs.is_empty() {
            return None;
        }
        let round = self.payload_wait.take()?.round;
        Some(self.payload(round, txs))
    }

    fn payload(&self, round: cairn_types::Round, txs: Vec<Transaction>) -> Event {
        tracing::debug!(round, txs = txs.len(), "proposing");
        // Execution results are not bound into headers yet (docs/PROTOCOL.md §6):
        // every node records its own per-height state hash at commit instead.
        Event::Payload {
            round,
            txs,
            state_root: Hash::ZERO,
            now_ms: now_ms(),
        }
    }

    /// Transactions a block on `parent` may carry now, within the chain's limits.
    fn ready_txs(&self, parent: &Hash) -> Vec<Transaction> {
        let exclude = self.txs_above_committed(parent);
        self.shared
            .mempool()
            .select(self.max_block_txs, self.tx_budget, &exclude)
    }

    /// Hashes of the transactions in `parent` and its uncommitted ancestors, which a
    /// new block on `parent` must not repeat.
    fn txs_above_committed(&self, parent: &Hash) -> HashSet<Hash> {
        let committed = self.core.committed().height;
        let mut exclude = HashSet::new();
        let mut cursor = *parent;
        while let Some(block) = self.recent.get(&cursor) {
            if block.header.height <= committed {
                break;
            }
            exclude.extend(block.txs.iter().map(|tx| tx.hash()));
            cursor = block.header.parent;
        }
        exclude
    }

    /// Keeps an uncommitted block the core accepted (voted for, proposed or fetched)
    /// for payload exclusion and block requests.
    pub(super) fn remember(&mut self, block: Block) {
        if block.header.height <= self.core.committed().height {
            return;
        }
        if self.recent.len() >= MAX_RECENT {
            self.forget_highest();
        }
        let id = block.id();
        self.seen
            .entry(id)
            .or_insert_with(tokio::time::Instant::now);
        self.recent.insert(id, block);
    }

    fn forget_highest(&mut self) {
        if let Some(id) = self
            .recent
            .iter()
            .max_by_key(|(_, b)| b.header.height)
            .map(|(id, _)| *id)
        {
            self.recent.remove(&id);
            self.seen.remove(&id);
        }
    }

    /// Drops the remembered blocks at or below the committed height.
    pub(super) fn forget_committed(&mut self) {
        let committed = self.core.committed().height;
        self.recent.retain(|_, b| b.header.height > committed);
        let recent = &self.recent;
        self.seen.retain(|id, _| recent.contains_key(id));
    }
}
