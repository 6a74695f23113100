//! Messages and requests from other validators.

use std::sync::Arc;

use anyhow::Result;
use cairn_consensus::{Event, Message};
use cairn_network::{Incoming, NetworkHandle, Offence};
use cairn_rpc::SubmitError;
use cairn_types::{BoundedVec, Transaction, ValidatorId};
use parity_scale_codec::DecodeAll;

use super::Driver;
use super::claims::ClaimCheck;
use super::verify::{Checked, Verified};
use crate::run::shared::Shared;
use crate::run::wire::{
    KIND_BATCH, KIND_BATCH_PROOF, KIND_BATCH_VOTE, KIND_BATCHED_PROPOSAL, KIND_CONSENSUS, KIND_TXS,
    MAX_GOSSIP_TXS, REQUEST_BATCH, REQUEST_BLOCK, REQUEST_BLOCKS, REQUEST_STATUS,
};
use cairn_batches::Event as BatchEvent;

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
                ..
            } if usize::from(from.0) >= self.shared.genesis.n() => {
                // A full node takes no part in consensus.
                tracing::debug!(from = from.0, "consensus message from a full node dropped");
            }
            Incoming::Message {
                from,
                kind:
                    kind @ (KIND_CONSENSUS
                    | KIND_BATCH
                    | KIND_BATCH_VOTE
                    | KIND_BATCH_PROOF
                    | KIND_BATCHED_PROPOSAL),
                payload,
            } => {
                if usize::from(from.0) < self.shared.genesis.n() {
                    self.verifier.submit(from, kind, payload);
                }
            }
            Incoming::Message {
                from,
                kind: KIND_TXS,
                payload,
            } => match self.gossip_slot(from) {
                Some(slot) => {
                    let (shared, net) = (self.shared.clone(), self.net.clone());
                    tokio::spawn(async move {
                        admit_gossip(shared, net, from, payload).await;
                        drop(slot);
                    });
                }
                None => {
                    self.shared.metrics.dropped_gossip.inc();
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
            Incoming::Request {
                from,
                kind: REQUEST_BATCH,
                payload,
                responder,
            } => self.answer_batch_request(from, &payload, responder),
            request @ Incoming::Request {
                kind: REQUEST_STATUS | REQUEST_BLOCKS,
                ..
            } => self.sync_server.answer(request),
            Incoming::Message { from, kind, .. } | Incoming::Request { from, kind, .. } => {
                tracing::debug!(from = from.0, kind, "unknown message kind");
            }
        }
        Ok(())
    }

    fn gossip_slot(&self, from: ValidatorId) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let slots = self.shared.gossip_slots.get(usize::from(from.0))?;
        slots.clone().try_acquire_owned().ok()
    }

    /// Hands a message whose signatures checked out to the core. A proposal near the
    /// current round that the core accepted (from its round's leader) is also
    /// remembered (its transactions must not be proposed again on top of it); one the
    /// core refused — an equivocating leader's second block — is not.
    pub(super) async fn on_verified(&mut self, checked: Verified) -> Result<()> {
        let from = checked.from;
        match checked.item {
            Checked::Message(message) => self.on_message(from, message).await,
            Checked::Batched(proposal) => self.on_batched_proposal(from, proposal).await,
            Checked::Batch(batch) => {
                self.batch_event(BatchEvent::Received { from, batch });
                Ok(())
            }
            Checked::BatchVote(vote) => {
                self.batch_event(BatchEvent::Vote { vote });
                Ok(())
            }
            Checked::Proof(proof) => {
                self.batch_event(BatchEvent::Proof { proof });
                // A waiting leader may now have something to propose.
                self.shared.tx_arrived.notify_one();
                Ok(())
            }
        }
    }

    /// A checked consensus message (or an assembled batched proposal) for the core.
    pub(super) async fn on_message(&mut self, from: ValidatorId, message: Message) -> Result<()> {
        if let Message::Proposal(proposal) = &message
            && !self.state_claim_holds(&proposal.block.header)
        {
            // Not voted for; its certificates still count.
            let justify = proposal.block.header.justify.clone();
            let tc = proposal.timeout_cert.clone();
            self.step(Event::Message {
                from,
                message: Message::QuorumCert(justify),
            })
            .await?;
            if let Some(tc) = tc {
                self.step(Event::Message {
                    from,
                    message: Message::TimeoutCert(tc),
                })
                .await?;
            }
            return Ok(());
        }
        let proposed = match &message {
            Message::Proposal(proposal) => {
                let header = &proposal.block.header;
                // `remember_if_held` keeps it only if the core accepted it, which it
                // does only from the round's leader.
                let near = header.round.abs_diff(self.core.round()) <= RECENT_ROUND_WINDOW;
                near.then(|| proposal.block.id())
            }
            _ => None,
        };
        if let Some(height) = certified_height(&message) {
            self.note_network_height(height);
        }
        self.step(Event::Message { from, message }).await?;
        if let Some(id) = proposed {
            self.remember_if_held(&id);
        }
        Ok(())
    }
}

impl Driver {
    /// Whether a proposal's state claim agrees with this node's execution (or cannot
    /// be checked yet); a difference is logged and counted.
    fn state_claim_holds(&mut self, header: &cairn_types::BlockHeader) -> bool {
        match self.claims.check(header) {
            ClaimCheck::Differs { ours } => {
                self.shared.metrics.state_divergences.inc();
                tracing::error!(
                    proposer = header.proposer.0,
                    round = header.round,
                    state_height = header.state_height,
                    claimed = %header.state_root,
                    ours = %ours,
                    "STATE DIVERGENCE: a proposal vouches for another state than this node computed at that height; not voting for it"
                );
                false
            }
            ClaimCheck::Agrees | ClaimCheck::Later | ClaimCheck::Unchecked => true,
        }
    }
}

/// The height of the highest block a verified message's certificates certify.
fn certified_height(message: &Message) -> Option<cairn_types::Height> {
    let qc = match message {
        Message::Proposal(p) => &p.block.header.justify,
        Message::Timeout(t) => &t.high_qc,
        Message::QuorumCert(qc) => qc,
        Message::TimeoutCert(tc) => &tc.high_qc,
        _ => return None,
    };
    Some(qc.data.height)
}

/// Admits a batch of transactions another validator shared. Invalid ones are dropped.
/// An undecodable batch, or one with a transaction whose signature does not verify (or
/// for another chain, or over the size limit), counts against the sender: its mempool
/// checks the same rules before sharing, so an honest validator never sends one. (Other refusals — a nonce this node has
/// seen used, a full pool — happen between honest validators too.)
async fn admit_gossip(
    shared: Arc<Shared>,
    net: NetworkHandle,
    from: ValidatorId,
    payload: Vec<u8>,
) {
    let batch = match GossipBatch::decode_all(&mut payload.as_slice()) {
        Ok(batch) => batch,
        Err(e) => {
            tracing::debug!(from = from.0, error = %e, "undecodable transaction batch");
            shared
                .stall
                .note_peer_error(from, &format!("undecodable transaction batch: {e}"));
            net.report(from, Offence::Undecodable);
            return;
        }
    };
    let count = u32::try_from(batch.len()).unwrap_or(u32::MAX);
    let within_rate = shared
        .gossip_rates
        .lock()
        .is_ok_and(|mut rates| rates.allow_n(from, count));
    if !within_rate {
        shared.metrics.dropped_gossip.inc();
        tracing::debug!(
            from = from.0,
            "peer is over its gossip rate; dropped a batch"
        );
        return;
    }
    let admissions = batch.into_inner().into_iter().map(|tx| {
        let shared = shared.clone();
        async move { shared.admit(tx, false).await }
    });
    let mut bad_signature = false;
    for result in futures::future::join_all(admissions).await {
        if let Err(e) = result {
            // What the sender's own mempool would have refused with the same rules.
            bad_signature |= matches!(
                e,
                SubmitError::BadSignature | SubmitError::WrongChain | SubmitError::TooLarge { .. }
            );
            tracing::trace!(from = from.0, error = %e, "gossiped transaction not admitted");
        }
    }
    if bad_signature {
        tracing::debug!(
            from = from.0,
            "gossiped a transaction whose signature does not verify"
        );
        shared.stall.note_peer_error(
            from,
            "gossiped a transaction its own mempool would have refused (bad signature, other chain or too large)",
        );
        net.report(from, Offence::Invalid);
    }
}
