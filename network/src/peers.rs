//! Per-validator state: addresses, connection and dial backoff, the bounded outboxes,
//! and the inbound gate.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_types::ValidatorId;
use libp2p::{Multiaddr, PeerId};

use crate::gate::Gate;
use crate::outbox::{Outbox, OutboxLimits};

/// A token bucket: `rate` tokens per second up to `burst`.
#[derive(Debug)]
pub struct TokenBucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: u32, burst: u32, now: Instant) -> TokenBucket {
        TokenBucket {
            tokens: f64::from(burst),
            rate: f64::from(rate),
            burst: f64::from(burst),
            last: now,
        }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        self.take_n(1, now)
    }

    /// Takes `n` tokens if there are that many (a cost above the burst is charged as
    /// the whole burst, so it can pass once the bucket is full).
    pub fn take_n(&mut self, n: u32, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        let cost = f64::from(n).min(self.burst);
        if self.tokens >= cost {
            self.tokens -= cost;
            true
        } else {
            false
        }
    }
}

/// What the network tracks about one validator.
#[derive(Debug)]
pub struct Peer {
    /// Its validator id.
    pub id: ValidatorId,
    /// Addresses to dial it at.
    pub addrs: Vec<Multiaddr>,
    /// Open connections (as the swarm counts them, closing ones included).
    pub connections: usize,
    /// Connections this node is closing (their pings failed): still counted by the
    /// swarm until the close completes, which across a partition can take seconds,
    /// but no longer used, and no reason not to dial afresh.
    pub closing: Vec<libp2p::swarm::ConnectionId>,
    /// This node's own dial under way, if any (Kademlia dials on its own too; those
    /// are not counted here).
    pub dial: Option<libp2p::swarm::ConnectionId>,
    /// Connected at least once since this node started (its addresses are known to
    /// work, so it is dialled again at once after a restart or a partition, never
    /// held up by a lookup).
    pub reached: bool,
    /// A Kademlia lookup of this validator is due (it starts once no dial of ours is
    /// under way, because a pending dial would hold off the lookup's own).
    pub lookup_wanted: bool,
    /// The Kademlia lookup under way; while it runs, Kademlia dials the validator at
    /// the addresses it finds, and this node does not.
    pub lookup: Option<libp2p::kad::QueryId>,
    /// Current reconnection delay.
    pub backoff: Duration,
    /// Earliest time of the next dial.
    pub next_dial: Instant,
    /// Messages waiting to be written, per lane: `[priority, bulk]`, each with its
    /// own stream, so a backlog of gossip never holds up a vote.
    pub(crate) out: [Arc<Outbox>; 2],
    /// Requests outstanding.
    pub requests: usize,
    /// Inbound rate limit, strikes and stream count.
    pub(crate) gate: Gate,
}

/// Every validator other than this node, by peer id.
#[derive(Debug)]
pub struct PeerBook {
    /// Peer ids in validator order (including this node).
    pub order: Vec<PeerId>,
    /// The other validators.
    pub peers: HashMap<PeerId, Peer>,
}

impl PeerBook {
    /// Builds the book; `local` is left out.
    pub fn new(
        order: Vec<PeerId>,
        addrs: &[Vec<Multiaddr>],
        local: PeerId,
        rate: (u32, u32),
        initial_backoff: Duration,
        outbox: OutboxLimits,
    ) -> PeerBook {
        let now = Instant::now();
        let mut peers = HashMap::new();
        for (i, p) in order.iter().enumerate() {
            if *p == local {
                continue;
            }
            let id = ValidatorId(u16::try_from(i).unwrap_or(u16::MAX));
            peers.insert(
                *p,
                Peer {
                    id,
                    addrs: addrs.get(i).cloned().unwrap_or_default(),
                    connections: 0,
                    closing: Vec::new(),
                    dial: None,
                    reached: false,
                    lookup_wanted: false,
                    lookup: None,
                    backoff: initial_backoff,
                    next_dial: now,
                    out: [Arc::new(Outbox::new(outbox)), Arc::new(Outbox::new(outbox))],
                    requests: 0,
                    gate: Gate::new(rate.0, rate.1, now),
                },
            );
        }
        PeerBook { order, peers }
    }

    /// The peer id of validator `id`.
    pub fn peer_id(&self, id: ValidatorId) -> Option<PeerId> {
        self.order.get(usize::from(id.0)).copied()
    }

    /// Validators with an open connection.
    pub fn connected(&self) -> Vec<ValidatorId> {
        let mut v: Vec<_> = self
            .peers
            .values()
            .filter(|p| p.live() > 0)
            .map(|p| p.id)
            .collect();
        v.sort();
        v
    }

    /// Whether `addr` is among `peer`'s dial addresses.
    pub fn knows(&self, peer: &PeerId, addr: &Multiaddr) -> bool {
        self.peers.get(peer).is_some_and(|p| p.addrs.contains(addr))
    }

    /// Adds `addr` to `peer`'s dial addresses if it is a validator, the address is new
    /// and the peer has fewer than `max` (the first ones — genesis, then those that
    /// worked — are kept). Returns true if added.
    pub fn learn(&mut self, peer: &PeerId, addr: Multiaddr, max: usize) -> bool {
        match self.peers.get_mut(peer) {
            Some(p) if p.addrs.len() < max && !p.addrs.contains(&addr) => {
                p.addrs.push(addr);
                true
            }
            _ => false,
        }
    }
}

impl Peer {
    /// Connections in use: open and not being closed.
    pub fn live(&self) -> usize {
        self.connections.saturating_sub(self.closing.len())
    }

    /// Tells both writers whether the peer has a live connection now.
    pub(crate) fn update_connected(&self) {
        for o in &self.out {
            o.set_connected(self.live() > 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_keeps_at_most_max_addresses() {
        let me = PeerId::random();
        let other = PeerId::random();
        let mut book = PeerBook::new(
            vec![me, other],
            &[vec![], vec![]],
            me,
            (10, 10),
            Duration::from_millis(1),
            OutboxLimits {
                max_frames: 1,
                max_bytes: 1,
                max_age: Duration::from_secs(1),
            },
        );
        let learned = (0..100u16)
            .filter(|port| {
                let addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/{}", 1000 + port)
                    .parse()
                    .unwrap();
                book.learn(&other, addr, 8)
            })
            .count();
        assert_eq!(learned, 8);
        assert_eq!(book.peers[&other].addrs.len(), 8);
        assert!(
            !book.learn(&me, "/ip4/127.0.0.1/tcp/9".parse().unwrap(), 8),
            "not for self"
        );
    }

    #[test]
    fn bucket_allows_burst_then_refills() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10, 5, t0);
        assert_eq!((0..10).filter(|_| b.take(t0)).count(), 5);
        assert!(b.take(t0 + Duration::from_millis(150)));
        assert!(!b.take(t0 + Duration::from_millis(150)));
    }
}
