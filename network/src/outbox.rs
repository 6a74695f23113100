//! The outgoing side of one lane to one peer: encoded envelopes waiting for the task
//! that writes them to the peer's message stream.
//!
//! The network task pushes; the writer takes everything queued at once (up to a batch
//! size) and writes it with one flush, so a busy link sends many messages per Noise
//! frame and system call. The queue is bounded in messages and in bytes, and it holds
//! messages while the peer is not connected — but only for a while: a message older
//! than the age bound is dropped when the writer reaches it. A peer back from a
//! partition gets what is current instead of a backlog of rounds long gone, which it
//! would have to check signature by signature before reaching the news that it is
//! behind.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

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
    /// Age past which a queued message is dropped instead of sent.
    pub max_age: Duration,
}

/// What [`Outbox::next_batch`] took.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// Frames to write, oldest first.
    pub frames: Vec<Frame>,
    /// Frames dropped for being older than the age bound.
    pub expired: usize,
}

#[derive(Debug, Default)]
struct State {
    frames: VecDeque<(Instant, Frame)>,
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
        s.frames.push_back((Instant::now(), frame));
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
    /// from the front up to `max_bytes` (at least one, unless all it found had
    /// expired).
    pub(crate) async fn next_batch(&self, max_bytes: usize) -> Batch {
        loop {
            {
                let mut s = self.lock();
                if s.connected && !s.frames.is_empty() {
                    let deadline = Instant::now().checked_sub(self.limits.max_age);
                    return take_batch(&mut s, max_bytes, deadline);
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

/// Takes frames from the front up to `max_bytes`, dropping those queued before
/// `deadline`.
fn take_batch(s: &mut State, max_bytes: usize, deadline: Option<Instant>) -> Batch {
    let mut batch = Batch::default();
    let mut bytes = 0;
    while let Some((queued, front)) = s.frames.front() {
        let stale = deadline.is_some_and(|d| *queued < d);
        if !stale && !batch.frames.is_empty() && bytes + front.1.len() > max_bytes {
            break;
        }
        let Some((_, frame)) = s.frames.pop_front() else {
            break;
        };
        s.bytes -= frame.1.len();
        if stale {
            batch.expired += 1;
            continue;
        }
        bytes += frame.1.len();
        batch.frames.push(frame);
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
            max_age: Duration::from_secs(60),
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
        let kinds = |b: Batch| b.frames.into_iter().map(|f| f.0).collect::<Vec<_>>();
        assert_eq!(kinds(o.next_batch(25).await), [0, 1]);
        assert_eq!(kinds(o.next_batch(5).await), [2], "at least one");
        assert_eq!(kinds(o.next_batch(1000).await), [3, 4]);
        assert!(o.push((9, vec![0; 100])), "the bytes taken are free again");
        o.set_connected(false);
        assert!(o.push((8, Vec::new())));
        let late = tokio::time::timeout(Duration::from_millis(50), o.next_batch(1000)).await;
        assert!(late.is_err(), "held again once disconnected");
    }

    #[tokio::test]
    async fn what_waited_past_the_age_bound_is_dropped_not_sent() {
        let o = Outbox::new(OutboxLimits {
            max_frames: 100,
            max_bytes: 1 << 20,
            max_age: Duration::from_millis(50),
        });
        for i in 0..3u8 {
            assert!(o.push((i, vec![i; 10])));
        }
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(o.push((7, vec![7; 10])));
        o.set_connected(true);
        let batch = o.next_batch(1 << 20).await;
        assert_eq!(batch.expired, 3, "the three from before the wait");
        assert_eq!(batch.frames, [(7, vec![7; 10])]);
        assert!(
            o.push((8, vec![0; (1 << 20) - 10])),
            "the expired bytes are free"
        );
    }
}
