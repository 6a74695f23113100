//! `tx --prove` against a real server: a genuine proof verifies against the trust root
//! alone; a proof tampered in any one way is rejected with the error naming it, also
//! when a node serves it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cairn_crypto::{Hash, SecretKey};
use cairn_explorer::cli::ExplorerCommand;
use cairn_explorer::prove::{ProofFault, verify_tx_proof};
use cairn_explorer::{ExplorerError, TrustRoot};
use cairn_rpc::types::TxProof;
use cairn_rpc::{Client, Hex};
use cairn_storage::schema::{CF_COMMITS, height_key};
use cairn_storage::testing::ChainBuilder;
use cairn_types::{BlockHeader, BoundedVec, ChainId, QuorumCert, ValidatorSet, VoteData, Wire};
use common::*;

/// 7 blocks, 3 transactions each, certificates at heights 1, 4, 5 and 7: a transaction
/// of block 2 is proved by the headers 2, 3, 4 and the certificate of height 4.
const COMMITS: [usize; 4] = [1, 3, 1, 2];

struct Proofs {
    _dir: tempfile::TempDir,
    served: Served,
    client: Client,
}

impl Proofs {
    async fn start() -> Proofs {
        let dir = chain_dir(&COMMITS, 3);
        let served = serve(dir.path()).await;
        let client = Client::connect(&served.url).await.unwrap();
        Proofs {
            _dir: dir,
            served,
            client,
        }
    }

    fn tx_hash(&self, height: u64, index: usize) -> Hash {
        self.served.store.block_at(height).unwrap().unwrap().txs[index].hash()
    }

    async fn proof(&self, height: u64, index: usize) -> (Hash, TxProof) {
        let hash = self.tx_hash(height, index);
        (hash, self.client.tx_proof(&hash).await.unwrap())
    }
}

/// The fault of `proof` for `hash` under the test trust root.
fn fault(proof: &TxProof, hash: &Hash) -> ProofFault {
    verify_tx_proof(proof, hash, &trust()).unwrap_err()
}

fn header(bytes: &Hex) -> BlockHeader {
    BlockHeader::from_wire(&bytes.0).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_genuine_proof_verifies_against_the_genesis_alone() {
    let proofs = Proofs::start().await;
    let (hash, proof) = proofs.proof(2, 1).await;
    assert_eq!(proof.headers.len(), 3);
    let proved = verify_tx_proof(&proof, &hash, &trust()).unwrap();
    assert_eq!(
        (proved.height, proved.index, proved.certificate_height),
        (2, 1, 4)
    );
    assert_eq!(proved.tx.hash(), hash);
    assert_eq!(
        proved.block_id.0,
        proofs.served.store.block_id_at(2).unwrap().unwrap()
    );
    assert_eq!(proved.signers, vec![0, 1, 2]);

    // Through the command: text and JSON.
    let explorer = online(&proofs.served.url, false).await;
    let command = ExplorerCommand::Tx {
        hash: hash.to_string(),
        prove: true,
    };
    let text = output(&explorer, command.clone()).await.unwrap();
    assert!(text.contains("status:    committed"), "{text}");
    assert!(
        text.contains("outcome:   applied\nproof:     VALID"),
        "{text}"
    );
    assert!(text.contains("headers 2..=4 are consecutive"), "{text}");
    let json = output(&online(&proofs.served.url, true).await, command)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["status"], "committed");
    assert_eq!(json["proof"]["verified"], true);
    assert_eq!(json["proof"]["certificate_height"], 4);
    assert_eq!(json["proof"]["index"], 1);
    assert_eq!(json["proof"]["nonce"], 4);
    assert_eq!(json["proof"]["op"]["type"], "put");

    // A transaction whose block carries its own certificate, and the last of a block.
    let (hash, proof) = proofs.proof(5, 2).await;
    assert_eq!(proof.headers.len(), 1);
    verify_tx_proof(&proof, &hash, &trust()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_transactions_and_merkle_paths_are_rejected() {
    let proofs = Proofs::start().await;
    let (hash, genuine) = proofs.proof(2, 1).await;

    // Wrong transaction bytes: another transaction of the same block.
    let (_, other) = proofs.proof(2, 2).await;
    let mut proof = genuine.clone();
    proof.tx = other.tx.clone();
    assert!(matches!(
        fault(&proof, &hash),
        ProofFault::TxHashMismatch { .. }
    ));

    // The proof names another transaction.
    let mut proof = genuine.clone();
    proof.tx_hash = other.tx_hash;
    assert_eq!(
        fault(&proof, &hash),
        ProofFault::OtherTransaction {
            stated: other.tx_hash.0
        }
    );

    // A sibling flipped.
    let mut proof = genuine.clone();
    proof.siblings[0].0.0[0] ^= 0x01;
    assert!(matches!(
        fault(&proof, &hash),
        ProofFault::NotInPayload { .. }
    ));

    // The leaf index changed (inside and outside the tree).
    for index in [0, 2, 3] {
        let mut proof = genuine.clone();
        proof.index = index;
        assert!(
            matches!(fault(&proof, &hash), ProofFault::NotInPayload { index: i, .. } if i == u64::from(index)),
            "index {index}"
        );
    }

    // The leaf count changed (to one the path cannot fit).
    let mut proof = genuine.clone();
    proof.leaf_count = 2;
    assert!(matches!(
        fault(&proof, &hash),
        ProofFault::NotInPayload { leaf_count: 2, .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_headers_are_rejected() {
    let proofs = Proofs::start().await;
    let (hash, genuine) = proofs.proof(2, 1).await;

    // A header swapped for another block's.
    let (_, later) = proofs.proof(6, 0).await;
    let mut proof = genuine.clone();
    proof.headers[1] = later.headers[0].clone();
    assert_eq!(
        fault(&proof, &hash),
        ProofFault::HeaderHeight {
            position: 1,
            expected: 3,
            found: 6
        }
    );

    // A header altered: the next one no longer names it.
    let mut proof = genuine.clone();
    let mut altered = header(&proof.headers[1]);
    altered.timestamp_ms += 1;
    proof.headers[1] = Hex(altered.to_wire());
    assert!(matches!(
        fault(&proof, &hash),
        ProofFault::ParentLink { height: 4, expected, .. } if expected == altered.id()
    ));

    // The last header altered: the certificate is for a child of the original.
    let mut proof = genuine.clone();
    let mut altered = header(&proof.headers[2]);
    altered.state_root = Hash::digest(b"another state");
    proof.headers[2] = Hex(altered.to_wire());
    assert!(matches!(
        fault(&proof, &hash),
        ProofFault::CertificateForOtherBlock { last_header, .. } if last_header == altered.id()
    ));

    // The first header altered (its payload root): the second no longer names it.
    let mut proof = genuine.clone();
    let mut altered = header(&proof.headers[0]);
    altered.payload_root = Hash::digest(b"another payload");
    proof.headers[0] = Hex(altered.to_wire());
    assert!(matches!(
        fault(&proof, &hash),
        ProofFault::ParentLink { height: 3, .. }
    ));

    // A header dropped, garbage instead of a header, no headers at all.
    let mut proof = genuine.clone();
    proof.headers.remove(1);
    assert!(matches!(
        fault(&proof, &hash),
        ProofFault::HeaderHeight { position: 1, .. }
    ));
    let mut proof = genuine.clone();
    proof.headers[2] = Hex(vec![0x07; 10]);
    assert!(matches!(
        fault(&proof, &hash),
        ProofFault::HeaderUndecodable { position: 2, .. }
    ));
    let mut proof = genuine.clone();
    proof.headers.clear();
    assert_eq!(fault(&proof, &hash), ProofFault::NoHeaders);

    // The proof says the certificate is for another height than the headers reach.
    let mut proof = genuine.clone();
    proof.certificate_height = 5;
    assert_eq!(
        fault(&proof, &hash),
        ProofFault::CertificateHeight {
            stated: 5,
            last_header: 4
        }
    );

    // Headers of another chain (the trust root names a different one).
    let other_chain = TrustRoot {
        chain: ChainId(Hash::digest(b"another chain")),
        validators: trust().validators,
        genesis_state: None,
    };
    assert!(matches!(
        verify_tx_proof(&genuine, &hash, &other_chain).unwrap_err(),
        ProofFault::WrongChain { height: 2, .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_certificates_are_rejected() {
    let proofs = Proofs::start().await;
    let (hash, genuine) = proofs.proof(2, 1).await;
    let certificate = QuorumCert::from_wire(&genuine.certificate.0).unwrap();
    let last = header(&genuine.headers[2]);
    let builder = ChainBuilder::new(0);
    let with_certificate = |certificate: &QuorumCert| {
        let mut proof = genuine.clone();
        proof.certificate = Hex(certificate.to_wire());
        proof
    };

    // A signature corrupted.
    let mut forged = certificate.clone();
    let mut signatures = forged.signatures.clone().into_inner();
    signatures[2].1.0[10] ^= 0x80;
    forged.signatures = BoundedVec::new(signatures).unwrap();
    assert!(matches!(
        fault(&with_certificate(&forged), &hash),
        ProofFault::CertificateInvalid { .. }
    ));

    // Too few signers.
    let mut short = certificate.clone();
    let signatures = short.signatures.clone().into_inner();
    short.signatures = BoundedVec::new(signatures[..2].to_vec()).unwrap();
    let ProofFault::CertificateInvalid { reason } = fault(&with_certificate(&short), &hash) else {
        panic!("expected an invalid certificate");
    };
    assert!(reason.contains("a quorum is 3"), "{reason}");

    // A valid certificate of another block (the one proving height 1).
    let (_, first) = proofs.proof(1, 0).await;
    let mut proof = genuine.clone();
    proof.certificate = first.certificate.clone();
    assert!(matches!(
        fault(&proof, &hash),
        ProofFault::CertificateForOtherBlock { last_header, .. } if last_header == last.id()
    ));

    // Really signed, but proving no commit: a child two rounds later (2-chain rule) ...
    let skipped = builder.certify(VoteData {
        round: last.round + 2,
        ..certificate.data
    });
    assert_eq!(
        fault(&with_certificate(&skipped), &hash),
        ProofFault::NotCommitting {
            round: last.round + 2,
            parent_round: last.round
        }
    );
    // ... or naming the parent's round or its own height wrongly.
    let wrong_round = builder.certify(VoteData {
        parent_round: last.round - 1,
        round: last.round,
        ..certificate.data
    });
    assert!(matches!(
        fault(&with_certificate(&wrong_round), &hash),
        ProofFault::CertificateParentMismatch { .. }
    ));

    // Garbage, and a quorum of validators other than the genesis ones.
    let mut proof = genuine.clone();
    proof.certificate = Hex(vec![1, 2, 3]);
    assert!(matches!(
        fault(&proof, &hash),
        ProofFault::CertificateUndecodable { .. }
    ));
    let strangers = TrustRoot {
        chain: trust().chain,
        validators: ValidatorSet::new(
            (20..24u8)
                .map(|i| SecretKey::from_seed(&[i; 32]).public())
                .collect(),
        )
        .unwrap(),
        genesis_state: None,
    };
    assert!(matches!(
        verify_tx_proof(&genuine, &hash, &strangers).unwrap_err(),
        ProofFault::CertificateInvalid { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_serving_a_wrong_proof_is_caught() {
    // The node's store has the certificate of height 5 where height 4's should be: its
    // proofs for blocks 2 to 4 end in a certificate for another block.
    let original = chain_dir(&COMMITS, 3);
    let dir = copy_dir(original.path());
    tamper(dir.path(), |store| {
        let other = store.raw_get(CF_COMMITS, &height_key(5)).unwrap().unwrap();
        store.raw_put(CF_COMMITS, &height_key(4), &other).unwrap();
    });
    let served = serve(dir.path()).await;
    let hash = served.store.block_at(3).unwrap().unwrap().txs[0].hash();
    let explorer = online(&served.url, false).await;
    let command = ExplorerCommand::Tx {
        hash: format!("0x{hash}"),
        prove: true,
    };
    let error = output(&explorer, command).await.unwrap_err();
    match &error {
        ExplorerError::InvalidProof {
            tx,
            fault: ProofFault::CertificateForOtherBlock { .. },
        } => assert_eq!(*tx, hash),
        other => panic!("expected an invalid proof, got {other:?}"),
    }
    assert!(error.to_string().contains("INVALID"), "{error}");

    // Without --prove the node's word is shown as it is.
    let plain = ExplorerCommand::Tx {
        hash: hash.to_string(),
        prove: false,
    };
    assert!(
        output(&explorer, plain)
            .await
            .unwrap()
            .contains("committed")
    );

    // --prove needs the genesis.
    let untrusting = cairn_explorer::Explorer::new(
        cairn_explorer::Source::connect(&served.url).await.unwrap(),
        None,
        false,
    );
    let command = ExplorerCommand::Tx {
        hash: hash.to_string(),
        prove: true,
    };
    assert!(matches!(
        output(&untrusting, command).await.unwrap_err(),
        ExplorerError::GenesisRequired {
            command: "tx --prove"
        }
    ));
}
