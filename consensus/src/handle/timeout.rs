//! Timing out: the local timer, timeouts from others, and timeout certificates.

use cairn_crypto::Domain;
use cairn_types::{Round, Timeout, ValidatorId, timeout_signing_bytes};

use crate::collect::Collected;
use crate::{Action, Consensus, Message};

impl Consensus {
    /// The local timer for `round` went off: time out (or re-broadcast the timeout
    /// already signed for this round) and re-arm the timer while the round lasts.
    pub(crate) fn on_local_timeout(&mut self, round: Round) {
        if round != self.round {
            return;
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
    /// stored one is re-sent), never going back below a round already voted in.
    fn time_out(&mut self, round: Round) {
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
        if self.safety.check_timeout(round).is_err() {
            return;
        }
        let timeout = Timeout::sign(
            &self.chain,
            round,
            self.safety.high_qc.clone(),
            self.me,
            &self.key,
        );
        self.safety.highest_voted_round = self.safety.highest_voted_round.max(round);
        self.safety.last_timeout = Some(timeout.clone());
        self.emit(Action::PersistSafety(self.safety.clone()));
        self.emit(Action::Broadcast {
            message: Message::Timeout(timeout.clone()),
        });
        self.collect_timeout(timeout);
    }

    /// A timeout from another validator.
    pub(crate) fn on_timeout(&mut self, from: ValidatorId, timeout: Timeout) {
        let round = timeout.round;
        if round < self.round {
            self.help_lagging(from, round);
            return;
        }
        // A replay of a timeout already collected needs no signature check and brings
        // no news; it may still make this validator join the round's timeouts below.
        if !self.timeouts.holds(&timeout) {
            let high_qc = timeout.high_qc.clone();
            if high_qc.round() >= round || !self.timeout_signature_ok(&timeout) {
                return;
            }
            let news = high_qc.round() > self.safety.high_qc.round();
            if news && !self.verify_once(&high_qc, |c, v| high_qc.verify(c, v)) {
                return;
            }
            if news {
                self.process_qc(high_qc, from);
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

    /// A validator still timing out in a round this one has left: send it the
    /// certificates that end that round, so it catches up instead of waiting for a
    /// proposal that may never reach it. At most two messages per stale timeout.
    fn help_lagging(&mut self, to: ValidatorId, their_round: Round) {
        if to == self.me {
            return;
        }
        if self.safety.high_qc.round() >= their_round {
            let message = Message::QuorumCert(self.safety.high_qc.clone());
            self.emit(Action::Send { to, message });
        }
        if let Some(tc) = self
            .last_round_tc
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
                self.process_tc(tc);
            }
        }
    }
}
