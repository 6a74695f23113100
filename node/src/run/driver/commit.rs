//! Performing `Commit`: execute the blocks, write them with their receipts, state and
//! certificate in one atomic batch, then tell the mempool and the subscribers.

use std::collections::{BTreeMap, HashSet};

use anyhow::{Context, Result};
use cairn_crypto::{Hash, PublicKey};
use cairn_storage::{CommitBatch, StateChange};
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
        let (batch, head) = blocking(|| -> Result<_> {
            let results = cairn_execution::execute_blocks_verified(
                &*store,
                &chain,
                &blocks,
                &parent_root,
                &|h| verified.contains(h),
            )
            .context("cannot execute committed blocks")?;
            let mut batch = CommitBatch {
                blocks,
                certificate,
                receipts: Vec::new(),
                changes: Vec::new(),
                state_roots: Vec::new(),
            };
            for result in results {
                batch.receipts.extend(result.receipts);
                batch.changes.extend(result.changes);
                batch.state_roots.push(result.state_root);
            }
            let head = store.commit(&batch).context("cannot write a commit")?;
            Ok((batch, head))
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
        let committed: Vec<_> = batch.receipts.iter().map(|r| r.tx_hash).collect();
        let mut nonces: BTreeMap<PublicKey, u64> = BTreeMap::new();
        for change in &batch.changes {
            if let StateChange::Account { key, state } = change {
                nonces.insert(*key, state.nonce);
            }
        }
        let nonces: Vec<_> = nonces.into_iter().collect();
        let size = {
            let mut pool = self.shared.mempool();
            pool.on_commit(&committed, &nonces);
            pool.len()
        };
        let metrics = &self.shared.metrics;
        metrics.mempool_size.set(size as i64);
        metrics.committed_txs.inc_by(committed.len() as u64);
        for block in &batch.blocks {
            // From when this node first saw the block; not the proposer's timestamp,
            // which a Byzantine proposer chooses. Blocks first seen before a restart
            // are not measured.
            if let Some(seen) = self.seen.get(&block.id()) {
                metrics.commit_latency.observe(seen.elapsed().as_secs_f64());
            }
            metrics.height.set(block.header.height as i64);
        }
    }
}
