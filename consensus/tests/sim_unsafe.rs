//! The simulator can fail: honest validators that skip the highest-voted-round check,
//! facing a leader that sends two proposals per round to everyone while they crash and
//! restart, must be caught signing two votes for one round (or forking) within a
//! bounded number of seeds; so must a validator that restarts without its safety state
//! and signs at once instead of recovering it. The same scenarios with the rules intact
//! must pass.
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

#[test]
fn a_wiped_validator_that_does_not_recover_is_caught() {
    // The checker knows validators by id, so the wiped instance is the same signer as
    // before the wipe: what it signed before and after is compared.
    let mut found = None;
    for seed in 0..SEED_BUDGET {
        let outcome = scenarios::build("unsafe_skip_recovery", seed)
            .unwrap()
            .run(seed);
        if outcome.safety_violated() {
            found = Some(outcome);
            break;
        }
    }
    let outcome = found.unwrap_or_else(|| panic!("no safety violation in {SEED_BUDGET} seeds: the simulator cannot see a wiped validator signing twice"));
    println!("caught at seed {}:\n{outcome}", outcome.seed);
    assert!(
        outcome.violations.iter().any(|v| matches!(
            v,
            Violation::Equivocation { validator, .. } | Violation::VoteAfterTimeout { validator, .. }
                if validator.0 == 2
        )),
        "{outcome}"
    );
    assert_eq!(outcome.nodes[2].recoveries, 0, "{outcome}");
}

#[test]
fn the_same_wipes_fail_against_the_real_rules() {
    for seed in 0..8 {
        let outcome = scenarios::build("n4f1_equivocation_with_wipes", seed)
            .unwrap()
            .run(seed);
        outcome.assert_ok();
        assert!(outcome.nodes[2].wipes > 0 && outcome.nodes[2].recoveries > 0);
    }
}
