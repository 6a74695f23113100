//! The simulator can fail: honest validators that skip the highest-voted-round check,
//! facing a leader that sends two proposals per round to everyone while they crash and
//! restart, must be caught signing two votes for one round (or forking) within a
//! bounded number of seeds. The same scenario with the rule intact must pass.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_consensus::sim::{Violation, scenarios};

/// The simulator must catch the broken rule within this many seeds.
const SEED_BUDGET: u64 = 50;

#[test]
fn a_validator_without_the_voted_round_check_is_caught() {
    let mut found = None;
    for seed in 0..SEED_BUDGET {
        let outcome = scenarios::build("unsafe_skip_voted_round", seed)
            .unwrap()
            .run(seed);
        if outcome.safety_violated() {
            found = Some(outcome);
            break;
        }
    }
    let outcome = found.unwrap_or_else(|| panic!("no safety violation in {SEED_BUDGET} seeds: the simulator cannot see a missing voted-round check"));
    println!("caught at seed {}:\n{outcome}", outcome.seed);
    assert!(
        outcome.violations.iter().any(|v| matches!(
            v,
            Violation::Equivocation { kind: "vote", .. }
                | Violation::VoteAfterTimeout { .. }
                | Violation::ConflictingCommit { .. }
        )),
        "{outcome}"
    );
    assert!(
        outcome
            .replay
            .as_deref()
            .is_some_and(|r| r.contains("unsafe-test-variants"))
    );
}

#[test]
fn the_same_attack_fails_against_the_real_rules() {
    for seed in 0..8 {
        scenarios::build("n4f1_equivocation_with_restarts", seed)
            .unwrap()
            .run(seed)
            .assert_ok();
    }
}
