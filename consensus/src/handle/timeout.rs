//! Timing out: the local timer, timeouts from others, and timeout certificates.

use cairn_crypto::Domain;
use cairn_types::{Round, Timeout, ValidatorId, timeout_signing_bytes};

use crate::collect::Collected;
use crate::{Action, Consensus, Message};

impl Consensus {
    /// The local timer for `round` went off: time out (or re-broadcast the timeout
    /// already signed for this round) and re-arm the timer while the round lasts. A
    /// recovering validator instead asks the others for their certificates again.
    pub(crate) fn on_local_timeout(&mut self, round: Round) {
        if round != self.round {
            return;
        }
        self.helped.clear();
        self.status_answered.clear();
        if self.safety.recovering {
            self.ask_for_status();
        }
        self.time_out(round);
        if self.round == round {
            let after_ms = self
                .config
                .backoff_ms(self.consecutive_timeouts.saturating_add(1));
            self.emit(Action::ScheduleTimeout { round, after_ms });
        }
    }

    /// Signs and broadcasts a timeout for `round` (once per round; afterwards the
    /// stored one is re-sent) if the safety rules allow it: never below a round already
    /// voted in, always with the highest QC, and only in a round that follows that QC
    /// or the high TC, which the timeout then carries. A recovering validator sends no
    /// timeout at all, not even a stored one.
    fn time_out(&mut self, round: Round) {
        if self.safety.recovering {
            return;
        }
        if let Some(stored) = self
            .safety
            .last_timeout
            .as_ref()
            .filter(|t| t.round == round)
        {
            let message = Message::Timeout(stored.clone());
            self.emit(Action::Broadcast { message });
            return;
        }
        let high_qc = self.safety.high_qc.clone();
        let last_tc = if high_qc.round().checked_add(1) == Some(round) {
            None
        } else {
            self.safety
                .high_tc
                .clone()
                .filter(|tc| tc.round.checked_add(1) == Some(round))
        };
        if self
            .safety
            .check_timeout(round, high_qc.round(), last_tc.as_ref())
            .is_err()
        {
            return;
        }
        let timeout = Timeout::sign(&self.chain, round, high_qc, last_tc, self.me, &self.key);
        self.safety.highest_voted_round = self.safety.highest_voted_round.max(round);
        self.safety.last_timeout = Some(timeout.clone());
        self.emit(Action::PersistSafety(self.safety.clone()));
        self.emit(Action::Broadcast {
            message: Message::Timeout(timeout.clone()),
        });
        self.collect_timeout(timeout);
    }

    /// A timeout from another validator. Its certificates are used first: a validator
    /// in an earlier round catches up from the QC or the TC that justify the
    /// timeout's round.
    pub(crate) fn on_timeout(&mut self, from: ValidatorId, timeout: Timeout) {
        let round = timeout.round;
        if round < self.round {
            self.help_lagging(from, round);
            return;
        }
        // A replay of a timeout already collected needs no signature check and brings
        // no news; it may still make this validator join the round's timeouts below.
        if !self.timeouts.holds(&timeout) {
            if !self.timeout_valid(&timeout) {
                return;
            }
            if timeout.high_qc.round() > self.safety.high_qc.round() {
                self.process_qc(timeout.high_qc.clone(), from);
            }
            if let Some(tc) = timeout.last_tc.clone() {
                self.process_tc(tc, from);
            }
            if round > self.round.saturating_add(self.config.round_window) {
                return;
            }
            self.collect_timeout(timeout);
        }
        // f + 1 timeouts mean at least one honest validator gave up on this round:
        // join them, so a TC forms even if this validator's timer is behind.
        let already = self
            .safety
            .last_timeout
            .as_ref()
            .is_some_and(|t| t.round == round);
        if round == self.round
            && !already
            && self.timeouts.count(round) > self.validators.max_faulty()
        {
            self.time_out(round);
        }
    }

    /// Form, signature and certificates of a timeout for this round or a later one.
    /// The QC is always checked (once per distinct QC): a TC built from this timeout
    /// may carry it. The TC is checked only if it is news (for this round or later);
    /// an older one is not used.
    fn timeout_valid(&mut self, timeout: &Timeout) -> bool {
        if timeout.check_form().is_err() || !self.timeout_signature_ok(timeout) {
            return false;
        }
        let qc = &timeout.high_qc;
        if !self.verify_qc(qc) {
            return false;
        }
        match &timeout.last_tc {
            Some(tc) if tc.round >= self.round => self.verify_tc(tc),
            _ => true,
        }
    }

    /// A validator still timing out in a round this one has left: send it the
    /// certificates that end that round, so it catches up instead of waiting for a
    /// proposal that may never reach it: at most two messages, once per peer per
    /// timer period (a peer whose answer was lost asks again with its next timeout).
    /// The TC comes from the safety state, so it is still at hand after a restart.
    fn help_lagging(&mut self, to: ValidatorId, their_round: Round) {
        if to == self.me || !self.helped.insert(to) {
            return;
        }
        if self.safety.high_qc.round() >= their_round {
            let message = Message::QuorumCert(self.safety.high_qc.clone());
            self.emit(Action::Send { to, message });
        }
        if let Some(tc) = self
            .safety
            .high_tc
            .as_ref()
            .filter(|tc| tc.round >= their_round)
        {
            let message = Message::TimeoutCert(tc.clone());
            self.emit(Action::Send { to, message });
        }
    }

    fn timeout_signature_ok(&self, timeout: &Timeout) -> bool {
        let Some(key) = self.validators.key(timeout.signer) else {
            return false;
        };
        let message = timeout_signing_bytes(&self.chain, timeout.round, timeout.high_qc.round());
        key.verify(Domain::Timeout, &message, &timeout.signature)
            .is_ok()
    }

    fn collect_timeout(&mut self, timeout: Timeout) {
        match self.timeouts.add(timeout, self.validators.quorum()) {
            Collected::Nothing => {}
            Collected::Equivocation(evidence) => self.emit(Action::Evidence(evidence)),
            Collected::Certificate(tc) => {
                let _ = self.verify_once(&tc, |_, _| Ok(()));
                let me = self.me;
                self.process_tc(tc, me);
            }
        }
    }
}
