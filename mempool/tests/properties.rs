//! Random sequences of insert, select and commit keep the pool's invariants: bounded
//! by count and bytes, no transaction selected twice, nonces in order from the
//! committed nonce, nothing stale left pending.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, HashSet};

use cairn_crypto::Hash;
use cairn_mempool::{Mempool, MempoolConfig, TxStatus};
use cairn_types::Transaction;
use common::*;
use parity_scale_codec::Encode;
use proptest::prelude::*;

const SENDERS: u8 = 4;
const CAPACITY: usize = 8;
const MAX_BYTES: usize = 1_500;

#[derive(Clone, Debug)]
enum Step {
    Insert {
        sender: u8,
        ahead: u64,
        value_len: usize,
        stale_view: bool,
    },
    Select {
        max_txs: usize,
        max_bytes: usize,
        exclude_first: bool,
    },
    CommitSelected {
        count: usize,
    },
    CommitElsewhere {
        sender: u8,
        advance: u64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => (0..SENDERS, 0u64..5, 0usize..300, any::<bool>()).prop_map(|(sender, ahead, value_len, stale_view)| Step::Insert { sender, ahead, value_len, stale_view }),
        2 => (0usize..12, 0usize..2_000, any::<bool>()).prop_map(|(max_txs, max_bytes, exclude_first)| Step::Select { max_txs, max_bytes, exclude_first }),
        2 => (0usize..6).prop_map(|count| Step::CommitSelected { count }),
        1 => (0..SENDERS, 1u64..3).prop_map(|(sender, advance)| Step::CommitElsewhere { sender, advance }),
    ]
}

/// The test's own record of the truth: committed nonces and every transaction tried.
struct Model {
    committed: HashMap<u8, u64>,
    tried: Vec<Transaction>,
}

impl Model {
    fn committed(&self, sender: u8) -> u64 {
        self.committed.get(&sender).copied().unwrap_or(0)
    }

    fn sender_of(&self, tx: &Transaction) -> u8 {
        (0..SENDERS)
            .find(|s| key(*s).public() == tx.payload.sender)
            .unwrap()
    }
}

fn check_selection(
    pool: &Mempool,
    model: &Model,
    selected: &[Transaction],
    max_txs: usize,
    max_bytes: usize,
    exclude: &HashSet<Hash>,
) -> Result<(), TestCaseError> {
    prop_assert!(selected.len() <= max_txs);
    prop_assert!(selected.iter().map(|t| t.encode().len()).sum::<usize>() <= max_bytes);
    let mut seen = HashSet::new();
    let mut next: HashMap<u8, u64> = HashMap::new();
    for t in selected {
        prop_assert!(seen.insert(t.hash()), "selected twice");
        prop_assert!(pool.contains(&t.hash()), "selected but not pending");
        prop_assert!(
            !exclude.contains(&t.hash()),
            "selected an excluded transaction"
        );
        let sender = model.sender_of(t);
        let expected = next.entry(sender).or_insert(model.committed(sender));
        // Excluded transactions count as present: skip over them.
        while exclude.iter().any(|h| {
            model.tried.iter().any(|x| {
                x.hash() == *h && model.sender_of(x) == sender && x.payload.nonce == *expected
            })
        }) {
            *expected += 1;
        }
        prop_assert_eq!(
            t.payload.nonce,
            *expected,
            "nonce order of sender {}",
            sender
        );
        *expected += 1;
    }
    Ok(())
}

fn check_bounds(pool: &Mempool, model: &Model) -> Result<(), TestCaseError> {
    prop_assert!(pool.len() <= CAPACITY);
    prop_assert!(pool.bytes() <= MAX_BYTES);
    for t in &model.tried {
        if t.payload.nonce < model.committed(model.sender_of(t)) {
            prop_assert_ne!(
                pool.status(&t.hash()),
                TxStatus::Pending,
                "stale transaction pending"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_the_invariants(steps in proptest::collection::vec(step(), 1..60)) {
        let mut pool = Mempool::new(
            MempoolConfig { capacity: CAPACITY, max_bytes: MAX_BYTES, max_nonce_ahead: 4, ..MempoolConfig::default() },
            chain(),
        );
        let mut model = Model { committed: HashMap::new(), tried: Vec::new() };
        for step in steps {
            match step {
                Step::Insert { sender, ahead, value_len, stale_view } => {
                    let committed = model.committed(sender);
                    let t = tx(&key(sender), committed + ahead, put(value_len));
                    // The node may read an account that is older than the last commit.
                    let view = if stale_view { committed.saturating_sub(1) } else { committed };
                    let _ = pool.insert(t.clone(), t.hash(), Some(&writer(1_000, view)));
                    model.tried.push(t);
                }
                Step::Select { max_txs, max_bytes, exclude_first } => {
                    let exclude: HashSet<Hash> = if exclude_first {
                        pool.select(1, usize::MAX, &HashSet::new()).iter().map(Transaction::hash).collect()
                    } else {
                        HashSet::new()
                    };
                    let selected = pool.select(max_txs, max_bytes, &exclude);
                    check_selection(&pool, &model, &selected, max_txs, max_bytes, &exclude)?;
                }
                Step::CommitSelected { count } => {
                    let block = pool.select(count, usize::MAX, &HashSet::new());
                    check_selection(&pool, &model, &block, count, usize::MAX, &HashSet::new())?;
                    let mut advanced: HashMap<u8, u64> = HashMap::new();
                    for t in &block {
                        let sender = model.sender_of(t);
                        advanced.insert(sender, t.payload.nonce + 1);
                    }
                    model.committed.extend(advanced.iter().map(|(s, n)| (*s, *n)));
                    let senders: Vec<_> = advanced.iter().map(|(s, n)| (key(*s).public(), *n)).collect();
                    let hashes: Vec<Hash> = block.iter().map(Transaction::hash).collect();
                    pool.on_commit(&hashes, &senders);
                    for h in &hashes {
                        prop_assert!(!pool.contains(h));
                    }
                }
                Step::CommitElsewhere { sender, advance } => {
                    let nonce = model.committed(sender) + advance;
                    model.committed.insert(sender, nonce);
                    pool.on_commit(&[], &[(key(sender).public(), nonce)]);
                }
            }
            check_bounds(&pool, &model)?;
        }
    }
}
