//! Faults in a scenario: crashes (with restarts, possibly with a wiped data
//! directory) and partitions, and the small builders that describe them fluently
//! (`.crash(2).at(5_000).restart_at(9_000)`,
//! `.crash(1).after_signing(3_000).restart_wiped_at(4_000)`,
//! `.partition(&[&[0, 1], &[2, 3]]).heal_at(20_000)`).

use super::network::Partition;
use super::scenario::Scenario;

/// A crash of an instance, and its restart if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crash {
    /// The instance.
    pub instance: usize,
    /// When it crashes.
    pub at_ms: u64,
    /// When it restarts from what it persisted (never if `None`).
    pub restart_ms: Option<u64>,
    /// Whether it crashes right after the first vote or timeout it sends at or after
    /// `at_ms` (the rest of that batch of actions is lost: the worst moment to lose
    /// what it remembers) instead of at `at_ms`. If it has sent none by `restart_ms`,
    /// it crashes then and restarts at once.
    pub after_signing: bool,
    /// Whether it restarts with an empty data directory: no safety state (it gets
    /// `SafetyData::recovering`), no blocks, no committed chain.
    pub wiped: bool,
}

/// A crash being described: when it happens.
pub struct CrashBuilder {
    pub(crate) scenario: Scenario,
    pub(crate) instance: usize,
}

impl CrashBuilder {
    /// The crash happens at `at_ms`.
    pub fn at(self, at_ms: u64) -> CrashAt {
        CrashAt {
            scenario: self.scenario,
            instance: self.instance,
            at_ms,
            after_signing: false,
        }
    }

    /// The crash happens right after the first vote or timeout the instance sends at
    /// or after `from_ms`, before anything else of that batch (see
    /// [`Crash::after_signing`]).
    pub fn after_signing(self, from_ms: u64) -> CrashAt {
        CrashAt {
            after_signing: true,
            ..self.at(from_ms)
        }
    }
}

/// A crash at a known time: when (if ever) the instance restarts.
pub struct CrashAt {
    scenario: Scenario,
    instance: usize,
    at_ms: u64,
    after_signing: bool,
}

impl CrashAt {
    /// Restarts it at `restart_ms` from what it persisted.
    pub fn restart_at(self, restart_ms: u64) -> Scenario {
        self.finish(Some(restart_ms), false)
    }

    /// Restarts it at `restart_ms` with its data directory wiped: it has lost its
    /// safety state, its blocks and its committed chain, and starts from
    /// `SafetyData::recovering`, as the node does when it finds no safety state.
    pub fn restart_wiped_at(self, restart_ms: u64) -> Scenario {
        self.finish(Some(restart_ms), true)
    }

    /// It never comes back.
    pub fn forever(self) -> Scenario {
        self.finish(None, false)
    }

    fn finish(mut self, restart_ms: Option<u64>, wiped: bool) -> Scenario {
        self.scenario.crashes.push(Crash {
            instance: self.instance,
            at_ms: self.at_ms,
            restart_ms,
            after_signing: self.after_signing,
            wiped,
        });
        self.scenario
    }
}

/// A partition being described: when it starts and heals.
pub struct PartitionBuilder {
    pub(crate) scenario: Scenario,
    pub(crate) groups: Vec<Vec<usize>>,
    pub(crate) from_ms: u64,
}

impl PartitionBuilder {
    /// The partition starts at `from_ms` instead of 0.
    pub fn from(mut self, from_ms: u64) -> PartitionBuilder {
        self.from_ms = from_ms;
        self
    }

    /// The partition heals at `until_ms`; GST is at least this late.
    pub fn heal_at(mut self, until_ms: u64) -> Scenario {
        self.scenario.partitions.push(Partition {
            groups: self.groups,
            from_ms: self.from_ms,
            until_ms,
        });
        self.scenario
    }
}

impl Scenario {
    /// Checks the scenario's own consistency, with a message saying what to fix.
    pub fn validate(&self) {
        let n = self.n;
        let f = (n - 1) / 3;
        let instances = self.instances();
        for &id in self.byzantine.keys().chain(&self.twins) {
            assert!(id < n, "validator {id} does not exist in a set of {n}");
        }
        let mut faulty: Vec<usize> = self.byzantine.keys().chain(&self.twins).copied().collect();
        faulty.sort_unstable();
        faulty.dedup();
        assert!(
            faulty.len() <= f,
            "{} Byzantine validators, but n = {n} tolerates f = {f}",
            faulty.len()
        );
        for c in &self.crashes {
            assert!(
                c.instance < n && !faulty.contains(&c.instance),
                "crash: instance {} is not an honest validator",
                c.instance
            );
            assert!(
                c.restart_ms.is_none_or(|r| r > c.at_ms),
                "crash of {}: restart must follow the crash",
                c.instance
            );
        }
        for p in &self.partitions {
            assert!(
                p.groups.iter().flatten().all(|&i| i < instances),
                "partition names an instance beyond {instances}"
            );
        }
        if let Some(bound) = self.liveness_ms.filter(|_| self.stop_at_height.is_none()) {
            let down = self
                .crashes
                .iter()
                .filter(|c| c.restart_ms.is_none())
                .count();
            // A wiped validator signs nothing until n − q + f + 1 others answer it, so
            // it counts as faulty: with f silent Byzantine validators it never would.
            let mut wiped: Vec<usize> = self
                .crashes
                .iter()
                .filter(|c| c.wiped)
                .map(|c| c.instance)
                .collect();
            wiped.sort_unstable();
            wiped.dedup();
            assert!(
                faulty.len() + down + wiped.len() <= f,
                "progress is checked but {} faulty + {down} crashed for good + {} wiped exceed f = {f}; use no_liveness_check()",
                faulty.len(),
                wiped.len()
            );
            let stable = self
                .crashes
                .iter()
                .filter_map(|c| c.restart_ms)
                .fold(self.effective_gst(), u64::max);
            assert!(
                stable + bound <= self.run_until_ms,
                "the run ends at {} ms, before GST/restarts ({stable} ms) plus the progress bound ({bound} ms)",
                self.run_until_ms
            );
        }
    }
}
