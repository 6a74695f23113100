//! Proofs of availability waiting for a leader to propose them, oldest first.

use std::collections::{HashSet, VecDeque};

use cairn_crypto::Hash;
use cairn_types::{ProofOfAvailability, Round};

/// Certified batches not yet committed, in the order their proofs arrived.
#[derive(Default)]
pub(crate) struct Certified {
    queue: VecDeque<ProofOfAvailability>,
    digests: HashSet<Hash>,
}

impl Certified {
    /// Queues `proof` unless its batch is queued already; drops the oldest while more
    /// than `max` are queued.
    pub fn push(&mut self, proof: ProofOfAvailability, max: usize) {
        if !self.digests.insert(proof.info.digest) {
            return;
        }
        self.queue.push_back(proof);
        while self.queue.len() > max {
            if let Some(old) = self.queue.pop_front() {
                self.digests.remove(&old.info.digest);
            }
        }
    }

    /// Removes the batches in `digests`.
    pub fn remove(&mut self, digests: &HashSet<Hash>) {
        if digests.iter().any(|d| self.digests.contains(d)) {
            self.queue
                .retain(|proof| !digests.contains(&proof.info.digest));
            for digest in digests {
                self.digests.remove(digest);
            }
        }
    }

    /// Drops the proofs that may no longer be proposed at `round` or later.
    pub fn expire(&mut self, round: Round) {
        let digests = &mut self.digests;
        self.queue.retain(|proof| {
            let live = proof.info.expires > round;
            if !live {
                digests.remove(&proof.info.digest);
            }
            live
        });
    }

    /// The oldest proofs a block of `round` may carry, skipping `exclude` (the
    /// batches of its uncommitted ancestors), within `max_txs` and `max_bytes`.
    pub fn pull(
        &self,
        round: Round,
        exclude: &HashSet<Hash>,
        max_txs: usize,
        max_bytes: usize,
        max_batches: usize,
    ) -> Vec<ProofOfAvailability> {
        let (mut txs, mut bytes) = (0usize, 0usize);
        let mut chosen = Vec::new();
        for proof in &self.queue {
            if chosen.len() >= max_batches {
                break;
            }
            let info = &proof.info;
            if info.expires <= round || exclude.contains(&info.digest) {
                continue;
            }
            let (t, b) = (info.txs as usize, info.bytes as usize);
            if txs + t > max_txs || bytes + b > max_bytes {
                continue;
            }
            txs += t;
            bytes += b;
            chosen.push(proof.clone());
        }
        chosen
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }
}
