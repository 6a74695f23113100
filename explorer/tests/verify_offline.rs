//! `verify` offline, on a data directory: a valid chain passes with the right summary;
//! copies tampered one way at a time are reported at the right height with the fault.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cairn_explorer::cli::ExplorerCommand;
use cairn_explorer::{Explorer, ExplorerError, Source};
use cairn_storage::ChainFault;
use cairn_storage::schema::{CF_COMMITS, CF_HEADERS, CF_TXS, height_key, position_key};
use cairn_types::{BoundedVec, QuorumCert, Wire};
use common::*;

/// Commits of 1, 3, 1 and 2 blocks, 3 transactions each: 7 blocks, 21 transactions,
/// certificates stored at heights 1, 4, 5 and 7.
const COMMITS: [usize; 4] = [1, 3, 1, 2];

fn head_id(explorer: &Explorer) -> String {
    match explorer.source() {
        Source::Local(local) => format!("0x{}", local.store().head().unwrap().id),
        Source::Rpc { .. } => unreachable!("offline explorer"),
    }
}

/// The fault `verify` reports on the store in `dir`.
async fn fault_of(dir: &std::path::Path) -> (u64, ChainFault) {
    match output(&offline(dir, false), ExplorerCommand::Verify).await {
        Err(ExplorerError::InvalidChain { height, fault }) => (height, fault),
        other => panic!("expected an invalid chain, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_chain_passes_with_its_summary() {
    let dir = chain_dir(&COMMITS, 3);
    let explorer = offline(dir.path(), false);
    let text = output(&explorer, ExplorerCommand::Verify).await.unwrap();
    assert!(text.starts_with("chain VALID"), "{text}");
    for line in [
        "blocks:        7",
        "transactions:  21",
        "certificates:  4",
        "head height:   7",
    ] {
        assert!(text.contains(line), "{line:?} missing from\n{text}");
    }
    assert!(
        text.contains(&format!("head id:       {}", head_id(&explorer))),
        "{text}"
    );

    let json = output(&offline(dir.path(), true), ExplorerCommand::Verify)
        .await
        .unwrap();
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["valid"], true);
    assert_eq!(report["blocks"], 7);
    assert_eq!(report["transactions"], 21);
    assert_eq!(report["certificates"], 4);
    assert_eq!(report["head_id"], head_id(&explorer));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swapped_transaction_is_reported_at_its_height() {
    let original = chain_dir(&COMMITS, 3);
    let dir = copy_dir(original.path());
    tamper(dir.path(), |store| {
        let other = store.block_at(6).unwrap().unwrap().txs[0].to_wire();
        store.raw_put(CF_TXS, &position_key(3, 1), &other).unwrap();
    });
    let (height, fault) = fault_of(dir.path()).await;
    assert_eq!(height, 3);
    assert!(matches!(fault, ChainFault::PayloadRoot { .. }), "{fault}");
    // The original is untouched.
    assert!(
        output(&offline(original.path(), false), ExplorerCommand::Verify)
            .await
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_altered_header_is_reported_at_its_height() {
    let original = chain_dir(&COMMITS, 3);
    let dir = copy_dir(original.path());
    let mut altered_id = None;
    tamper(dir.path(), |store| {
        let id = store.block_id_at(5).unwrap().unwrap();
        let mut bytes = store.raw_get(CF_HEADERS, id.as_bytes()).unwrap().unwrap();
        // A byte of the state root (after chain id, height, round, parent, payload root).
        bytes[32 + 8 + 8 + 32 + 32 + 3] ^= 0x01;
        store.raw_put(CF_HEADERS, id.as_bytes(), &bytes).unwrap();
        altered_id = Some(id);
    });
    let (height, fault) = fault_of(dir.path()).await;
    assert_eq!(height, 5);
    assert!(
        matches!(fault, ChainFault::IdMismatch { indexed, .. } if Some(indexed) == altered_id),
        "{fault}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_certificate_signature_is_reported_at_its_height() {
    let original = chain_dir(&COMMITS, 3);
    let dir = copy_dir(original.path());
    tamper(dir.path(), |store| {
        let bytes = store.raw_get(CF_COMMITS, &height_key(4)).unwrap().unwrap();
        let mut certificate = QuorumCert::from_wire(&bytes).unwrap();
        let mut signatures = certificate.signatures.clone().into_inner();
        signatures[1].1.0[7] ^= 0x20;
        certificate.signatures = BoundedVec::new(signatures).unwrap();
        store
            .raw_put(CF_COMMITS, &height_key(4), &certificate.to_wire())
            .unwrap();
    });
    let (height, fault) = fault_of(dir.path()).await;
    assert_eq!(height, 4);
    assert!(
        matches!(fault, ChainFault::CertificateInvalid { .. }),
        "{fault}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_audit_prints_a_json_verdict_and_returns_the_fault() {
    let original = chain_dir(&COMMITS, 3);
    let dir = copy_dir(original.path());
    tamper(dir.path(), |store| {
        store.raw_delete(CF_COMMITS, &height_key(7)).unwrap();
    });
    let explorer = offline(dir.path(), true);
    let mut out = Vec::new();
    let error = explorer
        .execute(&ExplorerCommand::Verify, &mut out)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ExplorerError::InvalidChain {
                height: 7,
                fault: ChainFault::HeadNotCertified
            }
        ),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "chain INVALID at height 7: the head block has no commit certificate"
    );
    let verdict: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["height"], 7);
    assert_eq!(verdict["fault"], "the head block has no commit certificate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_without_a_trust_root_is_refused() {
    let dir = chain_dir(&[1], 1);
    let source = Source::open_store(dir.path(), genesis(), &trust().chain).unwrap();
    let explorer = Explorer::new(source, None, false);
    let error = output(&explorer, ExplorerCommand::Verify)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ExplorerError::GenesisRequired { command: "verify" }),
        "{error}"
    );
}
