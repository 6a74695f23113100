//! Writes batches durably and then sends what vouches for them, in order.
//!
//! One task takes the driver's jobs in the order they were made, writes the batches of
//! every job waiting (one synced write for all of them), and only then sends the jobs'
//! messages, in order. In order matters: a sender's later batch is certified after its
//! earlier one, and leaders queue proofs in the order they arrive, so proofs must leave
//! in the order they formed. Nothing vouching for a batch is sent if the write fails.
//!
//! The queue is bounded in bytes: while what waits (batches to write, messages to send)
//! is over [`MAX_PENDING_BYTES`], the driver makes no batch of its own and stores and
//! votes for no peer's batch ([`BatchWriter::backed_up`]); a peer sends its batch again
//! a second later to those that did not vote. Votes and proofs, which are small, are
//! always queued, so the queue stays under the bound plus one batch.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cairn_crypto::Hash;
use cairn_network::NetworkHandle;
use cairn_storage::Store;
use cairn_types::{Batch, ValidatorId};
use tokio::sync::mpsc;

/// Most jobs written together.
const GROUP: usize = 256;
/// Bytes waiting in the queue beyond which no new batch is taken in.
pub const MAX_PENDING_BYTES: usize = 64 * 1024 * 1024;

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

impl Job {
    /// The bytes it holds while it waits: its batches and its messages.
    fn bytes(&self) -> usize {
        let batches: usize = self.store.iter().map(|b| b.info.bytes as usize).sum();
        let messages: usize = self.messages.iter().map(|(_, _, m)| m.len()).sum();
        batches + messages + self.forget.len() * 32
    }
}

/// The driver's end of the writer task. The channel is unbounded in count; the bytes
/// waiting in it are counted, and the driver takes no new batch while they are over
/// [`MAX_PENDING_BYTES`].
pub struct BatchWriter {
    jobs: mpsc::UnboundedSender<(Job, usize)>,
    pending: Arc<AtomicUsize>,
}

impl BatchWriter {
    /// Starts the writer task.
    pub fn spawn(store: Arc<Store>, net: NetworkHandle) -> BatchWriter {
        let (jobs, queue) = mpsc::unbounded_channel();
        let pending = Arc::new(AtomicUsize::new(0));
        tokio::spawn(run(store, net, queue, pending.clone()));
        BatchWriter { jobs, pending }
    }

    /// Whether the bytes waiting are over the bound: no new batch should be taken in.
    pub fn backed_up(&self) -> bool {
        self.pending.load(Ordering::Relaxed) > MAX_PENDING_BYTES
    }

    /// Queues `job`, after every job queued before it.
    pub fn submit(&self, job: Job) {
        if job.store.is_empty() && job.forget.is_empty() && job.messages.is_empty() {
            return;
        }
        let bytes = job.bytes();
        self.pending.fetch_add(bytes, Ordering::Relaxed);
        if self.jobs.send((job, bytes)).is_err() {
            self.pending.fetch_sub(bytes, Ordering::Relaxed);
            tracing::debug!("batch writer stopped; a job was dropped");
        }
    }
}

async fn run(
    store: Arc<Store>,
    net: NetworkHandle,
    mut queue: mpsc::UnboundedReceiver<(Job, usize)>,
    pending: Arc<AtomicUsize>,
) {
    while let Some((first, bytes)) = queue.recv().await {
        let mut jobs = vec![first];
        let mut taken = bytes;
        while jobs.len() < GROUP {
            match queue.try_recv() {
                Ok((job, bytes)) => {
                    jobs.push(job);
                    taken += bytes;
                }
                Err(_) => break,
            }
        }
        write_then_send(&store, &net, jobs).await;
        pending.fetch_sub(taken, Ordering::Relaxed);
    }
}

/// Writes the batches of `jobs` in one synced write, then sends their messages in order.
async fn write_then_send(store: &Arc<Store>, net: &NetworkHandle, jobs: Vec<Job>) {
    let store_all: Vec<Arc<Batch>> = jobs.iter().flat_map(|j| j.store.iter().cloned()).collect();
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
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "batch write task failed");
            return;
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
