//! Storage benchmarks (not run in CI): `cargo bench -p cairn-storage`.
//!
//! * `commit/block_of_1000_txs`: one synced commit of a block of 1,000 transactions with
//!   its indexes, receipts and state changes; criterion's throughput is transactions
//!   per second. Building and signing the blocks is not timed.
//! * `lookup/*`: latency of finding a transaction by hash in a store of 1,000,000
//!   transactions (1,000 blocks of 1,000), built once per run in a temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Instant;

use cairn_crypto::Hash;
use cairn_storage::Store;
use cairn_storage::testing::ChainBuilder;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const TXS_PER_BLOCK: usize = 1_000;
const LOOKUP_BLOCKS: usize = 1_000;

fn commit(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &ChainBuilder::chain_id()).unwrap();
    let mut builder = ChainBuilder::new(TXS_PER_BLOCK);
    let mut group = c.benchmark_group("commit");
    group.throughput(Throughput::Elements(TXS_PER_BLOCK as u64));
    group.sample_size(30);
    group.measurement_time(std::time::Duration::from_secs(10));
    group.bench_function("block_of_1000_txs", |b| {
        b.iter_custom(|iters| {
            let batches: Vec<_> = (0..iters).map(|_| builder.next_commit(1)).collect();
            let start = Instant::now();
            for batch in &batches {
                store.commit(batch).unwrap();
            }
            start.elapsed()
        })
    });
    group.finish();
}

/// Builds a store of `LOOKUP_BLOCKS` × `TXS_PER_BLOCK` transactions; returns it with a
/// sample of 10,000 hashes in it (ten per block, at varying positions), shuffled.
fn million_tx_store(dir: &std::path::Path) -> (Store, Vec<Hash>) {
    let chain = ChainBuilder::chain_id();
    let store = Store::open(dir, &chain).unwrap();
    let mut builder = ChainBuilder::new(TXS_PER_BLOCK);
    let mut sample = Vec::new();
    let started = Instant::now();
    for i in 0..LOOKUP_BLOCKS {
        let batch = builder.next_commit(1);
        for k in 0..10 {
            sample.push(batch.blocks[0].txs[(i * 7919 + k * 97) % TXS_PER_BLOCK].hash());
        }
        store.commit(&batch).unwrap();
        if (i + 1) % 100 == 0 {
            eprintln!(
                "building lookup store: {} transactions, {:.0?}",
                (i + 1) * TXS_PER_BLOCK,
                started.elapsed()
            );
        }
    }
    drop(store);
    // A fixed permutation, so consecutive lookups hit unrelated blocks.
    let n = sample.len();
    let sample = (0..n).map(|i| sample[(i * 7_331) % n]).collect();
    // Reopen, so the lookups read table files rather than a warm write buffer only.
    (Store::open(dir, &chain).unwrap(), sample)
}

fn lookup(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (store, sample) = million_tx_store(dir.path());
    let mut group = c.benchmark_group("lookup");
    let mut i = 0;
    group.bench_function("tx_by_hash_in_1m", |b| {
        b.iter(|| {
            i = (i + 1) % sample.len();
            store.transaction(&sample[i]).unwrap().unwrap()
        })
    });
    group.bench_function("tx_position_in_1m", |b| {
        b.iter(|| {
            i = (i + 1) % sample.len();
            store.tx_position(&sample[i]).unwrap().unwrap()
        })
    });
    let mut n = 0u64;
    group.bench_function("tx_absent_in_1m", |b| {
        b.iter(|| {
            n += 1;
            assert!(
                store
                    .tx_position(&Hash::digest(&n.to_le_bytes()))
                    .unwrap()
                    .is_none()
            );
        })
    });
    group.finish();
}

criterion_group!(benches, commit, lookup);
criterion_main!(benches);
