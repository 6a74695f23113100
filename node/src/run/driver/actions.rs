//! Performing the core's actions, in order (consensus/README.md lists the duties).

use anyhow::{Context, Result};
use cairn_consensus::{Action, Event, Evidence, Message};
use cairn_types::{Block, Wire};
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
                self.remember(block);
            }
            Action::Send { to, message } => {
                if let Err(e) = self.net.send(to, KIND_CONSENSUS, message.to_wire()).await {
                    tracing::debug!(to = to.0, error = %e, "send failed");
                }
            }
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
        }
        Ok(None)
    }

    /// Performs `PersistBlock` and the `PersistSafety` right after it as one synced
    /// write.
    pub(super) fn persist_block_and_safety(&mut self, block: Block, safety: Vec<u8>) -> Result<()> {
        let store = self.shared.store.clone();
        blocking(|| store.put_pending_block_and_safety(&block, &safety))
            .context("cannot persist a block and the safety state before voting; stopping")?;
        self.remember(block);
        Ok(())
    }

    async fn broadcast(&mut self, message: &Message) {
        if let Message::Proposal(proposal) = message {
            self.remember(proposal.block.clone());
        }
        if let Err(e) = self.net.broadcast(KIND_CONSENSUS, message.to_wire()).await {
            tracing::debug!(error = %e, "broadcast failed");
        }
    }

    /// Logs equivocation evidence and keeps both signed messages in
    /// `<home>/evidence/<kind>-round<r>-validator<v>.hex` (one line of hex SCALE per
    /// message), once per culprit, round and kind, and at most [`MAX_EVIDENCE_FILES`].
    fn record_evidence(&mut self, evidence: &Evidence) {
        self.shared.metrics.evidence.inc();
        let (first, second) = match evidence {
            Evidence::DoubleProposal(a, b) => (a.to_wire(), b.to_wire()),
            Evidence::DoubleVote(a, b) => (a.to_wire(), b.to_wire()),
            Evidence::DoubleTimeout(a, b) => (a.to_wire(), b.to_wire()),
        };
        let kind = evidence_kind(evidence);
        let file = self.evidence_dir.join(format!(
            "{kind}-round{}-validator{}.hex",
            evidence.round(),
            evidence.culprit().0
        ));
        tracing::warn!(
            culprit = evidence.culprit().0,
            round = evidence.round(),
            kind,
            first = %cairn_crypto::Hash::digest(&first),
            second = %cairn_crypto::Hash::digest(&second),
            file = %file.display(),
            "EQUIVOCATION: a validator signed two conflicting messages for one round"
        );
        if self.evidence_files >= MAX_EVIDENCE_FILES || file.exists() {
            return;
        }
        let text = format!("{}\n{}\n", hex(&first), hex(&second));
        let written =
            std::fs::create_dir_all(&self.evidence_dir).and_then(|()| std::fs::write(&file, text));
        match written {
            Ok(()) => self.evidence_files += 1,
            Err(e) => tracing::error!(error = %e, file = %file.display(), "cannot keep evidence"),
        }
    }
}

/// Most evidence files one run of the node writes.
const MAX_EVIDENCE_FILES: usize = 10_000;

fn evidence_kind(evidence: &Evidence) -> &'static str {
    match evidence {
        Evidence::DoubleProposal(..) => "double_proposal",
        Evidence::DoubleVote(..) => "double_vote",
        Evidence::DoubleTimeout(..) => "double_timeout",
    }
}

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}
