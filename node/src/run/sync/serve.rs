//! Answering other nodes' status and range requests from the committed chain.

use std::sync::{Arc, Mutex};

use cairn_network::{Inbox, Incoming, NetworkHandle, Offence, Responder};
use cairn_storage::Store;
use cairn_types::{BoundedVec, ValidatorId};
use parity_scale_codec::{DecodeAll, Encode};
use tokio::sync::Semaphore;

use super::{BlockRange, CHUNK_BYTES, ChainStatus, CommittedBlock, MAX_CHUNK_BLOCKS};
use crate::run::driver::PeerRates;
use crate::run::wire::{REQUEST_BLOCK, REQUEST_BLOCKS, REQUEST_STATUS};

/// Sync requests of one peer answered at once; more are refused (it asks another).
const SERVING_PER_PEER: usize = 2;
/// Status and range requests answered per peer per second (and burst).
const REQUESTS_PER_SEC: (u32, u32) = (100, 200);
/// Bytes of ranges sent to one peer per second (and burst), in 64 KiB units:
/// 128 MiB/s — a node catching up is served at full speed, no peer gets more.
const BYTES_PER_SEC: (u32, u32) = (2048, 4096);
const BYTE_UNIT: usize = 64 * 1024;

/// Serves block sync to every peer (validators and full nodes), each within its own
/// slots and rates, on the blocking pool.
pub struct SyncServer {
    store: Arc<Store>,
    net: NetworkHandle,
    slots: Vec<Arc<Semaphore>>,
    requests: PeerRates,
    bytes: Arc<Mutex<PeerRates>>,
}

impl SyncServer {
    /// A server for `peers` peers (indexes `0..peers`).
    pub fn new(store: Arc<Store>, net: NetworkHandle, peers: usize) -> SyncServer {
        SyncServer {
            store,
            net,
            slots: (0..peers)
                .map(|_| Arc::new(Semaphore::new(SERVING_PER_PEER)))
                .collect(),
            requests: PeerRates::new(peers, REQUESTS_PER_SEC),
            bytes: Arc::new(Mutex::new(PeerRates::new(peers, BYTES_PER_SEC))),
        }
    }

    /// Answers a status request: the committed head and its certificate.
    pub fn answer_status(&mut self, from: ValidatorId, responder: Responder) {
        let Some(slot) = self.admit(from) else { return };
        let store = self.store.clone();
        tokio::spawn(async move {
            let answer = tokio::task::spawn_blocking(move || status(&store)).await;
            if let Ok(Some(status)) = answer {
                responder.respond(status.encode());
            }
            drop(slot);
        });
    }

    /// Answers a range request with consecutive committed blocks and their stored
    /// certificates, within [`MAX_CHUNK_BLOCKS`] and [`CHUNK_BYTES`] (at least one
    /// block if the peer has it) and the peer's byte rate.
    pub fn answer_range(&mut self, from: ValidatorId, payload: &[u8], responder: Responder) {
        let Ok(range) = BlockRange::decode_all(&mut &payload[..]) else {
            tracing::debug!(from = from.0, "malformed range request");
            self.net.report(from, Offence::BadRequest);
            return;
        };
        let Some(slot) = self.admit(from) else { return };
        let (store, bytes) = (self.store.clone(), self.bytes.clone());
        tokio::spawn(async move {
            let answer = tokio::task::spawn_blocking(move || chunk(&store, range)).await;
            if let Ok(Some(encoded)) = answer {
                let units = u32::try_from(encoded.len().div_ceil(BYTE_UNIT)).unwrap_or(u32::MAX);
                if bytes.lock().is_ok_and(|mut r| r.allow_n(from, units)) {
                    responder.respond(encoded);
                } else {
                    tracing::debug!(from = from.0, "peer is over its sync byte rate");
                }
            }
            drop(slot);
        });
    }

    /// Answers a request for one block by id from the store (committed or persisted
    /// pending); used while the consensus driver is not running.
    pub fn answer_block(&mut self, from: ValidatorId, payload: &[u8], responder: Responder) {
        let Ok(bytes) = <[u8; 32]>::try_from(payload) else {
            self.net.report(from, Offence::BadRequest);
            return;
        };
        let Some(slot) = self.admit(from) else { return };
        let (store, rates) = (self.store.clone(), self.bytes.clone());
        let id = cairn_crypto::Hash::from(bytes);
        tokio::spawn(async move {
            let answer = tokio::task::spawn_blocking(move || {
                let pending = store.pending_block(&id).ok().flatten();
                pending
                    .or_else(|| store.block(&id).ok().flatten())
                    .map(|b| b.encode())
                    .unwrap_or_default()
            })
            .await;
            if let Ok(encoded) = answer {
                let units = u32::try_from(encoded.len().div_ceil(BYTE_UNIT)).unwrap_or(u32::MAX);
                if rates.lock().is_ok_and(|mut r| r.allow_n(from, units)) {
                    responder.respond(encoded);
                }
            }
            drop(slot);
        });
    }

    /// Runs `work` while answering peers' requests from the store: status, ranges and
    /// blocks by id. Consensus messages and transaction gossip that arrive meanwhile
    /// are dropped (the node is not taking part yet). Returns `work`'s result.
    pub async fn serve_while<T>(
        &mut self,
        inbox: &mut Inbox,
        work: tokio::task::JoinHandle<T>,
    ) -> Result<T, tokio::task::JoinError> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                result = &mut work => return result,
                Some(incoming) = inbox.recv() => self.answer(incoming),
            }
        }
    }

    /// Answers one request from a peer; ignores anything else.
    pub fn answer(&mut self, incoming: Incoming) {
        if let Incoming::Request {
            from,
            kind,
            payload,
            responder,
        } = incoming
        {
            match kind {
                REQUEST_STATUS => self.answer_status(from, responder),
                REQUEST_BLOCKS => self.answer_range(from, &payload, responder),
                REQUEST_BLOCK => self.answer_block(from, &payload, responder),
                _ => tracing::debug!(from = from.0, kind, "unknown request kind"),
            }
        }
    }

    /// A serving slot for `from`, if it is within its request rate and has one free.
    fn admit(&mut self, from: ValidatorId) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if !self.requests.allow(from) {
            tracing::debug!(from = from.0, "peer is over its sync request rate");
            return None;
        }
        let slot = self.slots.get(usize::from(from.0))?;
        slot.clone().try_acquire_owned().ok()
    }
}

/// The store's committed head with its certificate.
pub(super) fn status(store: &Store) -> Option<ChainStatus> {
    let head = store.head().ok()?;
    let certificate = match head.height {
        0 => None,
        h => Some(store.commit_certificate(h).ok()??),
    };
    Some(ChainStatus {
        height: head.height,
        certificate,
    })
}

/// The encoded chunk of committed blocks `range` asks for.
pub(super) fn chunk(store: &Store, range: BlockRange) -> Option<Vec<u8>> {
    let head = store.head().ok()?.height;
    let max = usize::try_from(range.max_blocks)
        .unwrap_or(usize::MAX)
        .clamp(1, MAX_CHUNK_BLOCKS);
    let mut blocks = Vec::new();
    let mut bytes = 0usize;
    let mut height = range.from.max(1);
    while height <= head && blocks.len() < max {
        let block = match store.block_at(height) {
            Ok(Some(block)) => block,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, height, "block read for sync failed");
                break;
            }
        };
        let size = block.encoded_size();
        if !blocks.is_empty() && bytes.saturating_add(size) > CHUNK_BYTES {
            break;
        }
        bytes = bytes.saturating_add(size);
        let certificate = store.commit_certificate(height).ok().flatten();
        blocks.push(CommittedBlock { block, certificate });
        height += 1;
    }
    BoundedVec::<CommittedBlock, MAX_CHUNK_BLOCKS>::new(blocks)
        .ok()
        .map(|chunk| chunk.encode())
}
