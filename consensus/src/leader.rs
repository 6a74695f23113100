//! Who leads a round: round-robin, except that a round entered by a quorum
//! certificate skips validators the certified chain shows to be failing.
//!
//! The rule (docs/PROTOCOL.md, "Leader reputation") is a function of the round and of
//! the chain that ends at the block the round's proposal must extend, so every
//! validator holding the same certificate computes the same leader, including one that
//! just restarted (it is given the recent committed blocks in its `Setup`):
//!
//! * After a timeout certificate (the justify QC is not from the previous round) the
//!   leader is plain round-robin, `round mod n`. This is the fallback that gives every
//!   validator, a recovered one included, its turn again.
//! * After a QC from the previous round, the candidates are the *active* validators
//!   (proposer or signer of a justify QC in the last [`active_window`] blocks; everyone
//!   while the chain is shorter than that) minus the *failed* ones (in the last
//!   [`failure_window`] blocks, the leader of a round that left no block on the chain).
//!   The leader is the round-robin leader if it is a candidate, else the next
//!   candidate after it in id order. With no faults that is exactly round-robin.
//!
//! Safety never depends on who leads: the voting rules are unchanged, so validators
//! that momentarily disagree on a leader (one holds the previous round's QC, another
//! only its TC) lose at most that round.

use std::collections::{HashMap, VecDeque};

use cairn_crypto::Hash;
use cairn_types::{Block, BlockHeader, Round, ValidatorId};

/// What the leader rule needs to know about one block of the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderRecord {
    /// The block id.
    pub id: Hash,
    /// Its parent's id.
    pub parent: Hash,
    /// Its round.
    pub round: Round,
    /// Who proposed it.
    pub proposer: ValidatorId,
    /// The signers of its justify QC (the certificate of its parent).
    pub signers: Vec<ValidatorId>,
}

impl LeaderRecord {
    /// The record of `block`.
    pub fn of(block: &Block) -> LeaderRecord {
        LeaderRecord::of_header(&block.header)
    }

    /// The record of the block with `header`.
    pub fn of_header(header: &BlockHeader) -> LeaderRecord {
        LeaderRecord {
            id: header.id(),
            parent: header.parent,
            round: header.round,
            proposer: header.proposer,
            signers: header
                .justify
                .signatures
                .iter()
                .map(|(id, _)| *id)
                .collect(),
        }
    }
}

/// Blocks in which a validator must have proposed or signed to be a candidate.
pub fn active_window(n: usize) -> usize {
    4 * n
}

/// Blocks back over which a failed round keeps its leader out. A failed round costs
/// a round timeout (a second or more), so the exclusion must last many times longer
/// for a validator that fails every turn it gets (an equivocating or mute leader that
/// still votes) to cost only a small share of the rate: 1,000 blocks are several
/// seconds even at hundreds of blocks a second.
pub fn failure_window(n: usize) -> usize {
    (10 * n).max(1_000)
}

/// Committed blocks a restarted validator needs to compute the same leaders as the
/// others: the failure window, plus the active window below its oldest block.
pub fn history_needed(n: usize) -> usize {
    failure_window(n) + active_window(n) + 1
}

/// The round-robin leader of `round` among `n` validators.
pub(crate) fn round_robin(n: usize, round: Round) -> ValidatorId {
    ValidatorId((round % n as u64) as u16)
}

/// The leader of `round`, entered by a QC on `chain[0]`; `chain` runs from that block
/// back along parents (newest first) as far as known, at least [`history_needed`]
/// blocks when the chain is that long; `from_genesis` says its last block's parent is
/// the genesis (round 0).
pub(crate) fn reputation_leader(
    n: usize,
    round: Round,
    chain: &[&LeaderRecord],
    from_genesis: bool,
) -> ValidatorId {
    let active = active_in(n, chain);
    let mut failed = vec![false; n];
    let reach = failure_window(n).min(chain.len());
    for i in 0..reach {
        let (parent_round, below) = match chain.get(i + 1) {
            Some(parent) => (parent.round, &chain[i + 1..]),
            None if from_genesis => (0, &chain[..0]),
            None => break,
        };
        let child = chain[i];
        let first_missed = parent_round.saturating_add(1);
        if child.round <= first_missed {
            continue;
        }
        // The round right after the parent was entered by the parent's QC (as far as
        // the chain tells): its leader is the candidate the parent's chain gave, by
        // activity alone (the failures below it would need their own history).
        let parent_active = active_in(n, below);
        let first = successor(&parent_active, first_missed).unwrap_or(round_robin(n, first_missed));
        failed[usize::from(first.0)] = true;
        // Later rounds of the gap were entered by timeout: round-robin leaders. Their
        // leaders repeat every n rounds, so n of them name all there are.
        let later = first_missed.saturating_add(1)..child.round;
        for missed in later.take(n) {
            failed[usize::from(round_robin(n, missed).0)] = true;
        }
    }
    let candidates: Vec<bool> = active.iter().zip(&failed).map(|(a, f)| *a && !f).collect();
    successor(&candidates, round)
        .or_else(|| successor(&active, round))
        .unwrap_or(round_robin(n, round))
}

/// The validators active in the first [`active_window`] blocks of `chain`; all of them
/// if the chain is shorter than that (a young chain has not seen everyone yet).
fn active_in(n: usize, chain: &[&LeaderRecord]) -> Vec<bool> {
    let window = active_window(n);
    if chain.len() < window {
        return vec![true; n];
    }
    let mut active = vec![false; n];
    for record in &chain[..window] {
        let signers = record
            .signers
            .iter()
            .chain(std::iter::once(&record.proposer));
        for id in signers {
            if let Some(slot) = active.get_mut(usize::from(id.0)) {
                *slot = true;
            }
        }
    }
    active
}

/// The round-robin leader of `round` if it is a candidate, else the next candidate in
/// id order (wrapping); `None` if there is none.
fn successor(candidates: &[bool], round: Round) -> Option<ValidatorId> {
    let n = candidates.len();
    if n == 0 {
        return None;
    }
    let start = (round % n as u64) as usize;
    (0..n)
        .map(|step| (start + step) % n)
        .find(|i| candidates[*i])
        .map(|i| ValidatorId(i as u16))
}

/// The committed blocks the leader rule looks at, newest last, bounded by
/// [`history_needed`].
#[derive(Debug, Default)]
pub(crate) struct History {
    order: VecDeque<Hash>,
    records: HashMap<Hash, LeaderRecord>,
    capacity: usize,
}

impl History {
    /// An empty history keeping the last `capacity` committed blocks.
    pub(crate) fn new(capacity: usize) -> History {
        History {
            order: VecDeque::new(),
            records: HashMap::new(),
            capacity,
        }
    }

    /// Records a newly committed block (blocks are pushed in commit order).
    pub(crate) fn push(&mut self, record: LeaderRecord) {
        if self.records.contains_key(&record.id) {
            return;
        }
        self.order.push_back(record.id);
        self.records.insert(record.id, record);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.records.remove(&old);
            }
        }
    }

    /// The record of committed block `id`, if still kept.
    pub(crate) fn get(&self, id: &Hash) -> Option<&LeaderRecord> {
        self.records.get(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: u8, parent: u8, round: Round, proposer: u16, signers: &[u16]) -> LeaderRecord {
        LeaderRecord {
            id: Hash::digest(&[id]),
            parent: Hash::digest(&[parent]),
            round,
            proposer: ValidatorId(proposer),
            signers: signers.iter().map(|s| ValidatorId(*s)).collect(),
        }
    }

    /// A chain of `len` blocks, one per round, newest first; block of round r is
    /// proposed by `proposer(r)` and certified by `signers`.
    fn chain(len: u64, proposer: impl Fn(Round) -> u16, signers: &[u16]) -> Vec<LeaderRecord> {
        (1..=len)
            .rev()
            .map(|r| record(r as u8, (r - 1) as u8, r, proposer(r), signers))
            .collect()
    }

    fn refs(chain: &[LeaderRecord]) -> Vec<&LeaderRecord> {
        chain.iter().collect()
    }

    #[test]
    fn without_faults_it_is_round_robin() {
        let blocks = chain(100, |r| (r % 4) as u16, &[0, 1, 2, 3]);
        for round in 101..110 {
            assert_eq!(
                reputation_leader(4, round, &refs(&blocks), false),
                round_robin(4, round)
            );
        }
    }

    #[test]
    fn a_young_chain_counts_everyone_active() {
        let blocks = chain(3, |_| 1, &[1]);
        assert_eq!(
            reputation_leader(4, 4, &refs(&blocks), false),
            ValidatorId(0)
        );
        assert_eq!(
            reputation_leader(4, 6, &refs(&blocks), false),
            ValidatorId(2)
        );
    }

    #[test]
    fn a_validator_missing_from_the_window_is_skipped() {
        // Validator 2 neither proposed nor signed: its rounds go to validator 3.
        let blocks = chain(40, |r| [0, 1, 3, 3][(r % 4) as usize], &[0, 1, 3]);
        assert_eq!(
            reputation_leader(4, 42, &refs(&blocks), false),
            ValidatorId(3)
        );
        assert_eq!(
            reputation_leader(4, 41, &refs(&blocks), false),
            ValidatorId(1)
        );
    }

    #[test]
    fn the_leader_of_a_missed_round_is_skipped_while_it_is_in_the_window() {
        // Everyone signs, but round 30 (validator 2's) left no block.
        let mut blocks: Vec<LeaderRecord> = (1..=40u64)
            .filter(|r| *r != 30)
            .rev()
            .map(|r| {
                let parent = if r == 31 { 29 } else { r - 1 };
                record(r as u8, parent as u8, r, (r % 4) as u16, &[0, 1, 2, 3])
            })
            .collect();
        assert_eq!(
            reputation_leader(4, 42, &refs(&blocks), false),
            ValidatorId(3)
        );
        // A gap of several rounds also names the round-robin leaders after the first.
        blocks[0] = record(40, 36, 40, 0, &[0, 1, 2, 3]);
        blocks.truncate(1);
        blocks.extend(chain(36, |r| (r % 4) as u16, &[0, 1, 2, 3]));
        // Missed 37 (validator 1 by activity), 38 and 39 (validators 2 and 3).
        assert_eq!(
            reputation_leader(4, 41, &refs(&blocks), false),
            ValidatorId(0)
        );
    }

    #[test]
    fn a_round_missed_right_after_the_genesis_counts() {
        // The first block is of round 3: rounds 1 and 2 (validators 1 and 2) failed.
        let blocks = vec![record(3, 0, 3, 3, &[])];
        assert_eq!(
            reputation_leader(4, 5, &refs(&blocks), true),
            ValidatorId(3)
        );
        assert_eq!(
            reputation_leader(4, 5, &refs(&blocks), false),
            ValidatorId(1)
        );
    }

    #[test]
    fn successor_wraps_and_may_find_nobody() {
        assert_eq!(
            successor(&[true, false, false, false], 3),
            Some(ValidatorId(0))
        );
        assert_eq!(
            successor(&[false, false, true, false], 3),
            Some(ValidatorId(2))
        );
        assert_eq!(successor(&[false; 4], 3), None);
    }

    #[test]
    fn history_keeps_only_its_capacity() {
        let mut history = History::new(2);
        for record in chain(3, |_| 0, &[]).into_iter().rev() {
            history.push(record);
        }
        assert!(history.get(&Hash::digest(&[1])).is_none());
        assert!(history.get(&Hash::digest(&[3])).is_some());
    }
}
