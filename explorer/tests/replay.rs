//! `verify` re-executes the chain from the genesis state: every client signature
//! checked, every recorded outcome and state hash and every header state claim
//! compared — offline and over JSON-RPC, on a chain whose results are real.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cairn_crypto::Hash;
use cairn_explorer::cli::ExplorerCommand;
use cairn_explorer::replay::GenesisState;
use cairn_explorer::{Explorer, ExplorerError, Source, TrustRoot};
use cairn_storage::schema::{CF_RECEIPTS, CF_RESULTS, height_key, position_key};
use cairn_storage::testing::ChainBuilder;
use cairn_storage::{ChainFault, Store};
use cairn_types::{Block, Outcome, Receipt, RejectReason, Wire};
use common::*;
use tempfile::TempDir;

/// The genesis state of `common::genesis()`: the builder's sender is its one account.
fn genesis_state() -> GenesisState {
    let (changes, root) = cairn_execution::genesis_state(&genesis());
    GenesisState { changes, root }
}

/// A new store in `dir` holding the genesis state and no blocks.
fn store_at_genesis(dir: &std::path::Path) -> Store {
    let store = Store::open(dir, &ChainBuilder::chain_id()).unwrap();
    let genesis = genesis_state();
    store
        .write_genesis_state(&genesis.changes, &genesis.root)
        .unwrap();
    store
}

fn real_trust() -> TrustRoot {
    TrustRoot {
        genesis_state: Some(genesis_state()),
        ..trust()
    }
}

/// Writes `blocks` (the builder's latest) with the results real execution gives.
fn commit_executed(store: &Store, builder: &mut ChainBuilder, blocks: Vec<Block>) {
    let mut batch = builder.commit_of(blocks);
    let head = store.head().unwrap().height;
    let parent = store.state_root_at(head).unwrap().unwrap();
    let results =
        cairn_execution::execute_blocks(store, &ChainBuilder::chain_id(), &batch.blocks, &parent)
            .unwrap();
    batch.receipts = results.iter().flat_map(|r| r.receipts.clone()).collect();
    batch.changes = results.iter().flat_map(|r| r.changes.clone()).collect();
    batch.state_roots = results.iter().map(|r| r.state_root).collect();
    store.commit(&batch).unwrap();
}

/// A chain of 6 blocks of 4 transactions with real results, committed 2 at a time;
/// blocks 5 and 6 vouch for the state after block 2. Returns the directory and the
/// state hashes by height.
fn executed_chain() -> (TempDir, Vec<Hash>) {
    let dir = tempfile::tempdir().unwrap();
    let store = store_at_genesis(dir.path());
    let mut builder = ChainBuilder::new(4);
    for commit in 0..3 {
        if commit == 2 {
            let root = store.state_root_at(2).unwrap().unwrap();
            builder.claim_state(2, root);
        }
        let blocks = vec![builder.next_block(), builder.next_block()];
        commit_executed(&store, &mut builder, blocks);
    }
    let roots = (0..=6)
        .map(|h| store.state_root_at(h).unwrap().unwrap())
        .collect();
    (dir, roots)
}

fn offline_with(dir: &std::path::Path, trust: TrustRoot) -> Explorer {
    let source = Source::open_store(dir, genesis(), &ChainBuilder::chain_id()).unwrap();
    Explorer::new(source, Some(trust), true)
}

async fn online_with(url: &str, trust: TrustRoot) -> Explorer {
    Explorer::new(Source::connect(url).await.unwrap(), Some(trust), true)
}

async fn verify_json(explorer: &Explorer) -> Result<serde_json::Value, ExplorerError> {
    let text = output(explorer, ExplorerCommand::Verify).await?;
    Ok(serde_json::from_str(&text).unwrap())
}

/// The fault `verify` finds offline and over RPC (both must agree).
async fn fault_both_ways(dir: &std::path::Path) -> (u64, ChainFault) {
    let offline = match verify_json(&offline_with(dir, real_trust())).await {
        Err(ExplorerError::InvalidChain { height, fault }) => (height, fault),
        other => panic!("expected an invalid chain offline, got {other:?}"),
    };
    let served = serve(dir).await;
    let online = match verify_json(&online_with(&served.url, real_trust()).await).await {
        Err(ExplorerError::InvalidChain { height, fault }) => (height, fault),
        other => panic!("expected an invalid chain over RPC, got {other:?}"),
    };
    assert_eq!(offline.0, online.0, "{offline:?} {online:?}");
    assert_eq!(
        std::mem::discriminant(&offline.1),
        std::mem::discriminant(&online.1),
        "{offline:?} {online:?}"
    );
    offline
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executed_chain_replays_to_its_recorded_state_offline_and_over_rpc() {
    let (dir, roots) = executed_chain();
    let offline = verify_json(&offline_with(dir.path(), real_trust()))
        .await
        .unwrap();
    let served = serve(dir.path()).await;
    let online = verify_json(&online_with(&served.url, real_trust()).await)
        .await
        .unwrap();
    for report in [&offline, &online] {
        let replay = &report["replay"];
        assert_eq!(replay["transactions"], 24, "{report}");
        assert_eq!(replay["signatures_checked"], 24, "{report}");
        assert_eq!(replay["bad_signatures"], 0, "{report}");
        // Blocks 5 and 6 vouch for the state after block 2.
        assert_eq!(replay["state_claims_checked"], 2, "{report}");
        assert_eq!(replay["state_root"], format!("0x{}", roots[6]), "{report}");
        assert!(replay["tx_per_s"].as_f64().unwrap() > 0.0, "{report}");
    }
    // Without the genesis state, only the structure is checked.
    let structural = verify_json(&offline_with(dir.path(), trust()))
        .await
        .unwrap();
    assert!(structural["replay"].is_null(), "{structural}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_outcome_execution_does_not_give_is_caught() {
    let (original, _) = executed_chain();
    let dir = copy_dir(original.path());
    tamper(dir.path(), |store| {
        let receipt = Receipt {
            outcome: Outcome::Rejected(RejectReason::BadSignature),
            ..store.receipt(3, 1).unwrap().unwrap()
        };
        store
            .raw_put(CF_RECEIPTS, &position_key(3, 1), &receipt.to_wire())
            .unwrap();
    });
    let (height, fault) = fault_both_ways(dir.path()).await;
    assert_eq!(height, 3);
    assert!(
        matches!(fault, ChainFault::OutcomeMismatch { index: 1, .. }),
        "{fault}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_state_hash_execution_does_not_give_is_caught() {
    let (original, roots) = executed_chain();
    let dir = copy_dir(original.path());
    let forged = Hash::digest(b"another state");
    tamper(dir.path(), |store| {
        store
            .raw_put(CF_RESULTS, &height_key(4), forged.as_bytes())
            .unwrap();
    });
    let (height, fault) = fault_both_ways(dir.path()).await;
    assert_eq!(height, 4);
    assert_eq!(
        fault,
        ChainFault::ResultState {
            recorded: forged,
            computed: roots[4]
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certified_header_vouching_for_a_wrong_state_is_caught() {
    // The validators certified blocks whose claim re-execution does not give.
    let dir = tempfile::tempdir().unwrap();
    let wrong = Hash::digest(b"not the state after block 1");
    {
        let store = store_at_genesis(dir.path());
        let mut builder = ChainBuilder::new(2);
        let first = vec![builder.next_block()];
        commit_executed(&store, &mut builder, first);
        builder.claim_state(1, wrong);
        let next = vec![builder.next_block()];
        commit_executed(&store, &mut builder, next);
    }
    let (height, fault) = fault_both_ways(dir.path()).await;
    assert_eq!(height, 2);
    assert!(
        matches!(fault, ChainFault::StateClaim { state_height: 1, claimed, .. } if claimed == wrong),
        "{fault}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_client_signature_recorded_as_applied_is_caught() {
    // Execution rejects a transaction whose signature does not verify; a chain that
    // records it as applied (with the state that follows) is a lie the replay names.
    let dir = tempfile::tempdir().unwrap();
    {
        let store = store_at_genesis(dir.path());
        let mut builder = ChainBuilder::new(0);
        let good = builder.next_tx();
        let mut bad = builder.next_tx();
        // The signature of another payload: well-formed, but not over this one.
        bad.signature = good.signature;
        let block = builder.next_block_with(vec![good, bad]);
        // Honest results: the bad one is rejected.
        commit_executed(&store, &mut builder, vec![block.clone()]);
        let receipt = store.receipt(1, 1).unwrap().unwrap();
        assert_eq!(
            receipt.outcome,
            Outcome::Rejected(RejectReason::BadSignature)
        );
        // Then the record is forged to say it applied.
        let forged = Receipt {
            outcome: Outcome::Applied,
            ..receipt
        };
        store
            .raw_put(CF_RECEIPTS, &position_key(1, 1), &forged.to_wire())
            .unwrap();
    }
    let (height, fault) = fault_both_ways(dir.path()).await;
    assert_eq!(height, 1);
    assert!(
        matches!(fault, ChainFault::OutcomeMismatch { index: 1, .. }),
        "{fault}"
    );
}
