//! Fetching blocks this validator is missing, and using them when they arrive.

use cairn_crypto::Hash;
use cairn_types::{Block, ValidatorId};

use crate::{Action, Consensus};

/// Blocks asked for at once before the list is reset (and re-asked as needed).
const MAX_FETCHING: usize = 1024;

impl Consensus {
    /// Asks `from` for block `id`, once while the request is outstanding.
    pub(crate) fn fetch(&mut self, id: Hash, from: ValidatorId) {
        if self.tree.contains(&id) || self.fetching.contains(&id) {
            return;
        }
        if self.fetching.len() >= MAX_FETCHING {
            self.fetching.clear();
        }
        self.fetching.insert(id);
        let from = if from == self.me {
            self.fetch_hint()
        } else {
            from
        };
        self.emit(Action::FetchBlock { id, from });
    }

    /// Someone other than this validator who should hold the blocks it is missing:
    /// a signer of its high QC (who voted, so had the block), else the next validator.
    fn fetch_hint(&self) -> ValidatorId {
        self.safety
            .high_qc
            .signatures
            .iter()
            .map(|(id, _)| *id)
            .find(|id| *id != self.me)
            .unwrap_or_else(|| {
                let n = self.validators.len() as u64;
                ValidatorId(((u64::from(self.me.0) + 1) % n) as u16)
            })
    }

    /// A block that was asked for. Unsolicited or invalid blocks are dropped. A valid
    /// one is kept, its parent fetched if missing, and whatever waited for it retried.
    pub(crate) fn on_block_fetched(&mut self, block: Block) {
        let id = block.id();
        if !self.fetching.remove(&id) {
            return;
        }
        let justify = block.header.justify.clone();
        if block.check_well_formed(&self.chain).is_err() || !self.verify_qc(&justify) {
            return;
        }
        if block.header.height <= self.tree.root().height {
            // At or below the committed head: either committed already or on a dead
            // branch. Nothing waits for it.
            return;
        }
        let hint = block.header.proposer;
        let parent = block.header.parent;
        let parent_height = block.header.height.saturating_sub(1);
        self.tree.insert(block);
        if parent_height > self.tree.root().height && !self.tree.contains(&parent) {
            self.fetch(parent, hint);
        }
        self.process_qc(justify, hint);
        if let Some(qc) = self.pending_commit.take() {
            self.try_commit(&qc, hint);
        }
        if let Some((from, proposal)) = self.pending.remove(&self.round) {
            self.on_proposal(from, proposal);
        }
        // The block may be the one the leader rule needed to name this round's leader.
        self.ask_for_payload_if_leading();
    }
}
