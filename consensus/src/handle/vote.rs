//! Collecting votes as the next round's leader.

use cairn_types::{Round, Vote};

use crate::collect::Collected;
use crate::{Action, Consensus};

impl Consensus {
    /// A vote from the network: always verified, whoever it claims to be from (a
    /// forged vote may name this very validator) — unless exactly this vote is held
    /// already, so a replayed vote costs a lookup, not a signature check.
    pub(crate) fn on_vote(&mut self, vote: Vote) {
        if self.vote_is_collectable(&vote)
            && !self.votes.holds(&vote)
            && vote.verify(&self.chain, &self.validators).is_ok()
        {
            self.collect_vote(vote);
        }
    }

    /// This validator's own vote, signed a moment ago: no need to check it.
    pub(crate) fn on_own_vote(&mut self, vote: Vote) {
        if self.vote_is_collectable(&vote) {
            self.collect_vote(vote);
        }
    }

    /// Only the leader of the round after the vote's round collects it, and only for
    /// rounds near the current one.
    fn vote_is_collectable(&mut self, vote: &Vote) -> bool {
        let round = vote.data.round;
        if round == Round::MAX {
            return false;
        }
        // A vote may overtake the proposal it is for: then the leader rule cannot be
        // evaluated yet, and the vote is kept (the collector holds one per signer).
        let leader = self.leader_of(round + 1, &vote.data.block_id, round);
        leader.is_none_or(|leader| leader == self.me)
            && round + 1 >= self.round
            && round <= self.round.saturating_add(self.config.round_window)
    }

    fn collect_vote(&mut self, vote: Vote) {
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
