//! Consensus parameters.

/// How the state machine paces rounds and bounds what it keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Base round timeout, in milliseconds.
    pub round_timeout_ms: u64,
    /// Cap on the round timeout as it doubles after consecutive failed rounds.
    pub max_round_timeout_ms: u64,
    /// Longest an idle leader waits for transactions before proposing anyway; while no
    /// transactions are pending commit, replicas add this to their round timeout so an
    /// idle network is not taken for a failed leader.
    pub heartbeat_ms: u64,
    /// Messages for rounds more than this far ahead of the current round are dropped
    /// after their certificates (if any) have been used to catch up.
    pub round_window: u64,
    /// Most transactions in one block: the leader puts at most this many in its own,
    /// and a proposal with more is refused (set from the genesis, so the same on every
    /// validator; never above `limits::MAX_BLOCK_TXS`).
    pub max_block_txs: usize,
    /// Largest encoded block, in bytes: a proposal whose block is larger is refused
    /// (never above `limits::MAX_BLOCK_BYTES`). The node's network layer enforces its
    /// chain's byte limit before decoding; this keeps the core's own check.
    pub max_block_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            round_timeout_ms: 1_000,
            max_round_timeout_ms: 30_000,
            heartbeat_ms: 5_000,
            round_window: 100,
            max_block_txs: 2_000,
            max_block_bytes: cairn_types::limits::MAX_BLOCK_BYTES,
        }
    }
}

impl Config {
    /// The round timeout after `failures` consecutive rounds ended by timeout:
    /// `round_timeout_ms · 2^failures`, capped at `max_round_timeout_ms`.
    pub fn backoff_ms(&self, failures: u32) -> u64 {
        let factor = 1u64.checked_shl(failures.min(32)).unwrap_or(u64::MAX);
        self.round_timeout_ms
            .saturating_mul(factor)
            .min(self.max_round_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let c = Config {
            round_timeout_ms: 100,
            max_round_timeout_ms: 1_000,
            ..Config::default()
        };
        let seq: Vec<u64> = (0..6).map(|f| c.backoff_ms(f)).collect();
        assert_eq!(seq, vec![100, 200, 400, 800, 1_000, 1_000]);
        assert_eq!(c.backoff_ms(u32::MAX), 1_000);
    }
}
