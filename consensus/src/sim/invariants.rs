//! The invariants every run is checked against, and how a violation reads.
//!
//! * Agreement: no two honest validators commit different blocks at one height, and
//!   each one's commits extend its own committed chain (contiguous heights, parent
//!   links, a certificate that proves the last block committed).
//! * No equivocation: no honest validator signs two different proposals, votes or
//!   timeouts for one round — checked from every signed message and every persisted
//!   safety state it emitted, across restarts — and its persisted highest voted round
//!   never goes back. Evidence never names an honest validator. Signatures are
//!   recorded by validator id, not by instance or incarnation, so a validator wiped
//!   and restarted is the same signer as before; what a wipe resets is only the
//!   persisted state that later states are compared with.
//! * Progress: from GST (or its restart, if later) every honest running validator keeps
//!   committing, with no gap longer than the scenario's bound.

use std::collections::BTreeMap;

use cairn_crypto::Hash;
use cairn_types::{Block, Height, QuorumCert, Round, ValidatorId, VoteData};

use super::violation::{Violation, short, vote_text};
use crate::{BlockInfo, Evidence, Message, SafetyData};

/// Collects what honest validators did and records violations as they happen.
#[derive(Default)]
pub(crate) struct Checker {
    heights: BTreeMap<Height, (Hash, usize)>,
    proposals: BTreeMap<(ValidatorId, Round), Hash>,
    votes: BTreeMap<(ValidatorId, Round), VoteData>,
    timeouts: BTreeMap<(ValidatorId, Round), Round>,
    /// Per height, the first honest validator's signature verdicts.
    verdicts: BTreeMap<Height, (Vec<bool>, usize)>,
    pub(crate) violations: Vec<Violation>,
}

impl Checker {
    /// An honest instance commits `blocks` on top of `head` (its committed head so far).
    pub(crate) fn on_commit(
        &mut self,
        instance: usize,
        head: &BlockInfo,
        blocks: &[Block],
        certificate: &QuorumCert,
        quorum: usize,
        at_ms: u64,
    ) {
        let broken = |problem: String| Violation::BrokenChain {
            instance,
            problem,
            at_ms,
        };
        let Some(last) = blocks.last() else {
            self.violations
                .push(broken("a commit with no blocks".into()));
            return;
        };
        let mut parent = *head;
        for block in blocks {
            let (height, id) = (block.header.height, block.id());
            if height != parent.height + 1 || block.header.parent != parent.id {
                self.violations.push(broken(format!(
                    "block {} at height {height} (parent {}) does not extend {} at height {}",
                    short(&id),
                    short(&block.header.parent),
                    short(&parent.id),
                    parent.height
                )));
                return;
            }
            match self.heights.get(&height) {
                Some((first, by)) if *first != id => {
                    self.violations.push(Violation::ConflictingCommit {
                        height,
                        first: (*by, *first),
                        second: (instance, id),
                        at_ms,
                    });
                    return;
                }
                Some(_) => {}
                None => {
                    self.heights.insert(height, (id, instance));
                }
            }
            parent = BlockInfo::of(block);
        }
        let proves = certificate.data.commits() == Some((last.id(), last.header.round));
        if !proves || certificate.signatures.len() < quorum {
            self.violations.push(broken(format!(
                "the certificate of round {} with {} signers does not prove block {} committed",
                certificate.round(),
                certificate.signatures.len(),
                short(&last.id())
            )));
        }
    }

    /// An honest instance's verdicts on the transaction signatures of the block it
    /// committed at `height` (or how its single and batch checks disagreed).
    pub(crate) fn on_verdicts(
        &mut self,
        instance: usize,
        height: Height,
        verdicts: Result<Vec<bool>, String>,
        at_ms: u64,
    ) {
        let diverged = |problem: String| Violation::DivergentVerdicts {
            height,
            instance,
            problem,
            at_ms,
        };
        let verdicts = match verdicts {
            Ok(v) => v,
            Err(problem) => {
                self.violations.push(diverged(problem));
                return;
            }
        };
        match self.verdicts.get(&height) {
            None => {
                self.verdicts.insert(height, (verdicts, instance));
            }
            Some((first, by)) if *first != verdicts => {
                let problem = format!(
                    "{} of {} verdicts differ from instance {by}'s",
                    first.iter().zip(&verdicts).filter(|(a, b)| a != b).count(),
                    verdicts.len()
                );
                self.violations.push(diverged(problem));
            }
            Some(_) => {}
        }
    }

    /// A message an honest validator sent; only what it signed itself is checked.
    pub(crate) fn on_sent(&mut self, me: ValidatorId, message: &Message, at_ms: u64) {
        match message {
            Message::Proposal(p) if p.block.header.proposer == me => {
                let (round, id) = (p.block.header.round, p.block.id());
                if let Some(first) = self.proposals.get(&(me, round)) {
                    if *first != id {
                        let (first, second) = (
                            format!("block {}", short(first)),
                            format!("block {}", short(&id)),
                        );
                        self.equivocation(me, "proposal", round, first, second, at_ms);
                    }
                } else {
                    self.proposals.insert((me, round), id);
                }
            }
            Message::Vote(v) if v.voter == me => self.on_vote(me, &v.data, at_ms),
            Message::Timeout(t) if t.signer == me => {
                self.on_timeout(me, t.round, t.high_qc.round(), at_ms)
            }
            _ => {}
        }
    }

    fn on_vote(&mut self, me: ValidatorId, data: &VoteData, at_ms: u64) {
        match self.votes.get(&(me, data.round)) {
            Some(first) if first != data => {
                let (first, second) = (vote_text(first), vote_text(data));
                self.equivocation(me, "vote", data.round, first, second, at_ms);
            }
            Some(_) => {}
            None => {
                if self.timeouts.contains_key(&(me, data.round)) {
                    self.violations.push(Violation::VoteAfterTimeout {
                        validator: me,
                        round: data.round,
                        vote: vote_text(data),
                        at_ms,
                    });
                }
                self.votes.insert((me, data.round), *data);
            }
        }
    }

    fn on_timeout(&mut self, me: ValidatorId, round: Round, high_qc_round: Round, at_ms: u64) {
        match self.timeouts.get(&(me, round)) {
            Some(first) if *first != high_qc_round => {
                let first = format!("a timeout with high QC round {first}");
                let second = format!("one with high QC round {high_qc_round}");
                self.equivocation(me, "timeout", round, first, second, at_ms);
            }
            Some(_) => {}
            None => {
                self.timeouts.insert((me, round), high_qc_round);
            }
        }
    }

    fn equivocation(
        &mut self,
        validator: ValidatorId,
        kind: &'static str,
        round: Round,
        first: String,
        second: String,
        at_ms: u64,
    ) {
        self.violations.push(Violation::Equivocation {
            validator,
            kind,
            round,
            first,
            second,
            at_ms,
        });
    }

    /// An honest validator persists `new` over `old`: the vote and timeout it records
    /// count as signed, and nothing may go backwards.
    pub(crate) fn on_persist(
        &mut self,
        me: ValidatorId,
        old: &SafetyData,
        new: &SafetyData,
        at_ms: u64,
    ) {
        if let Some(vote) = &new.last_vote {
            self.on_vote(me, &vote.data, at_ms);
        }
        if let Some(t) = &new.last_timeout {
            self.on_timeout(me, t.round, t.high_qc.round(), at_ms);
        }
        let checks = [
            (
                "highest voted round",
                old.highest_voted_round,
                new.highest_voted_round,
            ),
            (
                "highest proposed round",
                old.highest_proposed_round,
                new.highest_proposed_round,
            ),
            ("high QC round", old.high_qc.round(), new.high_qc.round()),
        ];
        for (what, before, after) in checks {
            if after < before {
                let problem = format!("{what} went from {before} to {after}");
                self.violations.push(Violation::SafetyRegressed {
                    validator: me,
                    problem,
                    at_ms,
                });
            }
        }
    }

    /// Evidence reported by `reporter`; `honest` says whether a validator is honest.
    pub(crate) fn on_evidence(
        &mut self,
        reporter: usize,
        evidence: &Evidence,
        honest: bool,
        at_ms: u64,
    ) {
        if honest {
            self.violations.push(Violation::FalseEvidence {
                reporter,
                culprit: evidence.culprit(),
                round: evidence.round(),
                at_ms,
            });
        }
    }

    /// Progress of an honest instance from `from_ms` to `until_ms`, given the times of
    /// its commits: no silent stretch may exceed `bound_ms`. Reports the first one.
    pub(crate) fn check_progress(
        &mut self,
        instance: usize,
        commit_times: &[u64],
        (from_ms, until_ms): (u64, u64),
        bound_ms: u64,
        height: Height,
    ) {
        let mut last = from_ms;
        for &t in commit_times
            .iter()
            .filter(|&&t| t > from_ms)
            .chain(std::iter::once(&until_ms))
        {
            if t.saturating_sub(last) > bound_ms {
                self.violations.push(Violation::NoProgress {
                    instance,
                    from_ms: last,
                    until_ms: t,
                    bound_ms,
                    height,
                });
                return;
            }
            last = t;
        }
    }

    /// Distinct rounds in which validator `id` signed (proposals, votes, timeouts).
    pub(crate) fn signed_counts(&self, id: ValidatorId) -> (usize, usize, usize) {
        let rounds = (id, Round::MIN)..=(id, Round::MAX);
        (
            self.proposals.range(rounds.clone()).count(),
            self.votes.range(rounds.clone()).count(),
            self.timeouts.range(rounds).count(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_crypto::{SecretKey, Signature};
    use cairn_types::{BlockHeader, BoundedVec, ChainId};

    fn chain() -> ChainId {
        ChainId(Hash::digest(b"checker"))
    }

    /// A block at `height` on `parent`, distinguished by `round`.
    fn block(parent: &BlockInfo, round: Round) -> Block {
        let mut justify = QuorumCert::genesis(&chain());
        justify.data.block_id = parent.id;
        justify.data.height = parent.height;
        let header = BlockHeader {
            chain_id: chain(),
            height: parent.height + 1,
            round,
            parent: parent.id,
            payload_root: Block::payload_root_of(&[]),
            state_height: 0,
            state_root: Hash::ZERO,
            proposer: ValidatorId(0),
            timestamp_ms: 0,
            justify,
        };
        Block {
            header,
            txs: BoundedVec::default(),
        }
    }

    /// A certificate that proves `b` committed, with `signers` entries.
    fn cert(b: &Block, signers: u16) -> QuorumCert {
        let mut qc = QuorumCert::genesis(&chain());
        qc.data = VoteData {
            block_id: Hash::ZERO,
            round: b.header.round + 1,
            height: b.header.height + 1,
            parent_id: b.id(),
            parent_round: b.header.round,
        };
        let entries = (0..signers)
            .map(|i| (ValidatorId(i), Signature([0; 64])))
            .collect();
        qc.signatures = BoundedVec::new(entries).unwrap();
        qc
    }

    #[test]
    fn agreement_catches_two_blocks_at_one_height() {
        let mut c = Checker::default();
        let genesis = BlockInfo::genesis(&chain());
        let (a, b) = (block(&genesis, 1), block(&genesis, 2));
        c.on_commit(0, &genesis, std::slice::from_ref(&a), &cert(&a, 3), 3, 10);
        assert!(c.violations.is_empty());
        c.on_commit(1, &genesis, std::slice::from_ref(&b), &cert(&b, 3), 3, 20);
        assert!(matches!(
            c.violations[..],
            [Violation::ConflictingCommit { height: 1, .. }]
        ));
    }

    #[test]
    fn commits_must_extend_the_own_chain_with_a_proving_certificate() {
        let mut c = Checker::default();
        let genesis = BlockInfo::genesis(&chain());
        let a = block(&genesis, 1);
        let gap = block(&BlockInfo::of(&a), 2);
        c.on_commit(
            0,
            &genesis,
            std::slice::from_ref(&gap),
            &cert(&gap, 3),
            3,
            10,
        );
        c.on_commit(0, &genesis, std::slice::from_ref(&a), &cert(&a, 2), 3, 10);
        assert_eq!(c.violations.len(), 2);
        assert!(
            c.violations
                .iter()
                .all(|v| matches!(v, Violation::BrokenChain { .. }))
        );
    }

    #[test]
    fn equivocation_and_voting_after_a_timeout_are_caught() {
        let key = SecretKey::from_seed(&[1; 32]);
        let me = ValidatorId(1);
        let data = |byte: u8| VoteData {
            block_id: Hash([byte; 32]),
            round: 5,
            height: 3,
            parent_id: Hash::ZERO,
            parent_round: 4,
        };
        let mut c = Checker::default();
        c.on_sent(
            me,
            &Message::Vote(cairn_types::Vote::sign(&chain(), data(1), me, &key)),
            1,
        );
        c.on_sent(
            me,
            &Message::Vote(cairn_types::Vote::sign(&chain(), data(1), me, &key)),
            2,
        );
        assert!(c.violations.is_empty(), "re-sending the same vote is fine");
        c.on_sent(
            me,
            &Message::Vote(cairn_types::Vote::sign(&chain(), data(2), me, &key)),
            3,
        );
        assert!(matches!(
            c.violations[..],
            [Violation::Equivocation {
                kind: "vote",
                round: 5,
                ..
            }]
        ));

        let mut c = Checker::default();
        let t =
            cairn_types::Timeout::sign(&chain(), 5, QuorumCert::genesis(&chain()), None, me, &key);
        c.on_sent(me, &Message::Timeout(t), 1);
        c.on_sent(
            me,
            &Message::Vote(cairn_types::Vote::sign(&chain(), data(1), me, &key)),
            2,
        );
        assert!(matches!(
            c.violations[..],
            [Violation::VoteAfterTimeout { round: 5, .. }]
        ));
    }

    #[test]
    fn progress_gaps_are_measured_from_gst_to_the_end() {
        let mut c = Checker::default();
        c.check_progress(0, &[1_000, 5_000, 9_000], (2_000, 12_000), 4_000, 3);
        assert!(c.violations.is_empty());
        c.check_progress(1, &[1_000, 5_000], (2_000, 12_000), 4_000, 2);
        assert!(matches!(
            c.violations[..],
            [Violation::NoProgress {
                instance: 1,
                from_ms: 5_000,
                until_ms: 12_000,
                ..
            }]
        ));
    }
}
