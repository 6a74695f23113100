//! Every read method over HTTP answers what the store holds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cairn_crypto::{Hash, MerkleProof, SecretKey};
use cairn_rpc::codes;
use cairn_rpc::types::{OpInfo, OutcomeKind, RoleName, TxStatus};
use cairn_rpc::{HexHash, PendingStatus};
use cairn_storage::testing::ChainBuilder;
use cairn_types::{Block, BlockHeader, Outcome, QuorumCert, RejectReason, Transaction, Wire};
use common::Fixture;

#[tokio::test]
async fn chain_head_and_blocks_match_the_store() {
    let fixture = Fixture::start(3, 2).await;
    let client = fixture.http().await;
    let store = &fixture.store;

    let head = client.chain_head().await.unwrap();
    let stored = store.head().unwrap();
    let header = store.header_at(3).unwrap().unwrap();
    assert_eq!((head.height, head.block_id.0), (3, stored.id));
    assert_eq!(
        (head.round, head.timestamp_ms),
        (header.round, header.timestamp_ms)
    );
    assert_eq!(head.tx_count, 2);
    assert_eq!(
        head.state_root.map(|h| h.0),
        store.state_root_at(3).unwrap()
    );

    for height in 1..=3 {
        let stored = store.block_at(height).unwrap().unwrap();
        let by_height = client.chain_get_block(height).await.unwrap();
        let by_id = client.chain_get_block(stored.id()).await.unwrap();
        assert_eq!(by_height, by_id);
        assert_eq!(Block::from_wire(&by_height.encoded.0).unwrap(), stored);
        let header = &stored.header;
        assert_eq!(by_height.id.0, stored.id());
        assert_eq!(by_height.parent.0, header.parent);
        assert_eq!(by_height.payload_root.0, header.payload_root);
        assert_eq!(by_height.state_root.0, header.state_root);
        assert_eq!(
            by_height.result_state_root.map(|h| h.0),
            store.state_root_at(height).unwrap()
        );
        assert_eq!(
            (by_height.round, by_height.proposer),
            (header.round, header.proposer.0)
        );
        assert_eq!(by_height.justify.block_id.0, header.justify.block_id());
        assert_eq!(by_height.justify.height, height - 1);
        let expected_signers: Vec<u16> = if height == 1 { vec![] } else { vec![0, 1, 2] };
        assert_eq!(by_height.justify.signers, expected_signers);
        let hashes: Vec<Hash> = by_height.txs.iter().map(|tx| tx.hash.0).collect();
        let stored_hashes: Vec<Hash> = stored.txs.iter().map(Transaction::hash).collect();
        assert_eq!(hashes, stored_hashes);
        // The light read of the same block: hashes and outcomes only.
        let light = client.chain_get_outcomes(height).await.unwrap();
        assert_eq!((light.height, light.id.0), (height, stored.id()));
        let light_pairs: Vec<_> = light
            .txs
            .iter()
            .map(|t| (t.hash.0, t.outcome.clone()))
            .collect();
        let full_pairs: Vec<_> = by_height
            .txs
            .iter()
            .map(|t| (t.hash.0, t.outcome.clone()))
            .collect();
        assert_eq!(light_pairs, full_pairs);
        let tx = &by_height.txs[1];
        assert_eq!(tx.sender.0, ChainBuilder::sender());
        assert_eq!(tx.outcome.outcome, OutcomeKind::Applied);
        assert!(
            matches!(&tx.op, OpInfo::Put { key, .. } if key.0 == format!("key/{}", tx.nonce).into_bytes())
        );
    }
}

#[tokio::test]
async fn missing_blocks_are_not_found() {
    let outcomes_fixture = Fixture::start(1, 1).await;
    let outcomes_client = outcomes_fixture.http().await;
    let missing = outcomes_client.chain_get_outcomes(9).await.unwrap_err();
    assert_eq!(missing.code(), Some(codes::NOT_FOUND));

    let fixture = Fixture::start(1, 1).await;
    let client = fixture.http().await;
    for error in [
        client.chain_get_block(0).await.unwrap_err(),
        client.chain_get_block(2).await.unwrap_err(),
        client
            .chain_get_block(Hash::digest(b"nothing"))
            .await
            .unwrap_err(),
        client.chain_get_commit(5).await.unwrap_err(),
        client.tx_proof(&Hash::digest(b"no tx")).await.unwrap_err(),
    ] {
        assert_eq!(error.code(), Some(codes::NOT_FOUND), "{error}");
    }
    // Bad parameters are the caller's error, not "not found".
    let error = client
        .request::<serde_json::Value>("chain_getBlock", vec![serde_json::json!("0x12")])
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(codes::INVALID_PARAMS));
    assert!(error.to_string().contains("32 bytes"), "{error}");
}

#[tokio::test]
async fn genesis_head_before_any_block() {
    let fixture = Fixture::start(0, 0).await;
    let head = fixture.http().await.chain_head().await.unwrap();
    assert_eq!(head.height, 0);
    assert_eq!(head.block_id.0, ChainBuilder::chain_id().0);
    assert_eq!((head.round, head.tx_count), (0, 0));
    assert_eq!(head.timestamp_ms, common::GENESIS_MS);
}

#[tokio::test]
async fn tx_get_reports_committed_rejected_pending_evicted_and_unknown() {
    let mut fixture = Fixture::start(1, 2).await;
    // A commit whose second transaction execution rejected.
    let mut batch = fixture.builder.next_commit(1);
    let reason = RejectReason::BadNonce {
        expected: 9,
        got: 2,
    };
    batch.receipts[1].outcome = Outcome::Rejected(reason.clone());
    fixture.commit(&batch);
    let client = fixture.http().await;

    let applied = &fixture.store.block_at(1).unwrap().unwrap().txs[1];
    let info = client.tx_get(&applied.hash()).await.unwrap();
    assert_eq!(info.status, TxStatus::Committed);
    assert_eq!((info.height, info.index), (Some(1), Some(1)));
    assert_eq!(
        info.block_id.unwrap().0,
        fixture.store.block_id_at(1).unwrap().unwrap()
    );
    assert_eq!(info.receipt.unwrap().outcome, OutcomeKind::Applied);

    let rejected = &batch.blocks[0].txs[1];
    let info = client.tx_get(&rejected.hash()).await.unwrap();
    assert_eq!(info.status, TxStatus::Rejected);
    let receipt = info.receipt.unwrap();
    assert_eq!(receipt.reason.as_deref(), Some(reason.to_string().as_str()));
    assert_eq!(receipt.reason_code.as_deref(), Some("bad_nonce"));

    let pending = Hash::digest(b"pending");
    let evicted = Hash::digest(b"evicted");
    fixture.node.pending.lock().unwrap().extend([
        (pending, PendingStatus::Pending),
        (
            evicted,
            PendingStatus::Evicted {
                reason: "replaced".into(),
            },
        ),
    ]);
    assert_eq!(
        client.tx_get(&pending).await.unwrap().status,
        TxStatus::Pending
    );
    let info = client.tx_get(&evicted).await.unwrap();
    assert_eq!(
        (info.status, info.reason.as_deref()),
        (TxStatus::Evicted, Some("replaced"))
    );
    let info = client.tx_get(&Hash::digest(b"never")).await.unwrap();
    assert_eq!(info.status, TxStatus::Unknown);
    assert_eq!((info.height, info.receipt), (None, None));
}

#[tokio::test]
async fn tx_proof_verifies_offline_up_to_the_certificate() {
    let mut fixture = Fixture::start(1, 5).await;
    // Three blocks committed by one certificate: a proof for the first block must
    // carry all three headers.
    fixture.commit_blocks(3);
    let client = fixture.http().await;
    let tx = fixture.store.block_at(2).unwrap().unwrap().txs[3].clone();

    let proof = client.tx_proof(&tx.hash()).await.unwrap();
    assert_eq!(Transaction::from_wire(&proof.tx.0).unwrap(), tx);
    assert_eq!(Hash::digest(&proof.tx.0), proof.tx_hash.0);
    assert_eq!((proof.height, proof.index, proof.leaf_count), (2, 3, 5));
    assert_eq!(proof.certificate_height, 4);

    let headers: Vec<BlockHeader> = proof
        .headers
        .iter()
        .map(|h| BlockHeader::from_wire(&h.0).unwrap())
        .collect();
    assert_eq!(headers.len(), 3);
    let merkle = MerkleProof {
        index: u64::from(proof.index),
        leaf_count: proof.leaf_count,
        siblings: proof.siblings.iter().map(|h| h.0).collect(),
    };
    merkle
        .verify(&proof.tx_hash.0, &headers[0].payload_root)
        .unwrap();
    assert!(
        merkle
            .verify(&Hash::digest(b"other"), &headers[0].payload_root)
            .is_err()
    );
    for pair in headers.windows(2) {
        assert_eq!(pair[1].parent, pair[0].id());
    }
    let certificate = QuorumCert::from_wire(&proof.certificate.0).unwrap();
    certificate
        .verify(&ChainBuilder::chain_id(), &ChainBuilder::validator_set())
        .unwrap();
    assert_eq!(
        certificate.data.commits(),
        Some((headers[2].id(), headers[2].round))
    );
    assert_eq!(certificate.data.height, headers[2].height + 1);
    assert_eq!(headers[2].height, proof.certificate_height);
}

#[tokio::test]
async fn chain_get_commit_names_the_covering_certificate() {
    let mut fixture = Fixture::start(1, 0).await;
    fixture.commit_blocks(2);
    let client = fixture.http().await;
    let commit = client.chain_get_commit(2).await.unwrap();
    let header = fixture.store.header_at(2).unwrap().unwrap();
    assert_eq!((commit.height, commit.certificate_height), (2, 3));
    assert_eq!(
        (commit.block_id.0, commit.round),
        (header.id(), header.round)
    );
    let (at, stored) = fixture.store.certificate_covering(2).unwrap().unwrap();
    assert_eq!(at, 3);
    assert_eq!(commit.certificate.0, stored.to_wire());
    assert_eq!(commit.certified_block_id.0, stored.block_id());
    assert_eq!(commit.certified_round, stored.round());
    assert_eq!(commit.signers, vec![0, 1, 2]);
    assert_eq!(
        client.chain_get_commit(1).await.unwrap().certificate_height,
        1
    );
}

#[tokio::test]
async fn state_and_accounts_match_the_store() {
    let fixture = Fixture::start(2, 3).await;
    let client = fixture.http().await;
    let entry = client.state_get(b"key/4").await.unwrap();
    assert_eq!(entry.value.unwrap().0, 4u64.to_le_bytes().to_vec());
    assert_eq!((entry.key.0, entry.height), (b"key/4".to_vec(), 2));
    assert_eq!(client.state_get(b"key/99").await.unwrap().value, None);

    let account = client
        .account_get(&ChainBuilder::sender())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.role, Some(RoleName::Writer));
    assert_eq!((account.nonce, account.balance), (6, 0));
    let stranger = SecretKey::from_seed(&[77; 32]).public();
    assert_eq!(client.account_get(&stranger).await.unwrap(), None);
}

#[tokio::test]
async fn validators_health_peers_and_version() {
    let fixture = Fixture::start(1, 0).await;
    let client = fixture.http().await;

    let validators = client.validators_list().await.unwrap();
    assert_eq!(validators.chain_id, HexHash(fixture.genesis.chain_id().0));
    assert_eq!(validators.quorum, 3);
    let keys: Vec<_> = validators
        .validators
        .iter()
        .map(|v| v.consensus_key.0)
        .collect();
    let expected: Vec<_> = ChainBuilder::validator_keys()
        .iter()
        .map(SecretKey::public)
        .collect();
    assert_eq!(keys, expected);
    assert_eq!(validators.validators[2].id, 2);
    assert_eq!(validators.validators[2].name, "v2");

    let health = client.system_health().await.unwrap();
    assert!(health.healthy);
    assert_eq!(
        (health.height, health.round, health.mempool_size),
        (1, 42, 7)
    );
    fixture.node.health.lock().unwrap().connected_peers = 1;
    assert!(!client.system_health().await.unwrap().healthy);
    fixture.node.health.lock().unwrap().connected_peers = 2;
    assert!(client.system_health().await.unwrap().healthy);
    fixture.node.health.lock().unwrap().syncing = true;
    let health = client.system_health().await.unwrap();
    assert!(!health.healthy && health.syncing);

    let peers = client.system_peers().await.unwrap();
    assert_eq!(peers.len(), 4);
    assert!(!peers[3].connected && peers[0].connected);

    let version = client.system_version().await.unwrap();
    assert_eq!(version.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        (version.protocol, version.chain_name.as_str()),
        (1, "cairn-rpc-test")
    );

    assert_eq!(fixture.metrics.requests("system_health", "ok"), 4);
}
