//! Fetching blocks the core is missing (`FetchBlock`) and answering peers' requests.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Result;
use cairn_consensus::Event;
use cairn_crypto::Hash;
use cairn_network::{NetworkHandle, Responder};
use cairn_types::{Block, ValidatorId, Wire};
use tokio::sync::mpsc;

use super::{Driver, blocking};
use crate::run::wire::REQUEST_BLOCK;

/// The outcome of one block fetch.
pub struct FetchResult {
    /// The block asked for.
    pub id: Hash,
    /// The block, if some peer had it (checked: its id is `id`).
    pub block: Option<Block>,
}

/// Block ids being fetched (one task each).
#[derive(Default)]
pub(super) struct Fetches(HashSet<Hash>);

impl Fetches {
    /// True when nothing is being fetched.
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Driver {
    /// Starts fetching `id`, first from `from`, then from every other validator in turn.
    pub(super) fn fetch(&mut self, id: Hash, from: ValidatorId) {
        if !self.fetches.0.insert(id) {
            return;
        }
        let n = self.shared.genesis.n();
        let me = self.shared.me;
        let order: Vec<ValidatorId> = std::iter::once(from)
            .chain((0..n).map(|i| ValidatorId(i as u16)))
            .filter(|v| *v != me)
            .collect();
        let (net, results, wait) = (self.net.clone(), self.fetched_tx.clone(), self.block_fetch);
        tokio::spawn(fetch_from(net, id, order, wait, results));
    }

    /// Hands a fetched block to the core.
    pub(super) async fn on_fetched(&mut self, result: FetchResult) -> Result<()> {
        self.fetches.0.remove(&result.id);
        match result.block {
            Some(block) => {
                self.remember(block.clone());
                self.step(Event::BlockFetched { block }).await
            }
            None => {
                tracing::warn!(id = %result.id, "no validator could supply a missing block");
                Ok(())
            }
        }
    }

    /// Answers a peer's request for a block: committed, persisted or recently seen.
    pub(super) fn answer_block_request(
        &self,
        from: ValidatorId,
        payload: &[u8],
        responder: Responder,
    ) {
        let Ok(bytes) = <[u8; 32]>::try_from(payload) else {
            tracing::debug!(from = from.0, "malformed block request");
            return; // dropping the responder answers with an error
        };
        let id = Hash::from(bytes);
        let block = match self.recent.get(&id) {
            Some(block) => Some(block.clone()),
            None => {
                let store = self.shared.store.clone();
                blocking(|| store.block(&id)).unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "block lookup failed");
                    None
                })
            }
        };
        responder.respond(block.map(|b| b.to_wire()).unwrap_or_default());
    }
}

/// Asks each validator of `order` in turn, up to three rounds, until one returns the
/// block whose id is `id`; reports the result to the driver.
async fn fetch_from(
    net: NetworkHandle,
    id: Hash,
    order: Vec<ValidatorId>,
    wait: Duration,
    results: mpsc::Sender<FetchResult>,
) {
    for attempt in 0..3u32 {
        for peer in &order {
            let asked = tokio::time::timeout(
                wait,
                net.request(*peer, REQUEST_BLOCK, id.as_bytes().to_vec()),
            );
            let Ok(Ok(bytes)) = asked.await else { continue };
            match Block::from_wire(&bytes) {
                Ok(block) if block.id() == id => {
                    let _ = results
                        .send(FetchResult {
                            id,
                            block: Some(block),
                        })
                        .await;
                    return;
                }
                Ok(_) => tracing::warn!(peer = peer.0, %id, "peer answered with another block"),
                Err(_) if bytes.is_empty() => {}
                Err(e) => tracing::warn!(peer = peer.0, error = %e, "undecodable block from peer"),
            }
        }
        tokio::time::sleep(wait * (attempt + 1)).await;
    }
    let _ = results.send(FetchResult { id, block: None }).await;
}
