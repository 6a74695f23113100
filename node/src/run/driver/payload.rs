//! Answering `RequestPayload`: the leader's block contents.

use std::collections::HashMap;
use std::sync::Arc;

use cairn_consensus::Event;
use cairn_crypto::Hash;
use cairn_types::{Block, Transaction};
use parity_scale_codec::Encode;

use super::{Driver, now_ms};

/// Most blocks kept in [`RecentBlocks`]; beyond it the highest are dropped first
/// (the uncommitted ancestors a proposal needs are the lowest).
pub const MAX_RECENT_BLOCKS: usize = 1_024;
/// Most encoded bytes of the blocks kept in [`RecentBlocks`].
pub const MAX_RECENT_BYTES: usize = 256 * 1024 * 1024;

/// Uncommitted blocks the core accepted, bounded in count and bytes, shared cheaply
/// with the tasks that serve them to peers.
#[derive(Default)]
pub struct RecentBlocks {
    blocks: HashMap<Hash, Recent>,
    bytes: usize,
}

/// One kept block and the bytes it takes.
struct Recent {
    block: Arc<Block>,
    size: usize,
}

impl RecentBlocks {
    /// The block `id`, if kept.
    pub fn get(&self, id: &Hash) -> Option<&Arc<Block>> {
        self.blocks.get(id).map(|recent| &recent.block)
    }

    /// Keeps `block`, dropping the highest kept blocks while over a bound. Returns its
    /// id and whether it is kept (a block larger than the whole budget is not).
    pub fn insert(&mut self, block: Block) -> (Hash, bool) {
        let id = block.id();
        if self.blocks.contains_key(&id) {
            return (id, true);
        }
        let size = block.encoded_size();
        if size > MAX_RECENT_BYTES {
            return (id, false);
        }
        while self.blocks.len() >= MAX_RECENT_BLOCKS || self.bytes + size > MAX_RECENT_BYTES {
            if !self.forget_highest() {
                break;
            }
        }
        self.bytes += size;
        let block = Arc::new(block);
        self.blocks.insert(id, Recent { block, size });
        (id, true)
    }

    fn forget_highest(&mut self) -> bool {
        let highest = self
            .blocks
            .iter()
            .max_by_key(|(_, recent)| recent.block.header.height)
            .map(|(id, _)| *id);
        match highest.and_then(|id| self.blocks.remove(&id)) {
            Some(recent) => {
                self.bytes -= recent.size;
                true
            }
            None => false,
        }
    }

    /// Keeps only the blocks above `height`.
    pub fn retain_above(&mut self, height: cairn_types::Height) {
        let mut freed = 0;
        self.blocks.retain(|_, recent| {
            let keep = recent.block.header.height > height;
            if !keep {
                freed += recent.size;
            }
            keep
        });
        self.bytes -= freed;
    }

    /// Whether `id` is kept.
    pub fn contains(&self, id: &Hash) -> bool {
        self.blocks.contains_key(id)
    }

    /// Encoded bytes kept.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Driver {
    /// The answer to the waiting payload request, with whatever is ready (maybe
    /// nothing): for a request that may not wait, or when the heartbeat is up.
    pub(super) fn payload_event(&mut self) -> Option<Event> {
        let wait = self.payload_wait.take()?;
        let txs = self.ready_batches(wait.round, &wait.parent);
        Some(self.payload(wait.round, txs))
    }

    /// The answer to the waiting payload request if transactions are ready for it;
    /// otherwise it keeps waiting (for more transactions or the heartbeat).
    pub(super) fn payload_if_ready(&mut self) -> Option<Event> {
        let (round, parent) = {
            let wait = self.payload_wait.as_ref()?;
            (wait.round, wait.parent)
        };
        let txs = self.ready_batches(round, &parent);
        if txs.is_empty() {
            return None;
        }
        let round = self.payload_wait.take()?.round;
        Some(self.payload(round, txs))
    }

    fn payload(&self, round: cairn_types::Round, txs: Vec<Transaction>) -> Event {
        tracing::debug!(round, txs = txs.len(), "proposing");
        // The state this node executed last; the core repeats the parent's claim
        // instead if that is higher (docs/PROTOCOL.md §6).
        Event::Payload {
            round,
            txs,
            state_height: self.executed,
            state_root: self.state_root,
            now_ms: now_ms(),
        }
    }

    /// Keeps the uncommitted block `id` if the core holds it (it accepted it as a
    /// proposal or a fetched block), copying it once, after the core decided.
    pub(super) fn remember_if_held(&mut self, id: &Hash) {
        if self.recent.contains(id) {
            return;
        }
        if let Some(block) = self.core.block(id).cloned() {
            self.remember(block);
        }
    }

    /// Keeps an uncommitted block the core accepted (voted for, proposed or fetched)
    /// for payload exclusion and block requests.
    pub(super) fn remember(&mut self, block: Block) {
        if block.header.height <= self.core.committed().height {
            return;
        }
        let (id, kept) = self.recent.insert(block);
        if kept {
            self.seen
                .entry(id)
                .or_insert_with(tokio::time::Instant::now);
        }
        let recent = &self.recent;
        if self.seen.len() > MAX_RECENT_BLOCKS {
            self.seen.retain(|id, _| recent.contains(id));
        }
    }

    /// Drops the remembered blocks at or below the executed height, and the heights
    /// of the persisted ones (the commit removed them from the store).
    pub(super) fn forget_committed(&mut self) {
        let committed = self.executed;
        self.recent.retain_above(committed);
        self.pending_heights.retain(|_, h| *h > committed);
        let recent = &self.recent;
        self.seen.retain(|id, _| recent.contains(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::driver::verify::tests::block_of;

    #[test]
    fn recent_blocks_stay_within_their_byte_budget_dropping_the_highest() {
        let mut recent = RecentBlocks::default();
        // Blocks of about 1 MiB each (16 transactions of 64 KiB).
        let mut ids = Vec::new();
        for height in 1..=300u64 {
            let (id, kept) = recent.insert(block_of(16, 64 * 1024, height));
            assert!(kept);
            ids.push(id);
            assert!(
                recent.bytes() <= MAX_RECENT_BYTES,
                "{} bytes",
                recent.bytes()
            );
        }
        assert!(recent.contains(&ids[0]), "the lowest is kept");
        assert!(recent.contains(&ids[299]), "the newest is kept");
        recent.retain_above(150);
        assert!(!recent.contains(&ids[0]));
        assert!(recent.bytes() < MAX_RECENT_BYTES);
    }
}
