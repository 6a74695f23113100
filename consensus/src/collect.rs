//! Collecting votes into quorum certificates and timeouts into timeout certificates,
//! and spotting validators that sign two different things for one round.

use std::collections::{BTreeMap, BTreeSet};

use cairn_types::{QuorumCert, Round, Timeout, TimeoutCert, ValidatorId, Vote};

use crate::Evidence;

/// What adding a message to a collector produced.
pub(crate) enum Collected<C> {
    /// Nothing new (a duplicate, or not yet a quorum).
    Nothing,
    /// The signer had already signed something different for this round.
    Equivocation(Evidence),
    /// This message completed a certificate.
    Certificate(C),
}

/// Votes per round, keyed by voter. A round's certificate is formed once.
#[derive(Default)]
pub(crate) struct VoteCollector {
    rounds: BTreeMap<Round, VoteRound>,
}

#[derive(Default)]
struct VoteRound {
    by_voter: BTreeMap<ValidatorId, Vote>,
    certified: bool,
    /// Voters whose equivocation in this round was already reported.
    reported: BTreeSet<ValidatorId>,
}

impl VoteCollector {
    /// Adds a verified vote; `quorum` votes for the same data make a QC.
    pub(crate) fn add(&mut self, vote: Vote, quorum: usize) -> Collected<QuorumCert> {
        let round = self.rounds.entry(vote.data.round).or_default();
        if let Some(first) = round.by_voter.get(&vote.voter) {
            // Compare what was signed, not the bytes carried around it. Evidence is
            // reported once per voter and round, however often it is replayed.
            return if first.data == vote.data || !round.reported.insert(vote.voter) {
                Collected::Nothing
            } else {
                Collected::Equivocation(Evidence::DoubleVote(
                    Box::new(first.clone()),
                    Box::new(vote),
                ))
            };
        }
        let data = vote.data;
        round.by_voter.insert(vote.voter, vote);
        if round.certified {
            return Collected::Nothing;
        }
        let same: Vec<Vote> = round
            .by_voter
            .values()
            .filter(|v| v.data == data)
            .cloned()
            .collect();
        if same.len() < quorum {
            return Collected::Nothing;
        }
        match QuorumCert::from_votes(data, &same) {
            Ok(qc) => {
                round.certified = true;
                Collected::Certificate(qc)
            }
            Err(_) => Collected::Nothing,
        }
    }

    /// Whether exactly this vote (signature included) is held already: a replay,
    /// which needs no signature check and changes nothing.
    pub(crate) fn holds(&self, vote: &Vote) -> bool {
        self.rounds
            .get(&vote.data.round)
            .and_then(|r| r.by_voter.get(&vote.voter))
            .is_some_and(|held| held == vote)
    }

    /// The validators whose votes for `round` are held, ascending.
    pub(crate) fn voters(&self, round: Round) -> Vec<ValidatorId> {
        self.rounds
            .get(&round)
            .map(|r| r.by_voter.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Forgets rounds below `round`.
    pub(crate) fn prune_below(&mut self, round: Round) {
        self.rounds = self.rounds.split_off(&round);
    }
}

/// Timeouts per round, keyed by signer.
#[derive(Default)]
pub(crate) struct TimeoutCollector {
    rounds: BTreeMap<Round, TimeoutRound>,
}

#[derive(Default)]
struct TimeoutRound {
    by_signer: BTreeMap<ValidatorId, Timeout>,
    certified: bool,
    /// Signers whose equivocation in this round was already reported.
    reported: BTreeSet<ValidatorId>,
}

impl TimeoutCollector {
    /// Adds a verified timeout; `quorum` timeouts for a round make a TC.
    pub(crate) fn add(&mut self, timeout: Timeout, quorum: usize) -> Collected<TimeoutCert> {
        let round_no = timeout.round;
        let round = self.rounds.entry(round_no).or_default();
        if let Some(first) = round.by_signer.get(&timeout.signer) {
            // A timeout signs (round, high QC round) only: a relayer may swap the QC it
            // carries for another of the same round, which is not equivocation.
            return if first.high_qc.round() == timeout.high_qc.round()
                || !round.reported.insert(timeout.signer)
            {
                Collected::Nothing
            } else {
                Collected::Equivocation(Evidence::DoubleTimeout(
                    Box::new(first.clone()),
                    Box::new(timeout),
                ))
            };
        }
        round.by_signer.insert(timeout.signer, timeout);
        if round.certified || round.by_signer.len() < quorum {
            return Collected::Nothing;
        }
        let all: Vec<Timeout> = round.by_signer.values().cloned().collect();
        match TimeoutCert::from_timeouts(round_no, &all) {
            Ok(tc) => {
                round.certified = true;
                Collected::Certificate(tc)
            }
            Err(_) => Collected::Nothing,
        }
    }

    /// Whether exactly this timeout (signature and carried QC included) is held
    /// already: a replay, which needs no signature check and changes nothing.
    pub(crate) fn holds(&self, timeout: &Timeout) -> bool {
        self.rounds
            .get(&timeout.round)
            .and_then(|r| r.by_signer.get(&timeout.signer))
            .is_some_and(|held| held == timeout)
    }

    /// The validators whose timeouts for `round` are held, ascending.
    pub(crate) fn signers(&self, round: Round) -> Vec<ValidatorId> {
        self.rounds
            .get(&round)
            .map(|r| r.by_signer.keys().copied().collect())
            .unwrap_or_default()
    }

    /// How many distinct validators timed out in `round`.
    pub(crate) fn count(&self, round: Round) -> usize {
        self.rounds.get(&round).map_or(0, |r| r.by_signer.len())
    }

    /// Forgets rounds below `round`.
    pub(crate) fn prune_below(&mut self, round: Round) {
        self.rounds = self.rounds.split_off(&round);
    }
}
