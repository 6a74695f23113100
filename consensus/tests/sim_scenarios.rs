//! Named cluster scenarios in the simulator: each Byzantine behaviour with n = 4, Twins,
//! crashes, partitions, a mixed n = 7 cluster, and an idle network. Each runs a few
//! seeds; a failure prints the command that replays it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_consensus::sim::{Outcome, Scenario, scenarios};

/// Seeds per named scenario (the sweeps in `sim_sweep.rs` cover thousands more).
const SEEDS: u64 = 4;

fn run_named(name: &str) -> Vec<Outcome> {
    scenarios::run_checked(name, SEEDS)
}

fn evidence(outcome: &Outcome) -> u64 {
    outcome
        .nodes
        .iter()
        .filter(|n| n.role == "honest")
        .map(|n| n.evidence)
        .sum()
}

#[test]
fn n4f1_equivocating_leader() {
    // Each validator sees one of the two proposals: no evidence, but no fork either.
    run_named("n4f1_equivocating_leader");
}

#[test]
fn n4f1_equivocating_leader_to_all() {
    let outcomes = run_named("n4f1_equivocating_leader_to_all");
    assert!(
        outcomes.iter().all(|o| evidence(o) > 0),
        "every validator gets both proposals: evidence expected"
    );
}

#[test]
fn n4f1_double_voter() {
    let outcomes = run_named("n4f1_double_voter");
    assert!(
        outcomes.iter().all(|o| evidence(o) > 0),
        "double votes reach the next leader: evidence expected"
    );
}

#[test]
fn n4f1_silent() {
    run_named("n4f1_silent");
}

#[test]
fn n4f1_invalid_signatures() {
    run_named("n4f1_invalid_signatures");
}

#[test]
fn n4f1_flooder() {
    run_named("n4f1_flooder");
}

#[test]
fn n4f1_inflated_high_qc() {
    // Timeout certificates carry the QC of their highest reported round, so the
    // attacker's claims are refused and every round after a failed one can succeed.
    // Before that rule, 2 of these 16 seeds stalled for good and the others committed
    // a third as much as with a merely silent validator.
    let silent_min = (0..16)
        .map(|seed| {
            scenarios::build("n4f1_silent", seed)
                .unwrap()
                .run(seed)
                .stats
                .honest_min_height
        })
        .min()
        .unwrap();
    for seed in 0..16 {
        let outcome = scenarios::build("n4f1_inflated_high_qc", seed)
            .unwrap()
            .run(seed);
        outcome.assert_ok();
        assert!(
            outcome.stats.honest_min_height * 3 >= silent_min * 2,
            "seed {seed}: height {} against {silent_min} with a silent validator\n{outcome}",
            outcome.stats.honest_min_height
        );
    }
}

#[test]
fn n4f1_replayer() {
    // Replays are valid, so only bookkeeping stops them: no false evidence (the
    // checker), and no honest validator sends more than a few messages per round,
    // however many replays reach it.
    for outcome in run_named("n4f1_replayer") {
        let replays = outcome
            .nodes
            .iter()
            .find(|n| n.role == "Replayer")
            .unwrap()
            .sent;
        for n in outcome.nodes.iter().filter(|n| n.role == "honest") {
            assert!(
                n.sent <= 3 * n.round + 20,
                "{} sent {} messages in {} rounds under {replays} replays\n{outcome}",
                n.id,
                n.sent,
                n.round
            );
        }
        assert!(replays > 1_000, "the replayer floods: {replays}");
    }
}

#[test]
fn n4f1_malformed_proposals() {
    // Undecodable bytes are dropped by the driver; the checker fails the run if an
    // honest validator votes for a malformed or oversized block.
    let outcomes = run_named("n4f1_malformed_proposals");
    assert!(outcomes.iter().all(|o| o.stats.undecodable > 0));
}

#[test]
fn n4_odd_client_signatures() {
    // Every verdict agrees (the checker); the odd signatures were made and committed.
    for outcome in run_named("n4_odd_client_signatures") {
        assert!(outcome.stats.odd_txs > 10, "{outcome}");
        assert!(outcome.stats.odd_txs_committed > 10, "{outcome}");
    }
}

#[test]
fn n4f1_twins() {
    run_named("n4f1_twins");
}

#[test]
fn n4_crash_restart() {
    for outcome in run_named("n4_crash_restart") {
        let crashed: u32 = outcome.nodes.iter().map(|n| n.crashes).sum();
        assert_eq!(crashed, 3);
        assert!(outcome.nodes.iter().all(|n| n.up));
    }
}

#[test]
fn n4f1_equivocation_with_restarts() {
    run_named("n4f1_equivocation_with_restarts");
}

#[test]
fn n4_wiped_after_signing() {
    // The checker fails the run if the wiped validator signs anything twice for one
    // round; the progress checks fail it if it does not recover and sign again.
    for outcome in run_named("n4_wiped_after_signing") {
        let wiped = &outcome.nodes[2];
        assert_eq!(wiped.wipes, 2, "{outcome}");
        assert!(wiped.recoveries >= 1 && !wiped.recovering, "{outcome}");
        let (_, votes, _) = wiped.signed;
        assert!(
            votes * 2 > wiped.round as usize,
            "it votes again\n{outcome}"
        );
    }
}

#[test]
fn n4f1_equivocation_with_wipes() {
    for outcome in run_named("n4f1_equivocation_with_wipes") {
        let wiped = &outcome.nodes[2];
        assert!(wiped.wipes >= 3, "{outcome}");
        assert!(wiped.recoveries >= 1, "{outcome}");
    }
}

#[test]
fn n7f2_wiped_with_equivocation() {
    for outcome in run_named("n7f2_wiped_with_equivocation") {
        let wiped = &outcome.nodes[3];
        assert!(wiped.wipes >= 2 && !wiped.recovering, "{outcome}");
    }
}

#[test]
#[should_panic(expected = "1 wiped exceed f = 1")]
fn a_wiped_validator_counts_as_faulty_for_progress() {
    // With a silent validator it could never recover (2f + 1 = 3 answers needed from
    // the 2 honest others), so requiring progress would be a false alarm.
    use cairn_consensus::sim::Behaviour;
    Scenario::n(4)
        .byzantine(0, Behaviour::Silent)
        .crash(1)
        .after_signing(1_000)
        .restart_wiped_at(2_000)
        .run(0);
}

#[test]
fn n7f2_mixed() {
    run_named("n7f2_mixed");
}

#[test]
fn n4_partition_heals() {
    for outcome in run_named("n4_partition_heals") {
        assert!(
            outcome.stats.network.partitioned > 0,
            "the partition cut nothing"
        );
    }
}

#[test]
fn n4_idle_network_is_cheap() {
    for outcome in run_named("n4_idle_network_is_cheap") {
        let heartbeat = cairn_consensus::sim::sim_config().heartbeat_ms;
        let beats = outcome.stats.virtual_ms / heartbeat;
        let proposals: usize = outcome.nodes.iter().map(|n| n.signed.0).sum();
        let timeouts: usize = outcome.nodes.iter().map(|n| n.signed.2).sum();
        assert_eq!(timeouts, 0, "an idle network timed out\n{outcome}");
        // About one block per heartbeat (a few more to finish committing).
        assert!(
            proposals as u64 <= beats + beats / 5 + 3,
            "{proposals} proposals in {beats} heartbeats\n{outcome}"
        );
        assert!(
            proposals as u64 >= beats / 2,
            "{proposals} proposals in {beats} heartbeats\n{outcome}"
        );
    }
}

#[test]
fn a_seed_replays_exactly_and_seeds_differ() {
    let scenario = scenarios::build("n7f2_mixed", 11).unwrap();
    let a = scenario.run(11);
    let b = scenario.run(11);
    let c = scenario.run(12);
    assert_eq!(a.stats.digest, b.stats.digest);
    assert_eq!(a.stats.events, b.stats.events);
    assert_eq!(a.summary(), b.summary());
    assert_ne!(a.stats.digest, c.stats.digest);
}

#[test]
fn the_builder_reads_like_the_protocol() {
    use cairn_consensus::sim::Behaviour;
    Scenario::n(4)
        .byzantine(0, Behaviour::EquivocatingLeader)
        .crash(2)
        .at(5_000)
        .restart_at(9_000)
        .partition(&[&[0, 1], &[2, 3]])
        .heal_at(12_000)
        .drops(0.05)
        .run_until(40_000)
        .liveness_within(25_000)
        .expect_commits(5)
        .run(3)
        .assert_ok();
}

#[test]
#[should_panic(expected = "tolerates f = 1")]
fn more_byzantine_validators_than_f_is_refused() {
    use cairn_consensus::sim::Behaviour;
    Scenario::n(4)
        .byzantine(0, Behaviour::Silent)
        .byzantine(1, Behaviour::Silent)
        .run(0);
}

#[test]
fn failures_name_the_replay_command() {
    let outcome = scenarios::build("mix_n4", 5).unwrap().run(5);
    let replay = outcome
        .replay
        .expect("registered scenarios have a replay command");
    assert_eq!(
        replay,
        "cargo run -p cairn-consensus --release --features sim --example sim -- --scenario mix_n4 --seed 5"
    );
}
