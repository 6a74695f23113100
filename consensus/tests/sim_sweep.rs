//! The CI seed sweep: 1,400 seeds of `mix_n4` (n = 4, f = 1) then 1,000 of `mix_n7`
//! (n = 7, f = 2), two threads each. Each mix draws from its seed up to f Byzantine
//! validators of any behaviour (or twins), crashes and restarts, partitions, drops,
//! duplicates and delays before a random GST, and then requires progress. A failing
//! seed prints the command that replays it.
//!
//! Longer soaks: `cargo run -p cairn-consensus --release --features sim --example sim --
//! --scenario mix_n4,mix_n7 --seeds 100000` (see consensus/SIMULATOR.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_consensus::sim::sweep;

/// Offset so the CI seeds are not the named tests' seeds.
const FIRST_SEED: u64 = 1_000;

/// One test, so the two sweeps do not compete for the two cores with each other.
#[test]
fn sweep_2400_seeds_n4_and_n7() {
    let mut failures = Vec::new();
    for (name, seeds) in [("mix_n4", 1_400), ("mix_n7", 1_000)] {
        let result = sweep(name, FIRST_SEED..FIRST_SEED + seeds, 2);
        println!("{}", result.summary());
        if result.failed > 0 {
            failures.push(result);
        }
    }
    for result in &failures {
        println!("{}", result.summary());
        for outcome in &result.failures {
            println!("{outcome}\n");
        }
    }
    if let Some(first) = failures.first() {
        first.assert_ok();
    }
}
