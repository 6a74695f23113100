//! Messages and requests from other validators.

use anyhow::Result;
use cairn_batches::Event as BatchEvent;
use cairn_consensus::{Event, Message};
use cairn_network::Incoming;
use cairn_types::ValidatorId;
use parity_scale_codec::DecodeAll;

use super::Driver;
use super::claims::ClaimCheck;
use super::verify::{Checked, Verified};
use crate::run::wire::{
    KIND_BATCH, KIND_BATCH_PROOF, KIND_BATCH_VOTE, KIND_BATCHED_PROPOSAL, KIND_CONSENSUS,
    KIND_FORWARD, REQUEST_BATCH, REQUEST_BLOCK, REQUEST_BLOCKS, REQUEST_STATUS,
};

/// Proposals this many rounds from the current one are remembered; others are not.
const RECENT_ROUND_WINDOW: u64 = 16;

impl Driver {
    /// Routes one network input: consensus and batch messages to verification, block
    /// and batch requests to their servers.
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
                kind: KIND_FORWARD,
                payload,
            } => self.admit_forwarded(from, payload),
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

    /// Admits the transactions a full node forwarded, in order, like a client's
    /// (they then go into this validator's batches). Validators do not forward; a
    /// bundle arriving while the slots for forwarded bundles are taken is dropped
    /// (the full node's client sees its transaction stay unknown and submits again).
    fn admit_forwarded(&self, from: ValidatorId, payload: Vec<u8>) {
        if usize::from(from.0) < self.shared.genesis.n() {
            return;
        }
        let Ok(slot) = self.forward_slots.clone().try_acquire_owned() else {
            tracing::debug!(from = from.0, "forwarded bundles in admission; dropped one");
            return;
        };
        let bundle = match crate::run::forward::Bundle::decode_all(&mut payload.as_slice()) {
            Ok(bundle) => bundle,
            Err(e) => {
                tracing::debug!(from = from.0, error = %e, "undecodable forwarded bundle");
                self.net.report(from, cairn_network::Offence::Undecodable);
                return;
            }
        };
        let shared = self.shared.clone();
        tokio::spawn(async move {
            for tx in bundle.into_inner() {
                if let Err(e) = shared.admit(tx).await {
                    tracing::debug!(from = from.0, error = %e, "forwarded transaction refused");
                }
            }
            drop(slot);
        });
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
                self.on_peer_batch(from, batch);
                Ok(())
            }
            Checked::BatchVote(vote) => {
                self.batch_event(BatchEvent::Vote { vote });
                Ok(())
            }
            Checked::Proof(proof) => {
                self.batch_event(BatchEvent::Proof { proof });
                // A waiting leader may now have something to propose.
                self.shared.batch_ready.notify_one();
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
