//! Answering `RequestPayload`: the leader's block contents.

use std::collections::HashSet;

use cairn_consensus::Event;
use cairn_crypto::Hash;
use cairn_types::Block;

use super::{Driver, now_ms};

/// Most blocks kept in [`Driver::recent`]; older ones are dropped first by height.
const MAX_RECENT: usize = 1_024;

impl Driver {
    /// The answer to the waiting payload request, with what the mempool has now.
    pub(super) fn payload_event(&mut self) -> Option<Event> {
        let wait = self.payload_wait.take()?;
        let exclude = self.txs_above_committed(&wait.parent);
        let txs = self
            .shared
            .mempool()
            .select(self.max_block_txs, self.max_block_bytes, &exclude);
        tracing::debug!(round = wait.round, txs = txs.len(), "proposing");
        // Execution results are not bound into headers yet (docs/PROTOCOL.md §6):
        // every node records its own per-height state hash at commit instead.
        Some(Event::Payload {
            round: wait.round,
            txs,
            state_root: Hash::ZERO,
            now_ms: now_ms(),
        })
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

    /// Keeps an uncommitted block for payload exclusion and block requests.
    pub(super) fn remember(&mut self, block: Block) {
        if block.header.height <= self.core.committed().height {
            return;
        }
        if self.recent.len() >= MAX_RECENT {
            self.forget_lowest();
        }
        self.recent.insert(block.id(), block);
    }

    fn forget_lowest(&mut self) {
        if let Some(id) = self
            .recent
            .iter()
            .min_by_key(|(_, b)| b.header.height)
            .map(|(id, _)| *id)
        {
            self.recent.remove(&id);
        }
    }

    /// Drops the remembered blocks at or below the committed height.
    pub(super) fn forget_committed(&mut self) {
        let committed = self.core.committed().height;
        self.recent.retain(|_, b| b.header.height > committed);
    }
}
