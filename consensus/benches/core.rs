//! Committed rounds per second: the whole simulator (every validator's state machine,
//! real ed25519 signing and verification, the simulated network and driver) running
//! all-honest clusters of n = 4, 7, 10 and 16 with no drops until every validator has
//! committed `HEIGHT` blocks. Criterion reports the throughput in blocks (one per
//! round in a fault-free run) per second of wall time.
#![allow(missing_docs)]

use std::time::Duration;

use cairn_consensus::sim::{Scenario, Workload};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Blocks every validator commits per iteration.
const HEIGHT: u64 = 40;

fn committed_rounds(c: &mut Criterion) {
    let mut group = c.benchmark_group("committed_rounds");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(16));
    for n in [4, 7, 10, 16] {
        let scenario = Scenario::n(n)
            .workload(Workload::Steady { per_sec: 500 })
            .no_liveness_check()
            .stop_at_height(HEIGHT)
            .run_until(600_000);
        group.throughput(Throughput::Elements(HEIGHT));
        group.bench_with_input(BenchmarkId::from_parameter(n), &scenario, |b, s| {
            b.iter(|| {
                let outcome = s.run(1);
                assert!(
                    outcome.is_ok() && outcome.stats.honest_min_height >= HEIGHT,
                    "{outcome}"
                );
                outcome
            })
        });
    }
    group.finish();
}

criterion_group!(benches, committed_rounds);
criterion_main!(benches);
