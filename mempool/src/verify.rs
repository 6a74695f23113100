//! Batch signature verification for admission.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use cairn_crypto::{Domain, Hash, SignedItem, find_invalid};
use cairn_types::Transaction;
use parity_scale_codec::Encode;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::time::{Instant, timeout_at};
use tracing::debug;

use crate::{AdmitError, Result};

/// Requests that may wait in the queue, in batches: beyond this, `verify` callers wait
/// for room (back-pressure) instead of queueing without bound.
const QUEUED_BATCHES: usize = 4;

/// What a caller gets back: the transaction and its hash, or why it was refused.
type Verdict = Result<(Transaction, Hash)>;

struct Request {
    tx: Transaction,
    reply: oneshot::Sender<Verdict>,
}

/// Verifies transaction signatures in batches on blocking threads, so many concurrent
/// submissions cost one batch check instead of one check each, and the async runtime's
/// threads never spend time on curve arithmetic.
///
/// A collector task gathers requests until it has `max_batch` of them or `max_wait`
/// has passed since the first, then hands the batch to `spawn_blocking`. A batch that
/// fails is bisected by [`cairn_crypto::find_invalid`] down to the bad signatures, so
/// exactly those are refused, under the same rule execution applies: a signature this
/// pool admits is one every validator's execution accepts. At most one batch per CPU
/// runs at a time; while all are busy, requests queue in a bounded channel and then
/// `verify` waits.
///
/// Cloning is cheap and shares the collector; it stops when the last clone is dropped.
#[derive(Clone, Debug)]
pub struct BatchVerifier {
    requests: mpsc::Sender<Request>,
}

impl BatchVerifier {
    /// Starts the collector task on the current Tokio runtime. A `max_batch` of 0 is
    /// treated as 1.
    ///
    /// # Panics
    ///
    /// If called outside a Tokio runtime (as `tokio::spawn` does).
    pub fn spawn(max_batch: usize, max_wait: Duration) -> BatchVerifier {
        let max_batch = max_batch.max(1);
        let (requests, queue) = mpsc::channel(max_batch.saturating_mul(QUEUED_BATCHES));
        let workers = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        tokio::spawn(collect(
            queue,
            max_batch,
            max_wait,
            Arc::new(Semaphore::new(workers)),
        ));
        BatchVerifier { requests }
    }

    /// Checks `tx`'s signature; on success returns it with its hash (computed here,
    /// once). [`AdmitError::BadSignature`] if the signature does not verify,
    /// [`AdmitError::VerifierStopped`] if the verifier is shutting down.
    pub async fn verify(&self, tx: Transaction) -> Verdict {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { tx, reply })
            .await
            .map_err(|_| AdmitError::VerifierStopped)?;
        answer.await.map_err(|_| AdmitError::VerifierStopped)?
    }
}

/// The collector: batches requests and starts a blocking verification per batch.
async fn collect(
    mut queue: mpsc::Receiver<Request>,
    max_batch: usize,
    max_wait: Duration,
    workers: Arc<Semaphore>,
) {
    while let Some(first) = queue.recv().await {
        let mut batch = Vec::with_capacity(max_batch);
        batch.push(first);
        let deadline = Instant::now() + max_wait;
        while batch.len() < max_batch {
            match timeout_at(deadline, queue.recv()).await {
                Ok(Some(request)) => batch.push(request),
                Ok(None) | Err(_) => break,
            }
        }
        // Wait for a free worker; meanwhile new requests queue (bounded).
        let Ok(permit) = Arc::clone(&workers).acquire_owned().await else {
            break;
        };
        tokio::task::spawn_blocking(move || {
            answer_batch(batch);
            drop(permit);
        });
    }
}

/// Verifies one batch and answers every request in it.
fn answer_batch(batch: Vec<Request>) {
    // Callers that gave up need no answer and no verification.
    let batch: Vec<Request> = batch.into_iter().filter(|r| !r.reply.is_closed()).collect();
    let payloads: Vec<Vec<u8>> = batch.iter().map(|r| r.tx.payload.encode()).collect();
    let invalid = {
        let items: Vec<SignedItem<'_>> = batch
            .iter()
            .zip(&payloads)
            .map(|(request, payload)| SignedItem {
                domain: Domain::Tx,
                message: payload,
                signer: &request.tx.payload.sender,
                signature: &request.tx.signature,
            })
            .collect();
        find_invalid(&items)
    };
    debug!(
        batch = batch.len(),
        invalid = invalid.len(),
        "verified a batch of transaction signatures"
    );
    for (index, (request, payload)) in batch.into_iter().zip(&payloads).enumerate() {
        let verdict = if invalid.binary_search(&index).is_ok() {
            Err(AdmitError::BadSignature)
        } else {
            // SCALE(Transaction) = SCALE(payload) || signature (docs/PROTOCOL.md §4).
            let hash = Hash::digest_parts(&[payload, request.tx.signature.as_bytes()]);
            Ok((request.tx, hash))
        };
        // The caller may have gone away meanwhile; then nobody needs the answer.
        let _ = request.reply.send(verdict);
    }
}
