//! Checks the test vectors in `docs/PROTOCOL.md` against the code, so the document
//! cannot drift from what the node does.
//!
//! Each vector in the document is a heading `#### Vector: NAME` followed by a fenced
//! `text` block of `field = hex` lines. `cargo test -p cairn-types --test
//! protocol_vectors -- --ignored --nocapture` prints freshly computed blocks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_crypto::{Domain, Hash, MerkleTree, SecretKey};
use cairn_types::*;
use parity_scale_codec::Encode;

type Fields = Vec<(&'static str, String)>;

fn seed(first: u8) -> [u8; 32] {
    std::array::from_fn(|i| first.wrapping_add(i as u8))
}

fn chain() -> ChainId {
    ChainId(Hash::digest(b"cairn protocol test vectors"))
}

fn alice() -> SecretKey {
    SecretKey::from_seed(&seed(0x01))
}

fn bob() -> SecretKey {
    SecretKey::from_seed(&seed(0x41))
}

fn put_tx() -> Transaction {
    let payload = TxPayload {
        chain_id: chain(),
        sender: alice().public(),
        nonce: 0,
        op: Op::Put {
            key: BoundedBytes::new(b"greeting".to_vec()).unwrap(),
            value: BoundedBytes::new(b"hello, cairn".to_vec()).unwrap(),
        },
    };
    Transaction::sign(payload, &alice())
}

fn transfer_tx() -> Transaction {
    let payload = TxPayload {
        chain_id: chain(),
        sender: alice().public(),
        nonce: 1,
        op: Op::Transfer {
            to: bob().public(),
            amount: 1_000_000,
        },
    };
    Transaction::sign(payload, &alice())
}

fn tx_fields(tx: &Transaction, key_seed: [u8; 32]) -> Fields {
    let payload = tx.payload.encode();
    vec![
        ("secret_seed", hex::encode(key_seed)),
        ("public_key", tx.payload.sender.to_hex()),
        ("chain_id", chain().0.to_hex()),
        ("payload", hex::encode(&payload)),
        (
            "signing_bytes",
            hex::encode(Domain::Tx.signing_bytes(&payload)),
        ),
        ("signature", tx.signature.to_hex()),
        ("transaction", hex::encode(tx.encode())),
        ("tx_hash", tx.hash().to_hex()),
    ]
}

fn vectors() -> Vec<(&'static str, Fields)> {
    let put = put_tx();
    let transfer = transfer_tx();
    let hashes = [put.hash(), transfer.hash()];
    let tree = MerkleTree::new(&hashes);
    let proof = tree.proof(1).unwrap();

    let three: Vec<Hash> = (0u8..3).map(|i| Hash::digest(&[i])).collect();
    let tree3 = MerkleTree::new(&three);

    let header = BlockHeader {
        chain_id: chain(),
        height: 1,
        round: 1,
        parent: chain().0,
        payload_root: tree.root(),
        state_height: 0,
        state_root: Hash::ZERO,
        proposer: ValidatorId(1),
        timestamp_ms: 1_795_000_000_000,
        justify: QuorumCert::genesis(&chain()),
    };
    let vote_data = VoteData {
        block_id: header.id(),
        round: 1,
        height: 1,
        parent_id: chain().0,
        parent_round: 0,
    };
    let validator = SecretKey::from_seed(&seed(0x81));
    let vote = Vote::sign(&chain(), vote_data, ValidatorId(1), &validator);
    // The vote as a (one-signer) QC, a round-2 timeout on it, the TC of round 2, and a
    // round-3 timeout that carries that TC because round 3 does not follow the QC.
    let qc = QuorumCert::from_votes(vote_data, std::slice::from_ref(&vote)).unwrap();
    let timeout = Timeout::sign(&chain(), 2, qc.clone(), None, ValidatorId(1), &validator);
    let tc = TimeoutCert::from_timeouts(2, std::slice::from_ref(&timeout)).unwrap();
    let after_tc = Timeout::sign(
        &chain(),
        3,
        qc.clone(),
        Some(tc.clone()),
        ValidatorId(1),
        &validator,
    );
    let timeout_signing = |t: &Timeout| {
        hex::encode(Domain::Timeout.signing_bytes(&timeout_signing_bytes(
            &chain(),
            t.round,
            t.high_qc.round(),
        )))
    };

    vec![
        ("tx-put", tx_fields(&put, seed(0x01))),
        ("tx-transfer", {
            let mut fields = tx_fields(&transfer, seed(0x01));
            fields.push(("recipient", bob().public().to_hex()));
            fields
        }),
        (
            "merkle-two-transactions",
            vec![
                ("leaf_0", put.hash().to_hex()),
                ("leaf_1", transfer.hash().to_hex()),
                ("root", tree.root().to_hex()),
                ("proof_1", hex::encode(proof.encode())),
            ],
        ),
        (
            "merkle-three-leaves",
            vec![
                ("leaf_0", three[0].to_hex()),
                ("leaf_1", three[1].to_hex()),
                ("leaf_2", three[2].to_hex()),
                ("root", tree3.root().to_hex()),
                ("proof_2", hex::encode(tree3.proof(2).unwrap().encode())),
            ],
        ),
        (
            "merkle-empty",
            vec![("root", MerkleTree::root_of(&[]).to_hex())],
        ),
        (
            "block-header",
            vec![
                ("header", hex::encode(header.encode())),
                ("block_id", header.id().to_hex()),
            ],
        ),
        (
            "vote",
            vec![
                ("secret_seed", hex::encode(seed(0x81))),
                ("public_key", validator.public().to_hex()),
                (
                    "signing_bytes",
                    hex::encode(Domain::Vote.signing_bytes(&vote_data.signing_bytes(&chain()))),
                ),
                ("vote", hex::encode(vote.encode())),
            ],
        ),
        (
            "timeout",
            vec![
                ("quorum_cert", hex::encode(qc.encode())),
                ("signing_bytes", timeout_signing(&timeout)),
                ("timeout", hex::encode(timeout.encode())),
            ],
        ),
        (
            "timeout-cert",
            vec![
                ("timeout_cert", hex::encode(tc.encode())),
                ("signing_bytes", timeout_signing(&after_tc)),
                ("timeout", hex::encode(after_tc.encode())),
            ],
        ),
    ]
}

/// The heading of each vector in docs/PROTOCOL.md.
const VECTOR_HEADING: &str = "#### Vector: ";

fn render(name: &str, fields: &Fields) -> String {
    let mut out = format!("{VECTOR_HEADING}{name}\n\n```text\n");
    for (field, value) in fields {
        for chunk in value.as_bytes().chunks(96) {
            out.push_str(&format!(
                "{field:<13} = {}\n",
                std::str::from_utf8(chunk).unwrap()
            ));
        }
    }
    out.push_str("```\n");
    out
}

#[test]
fn protocol_doc_vectors_match_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROTOCOL.md");
    let doc = std::fs::read_to_string(path).expect("docs/PROTOCOL.md is readable");
    let parsed = cairn_crypto::testing::doc_vectors(&doc, VECTOR_HEADING);
    let expected = vectors();
    assert_eq!(
        parsed.keys().collect::<Vec<_>>(),
        {
            let mut names: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
            names.sort();
            names
        },
        "the document's vectors differ from the code's list"
    );
    for (name, fields) in expected {
        let doc_fields = &parsed[name];
        assert_eq!(doc_fields.len(), fields.len(), "vector {name}: field count");
        for (field, value) in fields {
            assert_eq!(
                doc_fields.get(field),
                Some(&value),
                "vector {name}, field {field}"
            );
        }
    }
}

#[test]
fn vector_transactions_decode_and_verify() {
    for tx in [put_tx(), transfer_tx()] {
        let decoded = Transaction::from_wire(&tx.encode()).unwrap();
        decoded.verify_signature().unwrap();
    }
}

/// The certificate vectors decode as what they claim to be, and their signatures are
/// real: no signature covers a signer's id, so with the vector key as validator 0 of a
/// one-validator set (quorum 1) the same certificates, renumbered, verify.
#[test]
fn vector_certificates_decode_and_verify() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROTOCOL.md");
    let doc =
        cairn_crypto::testing::doc_vectors(&std::fs::read_to_string(path).unwrap(), VECTOR_HEADING);
    let bytes = |vector: &str, field: &str| hex::decode(&doc[vector][field]).unwrap();
    let set = ValidatorSet::new(vec![SecretKey::from_seed(&seed(0x81)).public()]).unwrap();
    let rename = |id: &mut ValidatorId| *id = ValidatorId(0);
    let qc = QuorumCert::from_wire(&bytes("timeout", "quorum_cert")).unwrap();
    let timeout = Timeout::from_wire(&bytes("timeout", "timeout")).unwrap();
    let tc = TimeoutCert::from_wire(&bytes("timeout-cert", "timeout_cert")).unwrap();
    let after_tc = Timeout::from_wire(&bytes("timeout-cert", "timeout")).unwrap();
    assert_eq!(timeout.high_qc, qc);
    assert_eq!(*tc.high_qc, qc);
    assert_eq!(after_tc.last_tc.as_ref(), Some(&tc));
    let mut qc0 = qc.clone();
    qc0.signatures = BoundedVec::new(vec![(ValidatorId(0), qc.signatures[0].1)]).unwrap();
    qc0.verify(&chain(), &set).unwrap();
    let mut tc0 = tc.clone();
    *tc0.high_qc = qc0.clone();
    let mut entries = tc0.entries.clone().into_inner();
    rename(&mut entries[0].signer);
    tc0.entries = BoundedVec::new(entries).unwrap();
    tc0.verify(&chain(), &set).unwrap();
    let mut t0 = after_tc.clone();
    rename(&mut t0.signer);
    t0.high_qc = qc0;
    t0.last_tc = Some(tc0);
    t0.verify(&chain(), &set).unwrap();
}

#[test]
#[ignore = "prints the vectors for docs/PROTOCOL.md"]
fn print_vectors() {
    for (name, fields) in vectors() {
        println!("{}", render(name, &fields));
    }
}
