//! The inbound gate of one peer: its rate limit and its strikes. Shared between the network task (requests, reported offences) and the
//! tasks reading the peer's message streams, so every path charges the same bucket
//! and the same strike count.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::envelope::{Envelope, EnvelopeError};
use crate::metrics::{DropReason, Metrics};
use crate::peers::TokenBucket;

/// What [`Gate::admit`] makes of one inbound frame.
#[derive(Debug)]
pub(crate) enum Admission {
    /// Within limits and well formed.
    Pass(Envelope),
    /// Dropped (and counted); `ban` if the peer is now over its strikes.
    Refused {
        /// The peer has exceeded its strikes and must be disconnected.
        ban: bool,
    },
}

/// The limits the gate applies.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GateRules {
    /// Largest envelope payload accepted.
    pub max_payload: usize,
    /// Strikes within `window` before a ban.
    pub max_strikes: u32,
    /// Window over which strikes are counted.
    pub window: Duration,
}

#[derive(Debug)]
struct State {
    bucket: TokenBucket,
    strikes: u32,
    strike_start: Instant,
}

/// One peer's gate; cheap to clone, every clone is the same gate.
#[derive(Clone, Debug)]
pub(crate) struct Gate {
    state: Arc<Mutex<State>>,
}

impl Gate {
    /// A gate with a full bucket of `rate` per second up to `burst`.
    pub(crate) fn new(rate: u32, burst: u32, now: Instant) -> Gate {
        Gate {
            state: Arc::new(Mutex::new(State {
                bucket: TokenBucket::new(rate, burst, now),
                strikes: 0,
                strike_start: now,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every mutation completes before anything can panic: a poisoned lock is fine.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Checks one inbound frame against the rate limit, the envelope format and the
    /// payload cap; counts what fails in `metrics` and charges the peer a strike.
    pub(crate) fn admit(
        &self,
        bytes: &[u8],
        rules: &GateRules,
        metrics: &Metrics,
        now: Instant,
    ) -> Admission {
        if !self.lock().bucket.take(now) {
            metrics.dropped(DropReason::RateLimited);
            return self.refuse(rules, now);
        }
        match Envelope::decode_checked(bytes) {
            Ok(env) if env.payload.len() > rules.max_payload => {
                metrics.dropped(DropReason::Oversized);
                self.refuse(rules, now)
            }
            Ok(env) => {
                metrics.received(env.kind, bytes.len());
                Admission::Pass(env)
            }
            Err(e) => {
                metrics.dropped(drop_reason(e));
                self.refuse(rules, now)
            }
        }
    }

    fn refuse(&self, rules: &GateRules, now: Instant) -> Admission {
        Admission::Refused {
            ban: self.strike(now, rules, 1),
        }
    }

    /// Records a violation worth `weight` strikes; true if the peer is now over its
    /// limit in the window (the count then starts again, so one burst bans once).
    pub(crate) fn strike(&self, now: Instant, rules: &GateRules, weight: u32) -> bool {
        let mut s = self.lock();
        if now.saturating_duration_since(s.strike_start) > rules.window {
            s.strike_start = now;
            s.strikes = 0;
        }
        s.strikes = s.strikes.saturating_add(weight);
        if s.strikes > rules.max_strikes {
            s.strikes = 0;
            return true;
        }
        false
    }
}

/// The drop reason of an envelope that does not decode.
pub(crate) fn drop_reason(e: EnvelopeError) -> DropReason {
    match e {
        EnvelopeError::Malformed => DropReason::Malformed,
        EnvelopeError::UnknownVersion(_) => DropReason::UnknownVersion,
    }
}

#[cfg(test)]
mod tests {
    use parity_scale_codec::Encode;

    use super::*;

    fn rules() -> GateRules {
        GateRules {
            max_payload: 100,
            max_strikes: 3,
            window: Duration::from_secs(10),
        }
    }

    #[test]
    fn passes_a_good_envelope_and_refuses_bad_ones_with_strikes() {
        let t0 = Instant::now();
        let gate = Gate::new(1000, 1000, t0);
        let m = Metrics::default();
        let good = Envelope::new(1, vec![0; 100]).encode();
        assert!(matches!(
            gate.admit(&good, &rules(), &m, t0),
            Admission::Pass(e) if e.kind == 1
        ));
        let big = Envelope::new(1, vec![0; 101]).encode();
        let bans: Vec<bool> = [big.clone(), vec![0xff; 3], big.clone(), big]
            .iter()
            .map(|b| match gate.admit(b, &rules(), &m, t0) {
                Admission::Refused { ban } => ban,
                Admission::Pass(_) => panic!("passed a bad frame"),
            })
            .collect();
        assert_eq!(
            bans,
            [false, false, false, true],
            "the 4th strike is over 3"
        );
        assert_eq!(m.dropped_count(DropReason::Oversized), 3);
        assert_eq!(m.dropped_count(DropReason::Malformed), 1);
    }

    #[test]
    fn rate_limit_refuses_past_the_burst() {
        let t0 = Instant::now();
        let gate = Gate::new(1, 2, t0);
        let m = Metrics::default();
        let good = Envelope::new(1, vec![1]).encode();
        let passed = (0..5)
            .filter(|_| matches!(gate.admit(&good, &rules(), &m, t0), Admission::Pass(_)))
            .count();
        assert_eq!(passed, 2);
        assert_eq!(m.dropped_count(DropReason::RateLimited), 3);
    }

    #[test]
    fn strikes_expire_with_the_window() {
        let t0 = Instant::now();
        let gate = Gate::new(1, 1, t0);
        assert!(!gate.strike(t0, &rules(), 3));
        assert!(!gate.strike(t0 + Duration::from_secs(11), &rules(), 3));
        assert!(gate.strike(t0 + Duration::from_secs(12), &rules(), 1));
    }
}
