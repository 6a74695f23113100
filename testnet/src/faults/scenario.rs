//! Scenario files: how many validators, how long, what load, and which faults at
//! which second (TOML, in the manner of CometBFT's e2e manifests; docs/TESTING.md
//! "Fault runs").
//!
//! ```toml
//! validators = 4
//! duration_s = 40
//! load_tps = 20
//! resume_within_s = 10
//!
//! [[fault]]
//! at_s = 8
//! do = "kill"        # kill -9
//! nodes = [2]
//!
//! [[fault]]
//! at_s = 14
//! do = "restart"
//! nodes = [2]
//!
//! [[fault]]
//! at_s = 20
//! do = "split"       # a majority/minority split; "isolate" cuts `nodes` off
//! groups = [[0, 1, 2], [3]]
//!
//! [[fault]]
//! at_s = 30
//! do = "heal"
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, TestnetError, io};

/// A whole run.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Validators, each on its own host.
    pub validators: usize,
    /// How long the load and the faults run, in seconds.
    pub duration_s: u64,
    /// Transactions submitted per second, spread over the reachable validators.
    #[serde(default = "default_tps")]
    pub load_tps: u64,
    /// After a fault ends (heal, restart, resume), commits must resume within this
    /// many seconds.
    #[serde(default = "default_resume")]
    pub resume_within_s: u64,
    /// The faults, in any order.
    #[serde(default, rename = "fault")]
    pub faults: Vec<Fault>,
    /// Kills of random validators, each restarted after a while (added to `faults`).
    pub chaos: Option<Chaos>,
    /// Validators that misbehave, from the start or from `from_s` (needs a `cairn`
    /// built with `--features byzantine`).
    #[serde(default)]
    pub byzantine: Vec<ByzantineNode>,
    /// The honest validators' commit rate during a fault, against the rate without
    /// it in the same run.
    pub rate: Option<RateCheck>,
    /// How validators find each other: `genesis` (every address in the genesis) or
    /// `bootstrap` (the genesis lists only v0's; every node has v0 as its one
    /// bootstrap address and finds the rest by Kademlia discovery).
    #[serde(default)]
    pub discovery: Discovery,
}

/// How the validators of a run find each other.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Discovery {
    /// From the genesis addresses.
    #[default]
    Genesis,
    /// From one bootstrap address.
    Bootstrap,
}

/// The honest chain's blocks per second in `faulty` must be at least `min_share` of
/// its blocks per second in `baseline` (both `[from_s, to_s]`), and at least
/// `min_blocks_per_s` if that is given (for a fault whose cost is set by physics, such
/// as added latency, rather than by the fault-free rate of this machine).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RateCheck {
    /// The window without the fault.
    pub baseline: [f64; 2],
    /// The window with it.
    pub faulty: [f64; 2],
    /// The least share of the baseline rate, e.g. 0.8.
    pub min_share: f64,
    /// The least blocks per second in the faulty window, whatever the baseline.
    #[serde(default)]
    pub min_blocks_per_s: Option<f64>,
}

pub use crate::byzantine::ByzantineNode;

/// `kills` kill -9s of a validator drawn at random (seeded), one every `every_s`
/// seconds from `start_s`, each restarted `down_s` seconds later.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Chaos {
    /// How many kills.
    pub kills: usize,
    /// Seconds between kills.
    pub every_s: f64,
    /// Seconds each killed validator stays down.
    pub down_s: f64,
    /// When the first kill happens.
    #[serde(default)]
    pub start_s: f64,
    /// Seeds the choice of validators (the same seed, the same run).
    #[serde(default)]
    pub seed: u64,
}

impl Chaos {
    /// The kills and restarts, in time order.
    fn faults(&self, validators: usize) -> Vec<Fault> {
        let mut state = self.seed ^ 0x9e37_79b9_7f4a_7c15;
        let mut faults = Vec::with_capacity(2 * self.kills);
        for k in 0..self.kills {
            // xorshift64*: enough to spread kills over validators, and reproducible.
            let pick = (crate::faults::xorshift(&mut state) >> 33) as usize % validators;
            let at_s = self.start_s + k as f64 * self.every_s;
            for (at_s, action) in [(at_s, Action::Kill), (at_s + self.down_s, Action::Restart)] {
                faults.push(Fault {
                    nodes: vec![pick],
                    ..Fault::at(at_s, action)
                });
            }
        }
        faults
    }
}

fn default_tps() -> u64 {
    20
}

fn default_resume() -> u64 {
    10
}

/// One fault at one time.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Seconds after the load starts.
    pub at_s: f64,
    /// What happens.
    #[serde(rename = "do")]
    pub action: Action,
    /// The validators it happens to (kill, restart, pause, resume, wipe, isolate).
    #[serde(default)]
    pub nodes: Vec<usize>,
    /// The sides of a split: validators in different groups cannot reach each other.
    #[serde(default)]
    pub groups: Vec<Vec<usize>>,
    /// `loss`, `delay`: the validators whose packets from `nodes` are dropped or
    /// delayed (empty: all).
    #[serde(default)]
    pub to: Vec<usize>,
    /// `loss`: the share of packets dropped, in percent.
    pub percent: Option<u8>,
    /// `slow-link`: the validators' outgoing bandwidth, in kbit/s.
    pub kbit: Option<u32>,
    /// `slow-disk`: how long each synced write waits first; `delay`: how long each
    /// packet waits; in milliseconds.
    pub ms: Option<u64>,
    /// `delay`: each packet's wait varies uniformly by up to this many milliseconds
    /// either way (never reordering packets).
    pub jitter_ms: Option<u64>,
}

impl Fault {
    /// `action` at `at_s`, on nobody yet.
    pub fn at(at_s: f64, action: Action) -> Fault {
        Fault {
            at_s,
            action,
            nodes: Vec::new(),
            groups: Vec::new(),
            to: Vec::new(),
            percent: None,
            kbit: None,
            ms: None,
            jitter_ms: None,
        }
    }
}

/// What a fault does.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// SIGKILL the validators' processes.
    Kill,
    /// Start the (killed) validators again from their data.
    Restart,
    /// SIGSTOP them: alive, silent.
    Pause,
    /// SIGCONT them.
    Resume,
    /// SIGKILL, empty the data directory, start again.
    Wipe,
    /// Cut the listed validators off from all others.
    Isolate,
    /// Split the validators into `groups` that cannot reach each other.
    Split,
    /// Remove every partition, loss, delay, slow link and slow disk.
    Heal,
    /// Delay the packets `nodes` send (to `to`) by `ms` ± `jitter_ms` milliseconds.
    Delay,
    /// One-way loss: drop `percent` % of the packets `nodes` send (to `to`).
    Loss,
    /// Limit `nodes`' outgoing bandwidth to `kbit` kbit/s (a token bucket; queued
    /// packets wait, so latency rises with the load).
    SlowLink,
    /// Every synced write of `nodes` waits `ms` milliseconds first (a slow disk;
    /// needs a cairn built with `--features byzantine`).
    SlowDisk,
    /// SIGUSR1: a dormant Byzantine validator starts misbehaving (from its
    /// `[[byzantine]]` entry's `from_s`; not written as a fault).
    Misbehave,
}

impl Action {
    /// Whether the network should be committing again soon after it (it ends a fault).
    pub fn ends_a_fault(self) -> bool {
        matches!(
            self,
            Action::Restart | Action::Resume | Action::Wipe | Action::Heal
        )
    }
}

impl Scenario {
    /// Whether validator `i` is honest in this run.
    pub fn is_honest(&self, i: usize) -> bool {
        !self.byzantine.iter().any(|b| b.node == i)
    }

    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Scenario> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        let scenario: Scenario = toml::from_str(&text)
            .map_err(|e| TestnetError::Usage(format!("{}: {e}", path.display())))?;
        scenario
            .check()
            .map_err(|e| TestnetError::Usage(format!("{}: {e}", path.display())))?;
        Ok(scenario)
    }

    /// The faults in time order, chaos included.
    pub fn timeline(&self) -> Vec<Fault> {
        let mut faults = self.faults.clone();
        if let Some(chaos) = &self.chaos {
            faults.extend(chaos.faults(self.validators));
        }
        for b in &self.byzantine {
            if let Some(at_s) = b.from_s {
                faults.push(Fault {
                    nodes: vec![b.node],
                    ..Fault::at(at_s, Action::Misbehave)
                });
            }
        }
        faults.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
        faults
    }

    fn check(&self) -> std::result::Result<(), String> {
        if !(4..=32).contains(&self.validators) {
            return Err(format!("validators = {}: use 4 to 32", self.validators));
        }
        if self.duration_s == 0 {
            return Err("duration_s must be above 0".into());
        }
        if let Some(chaos) = &self.chaos
            && !(chaos.down_s > 0.0 && chaos.down_s < chaos.every_s)
        {
            return Err(
                "chaos: down_s must be above 0 and below every_s (one down at a time)".into(),
            );
        }
        crate::byzantine::check(&self.byzantine, self.validators)?;
        if self.faults.iter().any(|f| f.action == Action::Misbehave) {
            return Err(
                "misbehave is not a fault to write: give the [[byzantine]] entry a from_s".into(),
            );
        }
        if let Some(rate) = &self.rate {
            let end = self.duration_s as f64;
            let ok = |w: &[f64; 2]| 0.0 <= w[0] && w[0] + 5.0 <= w[1] && w[1] <= end;
            if !ok(&rate.baseline) || !ok(&rate.faulty) {
                return Err(format!(
                    "rate: each window [from_s, to_s] must lie within the run and last 5 s or more (run of {end} s)"
                ));
            }
            if !(0.0..=1.0).contains(&rate.min_share) {
                return Err("rate: min_share is a share, 0 to 1".into());
            }
            if rate
                .min_blocks_per_s
                .is_some_and(|b| !b.is_finite() || b < 0.0)
            {
                return Err("rate: min_blocks_per_s is a rate, 0 or more".into());
            }
        }
        for fault in &self.timeline() {
            if !(0.0..=self.duration_s as f64).contains(&fault.at_s) {
                return Err(format!("a fault at {} s is outside the run", fault.at_s));
            }
            let named = fault.nodes.iter().chain(fault.groups.iter().flatten());
            if let Some(bad) = named.into_iter().find(|i| **i >= self.validators) {
                return Err(format!("validator {bad} does not exist"));
            }
            let needs_nodes = !matches!(fault.action, Action::Split | Action::Heal);
            if needs_nodes && fault.nodes.is_empty() {
                return Err(format!(
                    "{:?} at {} s names no nodes",
                    fault.action, fault.at_s
                ));
            }
            if fault.action == Action::Loss && fault.percent.is_none_or(|p| !(1..=100).contains(&p))
            {
                return Err(format!(
                    "the loss at {} s needs percent = 1 to 100",
                    fault.at_s
                ));
            }
            if fault.action == Action::SlowLink && fault.kbit.is_none_or(|k| k < 8) {
                return Err(format!(
                    "the slow link at {} s needs kbit = 8 or more",
                    fault.at_s
                ));
            }
            if fault.action == Action::SlowDisk
                && fault.ms.is_none_or(|ms| !(1..=10_000).contains(&ms))
            {
                return Err(format!(
                    "the slow disk at {} s needs ms = 1 to 10000",
                    fault.at_s
                ));
            }
            if fault.action == Action::Delay {
                let ms = fault.ms.unwrap_or(0);
                if !(1..=10_000).contains(&ms) || fault.jitter_ms.unwrap_or(0) > ms {
                    return Err(format!(
                        "the delay at {} s needs ms = 1 to 10000 and jitter_ms no more than ms",
                        fault.at_s
                    ));
                }
            }
            if let Some(bad) = fault.to.iter().find(|i| **i >= self.validators) {
                return Err(format!("validator {bad} does not exist"));
            }
            if fault.action == Action::Split && fault.groups.len() < 2 {
                return Err(format!(
                    "the split at {} s needs two groups or more",
                    fault.at_s
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_parses_and_sorts() {
        let text = r#"
            validators = 4
            duration_s = 30
            [[fault]]
            at_s = 9
            do = "restart"
            nodes = [1]
            [[fault]]
            at_s = 3
            do = "kill"
            nodes = [1]
            [[fault]]
            at_s = 12
            do = "split"
            groups = [[0, 1], [2, 3]]
        "#;
        let scenario: Scenario = toml::from_str(text).unwrap();
        assert!(scenario.check().is_ok());
        let timeline = scenario.timeline();
        assert_eq!(timeline[0].action, Action::Kill);
        assert_eq!(timeline[2].groups, vec![vec![0, 1], vec![2, 3]]);
        assert_eq!(scenario.load_tps, 20);
    }

    #[test]
    fn bad_scenarios_are_refused_with_a_reason() {
        let base = "validators = 4\nduration_s = 10\n";
        let cases = [
            ("validators = 2\nduration_s = 10\n", "use 4 to 32"),
            (
                &format!("{base}[[fault]]\nat_s = 20\ndo = \"kill\"\nnodes = [0]\n"),
                "outside",
            ),
            (
                &format!("{base}[[fault]]\nat_s = 2\ndo = \"kill\"\nnodes = [9]\n"),
                "does not exist",
            ),
            (
                &format!("{base}[[fault]]\nat_s = 2\ndo = \"pause\"\n"),
                "names no nodes",
            ),
            (
                &format!("{base}[[fault]]\nat_s = 2\ndo = \"split\"\ngroups = [[0]]\n"),
                "two groups",
            ),
        ];
        for (text, reason) in cases {
            let scenario: Scenario = toml::from_str(text).unwrap();
            let error = scenario.check().unwrap_err();
            assert!(error.contains(reason), "{error}");
        }
        assert!(toml::from_str::<Scenario>("validators = 4\nduration_s = 1\nfoo = 1\n").is_err());
    }

    #[test]
    fn every_shipped_scenario_loads() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut loaded = 0;
        for dir in [root.clone(), root.join("rates")] {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "toml") {
                    Scenario::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    loaded += 1;
                }
            }
        }
        assert!(loaded >= 14, "{loaded} scenarios");
    }

    #[test]
    fn a_dormant_byzantine_validator_misbehaves_at_its_time() {
        let text = "validators = 4\nduration_s = 40\n[[byzantine]]\nnode = 3\nbehaviour = \"silent\"\nfrom_s = 20\n[rate]\nbaseline = [5.0, 20.0]\nfaulty = [25.0, 40.0]\nmin_share = 0.8\n";
        let scenario: Scenario = toml::from_str(text).unwrap();
        scenario.check().unwrap();
        let timeline = scenario.timeline();
        assert_eq!(timeline.len(), 1);
        assert_eq!(timeline[0].action, Action::Misbehave);
        assert_eq!(
            (timeline[0].at_s, timeline[0].nodes.clone()),
            (20.0, vec![3])
        );
        let late = text.replace("faulty = [25.0, 40.0]", "faulty = [25.0, 41.0]");
        let scenario: Scenario = toml::from_str(&late).unwrap();
        assert!(scenario.check().unwrap_err().contains("rate"));
    }

    #[test]
    fn chaos_expands_into_seeded_kills_each_restarted() {
        let text = "validators = 4\nduration_s = 40\n[chaos]\nkills = 10\nevery_s = 3\ndown_s = 1\nstart_s = 2\nseed = 7\n";
        let scenario: Scenario = toml::from_str(text).unwrap();
        assert!(scenario.check().is_ok());
        let timeline = scenario.timeline();
        assert_eq!(timeline.len(), 20);
        for pair in timeline.chunks(2) {
            assert_eq!(
                (pair[0].action, pair[1].action),
                (Action::Kill, Action::Restart)
            );
            assert_eq!(pair[0].nodes, pair[1].nodes);
            assert!((pair[1].at_s - pair[0].at_s - 1.0).abs() < 1e-9);
        }
        let picked: std::collections::BTreeSet<usize> =
            timeline.iter().map(|f| f.nodes[0]).collect();
        assert!(picked.len() > 1, "kills spread over validators: {picked:?}");
        assert_eq!(timeline, scenario.timeline(), "the same seed, the same run");
        let long = text.replace("kills = 10", "kills = 20");
        let too_long: Scenario = toml::from_str(&long).unwrap();
        assert!(too_long.check().unwrap_err().contains("outside the run"));
    }
}
