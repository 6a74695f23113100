//! Byte-identical replays dropped on arrival. A peer that sends the exact bytes it
//! sent moments ago tells this node nothing new, yet each copy would be decoded,
//! handed to the core and answered (a replayed proposal makes the voters re-send
//! their votes). The filter remembers, per sender, the digests of the messages taken
//! in over the last `window` and drops a message seen in it before any of that work.
//!
//! Honest validators do send identical bytes again, but never this fast: a timeout is
//! re-broadcast once per round timer, a restarted leader re-proposes after its
//! restart. The window is half the base round timeout (at most 1 s), so those pass;
//! and a message dropped unread (over its sender's budget, or by the proposal gate)
//! is forgotten, so a re-send of it passes at once. A message refused as invalid stays
//! remembered: its sender was already struck for it, and checking the copy again
//! would only cost signature work.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use cairn_crypto::Hash;
use cairn_types::ValidatorId;

/// Digests remembered per sender (a map and a queue entry each, about 128 KiB per
/// sender in all); beyond it the oldest go.
pub const RECENT_PER_PEER: usize = 1024;
/// The longest window, whatever the round timeout.
const MAX_WINDOW: Duration = Duration::from_secs(1);

/// The replay window for a chain whose base round timeout is `round_timeout_ms`.
pub fn window_for(round_timeout_ms: u64) -> Duration {
    Duration::from_millis(round_timeout_ms / 2).min(MAX_WINDOW)
}

/// Per sender, the digests of the messages taken in lately.
pub struct ReplayFilter {
    window: Duration,
    peers: Vec<Recent>,
}

/// One sender's recent digests, oldest first in `order`.
#[derive(Default)]
struct Recent {
    seen: HashMap<Hash, Instant>,
    order: VecDeque<(Hash, Instant)>,
}

impl ReplayFilter {
    /// A filter for `n` senders with the given window.
    pub fn new(n: usize, window: Duration) -> ReplayFilter {
        ReplayFilter {
            window,
            peers: (0..n).map(|_| Recent::default()).collect(),
        }
    }

    /// True, and `digest` remembered, if `from` did not send these bytes within the
    /// window before `now`; false for a replay (drop it). Unknown senders pass.
    pub fn first_sight(&mut self, from: ValidatorId, digest: Hash, now: Instant) -> bool {
        let window = self.window;
        let Some(recent) = self.peers.get_mut(usize::from(from.0)) else {
            return true;
        };
        recent.expire(now, window);
        if recent.seen.contains_key(&digest) {
            return false;
        }
        if recent.order.len() >= RECENT_PER_PEER {
            recent.pop_oldest();
        }
        recent.seen.insert(digest, now);
        recent.order.push_back((digest, now));
        true
    }

    /// Forgets `digest` from `from`: the message was dropped unread, so a copy of it
    /// sent again must be looked at.
    pub fn forget(&mut self, from: ValidatorId, digest: &Hash) {
        if let Some(recent) = self.peers.get_mut(usize::from(from.0)) {
            recent.seen.remove(digest);
        }
    }

    /// Digests remembered for `from`.
    #[cfg(test)]
    fn len(&self, from: ValidatorId) -> usize {
        self.peers
            .get(usize::from(from.0))
            .map_or(0, |r| r.seen.len())
    }
}

impl Recent {
    /// Drops what was taken in more than `window` before `now`.
    fn expire(&mut self, now: Instant, window: Duration) {
        while let Some(&(_, at)) = self.order.front() {
            if now.saturating_duration_since(at) <= window {
                break;
            }
            self.pop_oldest();
        }
    }

    /// Drops the oldest entry; its digest only if it was not taken in again since.
    fn pop_oldest(&mut self) {
        if let Some((digest, at)) = self.order.pop_front()
            && self.seen.get(&digest) == Some(&at)
        {
            self.seen.remove(&digest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(i: u32) -> Hash {
        Hash::digest(&i.to_le_bytes())
    }

    const A: ValidatorId = ValidatorId(1);
    const B: ValidatorId = ValidatorId(2);

    #[test]
    fn a_replay_within_the_window_is_dropped_and_passes_after_it() {
        let start = Instant::now();
        let mut filter = ReplayFilter::new(4, Duration::from_millis(500));
        assert!(filter.first_sight(A, digest(1), start));
        assert!(!filter.first_sight(A, digest(1), start + Duration::from_millis(100)));
        assert!(!filter.first_sight(A, digest(1), start + Duration::from_millis(500)));
        // An honest re-send one round timer later is taken in.
        assert!(filter.first_sight(A, digest(1), start + Duration::from_millis(501)));
    }

    #[test]
    fn the_same_bytes_from_another_sender_pass() {
        let now = Instant::now();
        let mut filter = ReplayFilter::new(4, Duration::from_millis(500));
        assert!(filter.first_sight(A, digest(7), now));
        assert!(filter.first_sight(B, digest(7), now));
        assert!(!filter.first_sight(B, digest(7), now));
    }

    #[test]
    fn a_forgotten_message_passes_again_at_once() {
        let now = Instant::now();
        let mut filter = ReplayFilter::new(4, Duration::from_millis(500));
        assert!(filter.first_sight(A, digest(3), now));
        filter.forget(A, &digest(3));
        assert!(filter.first_sight(A, digest(3), now));
        assert!(!filter.first_sight(A, digest(3), now));
    }

    #[test]
    fn each_sender_is_bounded_and_keeps_the_newest() {
        let now = Instant::now();
        let mut filter = ReplayFilter::new(4, Duration::from_secs(1));
        let total = u32::try_from(RECENT_PER_PEER).unwrap() + 100;
        for i in 0..total {
            assert!(filter.first_sight(A, digest(i), now));
        }
        assert_eq!(filter.len(A), RECENT_PER_PEER);
        assert!(!filter.first_sight(A, digest(total - 1), now));
        // The oldest were forgotten, so they pass again.
        assert!(filter.first_sight(A, digest(0), now));
    }

    #[test]
    fn an_entry_taken_in_again_outlives_its_first_expiry() {
        let start = Instant::now();
        let mut filter = ReplayFilter::new(4, Duration::from_millis(500));
        assert!(filter.first_sight(A, digest(5), start));
        let later = start + Duration::from_millis(600);
        assert!(filter.first_sight(A, digest(5), later));
        // The first entry's expiry must not drop the second.
        assert!(!filter.first_sight(A, digest(5), later + Duration::from_millis(100)));
    }

    #[test]
    fn unknown_senders_pass() {
        let now = Instant::now();
        let mut filter = ReplayFilter::new(4, Duration::from_millis(500));
        assert!(filter.first_sight(ValidatorId(9), digest(1), now));
        assert!(filter.first_sight(ValidatorId(9), digest(1), now));
    }

    #[test]
    fn the_window_is_half_the_round_timeout_and_at_most_a_second() {
        assert_eq!(window_for(1_000), Duration::from_millis(500));
        assert_eq!(window_for(200), Duration::from_millis(100));
        assert_eq!(window_for(10_000), Duration::from_secs(1));
    }
}
