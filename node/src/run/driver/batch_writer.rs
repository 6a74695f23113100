//! Writes batches durably and then sends what vouches for them, in order.
//!
//! One task takes the driver's jobs in the order they were made, writes the batches of
//! every job waiting (one synced write for all of them), and only then sends the jobs'
//! messages, in order. In order matters: a sender's later batch is certified after its
//! earlier one, and leaders queue proofs in the order they arrive, so proofs must leave
//! in the order they formed. Nothing vouching for a batch is sent if the write fails.

use std::sync::Arc;

use cairn_crypto::Hash;
use cairn_network::NetworkHandle;
use cairn_storage::Store;
use cairn_types::{Batch, ValidatorId};
use tokio::sync::mpsc;

/// Most jobs written together.
const GROUP: usize = 256;

/// A message to send once the write is done: to one validator, or (`None`) to all.
pub type Outgoing = (Option<ValidatorId>, u8, Vec<u8>);

/// Batches to store, batches to delete, and messages to send after.
pub struct Job {
    /// Batches to store (synced) before the messages leave.
    pub store: Vec<Arc<Batch>>,
    /// Batches to delete.
    pub forget: Vec<Hash>,
    /// Messages to send once the write is done.
    pub messages: Vec<Outgoing>,
}

/// The driver's end of the writer task. The queue is unbounded in count; what it holds
/// is bounded by the batch quotas and the peers' verification budgets that admitted it.
pub struct BatchWriter {
    jobs: mpsc::UnboundedSender<Job>,
}

impl BatchWriter {
    /// Starts the writer task.
    pub fn spawn(store: Arc<Store>, net: NetworkHandle) -> BatchWriter {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(run(store, net, queue));
        BatchWriter { jobs }
    }

    /// Queues `job`, after every job queued before it.
    pub fn submit(&self, job: Job) {
        if job.store.is_empty() && job.forget.is_empty() && job.messages.is_empty() {
            return;
        }
        if self.jobs.send(job).is_err() {
            tracing::debug!("batch writer stopped; a job was dropped");
        }
    }
}

async fn run(store: Arc<Store>, net: NetworkHandle, mut queue: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < GROUP {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let store_all: Vec<Arc<Batch>> =
            jobs.iter().flat_map(|j| j.store.iter().cloned()).collect();
        let forget_all: Vec<Hash> = jobs.iter().flat_map(|j| j.forget.iter().copied()).collect();
        let store = store.clone();
        let written = tokio::task::spawn_blocking(move || {
            store.put_batches(store_all.iter().map(|b| &**b))?;
            store.delete_batches(&forget_all)
        })
        .await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot store batches; not vouching for them");
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "batch write task failed");
                continue;
            }
        }
        for (to, kind, bytes) in jobs.into_iter().flat_map(|j| j.messages) {
            let sent = match to {
                Some(to) => net.send(to, kind, bytes).await,
                None => net.broadcast(kind, bytes).await,
            };
            if let Err(e) = sent {
                tracing::debug!(error = %e, "batch message not sent");
            }
        }
    }
}
