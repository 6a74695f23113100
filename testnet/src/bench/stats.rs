//! Latency percentiles and the bench report.

use std::time::Duration;

use serde::Serialize;

use super::cost::{CpuCost, SignatureBound};

/// Submit-to-commit latency percentiles, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Latency {
    /// Percentiles of `samples` (nearest-rank); all zero when there are none.
    pub fn of(mut samples: Vec<Duration>) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_unstable();
        let at = |p: f64| {
            let rank = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            samples[rank - 1].as_secs_f64() * 1_000.0
        };
        Latency {
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// What `cairn testnet bench` reports.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// Validators in the testnet.
    pub validators: usize,
    /// Validators that answered and were loaded (the others were down).
    pub loaded: usize,
    /// Accounts that signed transactions.
    pub accounts: usize,
    /// Target rate (transactions per second), or null for `--max`.
    pub target_rate: Option<u64>,
    /// Most transactions each account had submitted and not yet committed (0: no limit).
    pub window: u64,
    /// Seconds spent submitting.
    pub duration_s: f64,
    /// Transactions the nodes accepted.
    pub submitted: u64,
    /// Accepted transactions seen committed and applied.
    pub committed: u64,
    /// Refused at submission (other than busy) or committed with a rejected receipt.
    pub rejected: u64,
    /// Submissions answered "busy" (retried).
    pub busy: u64,
    /// Accepted transactions not seen committed before the drain timeout.
    pub pending: u64,
    /// Committed transactions per second, from the first submission to the last commit.
    pub committed_tps: f64,
    /// Submit-to-commit latency of the committed transactions.
    pub latency: Latency,
    /// CPU the validators and the generator used from the first submission to the
    /// end of the drain.
    pub cpu: CpuCost,
    /// The signature bound measured on this machine just before the load.
    pub signature_bound: SignatureBound,
    /// `committed_tps / signature_bound.bound_tps`.
    pub bound_ratio: f64,
    /// Transactions signed before the timed window.
    pub presigned: u64,
    /// Transactions the generator had to sign inside the timed window (the pre-signed
    /// ones ran out, or a refusal changed an account's nonces); 0 in a clean run.
    pub signed_in_window: u64,
}

impl BenchReport {
    /// The report as lines for people.
    pub fn human(&self) -> String {
        let rate = self
            .target_rate
            .map_or("max".to_string(), |r| format!("{r} tx/s"));
        format!(
            "validators {} ({} loaded), accounts {} (window {} each), rate {rate}, {:.1} s\n\
             submitted {}  committed {}  rejected {}  busy {}  pending {}\n\
             committed {:.0} tx/s\n\
             submit-to-commit latency: p50 {:.0} ms  p90 {:.0} ms  p99 {:.0} ms  max {:.0} ms\n\
             CPU per committed transaction: {} per validator, {} in the load generator\n\
             signature bound here: {:.0} tx/s ({} cores, {:.1} µs per signature in a batch of 256); \
             committed / bound = {:.3}\n\
             signed before the window {}, inside it {}\n",
            self.validators,
            self.loaded,
            self.accounts,
            self.window,
            self.duration_s,
            self.submitted,
            self.committed,
            self.rejected,
            self.busy,
            self.pending,
            self.committed_tps,
            self.latency.p50_ms,
            self.latency.p90_ms,
            self.latency.p99_ms,
            self.latency.max_ms,
            micros(self.cpu.us_per_tx_per_validator),
            micros(self.cpu.generator_us_per_tx),
            self.signature_bound.bound_tps,
            self.signature_bound.cores,
            self.signature_bound.batch_verify_us_per_sig,
            self.bound_ratio,
            self.presigned,
            self.signed_in_window,
        )
    }
}

/// `12.3 µs`, or `n/a` when nothing was measured.
fn micros(us: Option<f64>) -> String {
    us.map_or_else(|| "n/a".into(), |us| format!("{us:.1} µs"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let samples = (1..=100).map(Duration::from_millis).collect();
        let l = Latency::of(samples);
        assert_eq!(
            (l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms),
            (50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(Latency::of(vec![]), Latency::default());
        let one = Latency::of(vec![Duration::from_millis(7)]);
        assert_eq!((one.p50_ms, one.max_ms), (7.0, 7.0));
    }
}
