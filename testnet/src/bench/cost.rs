//! What a bench run cost and what it could have reached: CPU time of every validator
//! and of the load generator (from `/proc`), and the signature bound measured on this
//! machine in the same run — every validator must check every client signature, so
//! with batch verification the network cannot commit more than
//! `cores × 10⁶ / (validators × µs per signature)` transactions a second when all its
//! validators share one machine, as a local testnet does.

use std::time::Instant;

use cairn_crypto::{Domain, SecretKey, Signature, SignedItem, verify_batch};
use serde::Serialize;

/// Signatures in one measured batch (the node's verifier batches up to this many).
const BATCH: usize = 256;
/// Batches timed; the median counts.
const ROUNDS: usize = 7;

/// CPU seconds a process has used so far (user + system, all threads), or `None` if
/// `/proc` does not show it (not Linux, or the process is gone).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / clock_ticks_per_second())
}

/// The unit of `/proc/<pid>/stat` times.
fn clock_ticks_per_second() -> f64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(ticks)) if ticks > 0 => ticks as f64,
        // Linux's USER_HZ, fixed at 100 on every architecture it exports.
        _ => 100.0,
    }
}

/// This machine's batch-verification cost and the throughput it allows.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SignatureBound {
    /// Microseconds per signature in a batch of 256 (median of several batches).
    pub batch_verify_us_per_sig: f64,
    /// Cores the machine offers.
    pub cores: usize,
    /// `cores × 10⁶ / (validators × batch_verify_us_per_sig)`: committed transactions
    /// per second if checking client signatures were all the validators did.
    pub bound_tps: f64,
}

impl SignatureBound {
    /// Times batch verification here and now, for a network of `validators`.
    pub fn measure(validators: usize) -> SignatureBound {
        let keys: Vec<SecretKey> = (0..16).map(|_| SecretKey::generate()).collect();
        let publics: Vec<_> = keys.iter().map(SecretKey::public).collect();
        let messages: Vec<Vec<u8>> = (0..BATCH)
            .map(|i| format!("cairn bench signature bound {i:08}").into_bytes())
            .collect();
        let signatures: Vec<Signature> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| keys[i % keys.len()].sign(Domain::Tx, m))
            .collect();
        let items: Vec<SignedItem<'_>> = messages
            .iter()
            .zip(&signatures)
            .enumerate()
            .map(|(i, (message, signature))| SignedItem {
                domain: Domain::Tx,
                message,
                signer: &publics[i % publics.len()],
                signature,
            })
            .collect();
        let mut per_sig: Vec<f64> = (0..ROUNDS)
            .map(|_| {
                let started = Instant::now();
                let verified = verify_batch(&items).is_ok();
                debug_assert!(verified, "freshly signed items verify");
                started.elapsed().as_secs_f64() * 1e6 / BATCH as f64
            })
            .collect();
        per_sig.sort_by(f64::total_cmp);
        let us = per_sig[ROUNDS / 2].max(f64::MIN_POSITIVE);
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        SignatureBound {
            batch_verify_us_per_sig: us,
            cores,
            bound_tps: cores as f64 * 1e6 / (validators.max(1) as f64 * us),
        }
    }
}

/// CPU used over the measured window.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CpuCost {
    /// CPU seconds of each loaded validator process, in node order (null if its
    /// process could not be read: not on this machine, or restarted meanwhile).
    pub validators_s: Vec<Option<f64>>,
    /// CPU seconds of the load generator (this process: signing, RPC, following).
    pub generator_s: f64,
    /// Mean CPU microseconds per committed transaction per validator (over the
    /// validators that could be read), or null if nothing committed.
    pub us_per_tx_per_validator: Option<f64>,
    /// The load generator's CPU microseconds per committed transaction.
    pub generator_us_per_tx: Option<f64>,
}

/// CPU readings taken at the start of the window.
pub struct CpuMeter {
    pids: Vec<Option<u32>>,
    validators: Vec<Option<f64>>,
    generator: Option<f64>,
}

impl CpuMeter {
    /// Starts measuring the validator processes `pids` and this process.
    pub fn start(pids: Vec<Option<u32>>) -> CpuMeter {
        let validators = pids.iter().map(|p| p.and_then(cpu_seconds)).collect();
        CpuMeter {
            pids,
            validators,
            generator: cpu_seconds(std::process::id()),
        }
    }

    /// What was used since [`CpuMeter::start`], shared out over `committed`
    /// transactions.
    pub fn finish(&self, committed: u64) -> CpuCost {
        let validators_s: Vec<Option<f64>> = self
            .pids
            .iter()
            .zip(&self.validators)
            .map(|(pid, before)| Some(pid.and_then(cpu_seconds)? - (*before)?))
            .collect();
        let generator_s = cpu_seconds(std::process::id())
            .zip(self.generator)
            .map_or(0.0, |(now, before)| now - before);
        let read: Vec<f64> = validators_s.iter().flatten().copied().collect();
        let per_tx = |seconds: f64| (committed > 0).then(|| seconds * 1e6 / committed as f64);
        let us_per_tx_per_validator = if read.is_empty() {
            None
        } else {
            per_tx(read.iter().sum::<f64>() / read.len() as f64)
        };
        CpuCost {
            validators_s,
            generator_s,
            us_per_tx_per_validator,
            generator_us_per_tx: per_tx(generator_s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_cpu_time_is_read_and_grows() {
        let before = cpu_seconds(std::process::id()).expect("/proc/self/stat");
        // Spin until the clock ticks over (10 ms at the usual 100 Hz); the wall-time
        // limit only stops a broken reading from hanging the test.
        let mut x = 0u64;
        let started = Instant::now();
        let mut after = before;
        while after <= before && started.elapsed().as_secs() < 10 {
            for _ in 0..100_000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            after = cpu_seconds(std::process::id()).expect("/proc/self/stat");
        }
        std::hint::black_box(x);
        assert!(
            after > before,
            "CPU time stayed at {before} s while spinning"
        );
        assert!(cpu_seconds(u32::MAX).is_none(), "no such process");
    }

    #[test]
    fn the_bound_divides_the_cores_over_the_validators() {
        let four = SignatureBound::measure(4);
        assert!(four.batch_verify_us_per_sig > 0.0);
        let expected = four.cores as f64 * 1e6 / (4.0 * four.batch_verify_us_per_sig);
        assert!((four.bound_tps - expected).abs() < 1e-6 * expected);
    }

    #[test]
    fn cost_is_shared_over_committed_transactions_and_readable_validators() {
        let meter = CpuMeter {
            pids: vec![Some(std::process::id()), None],
            validators: vec![Some(0.0), None],
            generator: Some(0.0),
        };
        let cost = meter.finish(1_000);
        assert_eq!(cost.validators_s.len(), 2);
        assert!(cost.validators_s[1].is_none(), "no pid, no reading");
        let own = cost.validators_s[0].expect("this process is readable");
        let per_tx = cost.us_per_tx_per_validator.expect("one validator read");
        assert!((per_tx - own * 1e6 / 1_000.0).abs() < 1e-6);
        assert!(meter.finish(0).us_per_tx_per_validator.is_none());
    }
}
