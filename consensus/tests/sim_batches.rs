//! Batches in the simulator: the real `cairn-batches` machine in every validator,
//! transactions disseminated once and certified, proposals by proof, and missing
//! batches fetched from a proof's signers — with a lossy network, crashes, and a
//! Byzantine validator that certifies batches it never serves. Every transaction given
//! to an honest validator that stays up must be committed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_consensus::sim::{Outcome, Scenario, Violation, Workload, scenarios};

const SEEDS: u64 = 2;

fn run_named(name: &str) -> Vec<Outcome> {
    scenarios::run_checked(name, SEEDS)
}

/// The run went through batches: certified, proposed by proof, assembled by others,
/// and most of its transactions committed.
fn assert_batched(outcome: &Outcome) {
    let b = &outcome.stats.batches;
    assert!(b.made > 0 && b.certified > 0, "{outcome}");
    assert!(b.batched_proposals > 0 && b.assembled > 0, "{outcome}");
    let committed = outcome
        .nodes
        .iter()
        .filter(|n| n.role == "honest")
        .map(|n| n.txs_committed)
        .max()
        .unwrap_or(0);
    assert!(
        committed * 10 >= outcome.stats.txs_arrived * 8,
        "{committed} of {} transactions committed\n{outcome}",
        outcome.stats.txs_arrived
    );
}

#[test]
fn n4_batches_through_a_lossy_start() {
    for outcome in run_named("n4_batches") {
        assert_batched(&outcome);
        assert!(
            outcome.stats.batches.fetched > 0,
            "drops before GST leave some validator without a batch it must fetch\n{outcome}"
        );
    }
}

#[test]
fn n4f1_a_certifier_that_never_serves() {
    for outcome in run_named("n4f1_unserving_certifier") {
        assert_batched(&outcome);
        // Its own batches reach only two of the three others: the third fetches them
        // from the honest signer that holds them.
        assert!(outcome.stats.batches.fetched > 0, "{outcome}");
    }
}

#[test]
fn n4_batches_survive_crashes() {
    for outcome in run_named("n4_batches_crash_restart") {
        assert_batched(&outcome);
    }
}

#[test]
fn n7f2_batches_with_two_byzantine() {
    for outcome in run_named("n7f2_batches_mixed") {
        assert_batched(&outcome);
    }
}

#[test]
fn lost_transactions_are_caught() {
    // Two of four validators crash for good: the two left, which never crash, take
    // transactions but cannot reach a quorum, and the check says they were lost (it
    // can fail).
    let outcome = Scenario::n(4)
        .batched()
        .workload(Workload::Steady { per_sec: 50 })
        .crash(2)
        .at(1_000)
        .forever()
        .crash(3)
        .at(1_000)
        .forever()
        .run_until(15_000)
        .no_liveness_check()
        .expect_commits(0)
        .expect_every_tx_within(5_000)
        .run(1);
    assert!(
        outcome
            .violations
            .iter()
            .any(|v| matches!(v, Violation::TransactionsLost { count, .. } if *count > 0)),
        "{outcome}"
    );
}
