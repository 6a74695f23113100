//! Execution on a real RocksDB store: reads through `StateView for Store`, and a commit
//! of executed blocks that storage accepts and that reads back as executed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_crypto::SecretKey;
use cairn_execution::{
    MemoryState, StateChange, StateView, execute_block, execute_blocks, genesis_state_root,
};
use cairn_storage::Store;
use cairn_storage::testing::ChainBuilder;
use cairn_types::{AccountState, Outcome, Role};

fn genesis_changes() -> Vec<StateChange> {
    vec![
        StateChange::Account {
            key: ChainBuilder::sender(),
            state: AccountState {
                role: Some(Role::Writer),
                balance: 10,
                nonce: 0,
            },
        },
        StateChange::Account {
            key: SecretKey::from_seed(&[42; 32]).public(),
            state: AccountState {
                role: Some(Role::Admin),
                balance: 0,
                nonce: 0,
            },
        },
    ]
}

#[test]
fn store_serves_the_state_that_execution_reads() {
    let dir = tempfile::tempdir().unwrap();
    let chain = ChainBuilder::chain_id();
    let store = Store::open(dir.path(), &chain).unwrap();
    let changes = genesis_changes();
    let root = genesis_state_root(&chain, &changes);
    store.write_genesis_state(&changes, &root).unwrap();

    let sender = StateView::account(&store, &ChainBuilder::sender()).unwrap();
    assert_eq!(
        sender.map(|a| (a.role, a.balance)),
        Some((Some(Role::Writer), 10))
    );
    let nobody = SecretKey::from_seed(&[43; 32]).public();
    assert_eq!(StateView::account(&store, &nobody).unwrap(), None);
    assert_eq!(store.value(b"key/0").unwrap(), None);
    assert_eq!(store.state_root_at(0).unwrap(), Some(root));
}

#[test]
fn executed_blocks_commit_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let chain = ChainBuilder::chain_id();
    let store = Store::open(dir.path(), &chain).unwrap();
    let changes = genesis_changes();
    let genesis_root = genesis_state_root(&chain, &changes);
    store.write_genesis_state(&changes, &genesis_root).unwrap();

    let mut builder = ChainBuilder::new(3);
    let mut batch = builder.next_commit(2);
    let results = execute_blocks(&store, &chain, &batch.blocks, &genesis_root).unwrap();
    assert!(
        results
            .iter()
            .flat_map(|r| &r.receipts)
            .all(|r| r.outcome == Outcome::Applied)
    );
    batch.receipts = results.iter().flat_map(|r| r.receipts.clone()).collect();
    batch.changes = results.iter().flat_map(|r| r.changes.clone()).collect();
    batch.state_roots = results.iter().map(|r| r.state_root).collect();
    store.commit(&batch).unwrap();

    let sender = store.account(&ChainBuilder::sender()).unwrap().unwrap();
    assert_eq!(sender.nonce, 6);
    assert_eq!(sender.balance, 10);
    assert_eq!(
        store.value(b"key/5").unwrap(),
        Some(5u64.to_le_bytes().to_vec())
    );
    assert_eq!(store.state_root_at(2).unwrap(), Some(results[1].state_root));

    // The same blocks executed one at a time in memory reach the same roots.
    let mut memory = MemoryState::from_changes(&changes);
    let mut parent = genesis_root;
    for (block, expected) in batch.blocks.iter().zip(&results) {
        let result = execute_block(&memory, &chain, block, &parent).unwrap();
        assert_eq!(&result, expected);
        memory.apply(&result.changes);
        parent = result.state_root;
    }

    // The next commit executes on top of what the store now holds.
    let mut next = builder.next_commit(1);
    let after = execute_block(&store, &chain, &next.blocks[0], &results[1].state_root).unwrap();
    let in_memory = execute_block(&memory, &chain, &next.blocks[0], &parent).unwrap();
    assert_eq!(after, in_memory);
    next.receipts = after.receipts.clone();
    next.changes = after.changes.clone();
    next.state_roots = vec![after.state_root];
    store.commit(&next).unwrap();
    assert_eq!(
        store
            .account(&ChainBuilder::sender())
            .unwrap()
            .unwrap()
            .nonce,
        9
    );
}
