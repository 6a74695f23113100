//! Receiving a proposal: check it, learn from its certificates, and vote if safe.

use cairn_crypto::Domain;
use cairn_types::{Proposal, ValidatorId, Vote, VoteData, limits, proposal_signing_bytes};
use parity_scale_codec::Encode;

use crate::{Action, Consensus, Evidence, Message};

/// Times one vote is sent again for replays of the proposal it is for.
const MAX_VOTE_RESENDS: u32 = 3;

impl Consensus {
    /// A proposal delivered by `from`.
    pub(crate) fn on_proposal(&mut self, from: ValidatorId, proposal: Proposal) {
        let round = proposal.block.header.round;
        let block_id = proposal.block.id();
        let proposer = proposal.block.header.proposer;
        if self.validators.key(proposer).is_none() {
            return;
        }
        if round < self.round {
            self.keep_late_block(proposal);
            return;
        }
        let window_end = self.round.saturating_add(self.config.round_window);
        if round > window_end {
            // Too far ahead to keep: use only its certificates, which may let a lagging
            // validator catch up (forging one takes a quorum), and drop the rest
            // unverified.
            let qc = proposal.block.header.justify;
            if qc.round() > self.safety.high_qc.round() && self.verify_qc(&qc) {
                self.process_qc(qc, from);
            }
            if let Some(tc) = proposal.timeout_cert.filter(|tc| tc.round >= self.round)
                && self.verify_tc(&tc)
            {
                self.process_tc(tc, from);
            }
            return;
        }
        // Who leads depends on the chain the proposal extends; if that block is not
        // here yet, the proposal waits for it and is checked again when it arrives.
        let header = &proposal.block.header;
        let leader_known = match self.leader_of(round, &header.parent, header.justify.round()) {
            Some(leader) if leader != proposer => return,
            Some(_) => true,
            None => false,
        };
        if let Some(first) = self.proposals.get(&round) {
            if first.block.header.proposer != proposer {
                // Another validator that, by the certificate it held, led this round:
                // the first proposal seen keeps the round (a vote is cast only once).
                return;
            }
            if first.block.id() != block_id {
                // Reported once per round: replays of the second proposal cost nothing.
                if !self.double_proposals.contains(&round) && self.proposal_signature_ok(&proposal)
                {
                    self.double_proposals.insert(round);
                    let first = Box::new(first.clone());
                    self.emit(Action::Evidence(Evidence::DoubleProposal(
                        first,
                        Box::new(proposal),
                    )));
                }
                return;
            }
            if self.tree.contains(&block_id) {
                // Seen and stored already; a restarted voter may still need its vote.
                if round == self.round {
                    self.resend_vote_for(&proposal);
                }
                return;
            }
        }
        if !self.proposal_valid(&proposal) {
            return;
        }
        if leader_known {
            self.proposals.insert(round, proposal.clone());
        }
        self.pending.remove(&round);

        // Its certificates may commit blocks and bring this validator to its round.
        let header = &proposal.block.header;
        self.process_qc(header.justify.clone(), from);
        if let Some(tc) = &proposal.timeout_cert {
            self.process_tc(tc.clone(), from);
        }
        if round != self.round {
            if round > self.round && round <= window_end {
                self.pending.insert(round, (from, proposal));
            }
            return;
        }
        let parent = proposal.block.header.parent;
        let root = *self.tree.root();
        if proposal.block.header.justify.data.height <= root.height && parent != root.id {
            // Extends a block at or below the committed head that is not the head: a
            // branch that conflicts with the committed chain. Nothing to fetch.
            return;
        }
        if !self.tree.contains(&parent) {
            self.pending.insert(round, (from, proposal));
            self.fetch(parent, from);
            return;
        }
        self.tree.insert(proposal.block.clone());
        self.try_vote(&proposal);
    }

    /// A proposal for a round already left may still carry a block this validator
    /// needs: the one its high QC certifies, or one it is fetching. Its id is vouched
    /// for by that QC (or by the block that named it as parent), so keep it.
    fn keep_late_block(&mut self, proposal: Proposal) {
        let id = proposal.block.id();
        if self.tree.contains(&id) {
            return;
        }
        if id == self.safety.high_qc.block_id() {
            self.fetching.insert(id);
        }
        if self.fetching.contains(&id) {
            self.on_block_fetched(proposal.block);
        }
    }

    /// Form, size, proposer signature and certificates (each certificate verified
    /// once).
    fn proposal_valid(&mut self, proposal: &Proposal) -> bool {
        if !self.within_limits(&proposal.block)
            || proposal.block.check_well_formed(&self.chain).is_err()
            || !self.proposal_signature_ok(proposal)
        {
            return false;
        }
        let justify = &proposal.block.header.justify;
        if !self.verify_qc(justify) {
            return false;
        }
        // A block of round r extends the QC of round r − 1, or carries the TC of
        // round r − 1 (which also decides who leads r).
        let round = proposal.block.header.round;
        match &proposal.timeout_cert {
            Some(tc) => tc.round.checked_add(1) == Some(round) && self.verify_tc(tc),
            None => justify.round().checked_add(1) == Some(round),
        }
    }

    /// At most `max_block_txs` transactions and `max_block_bytes` bytes (each capped by
    /// the protocol's own limits).
    pub(crate) fn within_limits(&self, block: &cairn_types::Block) -> bool {
        let max_txs = self.config.max_block_txs.min(limits::MAX_BLOCK_TXS);
        let max_bytes = self.config.max_block_bytes.min(limits::MAX_BLOCK_BYTES);
        block.txs.len() <= max_txs && block.encoded_size() <= max_bytes
    }

    fn proposal_signature_ok(&self, proposal: &Proposal) -> bool {
        let header = &proposal.block.header;
        let Some(key) = self.validators.key(header.proposer) else {
            return false;
        };
        let message = proposal_signing_bytes(&self.chain, header.round, &proposal.block.id());
        key.verify(Domain::Proposal, &message, &proposal.signature)
            .is_ok()
    }

    /// Votes for the current round's proposal if the safety rules allow it (never
    /// while recovering: the check is also the first rule of `check_vote`).
    fn try_vote(&mut self, proposal: &Proposal) {
        if self.safety.recovering {
            return;
        }
        let header = &proposal.block.header;
        // Time and the state claim never go back along a chain.
        if self.tree.info(&header.parent).is_some_and(|parent| {
            header.timestamp_ms < parent.timestamp_ms || header.state_height < parent.state_height
        }) {
            return;
        }
        if !self.skip_voted_round_check() && self.resend_vote_for(proposal) {
            return;
        }
        let mut check = self.safety.check_vote(
            header.round,
            header.justify.round(),
            proposal.timeout_cert.as_ref(),
        );
        if self.skip_voted_round_check() {
            check = self.safety.check_justified(
                header.round,
                header.justify.round(),
                proposal.timeout_cert.as_ref(),
            );
        }
        if check.is_err() {
            return;
        }
        let data = VoteData {
            block_id: proposal.block.id(),
            round: header.round,
            height: header.height,
            parent_id: header.parent,
            parent_round: header.justify.round(),
        };
        let vote = Vote::sign(&self.chain, data, self.me, &self.key);
        self.safety.highest_voted_round = self.safety.highest_voted_round.max(header.round);
        self.safety.last_vote = Some(vote.clone());
        self.emit(Action::PersistBlock(proposal.block.clone()));
        self.emit(Action::PersistSafety(self.safety.clone()));
        self.send_vote(vote);
        // The leader is alive; what remains of the round is the next leader's work,
        // which may include its own wait for transactions: restart the timer.
        if self.round == header.round {
            let after_ms = self.round_timeout_ms(!proposal.block.txs.is_empty());
            let round = self.round;
            self.emit(Action::ScheduleTimeout { round, after_ms });
        }
    }

    /// If this validator already voted in the proposal's round, re-sends that vote
    /// when it is for this very block (never a new one) and returns true. A recovering
    /// validator sends nothing (its stored vote may be stale).
    fn resend_vote_for(&mut self, proposal: &Proposal) -> bool {
        if self.safety.recovering {
            return true;
        }
        let Some(vote) = &self.safety.last_vote else {
            return false;
        };
        if vote.data.round != proposal.block.header.round {
            return false;
        }
        // A restarted leader needs the vote once; a peer replaying the proposal must
        // not make this validator send it again and again.
        let resends = match self.vote_resends {
            (r, n) if r == vote.data.round => n,
            _ => 0,
        };
        if vote.data.block_id == proposal.block.id() && resends < MAX_VOTE_RESENDS {
            self.vote_resends = (vote.data.round, resends + 1);
            let vote = vote.clone();
            self.send_vote(vote);
        }
        true
    }

    /// Who collects `vote`: the leader of the round after it, for a block extending
    /// the voted one.
    pub(crate) fn vote_collector(&mut self, vote: &Vote) -> ValidatorId {
        let round = vote.data.round.saturating_add(1);
        self.leader_of(round, &vote.data.block_id, vote.data.round)
            .unwrap_or_else(|| crate::leader::round_robin(self.validators.len(), round))
    }

    /// Votes go to the next round's leader.
    fn send_vote(&mut self, vote: Vote) {
        let next_leader = self.vote_collector(&vote);
        if next_leader == self.me {
            self.on_own_vote(vote);
        } else {
            self.emit(Action::Send {
                to: next_leader,
                message: Message::Vote(vote),
            });
        }
    }

    #[cfg(feature = "unsafe-test-variants")]
    fn skip_voted_round_check(&self) -> bool {
        self.unsafe_variant.skip_voted_round_check
    }

    #[cfg(not(feature = "unsafe-test-variants"))]
    fn skip_voted_round_check(&self) -> bool {
        false
    }
}
