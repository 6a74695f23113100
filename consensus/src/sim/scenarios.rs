//! Named scenarios: the ones the tests run, the seed-driven mixes the CI sweeps, and
//! the registry that lets the `sim` example rebuild any of them from its name.
//!
//! Every builder takes the seed: fixed scenarios ignore it (the seed then only drives
//! delays, drops, workload and Byzantine choices), mixes also draw their shape from it.

use super::byzantine::Behaviour;
use super::rng::Rng;
use super::scenario::{Scenario, sim_config};
use super::workload::Workload;
use crate::Config;

/// Builds a scenario for a seed.
pub type Builder = fn(u64) -> Scenario;

/// Every registered scenario, by name.
pub const SCENARIOS: &[(&str, Builder)] = &[
    ("n4f1_equivocating_leader", n4f1_equivocating_leader),
    (
        "n4f1_equivocating_leader_to_all",
        n4f1_equivocating_leader_to_all,
    ),
    ("n4f1_double_voter", n4f1_double_voter),
    ("n4f1_silent", n4f1_silent),
    ("n4f1_invalid_signatures", n4f1_invalid_signatures),
    ("n4f1_flooder", n4f1_flooder),
    ("n4f1_inflated_high_qc", n4f1_inflated_high_qc),
    ("n4f1_replayer", n4f1_replayer),
    ("n4f1_malformed_proposals", n4f1_malformed_proposals),
    ("n4_odd_client_signatures", n4_odd_client_signatures),
    ("n4f1_twins", n4f1_twins),
    ("n4_crash_restart", n4_crash_restart),
    (
        "n4f1_equivocation_with_restarts",
        n4f1_equivocation_with_restarts,
    ),
    ("n7f2_mixed", n7f2_mixed),
    ("n4_partition_heals", n4_partition_heals),
    ("n4_idle_network_is_cheap", n4_idle_network_is_cheap),
    ("n4_wiped_after_signing", n4_wiped_after_signing),
    ("n4f1_equivocation_with_wipes", n4f1_equivocation_with_wipes),
    ("n7f2_wiped_with_equivocation", n7f2_wiped_with_equivocation),
    ("mix_n4", mix_n4),
    ("mix_n7", mix_n7),
    ("mix_n4_attacks", mix_n4_attacks),
    ("mix_n7_attacks", mix_n7_attacks),
    ("mix_n4_wiped", mix_n4_wiped),
    ("mix_n7_wiped", mix_n7_wiped),
    ("n4_batches", n4_batches),
    ("n4f1_unserving_certifier", n4f1_unserving_certifier),
    ("n4_batches_crash_restart", n4_batches_crash_restart),
    ("n7f2_batches_mixed", n7f2_batches_mixed),
    ("mix_n4_batches", mix_n4_batches),
    ("mix_n7_batches", mix_n7_batches),
];

/// Scenarios that run honest validators with a broken safety rule (feature
/// `unsafe-test-variants`): they must fail.
#[cfg(feature = "unsafe-test-variants")]
pub const UNSAFE_SCENARIOS: &[(&str, Builder)] = &[
    ("unsafe_skip_voted_round", unsafe_skip_voted_round),
    ("unsafe_skip_recovery", unsafe_skip_recovery),
];

/// Every registered scenario of this build, by name.
pub fn all() -> impl Iterator<Item = &'static (&'static str, Builder)> {
    #[cfg(feature = "unsafe-test-variants")]
    let unsafe_ones = UNSAFE_SCENARIOS;
    #[cfg(not(feature = "unsafe-test-variants"))]
    let unsafe_ones: &[(&str, Builder)] = &[];
    SCENARIOS.iter().chain(unsafe_ones)
}

/// The scenario registered as `name`, built for `seed`.
pub fn build(name: &str, seed: u64) -> Option<Scenario> {
    all().find(|(n, _)| *n == name).map(|(_, b)| b(seed))
}

/// Runs the scenario registered as `name` for seeds `0..seeds` and returns the
/// outcomes, for further assertions; panics at the first failure, printing the
/// outcome and the command that replays it.
pub fn run_checked(name: &str, seeds: u64) -> Vec<super::Outcome> {
    (0..seeds)
        .map(|seed| {
            let scenario = build(name, seed).unwrap_or_else(|| panic!("{name} is not registered"));
            let outcome = scenario.run(seed);
            outcome.assert_ok();
            outcome
        })
        .collect()
}

/// The command that replays `name` with `seed`, if `name` is registered.
pub fn replay_command(name: &str, seed: u64) -> Option<String> {
    all().any(|(n, _)| *n == name).then(|| {
        let features = if name.starts_with("unsafe_") { "sim,unsafe-test-variants" } else { "sim" };
        format!("cargo run -p cairn-consensus --release --features {features} --example sim -- --scenario {name} --seed {seed}")
    })
}

/// A four-validator scenario with one Byzantine validator, a lossy start and GST at 5 s.
fn n4f1(name: &str, id: usize, behaviour: Behaviour) -> Scenario {
    Scenario::n(4)
        .named(name)
        .byzantine(id, behaviour)
        .drops(0.02)
        .gst(5_000)
        .run_until(30_000)
        .liveness_within(20_000)
        .expect_commits(5)
}

/// Validator 1 sends different proposals to different validators when it leads.
pub fn n4f1_equivocating_leader(_seed: u64) -> Scenario {
    n4f1("n4f1_equivocating_leader", 1, Behaviour::EquivocatingLeader)
}

/// Validator 1 sends both of its proposals to everyone, in random orders.
pub fn n4f1_equivocating_leader_to_all(_seed: u64) -> Scenario {
    n4f1(
        "n4f1_equivocating_leader_to_all",
        1,
        Behaviour::EquivocatingLeaderToAll,
    )
}

/// Validator 2 votes for several blocks per round and signs two timeouts per round.
pub fn n4f1_double_voter(_seed: u64) -> Scenario {
    n4f1("n4f1_double_voter", 2, Behaviour::DoubleVoter)
}

/// Validator 3 never says anything.
pub fn n4f1_silent(_seed: u64) -> Scenario {
    n4f1("n4f1_silent", 3, Behaviour::Silent)
}

/// Validator 0 breaks a signature in everything it sends, or impersonates others.
pub fn n4f1_invalid_signatures(_seed: u64) -> Scenario {
    n4f1("n4f1_invalid_signatures", 0, Behaviour::InvalidSignatures)
}

/// Validator 1 replays old messages and sends validly signed far-future ones.
pub fn n4f1_flooder(_seed: u64) -> Scenario {
    n4f1("n4f1_flooder", 1, Behaviour::Flooder)
}

/// Validator 2 claims a high QC it does not have in its timeouts, withholds its
/// proposals, and races honest validators with timeout certificates holding its claim.
pub fn n4f1_inflated_high_qc(_seed: u64) -> Scenario {
    n4f1("n4f1_inflated_high_qc", 2, Behaviour::InflatedHighQc)
}

/// Validator 3 floods valid replays of everything it has seen.
pub fn n4f1_replayer(_seed: u64) -> Scenario {
    n4f1("n4f1_replayer", 3, Behaviour::Replayer)
}

/// Validator 1 sends broken proposals when it leads, a different one to each validator.
pub fn n4f1_malformed_proposals(_seed: u64) -> Scenario {
    n4f1("n4f1_malformed_proposals", 1, Behaviour::MalformedProposals)
}

/// A client one third of whose transactions carry odd signatures (small-order `R`, or
/// `s + ℓ`), a lossy start and a crash: every honest validator judges every committed
/// signature alone and in its own batches, and all verdicts must agree.
pub fn n4_odd_client_signatures(_seed: u64) -> Scenario {
    Scenario::n(4)
        .named("n4_odd_client_signatures")
        .workload(Workload::Steady { per_sec: 10 })
        .odd_client_signatures(0.33)
        .drops(0.02)
        .crash(2)
        .at(2_000)
        .restart_at(3_500)
        .gst(4_000)
        .run_until(12_000)
        .liveness_within(8_000)
        .expect_commits(5)
}

/// Two instances of validator 0 (instances 0 and 4) in different partitions, which
/// move so that honest validators 1 and 2 each meet both twins; healed at 8 s.
pub fn n4f1_twins(_seed: u64) -> Scenario {
    Scenario::n(4)
        .named("n4f1_twins")
        .twins(0)
        .partition(&[&[0, 1, 2], &[4, 3]])
        .heal_at(4_000)
        .partition(&[&[0, 1], &[4, 2, 3]])
        .from(4_000)
        .heal_at(8_000)
        .run_until(35_000)
        .liveness_within(20_000)
        .expect_commits(5)
}

/// All honest; validators 1 and 2 crash and restart from what they persisted.
pub fn n4_crash_restart(_seed: u64) -> Scenario {
    Scenario::n(4)
        .named("n4_crash_restart")
        .drops(0.02)
        .crash(1)
        .at(3_000)
        .restart_at(6_000)
        .crash(2)
        .at(7_000)
        .restart_at(7_400)
        .crash(1)
        .at(9_000)
        .restart_at(9_100)
        .gst(5_000)
        .run_until(30_000)
        .liveness_within(20_000)
        .expect_commits(5)
}

/// Seven validators: an equivocating leader and a double voter, a crash, a partition
/// and a lossy, duplicating network until GST.
pub fn n7f2_mixed(_seed: u64) -> Scenario {
    Scenario::n(7)
        .named("n7f2_mixed")
        .byzantine(0, Behaviour::EquivocatingLeader)
        .byzantine(4, Behaviour::DoubleVoter)
        .crash(2)
        .at(4_000)
        .restart_at(8_000)
        .partition(&[&[0, 1, 2, 3], &[4, 5, 6]])
        .from(2_000)
        .heal_at(6_000)
        .drops(0.05)
        .duplicates(0.02)
        .run_until(35_000)
        .liveness_within(25_000)
        .expect_commits(5)
}

/// Two halves that cannot reach a quorum until the partition heals at 10 s.
pub fn n4_partition_heals(_seed: u64) -> Scenario {
    Scenario::n(4)
        .named("n4_partition_heals")
        .partition(&[&[0, 1], &[2, 3]])
        .heal_at(10_000)
        .run_until(35_000)
        .liveness_within(20_000)
        .expect_commits(5)
}

/// No transactions at all for a minute: blocks only at the heartbeat, no timeouts.
pub fn n4_idle_network_is_cheap(_seed: u64) -> Scenario {
    Scenario::n(4)
        .named("n4_idle_network_is_cheap")
        .workload(Workload::None)
        .run_until(60_000)
        .liveness_within(10_000)
}

/// Validator 0 sends both its proposals to everyone, the second late and both again
/// later; honest validators crash and restart every few seconds, so some see the
/// second proposal only after a restart. With every rule intact nothing may break.
pub fn n4f1_equivocation_with_restarts(seed: u64) -> Scenario {
    let mut rng = Rng::stream(seed, 0xE0);
    let mut s = Scenario::n(4)
        .named("n4f1_equivocation_with_restarts")
        .byzantine(0, Behaviour::EquivocatingLeaderToAll)
        .workload(Workload::Steady { per_sec: 30 });
    for node in 1..4 {
        let mut t = rng.range(500, 2_500);
        while t < 12_000 {
            let up = t + rng.range(50, 200);
            s = s.crash(node).at(t).restart_at(up);
            t = up + rng.range(1_500, 3_000);
        }
    }
    s.run_until(30_000).liveness_within(15_000)
}

/// [`n4f1_equivocation_with_restarts`] with honest validators that skip the
/// highest-voted-round check: the simulator must catch them double-voting.
#[cfg(feature = "unsafe-test-variants")]
pub fn unsafe_skip_voted_round(seed: u64) -> Scenario {
    n4f1_equivocation_with_restarts(seed)
        .named("unsafe_skip_voted_round")
        .unsafe_variant(crate::UnsafeVariant {
            skip_voted_round_check: true,
            ..Default::default()
        })
        .no_liveness_check()
        .run_until(15_000)
        .trace(300)
}

/// Wipes honest validator `id` right after it signs a vote or timeout, again and
/// again from `from_ms` until `until_ms` (every 1.5 to 3 s), and restarts it 50 to 200 ms
/// later with an empty data directory.
fn wipe_repeatedly(
    mut s: Scenario,
    rng: &mut Rng,
    id: usize,
    (from_ms, until_ms): (u64, u64),
) -> Scenario {
    let mut t = from_ms + rng.range(0, 1_000);
    while t < until_ms {
        let up = t + rng.range(50, 200);
        s = s.crash(id).after_signing(t).restart_wiped_at(up);
        t = up + rng.range(1_500, 3_000);
    }
    s
}

/// All honest; validator 2 loses its data directory twice, each time right after it
/// signed a vote or timeout, and restarts without its safety state. It must sign
/// nothing it may have signed before, and rejoin: the progress checks require it to
/// sign again and commit.
pub fn n4_wiped_after_signing(seed: u64) -> Scenario {
    let mut rng = Rng::stream(seed, 0xE1);
    let s = Scenario::n(4)
        .named("n4_wiped_after_signing")
        .drops(0.02)
        .workload(Workload::Steady { per_sec: 30 });
    let at = rng.range(1_500, 3_000);
    s.crash(2)
        .after_signing(at)
        .restart_wiped_at(at + rng.range(50, 500))
        .crash(2)
        .after_signing(9_000)
        .restart_wiped_at(9_000 + rng.range(50, 500))
        .gst(5_000)
        .run_until(30_000)
        .liveness_within(20_000)
        .expect_commits(5)
}

/// Validator 0 sends both its proposals to everyone, the second late and both again
/// later; honest validator 2 loses its data directory right after signing, every few
/// seconds, and 1 and 3 crash and restart from what they persisted. A wiped validator
/// that voted for one of the two proposals must never vote for the other. Safety only:
/// a Byzantine validator and a wiped one are two faults for f = 1 (the wiped one
/// recovers only if the Byzantine one answers), but the chain must still grow.
pub fn n4f1_equivocation_with_wipes(seed: u64) -> Scenario {
    let mut rng = Rng::stream(seed, 0xE2);
    let mut s = Scenario::n(4)
        .named("n4f1_equivocation_with_wipes")
        .byzantine(0, Behaviour::EquivocatingLeaderToAll)
        .workload(Workload::Steady { per_sec: 30 });
    s = wipe_repeatedly(s, &mut rng, 2, (500, 12_000));
    for node in [1, 3] {
        let mut t = rng.range(2_000, 4_000);
        while t < 12_000 {
            let up = t + rng.range(50, 200);
            s = s.crash(node).at(t).restart_at(up);
            t = up + rng.range(3_000, 5_000);
        }
    }
    s.run_until(30_000).no_liveness_check().expect_commits(3)
}

/// Seven validators: an equivocating leader (to all) and an honest validator wiped
/// right after signing, repeatedly, on a lossy network until GST. One Byzantine and
/// one wiped validator are within f = 2, so progress is required, and the wiped one
/// must rejoin each time.
pub fn n7f2_wiped_with_equivocation(seed: u64) -> Scenario {
    let mut rng = Rng::stream(seed, 0xE3);
    let s = Scenario::n(7)
        .named("n7f2_wiped_with_equivocation")
        .byzantine(0, Behaviour::EquivocatingLeaderToAll)
        .drops(0.03)
        .workload(Workload::Steady { per_sec: 30 });
    wipe_repeatedly(s, &mut rng, 3, (500, 8_000))
        .gst(8_000)
        .run_until(35_000)
        .liveness_within(25_000)
        .expect_commits(5)
}

/// [`n4f1_equivocation_with_wipes`] with honest validators that ignore the recovery
/// rule: a wiped validator starts from the genesis state and signs at once. The
/// simulator must catch it signing twice for one round.
#[cfg(feature = "unsafe-test-variants")]
pub fn unsafe_skip_recovery(seed: u64) -> Scenario {
    n4f1_equivocation_with_wipes(seed)
        .named("unsafe_skip_recovery")
        .unsafe_variant(crate::UnsafeVariant {
            skip_recovery: true,
            ..Default::default()
        })
        .no_liveness_check()
        .run_until(15_000)
        .trace(300)
}

/// Faster rounds for the sweeps, so short runs cover many rounds and backoffs.
fn sweep_config() -> Config {
    Config {
        round_timeout_ms: 500,
        max_round_timeout_ms: 2_000,
        heartbeat_ms: 1_000,
        ..sim_config()
    }
}

/// A random shape for `n` validators drawn from the seed: up to f Byzantine validators
/// (any behaviour, or twins), crashes and restarts, partitions, drops, duplicates and
/// delays before a random GST, then progress required within the bound below.
///
/// With `wiped`, one more honest validator (not one of those that crash and keep their
/// state) loses its data directory right after a vote or timeout it signs before GST,
/// and there is one Byzantine validator fewer at most, as the wiped one counts as
/// faulty until it has recovered. The wipe draws from a stream of its own, so the
/// mixes without it keep their seeds' shapes.
fn mix(name: &str, n: usize, seed: u64, behaviours: &[Behaviour], wiped: bool) -> Scenario {
    mix_shape(name, n, seed, behaviours, wiped)
        .expect_commits(1)
        .stop_once_live()
}

/// The shape of [`mix`]: its network, faults and the time it runs to (`liveness_ms`
/// holds the bound).
fn mix_shape(name: &str, n: usize, seed: u64, behaviours: &[Behaviour], wiped: bool) -> Scenario {
    let mut rng = Rng::stream(seed, 0x313);
    let f = (n - 1) / 3;
    // After GST: the round in progress may run to the longest backoff, then up to
    // 2f + 1 rounds in a row can fail (each Byzantine leader's round, and the round
    // before, whose votes it collects), then a few honest rounds commit.
    let bound_ms = sweep_config().max_round_timeout_ms * (2 * f as u64 + 2) + 4_000;
    let gst = rng.range(2_000, 6_000);
    let mut s = Scenario::n(n)
        .named(name)
        .config(sweep_config())
        .delays(10, rng.range(100, 400))
        .stable_delay(150)
        .drops([0.0, 0.01, 0.05, 0.1][rng.below(4) as usize])
        .duplicates([0.0, 0.0, 0.02][rng.below(3) as usize])
        .workload(Workload::Bursty {
            per_sec: rng.range(10, 60),
            busy_ms: (500, 3_000),
            idle_ms: (200, 2_500),
        })
        .gst(gst);
    let mut ids: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut ids);
    let faulty = rng.range(0, (f - usize::from(wiped)) as u64) as usize;
    let (bad, good) = ids.split_at(faulty);
    for &id in bad {
        let choice = rng.below(behaviours.len() as u64 + 1) as usize;
        s = match behaviours.get(choice) {
            Some(&b) => s.byzantine(id, b),
            None => s.twins(id),
        };
    }
    let mut stable = gst;
    let crashed = rng.below(3) as usize;
    for &id in good.iter().take(crashed) {
        let at = rng.range(500, gst);
        let back = at + rng.range(100, 3_000);
        stable = stable.max(back);
        s = s.crash(id).at(at).restart_at(back);
    }
    if wiped {
        let mut wipe = Rng::stream(seed, 0x31B);
        let intact = &good[crashed.min(good.len())..];
        let id = intact[wipe.below(intact.len() as u64) as usize];
        let at = wipe.range(500, gst);
        let back = at + wipe.range(50, 2_000);
        stable = stable.max(back);
        s = s.crash(id).after_signing(at).restart_wiped_at(back);
    }
    if rng.chance(0.5) || !s.twins.is_empty() {
        let mut order: Vec<usize> = (0..s.instances()).collect();
        rng.shuffle(&mut order);
        let cut = rng.range(1, order.len() as u64 - 1) as usize;
        let (a, b) = order.split_at(cut);
        let from = rng.range(0, gst / 2);
        s = s
            .partition(&[a, b])
            .from(from)
            .heal_at(rng.range(from + 500, gst));
    }
    let stable = stable.max(s.effective_gst());
    s.run_until(stable + bound_ms).liveness_within(bound_ms)
}

/// The n = 4 (f = 1) mix the CI sweeps, drawing from [`Behaviour::CLASSIC`] (so a
/// seed keeps its shape across versions).
pub fn mix_n4(seed: u64) -> Scenario {
    mix("mix_n4", 4, seed, &Behaviour::CLASSIC, false)
}

/// The n = 7 (f = 2) mix the CI sweeps, drawing from [`Behaviour::CLASSIC`].
pub fn mix_n7(seed: u64) -> Scenario {
    mix("mix_n7", 7, seed, &Behaviour::CLASSIC, false)
}

/// The n = 4 mix drawing from every behaviour ([`Behaviour::ALL`]), the attacks added
/// since the classic mix included.
pub fn mix_n4_attacks(seed: u64) -> Scenario {
    mix("mix_n4_attacks", 4, seed, &Behaviour::ALL, false)
}

/// The n = 7 mix drawing from every behaviour.
pub fn mix_n7_attacks(seed: u64) -> Scenario {
    mix("mix_n7_attacks", 7, seed, &Behaviour::ALL, false)
}

/// The n = 4 mix with a validator wiped right after signing (and so no Byzantine
/// one): it must recover and sign again, whatever the network and the crashes do.
pub fn mix_n4_wiped(seed: u64) -> Scenario {
    mix("mix_n4_wiped", 4, seed, &Behaviour::ALL, true)
}

/// The n = 7 mix with a validator wiped right after signing and at most one Byzantine
/// validator of any behaviour (or twins).
pub fn mix_n7_wiped(seed: u64) -> Scenario {
    mix("mix_n7_wiped", 7, seed, &Behaviour::ALL, true)
}

/// Batched scenarios: transactions steady enough to fill batches, and every one given
/// to an honest validator that stays up must be committed.
fn batched(s: Scenario, per_sec: u64, within_ms: u64) -> Scenario {
    s.batched()
        .workload(Workload::Steady { per_sec })
        .expect_every_tx_within(within_ms)
}

/// Four honest validators with batches, a lossy network until GST at 5 s: batches and
/// votes get lost, are sent again, and missing batches are fetched.
pub fn n4_batches(_seed: u64) -> Scenario {
    let s = Scenario::n(4)
        .named("n4_batches")
        .drops(0.05)
        .gst(5_000)
        .run_until(30_000)
        .liveness_within(15_000)
        .expect_commits(5);
    batched(s, 200, 12_000)
}

/// Validator 1 votes for every batch but stores and serves none, and sends its own
/// batches to only two of the three others: proofs carry its signature, so a
/// validator missing a batch must find an honest signer that serves it.
pub fn n4f1_unserving_certifier(_seed: u64) -> Scenario {
    let s = n4f1("n4f1_unserving_certifier", 1, Behaviour::UnservingCertifier);
    batched(s, 200, 12_000)
}

/// [`n4_crash_restart`] with batches: validators 1 and 2 crash and restart from what
/// they stored, one of them twice.
pub fn n4_batches_crash_restart(seed: u64) -> Scenario {
    let s = n4_crash_restart(seed)
        .named("n4_batches_crash_restart")
        .run_until(35_000);
    batched(s, 150, 15_000)
}

/// [`n7f2_mixed`] with batches, the double voter replaced by a certifier that serves
/// nothing: an equivocating leader, a crash, a partition and a lossy, duplicating
/// network until GST.
pub fn n7f2_batches_mixed(seed: u64) -> Scenario {
    let s = n7f2_mixed(seed)
        .named("n7f2_batches_mixed")
        .byzantine(4, Behaviour::UnservingCertifier)
        .run_until(40_000);
    batched(s, 150, 20_000)
}

/// The mix with batches, drawing from [`Behaviour::BATCHED`]. It does not stop once
/// live: it runs for a second liveness bound after the first, and every transaction
/// given to an honest validator that stayed up must be committed within two bounds of
/// its arrival (or of the time progress is required). One bound is what the first
/// commit may take; committing everything that waits needs several more rounds, and
/// with f Byzantine leaders and timeouts at their longest those take most of a second
/// bound (seeds 1000080, 1000329 and 1000343 needed more than one).
fn mix_batched(name: &str, n: usize, seed: u64) -> Scenario {
    let s = mix_shape(name, n, seed, &Behaviour::BATCHED, false).expect_commits(1);
    let bound = s.liveness_ms.unwrap_or(10_000);
    let end = s.run_until_ms + bound;
    s.run_until(end)
        .batched()
        .workload(Workload::Steady { per_sec: 100 })
        .expect_every_tx_within(2 * bound)
}

/// The n = 4 mix with batches.
pub fn mix_n4_batches(seed: u64) -> Scenario {
    mix_batched("mix_n4_batches", 4, seed)
}

/// The n = 7 mix with batches.
pub fn mix_n7_batches(seed: u64) -> Scenario {
    mix_batched("mix_n7_batches", 7, seed)
}
