//! The rate of `explorer verify` (not run in CI): `cargo bench -p cairn-explorer --bench verify`.
//!
//! Builds, untimed, a store of `CAIRN_VERIFY_TXS` (default 1,000,000) signed 512-byte
//! Put transactions from `CAIRN_VERIFY_SENDERS` (default 1,000) writer accounts, in
//! blocks of 1,000 committed ten at a time with the results real execution gives,
//! then times `verify` on it offline, as an auditor runs it on a data directory: the
//! structural audit (ids, links, payload roots, certificates, indexes) and the replay
//! (every signature checked in batches on every core, every block executed again,
//! every outcome, state hash and state claim compared). Prints one JSON line: the
//! transactions, the wall time and rate of the whole `verify`, and the replay's own
//! rate.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use cairn_crypto::SecretKey;
use cairn_explorer::cli::ExplorerCommand;
use cairn_explorer::replay::GenesisState;
use cairn_explorer::{Explorer, Source, TrustRoot};
use cairn_genesis::{AccountEntry, GenesisDoc, ValidatorEntry, network_peer_id};
use cairn_storage::Store;
use cairn_storage::testing::ChainBuilder;
use cairn_types::{BoundedBytes, Op, Role, Transaction, TxPayload};

const TXS_PER_BLOCK: usize = 1_000;
const BLOCKS_PER_COMMIT: usize = 10;
const VALUE_BYTES: usize = 512 - 150;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn sender(i: usize) -> SecretKey {
    let mut seed = [0x5a; 32];
    seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
    SecretKey::from_seed(&seed)
}

fn genesis_doc(senders: &[SecretKey]) -> GenesisDoc {
    let mut doc = GenesisDoc::new(
        "cairn-verify-bench",
        UNIX_EPOCH + Duration::from_millis(1_795_392_000_000),
    );
    doc.validators = ChainBuilder::validator_keys()
        .iter()
        .zip(0u16..)
        .map(|(key, id)| ValidatorEntry {
            name: format!("v{id}"),
            consensus_key: key.public(),
            peer_id: network_peer_id(&SecretKey::from_seed(&[100 + id as u8; 32]).public())
                .to_string(),
            address: format!("/ip4/127.0.0.1/tcp/{}", 30400 + id),
        })
        .collect();
    doc.accounts = senders
        .iter()
        .enumerate()
        .map(|(i, key)| AccountEntry {
            name: Some(format!("sender-{i}")),
            public_key: key.public(),
            // A genesis needs an admin; the first sender is it.
            role: if i == 0 { Role::Admin } else { Role::Writer },
            balance: 0,
        })
        .collect();
    doc
}

/// The `i`-th transaction of the chain: senders take turns, each with its own nonces.
fn transaction(i: usize, senders: &[SecretKey]) -> Transaction {
    let key = &senders[i % senders.len()];
    let nonce = (i / senders.len()) as u64;
    let payload = TxPayload {
        chain_id: ChainBuilder::chain_id(),
        sender: key.public(),
        nonce,
        op: Op::Put {
            key: BoundedBytes::new(format!("bench/{i}").into_bytes()).unwrap(),
            value: BoundedBytes::new(vec![0xab; VALUE_BYTES]).unwrap(),
        },
    };
    Transaction::sign(payload, key)
}

/// Signs transactions `from..to` on every core.
fn sign_range(from: usize, to: usize, senders: &[SecretKey]) -> Vec<Transaction> {
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let per = (to - from).div_ceil(cores).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = (from..to)
            .step_by(per)
            .map(|start| {
                let end = (start + per).min(to);
                scope.spawn(move || (start..end).map(|i| transaction(i, senders)).collect())
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().unwrap_or_else(|_| Vec::new()))
            .collect()
    })
}

fn build(dir: &std::path::Path, txs: usize, senders: &[SecretKey], genesis: &GenesisState) {
    let store = Store::open(dir, &ChainBuilder::chain_id()).unwrap();
    store
        .write_genesis_state(&genesis.changes, &genesis.root)
        .unwrap();
    let mut builder = ChainBuilder::new(0);
    let per_commit = TXS_PER_BLOCK * BLOCKS_PER_COMMIT;
    let mut at = 0;
    while at < txs {
        let end = (at + per_commit).min(txs);
        let signed = sign_range(at, end, senders);
        let blocks = signed
            .chunks(TXS_PER_BLOCK)
            .map(|chunk| builder.next_block_with(chunk.to_vec()))
            .collect();
        let mut batch = builder.commit_of(blocks);
        let head = store.head().unwrap().height;
        let parent = store.state_root_at(head).unwrap().unwrap();
        let results = cairn_execution::execute_blocks(
            &store,
            &ChainBuilder::chain_id(),
            &batch.blocks,
            &parent,
        )
        .unwrap();
        batch.receipts = results.iter().flat_map(|r| r.receipts.clone()).collect();
        batch.changes = results.iter().flat_map(|r| r.changes.clone()).collect();
        batch.state_roots = results.iter().map(|r| r.state_root).collect();
        store.commit(&batch).unwrap();
        at = end;
    }
}

#[tokio::main]
async fn main() {
    let txs = env_or("CAIRN_VERIFY_TXS", 1_000_000);
    let senders: Vec<SecretKey> = (0..env_or("CAIRN_VERIFY_SENDERS", 1_000))
        .map(sender)
        .collect();
    let genesis = Arc::new(genesis_doc(&senders).validate().unwrap());
    let (changes, root) = cairn_execution::genesis_state(&genesis);
    let genesis_state = GenesisState { changes, root };
    let dir = tempfile::tempdir().unwrap();
    let building = Instant::now();
    build(dir.path(), txs, &senders, &genesis_state);
    eprintln!(
        "built a chain of {txs} transactions in {:.1} s",
        building.elapsed().as_secs_f64()
    );

    let trust = TrustRoot {
        chain: ChainBuilder::chain_id(),
        validators: ChainBuilder::validator_set(),
        genesis_state: Some(genesis_state),
    };
    let source = Source::open_store(dir.path(), genesis, &ChainBuilder::chain_id()).unwrap();
    let explorer = Explorer::new(source, Some(trust), true);
    let started = Instant::now();
    let mut out = Vec::new();
    explorer
        .execute(&ExplorerCommand::Verify, &mut out)
        .await
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let replay = &report["replay"];
    println!(
        "{}",
        serde_json::json!({
            "transactions": report["transactions"],
            "senders": senders.len(),
            "verify_seconds": seconds,
            "verify_tx_per_s": report["transactions"].as_f64().unwrap_or(0.0) / seconds,
            "replay_seconds": replay["seconds"],
            "replay_tx_per_s": replay["tx_per_s"],
            "bad_signatures": replay["bad_signatures"],
        })
    );
}
