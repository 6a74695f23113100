//! Choosing a block's payload, and what a commit does to the pool.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;

use cairn_crypto::Hash;
use cairn_mempool::TxStatus;
use cairn_types::Transaction;
use common::*;
use parity_scale_codec::Encode;

fn nonces(selected: &[Transaction]) -> Vec<(u8, u64)> {
    selected
        .iter()
        .map(|t| {
            let who = (1..=9u8)
                .find(|i| key(*i).public() == t.payload.sender)
                .unwrap();
            (who, t.payload.nonce)
        })
        .collect()
}

fn none() -> HashSet<Hash> {
    HashSet::new()
}

#[test]
fn a_senders_transactions_come_in_nonce_order_from_the_committed_nonce() {
    let mut pool = pool(100);
    let k = key(1);
    for nonce in [5, 3, 4, 2] {
        admit(&mut pool, &tx(&k, nonce, put(1)), 2);
    }
    assert_eq!(
        nonces(&pool.select(100, usize::MAX, &none())),
        vec![(1, 2), (1, 3), (1, 4), (1, 5)]
    );
}

#[test]
fn a_nonce_gap_stops_the_sender() {
    let mut pool = pool(100);
    let k = key(1);
    admit(&mut pool, &tx(&k, 0, put(1)), 0);
    admit(&mut pool, &tx(&k, 1, put(1)), 0);
    admit(&mut pool, &tx(&k, 3, put(1)), 0);
    admit(&mut pool, &tx(&key(2), 1, put(1)), 0);
    // Sender 1 has 0, 1 then a gap at 2; sender 2 lacks its nonce 0 entirely.
    assert_eq!(
        nonces(&pool.select(100, usize::MAX, &none())),
        vec![(1, 0), (1, 1)]
    );
    admit(&mut pool, &tx(&k, 2, put(1)), 0);
    assert_eq!(
        nonces(&pool.select(100, usize::MAX, &none())),
        vec![(1, 0), (1, 1), (1, 2), (1, 3)]
    );
}

#[test]
fn excluded_transactions_are_skipped_but_count_as_present() {
    let mut pool = pool(100);
    let k = key(1);
    let txs: Vec<Transaction> = (0..4).map(|n| tx(&k, n, put(1))).collect();
    for t in &txs {
        admit(&mut pool, t, 0);
    }
    let exclude: HashSet<Hash> = [txs[0].hash(), txs[1].hash()].into();
    assert_eq!(
        nonces(&pool.select(100, usize::MAX, &exclude)),
        vec![(1, 2), (1, 3)]
    );
    let all: HashSet<Hash> = txs.iter().map(Transaction::hash).collect();
    assert!(pool.select(100, usize::MAX, &all).is_empty());
}

#[test]
fn senders_take_turns_in_order_of_arrival() {
    let mut pool = pool(100);
    for nonce in 0..3 {
        admit(&mut pool, &tx(&key(2), nonce, put(1)), 0);
    }
    for nonce in 0..2 {
        admit(&mut pool, &tx(&key(1), nonce, put(1)), 0);
    }
    admit(&mut pool, &tx(&key(3), 0, put(1)), 0);
    assert_eq!(
        nonces(&pool.select(100, usize::MAX, &none())),
        vec![(2, 0), (1, 0), (3, 0), (2, 1), (1, 1), (2, 2)]
    );
    // With room for three, each sender gets one.
    assert_eq!(
        nonces(&pool.select(3, usize::MAX, &none())),
        vec![(2, 0), (1, 0), (3, 0)]
    );
}

#[test]
fn selection_respects_the_count_and_byte_limits() {
    let mut pool = pool(100);
    let small = tx(&key(1), 0, put(1));
    let big = tx(&key(2), 0, put(500));
    admit(&mut pool, &big, 0);
    admit(&mut pool, &small, 0);
    admit(&mut pool, &tx(&key(1), 1, put(1)), 0);
    let small_size = small.encode().len();
    let big_size = big.encode().len();
    assert!(pool.select(0, usize::MAX, &none()).is_empty());
    assert_eq!(nonces(&pool.select(1, usize::MAX, &none())), vec![(2, 0)]);
    // The big one does not fit: sender 2 is skipped, sender 1 still fills the block.
    assert_eq!(
        nonces(&pool.select(100, 2 * small_size, &none())),
        vec![(1, 0), (1, 1)]
    );
    let chosen = pool.select(100, big_size + small_size, &none());
    assert_eq!(nonces(&chosen), vec![(2, 0), (1, 0)]);
    assert!(chosen.iter().map(|t| t.encode().len()).sum::<usize>() <= big_size + small_size);
}

#[test]
fn a_commit_removes_committed_transactions_and_evicts_stale_ones() {
    let mut pool = pool(100);
    let k = key(1);
    let txs: Vec<Transaction> = (0..4).map(|n| tx(&k, n, put(1))).collect();
    for t in &txs {
        admit(&mut pool, t, 0);
    }
    // Block holds nonces 0 and 1 — but a different transaction took nonce 2 on another
    // validator's proposal, so the committed nonce is now 3.
    pool.on_commit(&[txs[0].hash(), txs[1].hash()], &[(k.public(), 3)]);
    assert_eq!(pool.len(), 1);
    assert_eq!(pool.bytes(), txs[3].encode().len());
    assert_eq!(
        pool.status(&txs[0].hash()),
        TxStatus::Unknown,
        "committed: ask storage"
    );
    assert_eq!(
        pool.status(&txs[2].hash()),
        TxStatus::Evicted {
            reason: "nonce 2 already used by a committed transaction".into()
        }
    );
    assert_eq!(pool.status(&txs[3].hash()), TxStatus::Pending);
    assert_eq!(nonces(&pool.select(100, usize::MAX, &none())), vec![(1, 3)]);
}

#[test]
fn a_commit_of_transactions_from_elsewhere_advances_nonces_only() {
    let mut pool = pool(100);
    let k = key(1);
    let mine = tx(&k, 0, put(1));
    admit(&mut pool, &mine, 0);
    admit(&mut pool, &tx(&key(2), 0, put(1)), 0);
    pool.on_commit(&[Hash::digest(b"not ours")], &[(k.public(), 1)]);
    assert!(matches!(
        pool.status(&mine.hash()),
        TxStatus::Evicted { .. }
    ));
    assert_eq!(pool.len(), 1);
    assert_eq!(nonces(&pool.select(100, usize::MAX, &none())), vec![(2, 0)]);
}

#[test]
fn the_evicted_memory_is_bounded() {
    let mut pool = cairn_mempool::Mempool::new(
        cairn_mempool::MempoolConfig {
            evicted_memory: 2,
            ..cairn_mempool::MempoolConfig::default()
        },
        chain(),
    );
    let k = key(1);
    let txs: Vec<Transaction> = (0..3).map(|n| tx(&k, n, put(1))).collect();
    for t in &txs {
        admit(&mut pool, t, 0);
    }
    pool.on_commit(&[], &[(k.public(), 3)]);
    assert!(pool.is_empty());
    assert_eq!(pool.status(&txs[0].hash()), TxStatus::Unknown);
    assert!(matches!(
        pool.status(&txs[1].hash()),
        TxStatus::Evicted { .. }
    ));
    assert!(matches!(
        pool.status(&txs[2].hash()),
        TxStatus::Evicted { .. }
    ));
}

#[test]
fn a_batch_skips_batched_transactions_and_leaves_out_waiting_senders() {
    let mut pool = pool(100);
    let (a, b) = (key(1), key(2));
    for nonce in 0..3 {
        admit(&mut pool, &tx(&a, nonce, put(1)), 0);
        admit(&mut pool, &tx(&b, nonce, put(1)), 0);
    }
    let batched: HashSet<Hash> = [tx(&a, 0, put(1)).hash()].into();
    // Sender 1's nonce 0 is in a certified batch: its nonces 1 and 2 are next.
    // Sender 2 waits for a batch to be certified: nothing of it.
    let chosen = pool.select_for_batch(100, usize::MAX, &batched, |s| *s == b.public());
    let chosen: Vec<Transaction> = chosen.into_iter().map(|(tx, _)| tx).collect();
    assert_eq!(nonces(&chosen), vec![(1, 1), (1, 2)]);
    let chosen = pool.select_for_batch(100, usize::MAX, &none(), |_| false);
    assert_eq!(
        chosen.len(),
        6,
        "nothing batched, nobody waiting: all of them"
    );
}
