//! Per-peer rates of what the driver does for other validators on request: replies to
//! lagging validators (certificates) and block requests. A peer over its rate is
//! refused, the others are not affected.

use std::time::Instant;

use cairn_network::TokenBucket;
use cairn_types::ValidatorId;

/// Certificates sent to one lagging peer per second (and burst): a validator that
/// keeps sending stale timeouts gets a few answers, not one per timeout.
pub const REPLIES_PER_SEC: (u32, u32) = (10, 20);
/// Block requests answered per peer per second (and burst).
pub const BLOCK_REQUESTS_PER_SEC: (u32, u32) = (200, 400);
/// Bytes of blocks sent to one peer per second (and burst), in [`BYTE_UNIT`]s:
/// 64 MiB/s, bursts of 128 MiB — a validator catching up is served at full speed, a
/// peer asking for large blocks over and over gets no more.
pub const BLOCK_BYTES_PER_SEC: (u32, u32) = (1024, 2048);
/// The unit of byte rates: 64 KiB.
pub const BYTE_UNIT: usize = 64 * 1024;
/// Signatures checked for one peer's consensus messages per second (and burst):
/// several times what an honest validator's messages carry, and a bound on the CPU
/// a Byzantine one can claim with valid messages (about 50 µs each).
pub const SIGNATURES_PER_SEC: (u32, u32) = (5_000, 10_000);
/// Client transactions in batches checked for one peer per second (and burst): a
/// bound on the signature work a validator's batches can claim.
pub const PEER_TXS_PER_SEC: (u32, u32) = (20_000, 40_000);

/// One token bucket per validator.
pub struct PeerRates {
    buckets: Vec<TokenBucket>,
}

impl PeerRates {
    /// Buckets of `(rate, burst)` for `n` validators, full.
    pub fn new(n: usize, (rate, burst): (u32, u32)) -> PeerRates {
        let now = Instant::now();
        PeerRates {
            buckets: (0..n).map(|_| TokenBucket::new(rate, burst, now)).collect(),
        }
    }

    /// Takes one token of `peer`'s; false if it has none (or is unknown).
    pub fn allow(&mut self, peer: ValidatorId) -> bool {
        self.allow_n(peer, 1)
    }

    /// Takes `n` tokens of `peer`'s; false if it has not that many (or is unknown).
    pub fn allow_n(&mut self, peer: ValidatorId, n: u32) -> bool {
        self.buckets
            .get_mut(usize::from(peer.0))
            .is_some_and(|b| b.take_n(n, Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_over_its_rate_does_not_use_up_the_others() {
        let mut rates = PeerRates::new(3, (1, 5));
        let first = (0..100).filter(|_| rates.allow(ValidatorId(1))).count();
        assert_eq!(first, 5);
        assert!(rates.allow(ValidatorId(2)));
        assert!(!rates.allow(ValidatorId(7)), "unknown validator");
    }
}
