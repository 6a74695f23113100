//! Fetching blocks the core is missing (`FetchBlock`) and answering peers' requests.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use cairn_consensus::Event;
use cairn_crypto::Hash;
use cairn_network::{NetworkHandle, Offence, Responder};
use cairn_storage::Store;
use cairn_types::{Block, BlockHeader, ChainId, Height, ValidatorId, Wire};
use parity_scale_codec::Decode;
use tokio::sync::{Semaphore, mpsc};

use super::Driver;
use super::rates::{BLOCK_BYTES_PER_SEC, BYTE_UNIT, PeerRates};
use crate::run::wire::REQUEST_BLOCK;

/// Longest pause between two rounds of asking every validator for a missing block.
const MAX_FETCH_BACKOFF: Duration = Duration::from_secs(10);
/// Rounds of asking every validator before giving up on a block (about 15 minutes
/// with the back-off): the block is then on a dead branch or the network is down.
const FETCH_ROUNDS: u32 = 100;
/// Block requests from one peer answered at once; more from it are refused (the
/// requester asks someone else). Per peer, so one peer cannot take every slot.
const MAX_SERVING_PER_PEER: usize = 2;

/// The outcome of one block fetch.
pub struct FetchResult {
    /// The block asked for.
    pub id: Hash,
    /// The block, if some peer had it (checked: its id is `id` and it is well formed).
    pub block: Option<Block>,
}

/// Block ids being fetched (one task each), and per peer the slots for serving its
/// requests and the bytes it may be sent.
pub(super) struct Fetches {
    fetching: HashSet<Hash>,
    serving: Vec<Arc<Semaphore>>,
    bytes: Arc<Mutex<PeerRates>>,
}

impl Fetches {
    /// Nothing fetched yet, serving slots for `n` validators.
    pub(super) fn new(n: usize) -> Fetches {
        Fetches {
            fetching: HashSet::new(),
            serving: (0..n)
                .map(|_| Arc::new(Semaphore::new(MAX_SERVING_PER_PEER)))
                .collect(),
            bytes: Arc::new(Mutex::new(PeerRates::new(n, BLOCK_BYTES_PER_SEC))),
        }
    }

    /// True when nothing is being fetched.
    pub(super) fn is_empty(&self) -> bool {
        self.fetching.is_empty()
    }
}

impl Driver {
    /// Starts fetching `id`, first from `from`, then from every other validator in turn,
    /// again and again with a growing pause, until one supplies it.
    pub(super) fn fetch(&mut self, id: Hash, from: ValidatorId) {
        if !self.fetches.fetching.insert(id) {
            return;
        }
        let n = self.shared.genesis.n();
        let me = self.shared.me;
        let order: Vec<ValidatorId> = std::iter::once(from)
            .chain((0..n).map(|i| ValidatorId(i as u16)).filter(|v| *v != from))
            .filter(|v| *v != me)
            .collect();
        let fetch = Fetch {
            net: self.net.clone(),
            chain: self.shared.genesis.chain_id(),
            id,
            order,
            wait: self.block_fetch,
        };
        tokio::spawn(fetch.run(self.fetched_tx.clone()));
    }

    /// Hands a fetched block to the core.
    pub(super) async fn on_fetched(&mut self, result: FetchResult) -> Result<()> {
        self.fetches.fetching.remove(&result.id);
        match result.block {
            Some(block) => {
                // Remembered only if the core keeps it (it may refuse a block on a
                // dead branch).
                self.step(Event::BlockFetched { block }).await?;
                self.remember_if_held(&result.id);
                Ok(())
            }
            None => {
                tracing::warn!(id = %result.id, "gave up fetching a block no validator could supply");
                Ok(())
            }
        }
    }

    /// Answers a peer's request for a block — committed, persisted or recently seen —
    /// off this task: at most [`MAX_SERVING_PER_PEER`] of the peer's at once, within
    /// its request rate ([`BLOCK_REQUESTS_PER_SEC`](super::rates::BLOCK_REQUESTS_PER_SEC))
    /// and byte rate ([`BLOCK_BYTES_PER_SEC`]); beyond any, the request is refused and
    /// the peer asks another validator. A malformed
    /// request counts against the peer. The driver only looks the id up in memory
    /// (no copy, no decode): a persisted block is read by its key, a committed one by
    /// the store's id index.
    pub(super) fn answer_block_request(
        &mut self,
        from: ValidatorId,
        payload: &[u8],
        responder: Responder,
    ) {
        let refused = &self.shared.metrics.block_requests_refused;
        let Ok(bytes) = <[u8; 32]>::try_from(payload) else {
            refused.inc();
            tracing::debug!(from = from.0, "malformed block request");
            self.net.report(from, Offence::BadRequest);
            return; // dropping the responder answers with an error
        };
        if !self.block_requests.allow(from) {
            refused.inc();
            tracing::debug!(
                from = from.0,
                "peer is over its block request rate; refused one"
            );
            return;
        }
        let id = Hash::from(bytes);
        let slot = self
            .fetches
            .serving
            .get(usize::from(from.0))
            .and_then(|s| s.clone().try_acquire_owned().ok());
        let Some(slot) = slot else {
            refused.inc();
            tracing::debug!(
                from = from.0,
                "too many block requests in progress; refused one"
            );
            return;
        };
        let known = self.recent.get(&id).cloned();
        let pending_height = self.pending_heights.get(&id).copied();
        let store = self.shared.store.clone();
        let (rates, metrics) = (self.fetches.bytes.clone(), self.shared.metrics.clone());
        tokio::spawn(async move {
            let bytes = tokio::task::spawn_blocking(move || {
                let block = match known {
                    Some(block) => Some(block),
                    None => lookup(&store, &id, pending_height).map(Arc::new),
                };
                block.map(|b| b.to_wire()).unwrap_or_default()
            })
            .await
            .unwrap_or_default();
            let units = u32::try_from(bytes.len().div_ceil(BYTE_UNIT)).unwrap_or(u32::MAX);
            if rates.lock().is_ok_and(|mut r| r.allow_n(from, units)) {
                responder.respond(bytes);
            } else {
                metrics.block_requests_refused.inc();
                tracing::debug!(
                    from = from.0,
                    "peer is over its block byte rate; refused one"
                );
            }
            drop(slot);
        });
    }
}

/// A block from the persisted uncommitted blocks (when its height is known) or the
/// committed chain.
fn lookup(store: &Store, id: &Hash, pending_height: Option<Height>) -> Option<Block> {
    let pending = match pending_height {
        Some(height) => store.pending_block_at(height, id),
        None => Ok(None),
    };
    // Committed since the driver looked: the commit moved it to the chain.
    let found = pending.and_then(|b| match b {
        Some(block) => Ok(Some(block)),
        None => store.block(id),
    });
    found.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "block lookup failed");
        None
    })
}

/// One block being fetched.
struct Fetch {
    net: NetworkHandle,
    chain: ChainId,
    id: Hash,
    order: Vec<ValidatorId>,
    wait: Duration,
}

impl Fetch {
    /// Asks each validator in turn until one returns a well-formed block with the
    /// wanted id; reports the result to the driver.
    async fn run(self, results: mpsc::Sender<FetchResult>) {
        let id = self.id;
        for round in 0..FETCH_ROUNDS {
            for peer in &self.order {
                if let Some(block) = self.ask(*peer).await {
                    let _ = results
                        .send(FetchResult {
                            id,
                            block: Some(block),
                        })
                        .await;
                    return;
                }
            }
            let pause = self.wait.saturating_mul(round + 1).min(MAX_FETCH_BACKOFF);
            tokio::time::sleep(pause).await;
        }
        let _ = results.send(FetchResult { id, block: None }).await;
    }

    async fn ask(&self, peer: ValidatorId) -> Option<Block> {
        let request = self
            .net
            .request(peer, REQUEST_BLOCK, self.id.as_bytes().to_vec());
        let bytes = tokio::time::timeout(self.wait, request).await.ok()?.ok()?;
        if bytes.is_empty() {
            return None;
        }
        // The id is the header's hash and the header comes first: a block that is not
        // the one asked for is refused before its transactions are decoded.
        let header = BlockHeader::decode(&mut bytes.as_slice()).ok();
        if header.is_none_or(|h| h.id() != self.id) {
            tracing::warn!(peer = peer.0, id = %self.id, "peer answered with another block or garbage");
            self.net.report(peer, Offence::Invalid);
            return None;
        }
        // Decoding and hashing the transactions (against the header's payload root,
        // which the id covers) run on the blocking pool.
        let chain = self.chain;
        let checked = tokio::task::spawn_blocking(move || {
            let block =
                Block::from_wire(&bytes).map_err(|e| (Offence::Undecodable, e.to_string()))?;
            block
                .check_well_formed(&chain)
                .map_err(|e| (Offence::Invalid, e.to_string()))?;
            Ok::<_, (Offence, String)>(block)
        })
        .await
        .ok()?;
        let block = match checked {
            Ok(block) => block,
            Err((offence, error)) => {
                tracing::warn!(peer = peer.0, id = %self.id, %error, "peer answered with a bad block");
                self.net.report(peer, offence);
                return None;
            }
        };
        Some(block)
    }
}
