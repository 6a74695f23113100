//! Collecting votes as the next round's leader.

use cairn_types::Vote;

use crate::collect::Collected;
use crate::{Action, Consensus};

impl Consensus {
    /// A vote. Only the leader of the round after the vote's round collects it.
    pub(crate) fn on_vote(&mut self, vote: Vote) {
        let round = vote.data.round;
        if self.validators.leader(round + 1) != self.me
            || round + 1 < self.round
            || round > self.round.saturating_add(self.config.round_window)
        {
            return;
        }
        if vote.voter != self.me && vote.verify(&self.chain, &self.validators).is_err() {
            return;
        }
        match self.votes.add(vote, self.validators.quorum()) {
            Collected::Nothing => {}
            Collected::Equivocation(evidence) => self.emit(Action::Evidence(evidence)),
            Collected::Certificate(qc) => {
                // Built from verified votes: remember it as verified.
                let _ = self.verify_once(&qc, |_, _| Ok(()));
                let me = self.me;
                self.process_qc(qc, me);
            }
        }
    }
}
