//! Messages and requests from other validators.

use std::sync::Arc;

use anyhow::Result;
use cairn_consensus::{Event, Message};
use cairn_network::Incoming;
use cairn_types::{BoundedVec, Transaction, ValidatorId, Wire};
use parity_scale_codec::DecodeAll;

use super::Driver;
use super::verify::Verified;
use crate::run::shared::Shared;
use crate::run::wire::{KIND_CONSENSUS, KIND_TXS, MAX_GOSSIP_TXS, REQUEST_BLOCK};

/// Proposals this many rounds from the current one are remembered; others are not.
const RECENT_ROUND_WINDOW: u64 = 16;

/// A gossip batch as it travels: at most [`MAX_GOSSIP_TXS`] transactions.
pub type GossipBatch = BoundedVec<Transaction, MAX_GOSSIP_TXS>;

impl Driver {
    /// Routes one network input: consensus messages to the core, transaction batches
    /// to the mempool (in their own task), block requests to the store.
    pub(super) async fn on_incoming(&mut self, incoming: Incoming) -> Result<()> {
        match incoming {
            Incoming::Message {
                from,
                kind: KIND_CONSENSUS,
                payload,
            } => match Message::from_wire(&payload) {
                Ok(message) => self.verifier.submit(from, message),
                Err(e) => {
                    self.shared.metrics.bad_messages.inc();
                    tracing::debug!(from = from.0, error = %e, "undecodable consensus message");
                }
            },
            Incoming::Message {
                from,
                kind: KIND_TXS,
                payload,
            } => match self.shared.gossip_slots.clone().try_acquire_owned() {
                Ok(slot) => {
                    let shared = self.shared.clone();
                    tokio::spawn(async move {
                        admit_gossip(shared, from, payload).await;
                        drop(slot);
                    });
                }
                Err(_) => {
                    self.shared.metrics.dropped_messages.inc();
                    tracing::debug!(from = from.0, "transaction batch queue full; dropped one");
                }
            },
            Incoming::Request {
                from,
                kind: REQUEST_BLOCK,
                payload,
                responder,
            } => {
                self.answer_block_request(from, &payload, responder);
            }
            Incoming::Message { from, kind, .. } | Incoming::Request { from, kind, .. } => {
                tracing::debug!(from = from.0, kind, "unknown message kind");
            }
        }
        Ok(())
    }

    /// Hands a message whose signatures checked out to the core. A proposal from its
    /// round's leader near the current round is also remembered (its transactions
    /// must not be proposed again on top of it).
    pub(super) async fn on_verified(&mut self, checked: Verified) -> Result<()> {
        if let Message::Proposal(proposal) = &checked.message {
            let header = &proposal.block.header;
            let near = header.round.abs_diff(self.core.round()) <= RECENT_ROUND_WINDOW;
            if near && self.shared.genesis.validators().leader(header.round) == header.proposer {
                self.remember(proposal.block.clone());
            }
        }
        self.step(Event::Message {
            from: checked.from,
            message: checked.message,
        })
        .await
    }
}

/// Admits a batch of transactions another validator shared. Invalid ones are dropped
/// (the peer's mempool should have refused them; they are counted in the logs).
async fn admit_gossip(shared: Arc<Shared>, from: ValidatorId, payload: Vec<u8>) {
    let batch = match GossipBatch::decode_all(&mut payload.as_slice()) {
        Ok(batch) => batch,
        Err(e) => {
            tracing::debug!(from = from.0, error = %e, "undecodable transaction batch");
            return;
        }
    };
    let admissions = batch.into_inner().into_iter().map(|tx| {
        let shared = shared.clone();
        async move { shared.admit(tx, false).await }
    });
    for result in futures::future::join_all(admissions).await {
        if let Err(e) = result {
            tracing::trace!(from = from.0, error = %e, "gossiped transaction not admitted");
        }
    }
}
