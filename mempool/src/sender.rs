//! Per-sender bookkeeping: the committed nonce learned, the pending nonces, and the
//! order in which senders arrived.

use std::collections::{BTreeMap, HashMap, VecDeque};

use cairn_crypto::{Hash, PublicKey};

/// What the pool knows about one sender.
#[derive(Debug)]
pub(crate) struct SenderState {
    /// The highest committed nonce learned: the nonce its next committed transaction
    /// must carry.
    pub(crate) committed_nonce: u64,
    /// Pending transactions by nonce.
    pub(crate) pending: BTreeMap<u64, Hash>,
    /// Arrival sequence: when it last became active (has pending transactions) or idle.
    seq: u64,
}

/// All senders. Senders with pending transactions are kept in arrival order; idle
/// senders (nothing pending) are kept only to remember their committed nonce, at most
/// `idle_limit` of them, the longest idle forgotten first.
#[derive(Debug)]
pub(crate) struct Senders {
    states: HashMap<PublicKey, SenderState>,
    /// Senders with pending transactions, by the sequence number of their arrival.
    active: BTreeMap<u64, PublicKey>,
    /// Idle senders, longest idle first; entries whose sequence no longer matches the
    /// sender's are stale and skipped.
    idle: VecDeque<(PublicKey, u64)>,
    idle_limit: usize,
    next_seq: u64,
}

impl Senders {
    pub(crate) fn new(idle_limit: usize) -> Senders {
        Senders {
            states: HashMap::new(),
            active: BTreeMap::new(),
            idle: VecDeque::new(),
            idle_limit,
            next_seq: 0,
        }
    }

    /// The sender's state, if known.
    pub(crate) fn get(&self, key: &PublicKey) -> Option<&SenderState> {
        self.states.get(key)
    }

    /// Senders with pending transactions, in order of arrival.
    pub(crate) fn active_in_arrival_order(
        &self,
    ) -> impl Iterator<Item = (&PublicKey, &SenderState)> {
        self.active
            .values()
            .filter_map(|key| self.states.get(key).map(|state| (key, state)))
    }

    /// Learns that `key`'s committed nonce is at least `nonce`. Returns the pending
    /// transactions this makes stale (nonce below it), removed from the sender's queue.
    pub(crate) fn learn_committed(&mut self, key: &PublicKey, nonce: u64) -> Vec<(u64, Hash)> {
        let Some(state) = self.states.get_mut(key) else {
            let seq = self.take_seq();
            self.states.insert(
                *key,
                SenderState {
                    committed_nonce: nonce,
                    pending: BTreeMap::new(),
                    seq,
                },
            );
            self.push_idle(*key, seq);
            return Vec::new();
        };
        if nonce <= state.committed_nonce {
            return Vec::new();
        }
        state.committed_nonce = nonce;
        let still_pending = state.pending.split_off(&nonce);
        let stale = std::mem::replace(&mut state.pending, still_pending);
        if !stale.is_empty() && state.pending.is_empty() {
            self.deactivate(key);
        }
        stale.into_iter().collect()
    }

    /// Adds `hash` as `key`'s pending transaction with `nonce`; a sender not known yet
    /// starts with committed nonce `committed_nonce`.
    pub(crate) fn add_pending(
        &mut self,
        key: &PublicKey,
        committed_nonce: u64,
        nonce: u64,
        hash: Hash,
    ) {
        let seq = self.take_seq();
        let state = self.states.entry(*key).or_insert_with(|| SenderState {
            committed_nonce,
            pending: BTreeMap::new(),
            seq,
        });
        let was_idle = state.pending.is_empty();
        state.pending.insert(nonce, hash);
        if was_idle {
            state.seq = seq;
            self.active.insert(seq, *key);
        }
    }

    /// Removes `key`'s pending transaction with `nonce`, if it is `hash`.
    pub(crate) fn remove_pending(&mut self, key: &PublicKey, nonce: u64, hash: &Hash) {
        let Some(state) = self.states.get_mut(key) else {
            return;
        };
        if state.pending.get(&nonce) != Some(hash) {
            return;
        }
        state.pending.remove(&nonce);
        if state.pending.is_empty() {
            self.deactivate(key);
        }
    }

    /// Moves a sender whose queue just emptied from the active order to the idle list.
    fn deactivate(&mut self, key: &PublicKey) {
        let seq = self.take_seq();
        if let Some(state) = self.states.get_mut(key) {
            self.active.remove(&state.seq);
            state.seq = seq;
        }
        self.push_idle(*key, seq);
    }

    fn push_idle(&mut self, key: PublicKey, seq: u64) {
        self.idle.push_back((key, seq));
        while self.idle.len() > self.idle_limit {
            let Some((old, old_seq)) = self.idle.pop_front() else {
                break;
            };
            if self
                .states
                .get(&old)
                .is_some_and(|s| s.seq == old_seq && s.pending.is_empty())
            {
                self.states.remove(&old);
            }
        }
    }

    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        seq
    }

    /// Number of senders remembered (active and idle).
    #[cfg(test)]
    pub(crate) fn remembered(&self) -> usize {
        self.states.len()
    }
}

#[cfg(test)]
mod tests {
    use cairn_crypto::SecretKey;

    use super::*;

    fn key(i: u8) -> PublicKey {
        SecretKey::from_seed(&[i; 32]).public()
    }

    #[test]
    fn active_senders_keep_their_arrival_order() {
        let mut senders = Senders::new(10);
        for i in [3u8, 1, 2] {
            senders.learn_committed(&key(i), 0);
        }
        for i in [2u8, 3, 1] {
            senders.add_pending(&key(i), 0, 0, Hash::digest(&[i]));
        }
        let order: Vec<Hash> = senders
            .active_in_arrival_order()
            .map(|(_, s)| s.pending[&0])
            .collect();
        assert_eq!(order, [2u8, 3, 1].map(|i| Hash::digest(&[i])));
        // Emptying and refilling a queue sends the sender to the back.
        senders.remove_pending(&key(2), 0, &Hash::digest(&[2]));
        senders.add_pending(&key(2), 0, 1, Hash::digest(&[2]));
        let (_, first) = senders.active_in_arrival_order().next().unwrap();
        assert_eq!(first.pending.get(&0), Some(&Hash::digest(&[3])));
    }

    #[test]
    fn idle_senders_are_bounded_and_active_ones_never_forgotten() {
        let mut senders = Senders::new(2);
        senders.learn_committed(&key(1), 5);
        senders.add_pending(&key(1), 5, 5, Hash::ZERO);
        for i in 10..20u8 {
            senders.learn_committed(&key(i), 1);
        }
        assert_eq!(senders.remembered(), 3, "one active plus two idle");
        assert_eq!(senders.get(&key(1)).unwrap().committed_nonce, 5);
        assert!(senders.get(&key(19)).is_some());
        assert!(senders.get(&key(10)).is_none());
    }

    #[test]
    fn learning_a_higher_nonce_returns_the_stale_transactions() {
        let mut senders = Senders::new(10);
        senders.learn_committed(&key(1), 0);
        for n in 0..4u64 {
            senders.add_pending(&key(1), 0, n, Hash::digest(&n.to_le_bytes()));
        }
        let stale = senders.learn_committed(&key(1), 2);
        assert_eq!(
            stale.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert!(
            senders.learn_committed(&key(1), 1).is_empty(),
            "nonces never go back"
        );
        assert_eq!(senders.get(&key(1)).unwrap().committed_nonce, 2);
        assert_eq!(senders.get(&key(1)).unwrap().pending.len(), 2);
    }
}
