//! Shared fixtures: a fresh store and a builder of its chain.
#![allow(dead_code)]

use cairn_storage::testing::ChainBuilder;
use cairn_storage::{Head, Store};
use cairn_types::{ChainId, ValidatorSet};
use tempfile::TempDir;

/// The test chain's id.
pub fn chain() -> ChainId {
    ChainBuilder::chain_id()
}

/// The test chain's validators.
pub fn validators() -> ValidatorSet {
    ChainBuilder::validator_set()
}

/// A fresh store in a temporary directory (kept alive by the returned `TempDir`).
pub fn fresh() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &chain()).unwrap();
    (dir, store)
}

/// Commits `commits` commits of one block each, `txs` transactions per block.
pub fn commit_blocks(store: &Store, builder: &mut ChainBuilder, commits: usize) -> Head {
    let mut head = store.head().unwrap();
    for _ in 0..commits {
        head = store.commit(&builder.next_commit(1)).unwrap();
    }
    head
}

/// A fresh store holding a valid chain of `blocks` blocks with `txs` transactions each.
pub fn chain_of(blocks: usize, txs: usize) -> (TempDir, Store, ChainBuilder) {
    let (dir, store) = fresh();
    let mut builder = ChainBuilder::new(txs);
    commit_blocks(&store, &mut builder, blocks);
    (dir, store, builder)
}
