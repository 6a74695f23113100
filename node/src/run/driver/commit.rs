//! Performing `Commit` off the voting path: the driver hands the committed blocks to a
//! committer thread and goes on (a vote that follows the commit in the same batch of
//! actions leaves at once); the thread executes the blocks and writes them with their
//! receipts, state and certificate in one atomic, synced batch, in commit order; the
//! driver then tells the mempool and the subscribers.
//!
//! Nothing a vote protects depends on the commit write: the safety state and the voted
//! block are written (synced) before the vote, as before, and a validator killed with
//! commits still queued finds those blocks persisted as pending and the certificate
//! that commits them among its peers, exactly as when it is killed between a vote and
//! the commit (docs/EXECUTION.md "Execution off the voting path").

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use cairn_crypto::Hash;
use cairn_storage::{CommitBatch, Head};
use cairn_types::{Block, QuorumCert};
use tokio::sync::mpsc;

use super::Driver;
use crate::run::shared::Shared;

/// Commits handed to the committer and not yet reported done; beyond it the driver
/// waits for the oldest (back-pressure when execution falls behind ordering).
pub const MAX_COMMITS_IN_FLIGHT: usize = 8;

/// One commit for the committer: blocks (lowest first) and the certificate that
/// commits the last.
struct Job {
    blocks: Vec<Block>,
    certificate: QuorumCert,
    /// Transactions whose signatures were checked when their batch arrived.
    verified: HashSet<Hash>,
}

/// What the committer reports for a job: the stored batch and the new head.
pub struct Done {
    batch: CommitBatch,
    head: Head,
}

/// The driver's end of the committer thread.
pub struct Committer {
    jobs: Option<mpsc::Sender<Job>>,
    done: mpsc::UnboundedReceiver<Result<Done>>,
    thread: Option<std::thread::JoinHandle<()>>,
    in_flight: usize,
}

impl Committer {
    /// Starts the thread; `state_root` is the state hash after the store's head.
    pub fn spawn(shared: Arc<Shared>, state_root: Hash) -> std::io::Result<Committer> {
        let (jobs, queue) = mpsc::channel(MAX_COMMITS_IN_FLIGHT);
        let (report, done) = mpsc::unbounded_channel();
        let thread = std::thread::Builder::new()
            .name("cairn-commit".into())
            .spawn(move || run(&shared, state_root, queue, &report))?;
        Ok(Committer {
            jobs: Some(jobs),
            done,
            thread: Some(thread),
            in_flight: 0,
        })
    }

    /// The next finished commit (waits); `None` when nothing is in flight.
    pub async fn next_done(&mut self) -> Option<Result<Done>> {
        if self.in_flight == 0 {
            return None;
        }
        let done = self.done.recv().await;
        self.in_flight -= 1;
        Some(done.unwrap_or_else(|| Err(anyhow!("the committer thread stopped"))))
    }

    /// Whether commits are in flight (the driver's loop then listens for them).
    pub fn busy(&self) -> bool {
        self.in_flight > 0
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        // Closing the queue ends the thread once it has written what it holds.
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The committer thread: executes and stores each job in order, reporting each.
fn run(
    shared: &Shared,
    mut state_root: Hash,
    mut queue: mpsc::Receiver<Job>,
    report: &mpsc::UnboundedSender<Result<Done>>,
) {
    while let Some(job) = queue.blocking_recv() {
        let result = execute(shared, &state_root, job);
        if let Ok(done) = &result
            && let Some(root) = done.batch.state_roots.last()
        {
            state_root = *root;
        }
        let failed = result.is_err();
        if report.send(result).is_err() || failed {
            // After a failed write the store and the core disagree: write nothing more.
            return;
        }
    }
}

fn execute(shared: &Shared, parent_root: &Hash, job: Job) -> Result<Done> {
    let chain = shared.genesis.chain_id();
    // Transactions in this node's mempool passed its signature check on admission
    // (the mempool admits nothing else), and those of batches when the batch arrived;
    // execution checks only the others. They stay in the mempool until this commit is
    // reported done, and execution hashes each transaction anyway, so it asks with the
    // hash it has.
    let (batch, head) = crate::run::execute::execute_and_store(
        &shared.store,
        &chain,
        job.blocks,
        job.certificate,
        Vec::new(),
        parent_root,
        &|h| job.verified.contains(h) || shared.mempool().contains(h),
    )?;
    Ok(Done { batch, head })
}

impl Driver {
    /// Hands `blocks` (lowest first) with the certificate that commits the last to the
    /// committer, first waiting for the oldest commit in flight if there are
    /// [`MAX_COMMITS_IN_FLIGHT`].
    pub(super) async fn commit(
        &mut self,
        blocks: Vec<Block>,
        certificate: QuorumCert,
    ) -> Result<()> {
        if blocks.is_empty() {
            return Ok(());
        }
        self.shared.stall.note_commit();
        while self.committer.in_flight >= MAX_COMMITS_IN_FLIGHT {
            if let Some(done) = self.committer.next_done().await {
                self.on_committed(done)?;
            }
        }
        let jobs = self
            .committer
            .jobs
            .as_ref()
            .context("the committer is closed")?;
        let verified = self.batching.verified_txs(&blocks);
        jobs.send(Job {
            blocks,
            certificate,
            verified,
        })
        .await
        .map_err(|_| anyhow!("the committer thread stopped"))?;
        self.committer.in_flight += 1;
        Ok(())
    }

    /// A commit the committer finished: the new state root and head, mempool clean-up,
    /// metrics and subscribers. A failed commit stops the node: the store and the core
    /// would disagree.
    pub(super) fn on_committed(&mut self, done: Result<Done>) -> Result<()> {
        let Done { batch, head } = done.context("cannot execute and store committed blocks")?;
        if let Some(root) = batch.state_roots.last() {
            self.state_root = *root;
        }
        self.executed = head.height;
        for (block, root) in batch.blocks.iter().zip(&batch.state_roots) {
            for d in self.claims.executed(block.header.height, *root) {
                self.shared.metrics.state_divergences.inc();
                tracing::error!(
                    height = d.height,
                    proposer = d.proposer.0,
                    claimed = %d.claimed,
                    ours = %d.ours,
                    "STATE DIVERGENCE: a committed chain vouches for another state than this node computed at that height"
                );
            }
        }
        self.after_commit(&batch);
        self.batches_committed(&batch.blocks, &batch.receipts);
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

    /// Waits for every commit in flight (before the driver returns, so the store is
    /// up to date for whoever comes next: shutdown or block sync).
    pub(super) async fn finish_commits(&mut self) -> Result<()> {
        while let Some(done) = self.committer.next_done().await {
            self.on_committed(done)?;
        }
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
