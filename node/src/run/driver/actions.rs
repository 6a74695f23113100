//! Performing the core's actions, in order (consensus/README.md lists the duties).

use anyhow::{Context, Result};
use cairn_consensus::{Action, Event, Evidence, Message, Recovery};
use cairn_types::{Block, ValidatorId, Wire};
use parity_scale_codec::Encode;
use tokio::time::Instant;

use super::{Driver, PayloadWait, action_name, blocking};
use crate::run::wire::KIND_CONSENSUS;

impl Driver {
    /// Performs one action. Durable writes finish before this returns; an error from
    /// one of them stops the node. Returns the event to feed next, if the action has
    /// an immediate answer (a payload).
    pub(super) async fn perform(&mut self, action: Action) -> Result<Option<Event>> {
        tracing::trace!(action = action_name(&action));
        match action {
            Action::PersistSafety(safety) => {
                let bytes = safety.encode();
                let store = self.shared.store.clone();
                blocking(|| store.put_safety_state(&bytes)).context(
                    "cannot persist the consensus safety state; stopping before signing",
                )?;
            }
            Action::PersistBlock(block) => {
                let store = self.shared.store.clone();
                blocking(|| store.put_pending_block(&block))
                    .context("cannot persist a block before voting for it; stopping")?;
                self.pending_heights.insert(block.id(), block.header.height);
                self.remember(block);
            }
            Action::Send { to, message } => self.send(to, &message).await,
            Action::Broadcast { message } => self.broadcast(&message).await,
            Action::ScheduleTimeout { round, after_ms } => {
                let at = Instant::now() + std::time::Duration::from_millis(after_ms);
                self.timer = Some((round, at));
            }
            Action::RequestPayload {
                round,
                parent,
                wait,
            } => {
                self.payload_wait = Some(PayloadWait {
                    round,
                    parent,
                    deadline: Instant::now() + self.heartbeat,
                });
                return Ok(match wait {
                    false => self.payload_event(),
                    true => self.payload_if_ready(),
                });
            }
            Action::Commit {
                blocks,
                certificate,
            } => self.commit(blocks, certificate).await?,
            Action::FetchBlock { id, from } => self.fetch(id, from),
            Action::Evidence(evidence) => self.record_evidence(&evidence),
            Action::Recovery(step) => log_recovery(&step),
        }
        Ok(None)
    }

    /// Performs `PersistBlock` and the `PersistSafety` right after it as one synced
    /// write.
    pub(super) fn persist_block_and_safety(&mut self, block: Block, safety: Vec<u8>) -> Result<()> {
        let store = self.shared.store.clone();
        blocking(|| store.put_pending_block_and_safety(&block, &safety))
            .context("cannot persist a block and the safety state before voting; stopping")?;
        self.pending_heights.insert(block.id(), block.header.height);
        self.remember(block);
        Ok(())
    }

    /// Sends one message to one validator. Certificates sent to a peer (the core's
    /// answers to a lagging validator's stale timeouts) are held to a per-peer rate,
    /// so a peer replaying stale timeouts gets a few answers, not one per timeout.
    pub(super) async fn send(&mut self, to: ValidatorId, message: &Message) {
        let reply = matches!(
            message,
            Message::QuorumCert(_) | Message::TimeoutCert(_) | Message::Status(_)
        );
        if reply && !self.replies.allow(to) {
            self.shared.metrics.replies_limited.inc();
            return;
        }
        if let Message::Vote(vote) = message
            && vote.voter == self.shared.me
        {
            self.shared.metrics.votes.inc();
        }
        if let Some(byzantine) = &mut self.byzantine {
            let out = byzantine.rewrite(&[to], message);
            return self.send_all(out).await;
        }
        if let Err(e) = self.net.send(to, KIND_CONSENSUS, message.to_wire()).await {
            tracing::debug!(to = to.0, error = %e, "send failed");
        }
    }

    async fn broadcast(&mut self, message: &Message) {
        if let Message::Proposal(proposal) = message {
            self.remember(proposal.block.clone());
            if self.byzantine.is_none() && self.broadcast_batched(proposal).await {
                return;
            }
        }
        if let Some(byzantine) = &mut self.byzantine {
            let n = self.shared.genesis.validators().len() as u16;
            let others: Vec<ValidatorId> = (0..n)
                .map(ValidatorId)
                .filter(|v| *v != self.shared.me)
                .collect();
            let out = byzantine.rewrite(&others, message);
            return self.send_all(out).await;
        }
        if let Err(e) = self.net.broadcast(KIND_CONSENSUS, message.to_wire()).await {
            tracing::debug!(error = %e, "broadcast failed");
        }
    }

    /// Sends what a Byzantine behaviour made of a message (fault-run builds only).
    async fn send_all(&mut self, out: crate::run::byzantine::Outgoing) {
        use crate::run::byzantine::Frame;
        for frame in out {
            let sent = match frame {
                Frame::Message(to, message) => {
                    self.net.send(to, KIND_CONSENSUS, message.to_wire()).await
                }
                Frame::Payload(to, kind, payload) => self.net.send(to, kind, payload).await,
                #[cfg(feature = "byzantine")]
                Frame::Raw(to, bytes) => self.net.send_raw_frame(to, bytes).await,
            };
            if let Err(e) = sent {
                tracing::debug!(error = %e, "send failed");
            }
        }
    }

    /// Logs equivocation evidence and hands it to the keeper, which writes it to
    /// disk off this task (docs/OPERATING.md, "Equivocation evidence").
    fn record_evidence(&mut self, evidence: &Evidence) {
        self.shared.metrics.evidence.inc();
        let file = self.evidence.keep(evidence);
        tracing::warn!(
            culprit = evidence.culprit().0,
            round = evidence.round(),
            kind = super::evidence::kind(evidence),
            file = %file.display(),
            "EQUIVOCATION: a validator signed two conflicting messages for one round"
        );
    }
}

/// Logs a step of the recovery of the safety state (docs/PROTOCOL.md, "Re-entry
/// without safety state"): while it lasts this validator signs nothing.
fn log_recovery(step: &Recovery) {
    match step {
        Recovery::Started {
            reason,
            replies_needed,
        } => tracing::warn!(
            %reason,
            replies_needed,
            "RECOVERING the consensus safety state: following the chain without signing until {replies_needed} validators report their highest certificates"
        ),
        Recovery::Finished {
            signs_from_round,
            highest_reported_round,
            replies,
        } => tracing::warn!(
            signs_from_round,
            highest_reported_round,
            replies,
            "RECOVERED the consensus safety state: signing again from round {signs_from_round}"
        ),
    }
}
