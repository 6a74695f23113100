//! Client transactions: when they arrive, and the shared mempool leaders draw from.
//!
//! Transactions are cheap stand-ins: unique by nonce, with an all-zero signature (the
//! consensus core never checks transaction signatures; the node's mempool does).

use std::collections::VecDeque;

use cairn_crypto::{PublicKey, SecretKey, Signature};
use cairn_types::{ChainId, Op, Transaction, TxPayload};

use super::rng::Rng;

/// How client transactions arrive.
#[derive(Clone, Debug, PartialEq)]
pub enum Workload {
    /// No transactions at all: an idle network.
    None,
    /// About `per_sec` transactions per virtual second, all the time.
    Steady {
        /// Average arrival rate.
        per_sec: u64,
    },
    /// Bursts at about `per_sec`, lasting `busy_ms`, separated by idle gaps of `idle_ms`
    /// (each drawn uniformly from its range).
    Bursty {
        /// Average arrival rate during a burst.
        per_sec: u64,
        /// Range of burst lengths, in milliseconds.
        busy_ms: (u64, u64),
        /// Range of idle gaps, in milliseconds.
        idle_ms: (u64, u64),
    },
}

impl Workload {
    /// The default mix: bursts of 40 tx/s for 1–4 s, idle gaps of 0.5–3 s.
    pub fn bursty() -> Workload {
        Workload::Bursty {
            per_sec: 40,
            busy_ms: (1_000, 4_000),
            idle_ms: (500, 3_000),
        }
    }
}

/// The shared mempool: transactions that arrived and no leader has taken yet.
pub(crate) struct Mempool {
    workload: Workload,
    chain: ChainId,
    sender: PublicKey,
    pending: VecDeque<Transaction>,
    next_nonce: u64,
    /// End of the current burst (Bursty only).
    busy_until: u64,
    rng: Rng,
    /// Transactions that arrived.
    pub(crate) arrived: u64,
    /// If set, every transaction is signed by the client's key and this share of them
    /// carries an odd signature (see `super::signatures`).
    odd_share: Option<f64>,
    key: SecretKey,
    /// Odd signatures made.
    pub(crate) odd: u64,
}

impl Mempool {
    pub(crate) fn new(workload: Workload, chain: ChainId, rng: Rng) -> Mempool {
        Mempool {
            workload,
            chain,
            sender: SecretKey::from_seed(&[0xC1; 32]).public(),
            pending: VecDeque::new(),
            next_nonce: 0,
            busy_until: 0,
            rng,
            arrived: 0,
            odd_share: None,
            key: SecretKey::from_seed(&[0xC1; 32]),
            odd: 0,
        }
    }

    /// Signs every transaction from now on, making `share` of the signatures odd.
    pub(crate) fn odd_signatures(mut self, share: Option<f64>) -> Mempool {
        self.odd_share = share;
        self
    }

    /// When the next transaction arrives after `now`, if ever.
    pub(crate) fn next_arrival(&mut self, now: u64) -> Option<u64> {
        match self.workload {
            Workload::None => None,
            Workload::Steady { per_sec } => Some(now + self.gap(per_sec)?),
            Workload::Bursty {
                per_sec,
                busy_ms,
                idle_ms,
            } => {
                let at = now + self.gap(per_sec)?;
                if at < self.busy_until {
                    return Some(at);
                }
                // This burst is over: rest, then start the next one.
                let start = self.busy_until.max(now) + self.rng.range(idle_ms.0, idle_ms.1);
                self.busy_until = start + self.rng.range(busy_ms.0, busy_ms.1).max(1);
                Some(start)
            }
        }
    }

    /// A gap between arrivals averaging `1000 / per_sec` ms, jittered ±50 %.
    fn gap(&mut self, per_sec: u64) -> Option<u64> {
        let mean = 1_000 / per_sec.max(1);
        (per_sec > 0).then(|| self.rng.range(mean / 2, mean + mean / 2).max(1))
    }

    /// One client transaction arrives.
    pub(crate) fn arrive(&mut self) {
        let nonce = self.next_nonce;
        self.next_nonce += 1;
        self.arrived += 1;
        let payload = TxPayload {
            chain_id: self.chain,
            sender: self.sender,
            nonce,
            op: Op::Transfer {
                to: self.sender,
                amount: nonce,
            },
        };
        let tx = match self.odd_share {
            None => Transaction {
                payload,
                signature: Signature([0; 64]),
            },
            Some(share) => {
                let mut tx = Transaction::sign(payload, &self.key);
                if self.rng.chance(share) {
                    self.odd += 1;
                    tx.signature = super::signatures::oddify(tx.signature, &mut self.rng);
                }
                tx
            }
        };
        self.pending.push_back(tx);
    }

    /// Whether no transaction waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Takes up to `max` waiting transactions, oldest first.
    pub(crate) fn take(&mut self, max: usize) -> Vec<Transaction> {
        let n = max.min(self.pending.len());
        self.pending.drain(..n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_crypto::Hash;

    fn pool(w: Workload) -> Mempool {
        Mempool::new(w, ChainId(Hash::ZERO), Rng::new(5))
    }

    #[test]
    fn idle_workload_never_arrives() {
        assert_eq!(pool(Workload::None).next_arrival(0), None);
    }

    #[test]
    fn steady_rate_is_about_right_and_nonces_are_unique() {
        let mut p = pool(Workload::Steady { per_sec: 50 });
        let mut now = 0;
        while now < 10_000 {
            now = p.next_arrival(now).expect("steady workloads keep arriving");
            p.arrive();
        }
        assert!((400..600).contains(&p.arrived), "{}", p.arrived);
        let txs = p.take(usize::MAX);
        let mut nonces: Vec<u64> = txs.iter().map(|t| t.payload.nonce).collect();
        nonces.dedup();
        assert_eq!(nonces.len(), txs.len());
        assert!(p.is_empty());
    }

    #[test]
    fn bursts_have_gaps() {
        let mut p = pool(Workload::Bursty {
            per_sec: 100,
            busy_ms: (100, 100),
            idle_ms: (1_000, 1_000),
        });
        let mut times = vec![];
        let mut now = 0;
        while now < 5_000 {
            now = p.next_arrival(now).expect("bursty workloads keep arriving");
            times.push(now);
        }
        let longest_gap = times.windows(2).map(|w| w[1] - w[0]).max();
        assert!(longest_gap >= Some(1_000), "{longest_gap:?}");
    }
}
