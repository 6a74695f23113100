//! Seed sweeps: run one registered scenario over a range of seeds, on a few threads
//! (each run is single-threaded and deterministic; threads only split the seeds).

use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::outcome::Outcome;
use super::scenario::Scenario;
use super::scenarios;

/// Failed outcomes kept in full; the rest are only counted.
const KEEP_FAILURES: usize = 5;

/// The result of a sweep.
#[derive(Debug)]
pub struct Sweep {
    /// The scenario's name.
    pub scenario: String,
    /// Seeds run.
    pub seeds: u64,
    /// Seeds that broke an invariant.
    pub failed: u64,
    /// The first few failures (lowest seeds first), trace included if kept.
    pub failures: Vec<Outcome>,
    /// Events processed over all runs.
    pub events: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl Sweep {
    /// Seeds per wall-clock second.
    pub fn seeds_per_sec(&self) -> f64 {
        self.seeds as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// One line: how many seeds, how fast, how many failed.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} seeds, {} failed, {:.1} s, {:.1} seeds/s, {:.0} events/s",
            self.scenario,
            self.seeds,
            self.failed,
            self.elapsed.as_secs_f64(),
            self.seeds_per_sec(),
            self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
        )
    }

    /// Panics with every kept failure and the commands that replay them.
    #[track_caller]
    pub fn assert_ok(&self) {
        if self.failed == 0 {
            return;
        }
        let mut report = format!("{}\n", self.summary());
        for outcome in &self.failures {
            report.push_str(&format!(
                "{outcome}\n  replay with: {}\n",
                outcome.replay_hint()
            ));
        }
        panic!("{report}");
    }
}

/// Runs scenario `name` for every seed in `seeds`, split over `threads` threads.
/// Panics if `name` is not registered.
pub fn sweep(name: &str, seeds: Range<u64>, threads: usize) -> Sweep {
    sweep_with(name, seeds, threads, |s| s)
}

/// [`sweep`], with every scenario passed through `adjust` first (for example to turn
/// on [`super::Scenario::durable_blocks`]).
pub fn sweep_with(
    name: &str,
    seeds: Range<u64>,
    threads: usize,
    adjust: fn(Scenario) -> Scenario,
) -> Sweep {
    assert!(
        scenarios::build(name, 0).is_some(),
        "no scenario named {name:?}"
    );
    let started = Instant::now();
    let next = AtomicU64::new(seeds.start);
    let results = Mutex::new((0u64, 0u64, Vec::<Outcome>::new()));
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            let (next, results, end) = (&next, &results, seeds.end);
            scope.spawn(move || {
                // Each thread takes the next seed not yet taken, so slow seeds do not
                // leave a thread idle.
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= end {
                        return;
                    }
                    let Some(scenario) = scenarios::build(name, seed) else {
                        return;
                    };
                    let outcome = adjust(scenario).run(seed);
                    let mut r = results
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    r.0 += outcome.stats.events;
                    if !outcome.is_ok() {
                        r.1 += 1;
                        r.2.push(outcome);
                        r.2.sort_by_key(|o| o.seed);
                        r.2.truncate(KEEP_FAILURES);
                    }
                }
            });
        }
    });
    let (events, failed, failures) = results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Sweep {
        scenario: name.to_string(),
        seeds: seeds.end.saturating_sub(seeds.start),
        failed,
        failures,
        events,
        elapsed: started.elapsed(),
    }
}
