//! Re-entry without safety state: a validator that may have signed messages it no
//! longer remembers signs nothing until `n − quorum + f + 1` other validators have told
//! it their highest certificates, then bars every round up to the highest of them
//! plus 2. The argument is in docs/PROTOCOL.md, "Re-entry without safety state".

use cairn_types::{Round, ValidatorId};

use crate::{Action, Consensus, Message, Recovery, RecoveryReason, RoundStatus};

impl Consensus {
    /// Asks every other validator for its highest certificates.
    pub(crate) fn ask_for_status(&mut self) {
        self.emit(Action::Broadcast {
            message: Message::StatusRequest,
        });
    }

    /// A validator asks for this validator's highest certificates: answer, once per
    /// asker per period (until this validator enters a round or its timer fires), so a
    /// replayed request costs nothing. Recovering validators answer too, with what they
    /// have learned so far.
    pub(crate) fn on_status_request(&mut self, from: ValidatorId) {
        if from == self.me
            || self.validators.key(from).is_none()
            || !self.status_answered.insert(from)
        {
            return;
        }
        let status = RoundStatus {
            high_qc: self.safety.high_qc.clone(),
            high_tc: self.safety.high_tc.clone(),
        };
        self.emit(Action::Send {
            to: from,
            message: Message::Status(status),
        });
        self.resend_vote_to_restarted_collector(from);
    }

    /// A validator that asks for status has just started: if it collects the votes of
    /// the round still running, the one this validator sent it was lost with the
    /// crash, and it gets it again. Without this the round waits out its timer,
    /// backed off by the failures the crash caused: the simulator's rolling kills
    /// (`tests/sim_chaos.rs`) stood the chain still for 4–7 s per crashed collector.
    fn resend_vote_to_restarted_collector(&mut self, from: ValidatorId) {
        let Some(vote) = self.safety.last_vote.clone() else {
            return;
        };
        if vote.data.round == self.round && self.vote_collector(&vote) == from {
            self.emit(Action::Send {
                to: from,
                message: Message::Vote(vote),
            });
        }
    }

    /// An answer to this validator's `StatusRequest`. Its certificates are used if
    /// they are news and verify, like certificates arriving in any other message (a
    /// restarted validator catches up with the rounds it missed). While recovering,
    /// the first answer of each other validator also counts towards the recovery if
    /// both its certificates verify, and its highest round is recorded; later answers
    /// of the same validator count no more.
    pub(crate) fn on_status(&mut self, from: ValidatorId, status: RoundStatus) {
        if from == self.me || self.validators.key(from).is_none() {
            return;
        }
        let RoundStatus { high_qc, high_tc } = status;
        if !self.safety.recovering || self.status_replies.contains_key(&from) {
            self.on_quorum_cert(from, high_qc);
            if let Some(tc) = high_tc {
                self.on_timeout_cert(from, tc);
            }
            return;
        }
        if !self.verify_qc(&high_qc) || !high_tc.as_ref().is_none_or(|tc| self.verify_tc(tc)) {
            return;
        }
        let reported = high_tc
            .as_ref()
            .map_or(0, |tc| tc.round)
            .max(high_qc.round());
        self.process_qc(high_qc, from);
        if let Some(tc) = high_tc {
            self.process_tc(tc, from);
        }
        self.status_replies.insert(from, reported);
        if self.status_replies.len() >= self.recovery_quorum() {
            self.finish_recovery();
        }
    }

    /// Enough answers: with `X` the highest round they certified, this validator
    /// signed in no round above `X + 2` before it lost its safety state, so it bars
    /// every round up to `X + 2` and signs again. The stored vote and timeout are
    /// dropped: they need not be the last it signed (after a stale state they are
    /// not), and without them no timeout is allowed in the highest voted round.
    fn finish_recovery(&mut self) {
        let highest_reported_round = self.status_replies.values().copied().max().unwrap_or(0);
        let replies = self.status_replies.len();
        let barred = highest_reported_round.saturating_add(2);
        let safety = &mut self.safety;
        safety.highest_voted_round = safety.highest_voted_round.max(barred);
        safety.highest_proposed_round = safety.highest_proposed_round.max(barred);
        safety.last_vote = None;
        safety.last_timeout = None;
        safety.recovering = false;
        self.status_replies.clear();
        self.emit(Action::PersistSafety(self.safety.clone()));
        self.emit(Action::Recovery(Recovery::Finished {
            signs_from_round: barred.saturating_add(1),
            highest_reported_round,
            replies,
        }));
        self.ask_for_payload_if_leading();
    }

    /// A verified certificate signed by `signers` in `round`: if this validator is
    /// among them although its safety state says it never signed in that round, its
    /// safety state is stale — it signed things it does not remember. It stops signing
    /// and recovers.
    pub(crate) fn notice_own_signature(
        &mut self,
        round: Round,
        mut signers: impl Iterator<Item = ValidatorId>,
    ) {
        if self.safety.recovering
            || round <= self.safety.highest_voted_round
            || self.skip_recovery()
            || !signers.any(|id| id == self.me)
        {
            return;
        }
        let reason = RecoveryReason::OwnSignatureAbove {
            round,
            highest_voted_round: self.safety.highest_voted_round,
        };
        self.safety.recovering = true;
        self.status_replies.clear();
        self.emit(Action::PersistSafety(self.safety.clone()));
        let replies_needed = self.recovery_quorum();
        self.emit(Action::Recovery(Recovery::Started {
            reason,
            replies_needed,
        }));
        self.ask_for_status();
    }
}
