//! Leader reputation in the simulator: with one validator of four crashed, or
//! Byzantine in one of the simulator's ways, the honest three keep committing at
//! 80 % or more of the rate the same seed reaches without a fault.
//!
//! CI runs the crash and two Byzantine kinds; the table of every kind is
//! `cargo test --release -p cairn-consensus --features sim --test sim_leader -- --ignored --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_consensus::sim::{Behaviour, Scenario, Workload};

/// The share of the fault-free commit rate that must remain.
const MIN_RATIO: f64 = 0.8;

/// A fault to compare with the fault-free run of the same seed.
enum Fault {
    Crash,
    Byzantine(Behaviour),
}

impl Fault {
    fn name(&self) -> String {
        match self {
            Fault::Crash => "crashed".into(),
            Fault::Byzantine(b) => format!("{b:?}"),
        }
    }

    /// Validator 2 has the fault.
    fn apply(&self, scenario: Scenario) -> Scenario {
        match self {
            Fault::Crash => scenario.crash(2).at(1).forever(),
            Fault::Byzantine(b) => scenario.byzantine(2, *b),
        }
    }
}

/// Four validators under a steady load for `run_ms` of virtual time, on a network
/// like a LAN: every message takes 8 to 12 ms. (With widely spread delays a crash
/// costs more than leader turns: a quorum of three out of three waits for the
/// slowest, where three out of four took the fastest three.)
fn base(name: &str, run_ms: u64) -> Scenario {
    Scenario::n(4)
        .named(name)
        .workload(Workload::Steady { per_sec: 100 })
        .delays(8, 12)
        .stable_delay(12)
        .run_until(run_ms)
}

/// The height every honest running validator reached, after checking every invariant.
fn height(scenario: &Scenario, seed: u64) -> u64 {
    let outcome = scenario.run(seed);
    outcome.assert_ok();
    outcome.stats.honest_min_height
}

/// For each fault, the median over `seeds` of (height with the fault) / (height of
/// the fault-free run with the same seed).
fn median_ratios(faults: &[Fault], seeds: u64, run_ms: u64) -> Vec<f64> {
    let free: Vec<u64> = (0..seeds)
        .map(|seed| height(&base("fault_free", run_ms), seed).max(1))
        .collect();
    faults
        .iter()
        .map(|fault| {
            let scenario = fault.apply(base(&fault.name(), run_ms));
            let mut ratios: Vec<f64> = (0..seeds)
                .map(|seed| height(&scenario, seed) as f64 / free[seed as usize] as f64)
                .collect();
            ratios.sort_by(f64::total_cmp);
            ratios[ratios.len() / 2]
        })
        .collect()
}

fn assert_keep_rate(faults: &[Fault], seeds: u64, run_ms: u64) {
    let ratios = median_ratios(faults, seeds, run_ms);
    for (fault, ratio) in faults.iter().zip(&ratios) {
        println!("{:<24} {:>4.0} %", fault.name(), ratio * 100.0);
    }
    for (fault, ratio) in faults.iter().zip(&ratios) {
        assert!(
            *ratio >= MIN_RATIO,
            "{}: the honest validators committed only {:.0} % of the fault-free rate",
            fault.name(),
            ratio * 100.0
        );
    }
}

#[test]
fn a_crashed_silent_or_equivocating_validator_costs_less_than_a_fifth_of_the_rate() {
    let faults = [
        Fault::Crash,
        Fault::Byzantine(Behaviour::Silent),
        Fault::Byzantine(Behaviour::EquivocatingLeader),
    ];
    assert_keep_rate(&faults, 3, 30_000);
}

#[test]
#[ignore = "the whole table: about a minute in release"]
fn every_fault_kind_costs_less_than_a_fifth_of_the_rate() {
    let mut faults = vec![Fault::Crash];
    faults.extend(Behaviour::ALL.into_iter().map(Fault::Byzantine));
    assert_keep_rate(&faults, 5, 60_000);
}
