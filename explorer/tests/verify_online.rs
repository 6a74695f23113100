//! `verify` over JSON-RPC against a real server: the same chain audit as offline, run
//! on blocks and certificates fetched from the node, catching a node that serves a
//! tampered chain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cairn_crypto::{Hash, SecretKey};
use cairn_explorer::cli::ExplorerCommand;
use cairn_explorer::{Explorer, ExplorerError, Source, TrustRoot};
use cairn_storage::ChainFault;
use cairn_storage::schema::{CF_COMMITS, CF_HEADERS, CF_TXS, height_key, position_key};
use cairn_types::{BoundedVec, QuorumCert, ValidatorSet, Wire};
use common::*;

/// 7 blocks, 21 transactions, certificates at heights 1, 4, 5 and 7.
const COMMITS: [usize; 4] = [1, 3, 1, 2];

/// The fault `verify` over RPC reports for a server over `dir`.
async fn fault_over_rpc(dir: &std::path::Path) -> (u64, ChainFault) {
    let served = serve(dir).await;
    match output(&online(&served.url, false).await, ExplorerCommand::Verify).await {
        Err(ExplorerError::InvalidChain { height, fault }) => (height, fault),
        other => panic!("expected an invalid chain, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_chain_passes_over_rpc_with_the_offline_summary() {
    let dir = chain_dir(&COMMITS, 3);
    let offline_json = output(&offline(dir.path(), true), ExplorerCommand::Verify)
        .await
        .unwrap();
    let served = serve(dir.path()).await;
    let online_json = output(&online(&served.url, true).await, ExplorerCommand::Verify)
        .await
        .unwrap();
    let offline: serde_json::Value = serde_json::from_str(&offline_json).unwrap();
    let online: serde_json::Value = serde_json::from_str(&online_json).unwrap();
    for field in [
        "valid",
        "blocks",
        "transactions",
        "certificates",
        "head_height",
        "head_id",
    ] {
        assert_eq!(online[field], offline[field], "{field}");
    }
    assert_eq!(online["blocks"], 7);
    assert_eq!(online["certificates"], 4);
    assert_eq!(online["source"], served.url);
    assert_eq!(
        online["head_id"],
        format!("0x{}", served.store.head().unwrap().id)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_chain_passes_over_rpc() {
    let dir = chain_dir(&[], 0);
    let served = serve(dir.path()).await;
    let text = output(&online(&served.url, false).await, ExplorerCommand::Verify)
        .await
        .unwrap();
    assert!(text.contains("blocks:        0"), "{text}");
    assert!(text.contains(&format!("0x{}", trust().chain)), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swapped_transaction_is_caught_over_rpc() {
    let original = chain_dir(&COMMITS, 3);
    let dir = copy_dir(original.path());
    tamper(dir.path(), |store| {
        let other = store.block_at(6).unwrap().unwrap().txs[0].to_wire();
        store.raw_put(CF_TXS, &position_key(3, 1), &other).unwrap();
    });
    let (height, fault) = fault_over_rpc(dir.path()).await;
    assert_eq!(height, 3);
    assert!(matches!(fault, ChainFault::PayloadRoot { .. }), "{fault}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_altered_header_is_caught_over_rpc() {
    // The node recomputes the id of what it serves, so an altered header shows as a
    // broken link: at the next block (height 3 has no certificate of its own) ...
    let original = chain_dir(&COMMITS, 3);
    let dir = copy_dir(original.path());
    let mut altered = Hash::ZERO;
    tamper(dir.path(), |store| altered = flip_state_root(store, 3));
    let (height, fault) = fault_over_rpc(dir.path()).await;
    assert_eq!(height, 4);
    assert!(
        matches!(fault, ChainFault::ParentLink { expected, .. } if expected == altered),
        "{fault}"
    );

    // ... or at the block itself when its commit certificate names the original.
    let dir = copy_dir(original.path());
    tamper(dir.path(), |store| altered = flip_state_root(store, 5));
    let (height, fault) = fault_over_rpc(dir.path()).await;
    assert_eq!(height, 5);
    assert!(
        matches!(fault, ChainFault::CertificateNotCommitting { block, .. } if block == altered),
        "{fault}"
    );
}

/// Flips a state-root byte of the header at `height`, stored under its old id; returns
/// the altered header's id.
fn flip_state_root(store: &cairn_storage::Store, height: u64) -> Hash {
    let id = store.block_id_at(height).unwrap().unwrap();
    let mut bytes = store.raw_get(CF_HEADERS, id.as_bytes()).unwrap().unwrap();
    // chain id, height, round, parent, payload root, state height: then the root.
    bytes[32 + 8 + 8 + 32 + 32 + 8] ^= 0x01;
    store.raw_put(CF_HEADERS, id.as_bytes(), &bytes).unwrap();
    Hash::digest(&bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_certificate_is_caught_over_rpc() {
    let original = chain_dir(&COMMITS, 3);
    let dir = copy_dir(original.path());
    tamper(dir.path(), |store| {
        let bytes = store.raw_get(CF_COMMITS, &height_key(4)).unwrap().unwrap();
        let mut certificate = QuorumCert::from_wire(&bytes).unwrap();
        let mut signatures = certificate.signatures.clone().into_inner();
        signatures[0].1.0[0] ^= 0x01;
        certificate.signatures = BoundedVec::new(signatures).unwrap();
        store
            .raw_put(CF_COMMITS, &height_key(4), &certificate.to_wire())
            .unwrap();
    });
    let (height, fault) = fault_over_rpc(dir.path()).await;
    assert_eq!(height, 4);
    assert!(
        matches!(fault, ChainFault::CertificateInvalid { .. }),
        "{fault}"
    );

    // A valid certificate, but of another block.
    let dir = copy_dir(original.path());
    tamper(dir.path(), |store| {
        let other = store.raw_get(CF_COMMITS, &height_key(1)).unwrap().unwrap();
        store.raw_put(CF_COMMITS, &height_key(5), &other).unwrap();
    });
    let (height, fault) = fault_over_rpc(dir.path()).await;
    assert_eq!(height, 5);
    assert!(
        matches!(fault, ChainFault::CertificateNotCommitting { .. }),
        "{fault}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_of_other_validators_fails_at_the_first_signed_certificate() {
    let dir = chain_dir(&COMMITS, 1);
    let served = serve(dir.path()).await;
    let strangers = (10..14u8)
        .map(|i| SecretKey::from_seed(&[i; 32]).public())
        .collect();
    let trust = TrustRoot {
        chain: trust().chain,
        validators: ValidatorSet::new(strangers).unwrap(),
        genesis_state: None,
    };
    let explorer = Explorer::new(
        Source::connect(&served.url).await.unwrap(),
        Some(trust),
        false,
    );
    match output(&explorer, ExplorerCommand::Verify).await {
        Err(ExplorerError::InvalidChain {
            height: 1,
            fault: ChainFault::CertificateInvalid { .. },
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_node_is_a_clear_error() {
    // Bind a port, then free it: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let explorer = online(&format!("http://127.0.0.1:{port}"), false).await;
    let error = output(&explorer, ExplorerCommand::Verify)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            ExplorerError::Rpc {
                method: "chain_head",
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains(&format!("127.0.0.1:{port}")),
        "{error}"
    );
}
