//! Performing `Commit`: execute the blocks, write them with their receipts, state and
//! certificate in one atomic batch, then tell the mempool and the subscribers.

use std::collections::HashSet;

use anyhow::Result;
use cairn_crypto::Hash;
use cairn_storage::CommitBatch;
use cairn_types::{Block, QuorumCert, Transaction};

use super::{Driver, blocking};

impl Driver {
    /// Executes and stores `blocks` (lowest first) with the certificate that commits
    /// the last. Any failure stops the node: the store and the core would disagree.
    pub(super) async fn commit(
        &mut self,
        blocks: Vec<Block>,
        certificate: QuorumCert,
    ) -> Result<()> {
        let Some(last) = blocks.last() else {
            return Ok(());
        };
        let span = tracing::info_span!("commit", height = last.header.height);
        let _enter = span.enter();
        self.shared.stall.note_commit();
        let store = self.shared.store.clone();
        let chain = self.shared.genesis.chain_id();
        let parent_root = self.state_root;
        // Transactions in this node's mempool passed its signature check on admission
        // (the mempool admits nothing else); execution checks only the others.
        let verified: HashSet<Hash> = {
            let pool = self.shared.mempool();
            blocks
                .iter()
                .flat_map(|b| b.txs.iter().map(Transaction::hash))
                .filter(|h| pool.contains(h))
                .collect()
        };
        let (batch, head) = blocking(|| {
            crate::run::execute::execute_and_store(
                &store,
                &chain,
                blocks,
                certificate,
                Vec::new(),
                &parent_root,
                &|h| verified.contains(h),
            )
        })?;
        if let Some(root) = batch.state_roots.last() {
            self.state_root = *root;
        }
        self.after_commit(&batch);
        self.forget_committed();
        self.heads.send_replace(head);
        tracing::info!(
            height = head.height,
            id = %head.id,
            txs = batch.receipts.len(),
            state_root = %self.state_root,
            "committed"
        );
        Ok(())
    }

    /// Mempool clean-up and metrics after a commit is durable.
    fn after_commit(&self, batch: &CommitBatch) {
        self.shared.note_commit(batch);
        let metrics = &self.shared.metrics;
        for block in &batch.blocks {
            // From when this node first saw the block; not the proposer's timestamp,
            // which a Byzantine proposer chooses. Blocks first seen before a restart
            // are not measured.
            if let Some(seen) = self.seen.get(&block.id()) {
                metrics.commit_latency.observe(seen.elapsed().as_secs_f64());
            }
        }
    }
}
