//! The outgoing side of one lane to one peer: encoded envelopes waiting for the task
//! that writes them to the peer's message stream.
//!
//! The network task pushes; the writer takes everything queued at once (up to a batch
//! size) and writes it with one flush, so a busy link sends many messages per Noise
//! frame and system call. The queue is bounded in messages and in bytes, and it holds
//! messages while the peer is not connected.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::Notify;

/// One encoded envelope and its kind (for the sent counters).
pub(crate) type Frame = (u8, Vec<u8>);

/// Bounds of one outbox.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OutboxLimits {
    /// Messages queued; more are refused.
    pub max_frames: usize,
    /// Bytes queued; more are refused.
    pub max_bytes: usize,
}

#[derive(Debug, Default)]
struct State {
    frames: VecDeque<Frame>,
    bytes: usize,
    connected: bool,
}

/// A bounded queue of frames for one peer and lane.
#[derive(Debug)]
pub(crate) struct Outbox {
    limits: OutboxLimits,
    state: Mutex<State>,
    changed: Notify,
}

impl Outbox {
    /// An empty outbox of a peer not yet connected.
    pub(crate) fn new(limits: OutboxLimits) -> Outbox {
        Outbox {
            limits,
            state: Mutex::new(State::default()),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every mutation completes before anything can panic: a poisoned lock is fine.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues `frame`; false (and nothing queued) if the outbox is full.
    pub(crate) fn push(&self, frame: Frame) -> bool {
        let mut s = self.lock();
        if s.frames.len() >= self.limits.max_frames
            || s.bytes + frame.1.len() > self.limits.max_bytes
        {
            return false;
        }
        s.bytes += frame.1.len();
        s.frames.push_back(frame);
        drop(s);
        self.changed.notify_one();
        true
    }

    /// Tells the writer whether the peer has a connection.
    pub(crate) fn set_connected(&self, connected: bool) {
        self.lock().connected = connected;
        self.changed.notify_one();
    }

    /// Waits until the peer is connected and something is queued, then takes frames
    /// from the front up to `max_bytes` (at least one).
    pub(crate) async fn next_batch(&self, max_bytes: usize) -> Vec<Frame> {
        loop {
            {
                let mut s = self.lock();
                if s.connected && !s.frames.is_empty() {
                    return take_batch(&mut s, max_bytes);
                }
            }
            // `notify_one` stores a permit when nobody waits, so a change between the
            // check above and this wait is not missed.
            self.changed.notified().await;
        }
    }
}

impl Outbox {
    /// Whether the peer counts as connected now.
    pub(crate) fn is_connected(&self) -> bool {
        self.lock().connected
    }
}

fn take_batch(s: &mut State, max_bytes: usize) -> Vec<Frame> {
    let mut batch = Vec::new();
    let mut bytes = 0;
    while let Some(front) = s.frames.front() {
        if !batch.is_empty() && bytes + front.1.len() > max_bytes {
            break;
        }
        let Some(frame) = s.frames.pop_front() else {
            break;
        };
        bytes += frame.1.len();
        s.bytes -= frame.1.len();
        batch.push(frame);
    }
    batch
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn outbox(max_frames: usize, max_bytes: usize) -> Outbox {
        Outbox::new(OutboxLimits {
            max_frames,
            max_bytes,
        })
    }

    #[test]
    fn bounded_in_frames_and_in_bytes() {
        let o = outbox(3, 100);
        assert!(o.push((1, vec![0; 60])));
        assert!(!o.push((1, vec![0; 41])), "over the byte bound");
        assert!(o.push((1, vec![0; 40])));
        assert!(o.push((1, Vec::new())));
        assert!(!o.push((1, Vec::new())), "over the frame bound");
    }

    #[tokio::test]
    async fn waits_for_a_connection_then_batches_in_order() {
        let o = std::sync::Arc::new(outbox(100, 1 << 20));
        for i in 0..5u8 {
            assert!(o.push((i, vec![i; 10])));
        }
        let early = tokio::time::timeout(Duration::from_millis(50), o.next_batch(25)).await;
        assert!(early.is_err(), "nothing leaves while disconnected");
        o.set_connected(true);
        let kinds = |b: Vec<Frame>| b.into_iter().map(|f| f.0).collect::<Vec<_>>();
        assert_eq!(kinds(o.next_batch(25).await), [0, 1]);
        assert_eq!(kinds(o.next_batch(5).await), [2], "at least one");
        assert_eq!(kinds(o.next_batch(1000).await), [3, 4]);
        assert!(o.push((9, vec![0; 100])), "the bytes taken are free again");
        o.set_connected(false);
        assert!(o.push((8, Vec::new())));
        let late = tokio::time::timeout(Duration::from_millis(50), o.next_batch(1000)).await;
        assert!(late.is_err(), "held again once disconnected");
    }
}
