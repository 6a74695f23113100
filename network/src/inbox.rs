//! The incoming side of the network: what peers sent, waiting for the node.
//!
//! Arrivals are queued in three lanes — priority messages (the kinds the node names,
//! consensus), requests, and everything else — and the node takes from them in that
//! order, so a flood of transaction gossip never delays a vote. Each lane is bounded
//! in bytes, in total and per sending peer, and is drained round-robin across peers:
//! one peer that sends more than the node can take fills only its own share and has
//! its excess dropped (counted as backpressure); the others are not starved.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use crate::handle::Incoming;
use crate::metrics::{DropReason, Metrics};

/// Bytes counted for an arrival besides its payload (the queue entry itself).
const ENTRY_OVERHEAD_BYTES: usize = 64;

/// The three lanes, in the order they are drained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lane {
    /// Messages of a priority kind (the node's consensus messages).
    Priority = 0,
    /// Requests waiting for an answer (block fetches).
    Requests = 1,
    /// Every other message (transaction gossip).
    Bulk = 2,
}

/// Byte budgets of one lane.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LaneBudget {
    /// Bytes queued in the lane over all peers.
    pub total: usize,
    /// Bytes queued in the lane from one peer.
    pub per_peer: usize,
}

/// One lane: a queue per peer and the bytes each holds.
#[derive(Debug)]
struct LaneQueue {
    budget: LaneBudget,
    peers: Vec<VecDeque<(Incoming, usize)>>,
    peer_bytes: Vec<usize>,
    bytes: usize,
    /// The peer to serve first next time (round-robin).
    cursor: usize,
}

impl LaneQueue {
    fn new(budget: LaneBudget, n: usize) -> LaneQueue {
        LaneQueue {
            budget,
            peers: (0..n).map(|_| VecDeque::new()).collect(),
            peer_bytes: vec![0; n],
            bytes: 0,
            cursor: 0,
        }
    }

    /// Queues `item`, or hands it back if a budget is full or `peer` is unknown.
    fn push(&mut self, peer: usize, item: Incoming, size: usize) -> Result<(), Incoming> {
        let (Some(queue), Some(held)) = (self.peers.get_mut(peer), self.peer_bytes.get_mut(peer))
        else {
            return Err(item);
        };
        if self.bytes + size > self.budget.total || *held + size > self.budget.per_peer {
            return Err(item);
        }
        queue.push_back((item, size));
        *held += size;
        self.bytes += size;
        Ok(())
    }

    fn pop(&mut self) -> Option<Incoming> {
        let n = self.peers.len();
        for step in 0..n {
            let peer = (self.cursor + step) % n;
            if let Some((item, size)) = self.peers[peer].pop_front() {
                self.peer_bytes[peer] -= size;
                self.bytes -= size;
                self.cursor = (peer + 1) % n;
                return Some(item);
            }
        }
        None
    }
}

#[derive(Debug)]
struct State {
    lanes: [LaneQueue; 3],
    closed: bool,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    arrived: Notify,
    /// Signalled whenever the node takes an arrival (room for a waiting reader).
    taken: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves consistent queues (every mutation is
        // completed before anything can panic), so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Creates the two ends of an inbox for `n` validators.
pub(crate) fn inbox(n: usize, budgets: [LaneBudget; 3]) -> (InboxSender, Inbox) {
    let [priority, requests, bulk] = budgets;
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            lanes: [
                LaneQueue::new(priority, n),
                LaneQueue::new(requests, n),
                LaneQueue::new(bulk, n),
            ],
            closed: false,
        }),
        arrived: Notify::new(),
        taken: Notify::new(),
    });
    (
        InboxSender {
            pusher: InboxPusher {
                shared: shared.clone(),
            },
        },
        Inbox { shared },
    )
}

/// Which lane `item` goes to.
fn lane_of(item: &Incoming, priority: &[u8]) -> Lane {
    match item {
        Incoming::Request { .. } => Lane::Requests,
        Incoming::Message { kind, .. } if priority.contains(kind) => Lane::Priority,
        Incoming::Message { .. } => Lane::Bulk,
    }
}

/// Queues arrivals, refusing what exceeds a budget. Cheap to clone: the network task
/// and the tasks reading message streams each hold one.
#[derive(Clone, Debug)]
pub(crate) struct InboxPusher {
    shared: Arc<Shared>,
}

impl InboxPusher {
    /// Queues `item` from validator index `peer` in `lane`; false if a budget is full
    /// (the caller counts the drop).
    pub(crate) fn try_push(&self, lane: Lane, peer: usize, item: Incoming) -> bool {
        self.push_or_return(lane, peer, item).is_ok()
    }

    fn push_or_return(&self, lane: Lane, peer: usize, item: Incoming) -> Result<(), Incoming> {
        let size = item.payload_len() + ENTRY_OVERHEAD_BYTES;
        self.shared.lock().lanes[lane as usize].push(peer, item, size)?;
        self.shared.arrived.notify_one();
        Ok(())
    }

    /// Queues `item` in its lane (requests; messages of a `priority` kind; the rest),
    /// counting it as backpressure if the lane's budget for its sender is full.
    pub(crate) fn deliver(&self, item: Incoming, priority: &[u8], metrics: &Metrics) {
        let lane = lane_of(&item, priority);
        let from = usize::from(item.from().0);
        if !self.try_push(lane, from, item) {
            metrics.dropped(DropReason::Backpressure);
        }
    }

    /// Queues `item` in its lane, waiting while the lane's budget for its sender (or
    /// in total) is full: a stream reader stops reading, and the sender's stream, then
    /// its outbox, fill instead of this node dropping what it already received. An
    /// item from a peer index the inbox does not have is dropped.
    pub(crate) async fn deliver_waiting(&self, item: Incoming, priority: &[u8]) {
        let lane = lane_of(&item, priority);
        let from = usize::from(item.from().0);
        let mut item = item;
        loop {
            let taken = self.shared.taken.notified();
            tokio::pin!(taken);
            // Registered before the attempt, so a take in between is not missed.
            taken.as_mut().enable();
            match self.push_or_return(lane, from, item) {
                Ok(()) => return,
                Err(back) => item = back,
            }
            if self.shared.lock().lanes[lane as usize].peers.len() <= from {
                return;
            }
            taken.await;
        }
    }
}

/// The network task's end: like [`InboxPusher`], and the inbox closes (the node's
/// `recv` ends once it is empty) when this is dropped.
#[derive(Debug)]
pub(crate) struct InboxSender {
    pusher: InboxPusher,
}

impl InboxSender {
    /// Another pusher into the same inbox (it does not keep the inbox open).
    pub(crate) fn pusher(&self) -> InboxPusher {
        self.pusher.clone()
    }

    /// See [`InboxPusher::try_push`].
    #[cfg(test)]
    pub(crate) fn try_push(&self, lane: Lane, peer: usize, item: Incoming) -> bool {
        self.pusher.try_push(lane, peer, item)
    }

    /// See [`InboxPusher::deliver`].
    pub(crate) fn deliver(&self, item: Incoming, priority: &[u8], metrics: &Metrics) {
        self.pusher.deliver(item, priority, metrics);
    }
}

impl Drop for InboxSender {
    fn drop(&mut self) {
        self.pusher.shared.lock().closed = true;
        self.pusher.shared.arrived.notify_one();
    }
}

/// The node's end: what validators sent, priority lane first.
#[derive(Debug)]
pub struct Inbox {
    shared: Arc<Shared>,
}

impl Inbox {
    /// The next arrival; `None` once the network has stopped and nothing is left.
    pub async fn recv(&mut self) -> Option<Incoming> {
        loop {
            {
                let mut state = self.shared.lock();
                if let Some(item) = state.lanes.iter_mut().find_map(LaneQueue::pop) {
                    drop(state);
                    self.shared.taken.notify_waiters();
                    return Some(item);
                }
                if state.closed {
                    return None;
                }
            }
            // `notify_one` stores a permit when nobody waits, so an arrival between
            // the check above and this wait is not missed.
            self.shared.arrived.notified().await;
        }
    }

    /// Bytes queued in each lane (priority, requests, bulk), for metrics and tests.
    pub fn queued_bytes(&self) -> [usize; 3] {
        let state = self.shared.lock();
        [
            state.lanes[0].bytes,
            state.lanes[1].bytes,
            state.lanes[2].bytes,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(from: u16, len: usize) -> Incoming {
        Incoming::Message {
            from: cairn_types::ValidatorId(from),
            kind: 1,
            payload: vec![0; len],
        }
    }

    fn budget(total: usize, per_peer: usize) -> LaneBudget {
        LaneBudget { total, per_peer }
    }

    fn from(item: Option<Incoming>) -> u16 {
        match item {
            Some(Incoming::Message { from, .. }) | Some(Incoming::Request { from, .. }) => from.0,
            None => u16::MAX,
        }
    }

    #[tokio::test]
    async fn priority_lane_is_served_first() {
        let b = budget(1 << 20, 1 << 20);
        let (tx, mut rx) = inbox(2, [b, b, b]);
        assert!(tx.try_push(Lane::Bulk, 0, message(0, 10)));
        assert!(tx.try_push(Lane::Priority, 1, message(1, 10)));
        assert_eq!(from(rx.recv().await), 1);
        assert_eq!(from(rx.recv().await), 0);
    }

    #[tokio::test]
    async fn one_peer_fills_only_its_share_and_peers_are_served_in_turn() {
        let b = budget(10_000, 1_000);
        let (tx, mut rx) = inbox(3, [b, b, b]);
        let accepted = (0..100)
            .filter(|_| tx.try_push(Lane::Priority, 0, message(0, 100)))
            .count();
        assert!(
            accepted < 10,
            "peer 0 queued {accepted} messages of 164 bytes"
        );
        assert!(tx.try_push(Lane::Priority, 1, message(1, 100)));
        assert!(tx.try_push(Lane::Priority, 2, message(2, 100)));
        assert_eq!(from(rx.recv().await), 0);
        assert_eq!(from(rx.recv().await), 1);
        assert_eq!(from(rx.recv().await), 2);
        assert_eq!(from(rx.recv().await), 0);
        assert_eq!(rx.queued_bytes()[0], (accepted - 2) * 164);
    }

    #[tokio::test]
    async fn lane_total_is_a_cap_too() {
        let b = budget(600, 400);
        let (tx, _rx) = inbox(3, [b, b, b]);
        assert!(tx.try_push(Lane::Bulk, 0, message(0, 200)));
        assert!(tx.try_push(Lane::Bulk, 1, message(1, 200)));
        assert!(!tx.try_push(Lane::Bulk, 2, message(2, 200)));
        assert!(
            !tx.try_push(Lane::Bulk, 9, message(9, 1)),
            "unknown peer index"
        );
    }

    #[tokio::test]
    async fn a_waiting_delivery_goes_in_once_the_node_takes() {
        let b = budget(1 << 20, 300);
        let (tx, mut rx) = inbox(2, [b, b, b]);
        let pusher = tx.pusher();
        assert!(pusher.try_push(Lane::Bulk, 0, message(0, 200)));
        let waiting = tokio::spawn(async move {
            pusher.deliver_waiting(message(0, 200), &[]).await;
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "no room for the second message yet");
        assert_eq!(rx.queued_bytes()[2], 264);
        assert_eq!(from(rx.recv().await), 0);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("delivered once there was room")
            .unwrap();
        assert_eq!(rx.queued_bytes()[2], 264);
    }

    #[tokio::test]
    async fn closes_when_the_sender_is_gone() {
        let b = budget(1 << 20, 1 << 20);
        let (tx, mut rx) = inbox(1, [b, b, b]);
        assert!(tx.try_push(Lane::Requests, 0, message(0, 1)));
        drop(tx);
        assert_eq!(from(rx.recv().await), 0);
        assert!(rx.recv().await.is_none());
    }
}
