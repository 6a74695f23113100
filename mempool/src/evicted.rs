//! A bounded memory of evicted transactions and why they were evicted.

use std::collections::{HashMap, VecDeque};

use cairn_crypto::Hash;

/// Remembers up to `limit` evicted hashes with their reasons; forgets the oldest first.
#[derive(Debug)]
pub(crate) struct EvictedMemory {
    limit: usize,
    /// Reason and the generation under which it was remembered.
    reasons: HashMap<Hash, (String, u64)>,
    /// Remembered hashes, oldest first, with their generation: an entry whose
    /// generation no longer matches was forgotten or remembered again later.
    order: VecDeque<(Hash, u64)>,
    generation: u64,
}

impl EvictedMemory {
    pub(crate) fn new(limit: usize) -> EvictedMemory {
        EvictedMemory {
            limit,
            reasons: HashMap::new(),
            order: VecDeque::new(),
            generation: 0,
        }
    }

    /// Remembers that `hash` was evicted for `reason`.
    pub(crate) fn remember(&mut self, hash: Hash, reason: String) {
        if self.limit == 0 {
            return;
        }
        self.generation = self.generation.wrapping_add(1);
        self.reasons.insert(hash, (reason, self.generation));
        self.order.push_back((hash, self.generation));
        while self.order.len() > self.limit {
            if let Some((old, generation)) = self.order.pop_front()
                && self
                    .reasons
                    .get(&old)
                    .is_some_and(|(_, g)| *g == generation)
            {
                self.reasons.remove(&old);
            }
        }
    }

    /// Forgets `hash` (it was admitted again).
    pub(crate) fn forget(&mut self, hash: &Hash) {
        self.reasons.remove(hash);
    }

    /// Why `hash` was evicted, if it is remembered.
    pub(crate) fn reason(&self, hash: &Hash) -> Option<&str> {
        self.reasons.get(hash).map(|(reason, _)| reason.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_the_oldest_beyond_the_limit() {
        let mut memory = EvictedMemory::new(2);
        let [a, b, c] = [1u8, 2, 3].map(|i| Hash::digest(&[i]));
        memory.remember(a, "a".into());
        memory.remember(b, "b".into());
        memory.remember(a, "a again".into());
        memory.remember(c, "c".into());
        // The order was a, b, a', c: the first a and b fell out, a' stays.
        assert_eq!(memory.reason(&a), Some("a again"));
        assert_eq!(memory.reason(&b), None);
        assert_eq!(memory.reason(&c), Some("c"));
        memory.forget(&c);
        assert_eq!(memory.reason(&c), None);
    }

    #[test]
    fn a_zero_limit_remembers_nothing() {
        let mut memory = EvictedMemory::new(0);
        memory.remember(Hash::ZERO, "x".into());
        assert_eq!(memory.reason(&Hash::ZERO), None);
    }
}
