//! What the bench has submitted, what committed, and when.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cairn_crypto::Hash;

use super::BenchOptions;
use super::cost::{CpuCost, SignatureBound};
use super::stats::{BenchReport, Latency};

/// Counters and timings shared by the submitters and the commit watcher.
#[derive(Default)]
pub struct Tracker {
    /// Accepted transactions not yet seen committed, with their submit time and account.
    in_flight: Mutex<HashMap<Hash, (Instant, usize)>>,
    /// Per account: accepted transactions not yet seen committed.
    per_account: Vec<AtomicU64>,
    /// Submit-to-commit latencies of applied transactions.
    latencies: Mutex<Vec<Duration>>,
    last_commit: Mutex<Option<Instant>>,
    /// Accepted.
    pub submitted: AtomicU64,
    /// Committed and applied.
    pub committed: AtomicU64,
    /// Refused (not busy) or committed rejected.
    pub rejected: AtomicU64,
    /// Busy answers.
    pub busy: AtomicU64,
}

impl Tracker {
    /// A tracker for `accounts` submitting accounts.
    pub fn new(accounts: usize) -> Tracker {
        Tracker {
            per_account: (0..accounts).map(|_| AtomicU64::new(0)).collect(),
            ..Tracker::default()
        }
    }

    /// Transactions of `account` accepted and not yet seen committed.
    pub fn in_flight_of(&self, account: usize) -> u64 {
        self.per_account
            .get(account)
            .map_or(0, |n| n.load(Ordering::Relaxed))
    }

    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records an accepted submission of `account` made at `at`.
    pub fn submitted(&self, hash: Hash, at: Instant, account: usize) {
        Self::lock(&self.in_flight).insert(hash, (at, account));
        if let Some(n) = self.per_account.get(account) {
            n.fetch_add(1, Ordering::Relaxed);
        }
        self.submitted.fetch_add(1, Ordering::Relaxed);
    }

    /// Records a committed transaction (ignored unless this bench submitted it).
    pub fn committed(&self, hash: &Hash, applied: bool, at: Instant) {
        let Some((sent, account)) = Self::lock(&self.in_flight).remove(hash) else {
            return;
        };
        if let Some(n) = self.per_account.get(account) {
            n.fetch_sub(1, Ordering::Relaxed);
        }
        if applied {
            self.committed.fetch_add(1, Ordering::Relaxed);
            Self::lock(&self.latencies).push(at.saturating_duration_since(sent));
        } else {
            self.rejected.fetch_add(1, Ordering::Relaxed);
        }
        *Self::lock(&self.last_commit) = Some(at);
    }

    /// Waits until nothing is in flight, or `limit`.
    pub async fn drain(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !Self::lock(&self.in_flight).is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// One line for the progress bar.
    pub fn progress_line(&self) -> String {
        format!(
            "submitted {}  committed {}  rejected {}  busy {}",
            self.submitted.load(Ordering::Relaxed),
            self.committed.load(Ordering::Relaxed),
            self.rejected.load(Ordering::Relaxed),
            self.busy.load(Ordering::Relaxed)
        )
    }

    /// The final report.
    pub fn report(
        &self,
        validators: usize,
        loaded: usize,
        options: &BenchOptions,
        started: Instant,
        duration: Duration,
    ) -> BenchReport {
        let committed = self.committed.load(Ordering::Relaxed);
        let span = Self::lock(&self.last_commit)
            .map(|last| last.saturating_duration_since(started))
            .unwrap_or(duration)
            .max(Duration::from_millis(1));
        BenchReport {
            validators,
            loaded,
            accounts: options.accounts,
            target_rate: options.rate,
            window: options.window,
            duration_s: duration.as_secs_f64(),
            submitted: self.submitted.load(Ordering::Relaxed),
            committed,
            rejected: self.rejected.load(Ordering::Relaxed),
            busy: self.busy.load(Ordering::Relaxed),
            pending: Self::lock(&self.in_flight).len() as u64,
            committed_tps: committed as f64 / span.as_secs_f64(),
            latency: Latency::of(Self::lock(&self.latencies).clone()),
            cpu: CpuCost::default(),
            signature_bound: SignatureBound::default(),
            bound_ratio: 0.0,
            presigned: 0,
            signed_in_window: 0,
        }
    }
}
