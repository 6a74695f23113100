//! Durable acknowledgements. `tx_submit` answers only after the transaction is
//! recorded in the store with a synced write, so a validator killed right after
//! acknowledging (before its gossip left, or before any quorum existed) admits the
//! transaction again when it restarts instead of silently losing it — and with it
//! every later nonce of the sender, which would wait behind the gap for ever.
//!
//! One writer thread records the submissions that arrive together in one write batch
//! (one disk sync for all of them). A sweep drops the records of transactions that
//! left the mempool (committed or evicted), so the records stay within the mempool's
//! bounds; see `docs/EXECUTION.md` "Acknowledgements".

use std::sync::{Arc, Weak};
use std::time::Duration;

use cairn_crypto::Hash;
use cairn_storage::{StorageError, Store};
use cairn_types::Transaction;
use tokio::sync::{mpsc, oneshot, watch};

/// Submissions waiting for the writer; a full queue makes `tx_submit` wait (the
/// transactions themselves are already in the mempool, which bounds their bytes).
const QUEUE: usize = 1024;

/// Most transactions in one write batch.
const BATCH: usize = 512;

/// How often records of transactions that left the mempool are dropped.
pub const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// One submission to record and whom to tell.
struct Request {
    hash: Hash,
    tx: Transaction,
    done: oneshot::Sender<Result<(), String>>,
}

/// The handle `tx_submit` records through.
pub struct AdmissionLog {
    queue: mpsc::Sender<Request>,
}

impl AdmissionLog {
    /// Starts the writer thread on `store`. It ends when the log is dropped. It holds
    /// the store only while it writes: a thread that kept the database open while the
    /// process exits would have RocksDB's background threads meet its torn-down
    /// globals (an abort, "pthread lock: Invalid argument", seen in CI).
    pub fn spawn(store: &Arc<Store>) -> std::io::Result<AdmissionLog> {
        let (queue, requests) = mpsc::channel(QUEUE);
        let store = Arc::downgrade(store);
        std::thread::Builder::new()
            .name("cairn-admit".into())
            .spawn(move || write_batches(&store, requests))?;
        Ok(AdmissionLog { queue })
    }

    /// Records `tx` (whose hash is `hash`) durably; returns once it is on disk, or why
    /// it could not be written.
    pub async fn record(&self, hash: Hash, tx: Transaction) -> Result<(), String> {
        let (done, written) = oneshot::channel();
        self.queue
            .send(Request { hash, tx, done })
            .await
            .map_err(|_| "the admission writer stopped".to_string())?;
        written
            .await
            .map_err(|_| "the admission writer stopped".to_string())?
    }
}

/// The writer thread: waits for one request, takes whatever else is queued (up to
/// [`BATCH`]), writes them in one synced batch and answers each.
fn write_batches(store: &Weak<Store>, mut requests: mpsc::Receiver<Request>) {
    while let Some(first) = requests.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match requests.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let entries: Vec<(Hash, &Transaction)> = batch.iter().map(|r| (r.hash, &r.tx)).collect();
        let result = match store.upgrade() {
            Some(store) => store.put_admitted(&entries).map_err(|e: StorageError| {
                tracing::error!(error = %e, "cannot record acknowledged transactions");
                e.to_string()
            }),
            None => Err("the store is closed".to_string()),
        };
        for request in batch {
            let _ = request.done.send(result.clone());
        }
    }
}

/// Every [`SWEEP_EVERY`] until `stop`: drops the records of transactions `pending`
/// no longer holds. A record written after the sweep read the keys is not seen by it,
/// and one it sees was in the mempool before it was written, so a transaction still
/// pending is never dropped.
pub async fn sweep(
    store: Arc<Store>,
    pending: impl Fn(&Hash) -> bool + Clone + Send + 'static,
    mut stop: watch::Receiver<bool>,
) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => return,
        }
        let (store, pending) = (store.clone(), pending.clone());
        let swept = tokio::task::spawn_blocking(move || store.forget_admitted(pending)).await;
        match swept {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::trace!(records = n, "dropped settled acknowledgements"),
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot drop settled acknowledgements"),
            Err(e) => tracing::warn!(error = %e, "the acknowledgement sweep failed"),
        }
    }
}
