//! Validation: a good n = 4 genesis, and one test per kind of bad input, each checking
//! that the problem names the offending field.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cairn_crypto::SecretKey;
use cairn_genesis::{GenesisDoc, GenesisError, network_peer_id};
use cairn_types::{Role, ValidatorId, limits};
use common::*;
use libp2p_identity::PeerId;

#[test]
fn n4f1_valid_genesis() {
    let doc = valid_doc();
    doc.check_draft().unwrap();
    let genesis = doc.validate().unwrap();
    assert_eq!(genesis.n(), 4);
    assert_eq!(genesis.max_faulty(), 1);
    assert_eq!(genesis.quorum(), 3);
    assert_eq!(genesis.genesis_time_unix_ms(), GENESIS_MS);
    assert_eq!(genesis.doc(), &doc);
    for i in 0..4u8 {
        assert_eq!(
            genesis.validators().key(ValidatorId(u16::from(i))),
            Some(&consensus_key(i))
        );
    }
    let expected: Vec<PeerId> = (0..4).map(|i| network_peer_id(&network_key(i))).collect();
    assert_eq!(genesis.peer_ids(), expected);
    assert_eq!(doc.validate().unwrap().chain_id(), genesis.chain_id());
}

#[test]
fn one_validator_is_enough() {
    let mut doc = valid_doc();
    doc.validators.truncate(1);
    let genesis = doc.validate().unwrap();
    assert_eq!(
        (genesis.n(), genesis.max_faulty(), genesis.quorum()),
        (1, 0, 1)
    );
}

#[test]
fn duplicate_consensus_key() {
    let mut doc = valid_doc();
    doc.validators[2].consensus_key = doc.validators[0].consensus_key;
    let (field, message) = only_problem(&doc);
    assert_eq!(field, "validators[2].consensus_key");
    assert!(message.contains("validators[0]"), "{message}");
}

#[test]
fn duplicate_peer_id() {
    let mut doc = valid_doc();
    doc.validators[3].peer_id = doc.validators[1].peer_id.clone();
    let (field, message) = only_problem(&doc);
    assert_eq!(field, "validators[3].peer_id");
    assert!(message.contains("validators[1]"), "{message}");
}

#[test]
fn malformed_peer_id() {
    for bad in [
        "",
        "not a peer id",
        "12D3KooWxxxxxxxx",
        "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N0",
    ] {
        let mut doc = valid_doc();
        doc.validators[1].peer_id = bad.to_string();
        let (field, _) = only_problem(&doc);
        assert_eq!(field, "validators[1].peer_id", "{bad:?}");
    }
}

#[test]
fn hashed_peer_id_is_refused() {
    // A SHA2-256 peer id ("Qm…", as RSA keys get) does not embed its public key.
    let mut bytes = vec![0x12, 0x20];
    bytes.extend_from_slice(&[7u8; 32]);
    let hashed = PeerId::from_bytes(&bytes).unwrap().to_string();
    assert!(hashed.starts_with("Qm"), "{hashed}");
    let mut doc = valid_doc();
    doc.validators[0].peer_id = hashed;
    let (field, message) = only_problem(&doc);
    assert_eq!(field, "validators[0].peer_id");
    assert!(message.contains("ed25519"), "{message}");
}

#[test]
fn non_ed25519_identity_peer_id_is_refused() {
    // Identity multihash of a protobuf secp256k1 public key (KeyType 2, 33 bytes).
    let mut proto = vec![0x08, 0x02, 0x12, 0x21, 0x02];
    proto.extend_from_slice(&[9u8; 32]);
    let mut bytes = vec![0x00, proto.len() as u8];
    bytes.extend_from_slice(&proto);
    let mut doc = valid_doc();
    doc.validators[2].peer_id = PeerId::from_bytes(&bytes).unwrap().to_string();
    let (field, _) = only_problem(&doc);
    assert_eq!(field, "validators[2].peer_id");
}

#[test]
fn network_key_must_not_be_a_consensus_key() {
    let mut doc = valid_doc();
    doc.validators[1].peer_id = network_peer_id(&consensus_key(1)).to_string();
    let (field, message) = only_problem(&doc);
    assert_eq!(field, "validators[1].peer_id");
    assert!(message.contains("own consensus key"), "{message}");

    let mut doc = valid_doc();
    doc.validators[1].peer_id = network_peer_id(&consensus_key(3)).to_string();
    let (field, message) = only_problem(&doc);
    assert_eq!(field, "validators[1].peer_id");
    assert!(message.contains("validators[3]"), "{message}");
}

#[test]
fn bad_address() {
    for bad in [
        "",
        "127.0.0.1:30400",
        "/ip4/127.0.0.1",
        "/ip4/127.0.0.1/tcp/0",
        "/ip4/0.0.0.0/tcp/30400",
        "/ip4/127.0.0.1/udp/30400",
        "/ip4/127.0.0.1/tcp/30400/ws",
        "/ip4/300.0.0.1/tcp/30400",
        "/memory/1234",
    ] {
        let mut doc = valid_doc();
        doc.validators[2].address = bad.to_string();
        let (field, _) = only_problem(&doc);
        assert_eq!(field, "validators[2].address", "{bad:?}");
    }
}

#[test]
fn good_addresses() {
    let mut doc = valid_doc();
    let peer0 = doc.validators[0].peer_id.clone();
    doc.validators[0].address = format!("/ip4/10.0.0.1/tcp/30400/p2p/{peer0}");
    doc.validators[1].address = "/ip6/fd00::1/udp/30400/quic-v1".into();
    doc.validators[2].address = "/dns4/v2.example.com/tcp/30400".into();
    doc.validators[3].address = "/dns/v3.example.com/udp/9/quic-v1".into();
    doc.validate().unwrap();
}

#[test]
fn p2p_suffix_must_match_peer_id() {
    let mut doc = valid_doc();
    let other = network_peer_id(&network_key(9));
    doc.validators[1].address = format!("/ip4/127.0.0.1/tcp/30401/p2p/{other}");
    let (field, message) = only_problem(&doc);
    assert_eq!(field, "validators[1].address");
    assert!(message.contains(&other.to_string()), "{message}");
}

#[test]
fn duplicate_address() {
    let mut doc = valid_doc();
    doc.validators[3].address = doc.validators[0].address.clone();
    let (field, _) = only_problem(&doc);
    assert_eq!(field, "validators[3].address");

    // The same endpoint with a /p2p suffix is still the same endpoint.
    let mut doc = valid_doc();
    let peer3 = doc.validators[3].peer_id.clone();
    doc.validators[3].address = format!("{}/p2p/{peer3}", doc.validators[0].address);
    let (field, _) = only_problem(&doc);
    assert_eq!(field, "validators[3].address");
}

#[test]
fn validator_names_must_be_present_and_unique() {
    let mut doc = valid_doc();
    doc.validators[0].name = String::new();
    doc.validators[3].name = "v1".into();
    assert_eq!(
        problem_fields(&doc),
        ["validators[0].name", "validators[3].name"]
    );
}

#[test]
fn no_validators() {
    let mut doc = valid_doc();
    doc.validators.clear();
    let (field, _) = only_problem(&doc);
    assert_eq!(field, "validators");
}

#[test]
fn too_many_validators() {
    let mut doc = valid_doc();
    doc.validators = (0..=limits::MAX_VALIDATORS)
        .map(|i| {
            let seed = |tag: u8| {
                let mut s = [tag; 32];
                s[..2].copy_from_slice(&(i as u16).to_le_bytes());
                s
            };
            cairn_genesis::ValidatorEntry {
                name: format!("v{i}"),
                consensus_key: SecretKey::from_seed(&seed(1)).public(),
                peer_id: network_peer_id(&SecretKey::from_seed(&seed(2)).public()).to_string(),
                address: format!("/ip4/127.0.0.1/tcp/{}", 20000 + i),
            }
        })
        .collect();
    let (field, message) = only_problem(&doc);
    assert_eq!(field, "validators");
    assert!(message.contains("257"), "{message}");
}

#[test]
fn no_admin() {
    let mut doc = valid_doc();
    doc.accounts[0].role = Role::Writer;
    let (field, message) = only_problem(&doc);
    assert_eq!(field, "accounts");
    assert!(message.contains("admin"), "{message}");
}

#[test]
fn duplicate_account_key_and_name() {
    let mut doc = valid_doc();
    doc.accounts[2].public_key = doc.accounts[0].public_key;
    doc.accounts[2].name = Some("bob".into());
    assert_eq!(
        problem_fields(&doc),
        ["accounts[2].name", "accounts[2].public_key"]
    );
}

#[test]
fn empty_account_name_is_refused_but_absent_is_fine() {
    let mut doc = valid_doc();
    doc.accounts[1].name = Some(String::new());
    assert_eq!(problem_fields(&doc), ["accounts[1].name"]);
    doc.accounts[1].name = None;
    doc.validate().unwrap();
}

#[test]
fn total_balance_must_fit_in_u64() {
    let mut doc = valid_doc();
    doc.accounts[1].balance = u64::MAX;
    let (field, _) = only_problem(&doc);
    assert_eq!(field, "accounts");
}

#[test]
fn bad_chain_name() {
    for bad in ["", "Cairn", "cairn local", "cairn/x", "ü", &"x".repeat(65)] {
        let mut doc = valid_doc();
        doc.chain_name = bad.to_string();
        let (field, _) = only_problem(&doc);
        assert_eq!(field, "chain_name", "{bad:?}");
    }
    let mut doc = valid_doc();
    doc.chain_name = "a.b_c-9".into();
    doc.validate().unwrap();
}

#[test]
fn bad_genesis_time() {
    for bad in [
        "",
        "2026-11-23",
        "1999-12-31T00:00:00Z",
        "2026-11-23T00:00:00.5555Z",
    ] {
        let mut doc = valid_doc();
        doc.genesis_time = bad.to_string();
        let (field, _) = only_problem(&doc);
        assert_eq!(field, "genesis_time", "{bad:?}");
    }
}

#[test]
fn bad_params() {
    type Edit = fn(&mut cairn_genesis::Params);
    let cases: [(Edit, &str); 10] = [
        (|p| p.round_timeout_ms = 9, "params.round_timeout_ms"),
        (
            |p| p.max_round_timeout_ms = 999,
            "params.max_round_timeout_ms",
        ),
        (|p| p.heartbeat_ms = 0, "params.heartbeat_ms"),
        (|p| p.heartbeat_ms = 86_400_001, "params.heartbeat_ms"),
        (|p| p.max_block_txs = 0, "params.max_block_txs"),
        (
            |p| p.max_block_txs = limits::MAX_BLOCK_TXS as u64 + 1,
            "params.max_block_txs",
        ),
        (|p| p.max_tx_bytes = 199, "params.max_tx_bytes"),
        (
            |p| p.max_tx_bytes = limits::MAX_TX_BYTES as u64 + 1,
            "params.max_tx_bytes",
        ),
        (|p| p.max_block_bytes = 1000, "params.max_block_bytes"),
        (
            |p| p.max_block_bytes = limits::MAX_BLOCK_BYTES as u64 + 1,
            "params.max_block_bytes",
        ),
    ];
    for (edit, expected) in cases {
        let mut doc = valid_doc();
        edit(&mut doc.params);
        let (field, _) = only_problem(&doc);
        assert_eq!(field, expected);
    }
    // The limits themselves are allowed.
    let mut doc = valid_doc();
    doc.params.round_timeout_ms = 10;
    doc.params.max_round_timeout_ms = 10;
    doc.params.heartbeat_ms = 1;
    doc.params.max_block_txs = limits::MAX_BLOCK_TXS as u64;
    doc.params.max_tx_bytes = 200;
    doc.params.max_block_bytes = 200;
    doc.validate().unwrap();
    doc.params.max_tx_bytes = limits::MAX_TX_BYTES as u64;
    doc.params.max_block_bytes = limits::MAX_BLOCK_BYTES as u64;
    doc.validate().unwrap();
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut doc = valid_doc();
    doc.chain_name = "Bad Name".into();
    doc.params.max_block_txs = 0;
    doc.validators[1].consensus_key = doc.validators[0].consensus_key;
    doc.validators[2].peer_id = "garbage".into();
    doc.validators[3].address = "/ip4/127.0.0.1".into();
    doc.accounts[0].role = Role::Reader;
    let err = doc.validate().unwrap_err();
    let fields: Vec<&str> = err.problems().iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "chain_name",
            "params.max_block_txs",
            "validators[1].consensus_key",
            "validators[2].peer_id",
            "validators[3].address",
            "accounts",
        ]
    );
    let shown = err.to_string();
    assert!(shown.starts_with("chain_name: "), "{shown}");
    assert!(shown.ends_with(" (and 5 more problems)"), "{shown}");
}

#[test]
fn check_draft_accepts_what_validate_still_needs() {
    let empty = GenesisDoc::new("cairn-local", std::time::SystemTime::now());
    empty.check_draft().unwrap();
    assert_eq!(problem_fields(&empty), ["validators", "accounts"]);

    // Everything else is still checked in a draft.
    let mut draft = empty.clone();
    draft.validators.push(validator(0));
    draft.validators.push(validator(0));
    let err = draft.check_draft().unwrap_err();
    let fields: Vec<&str> = err.problems().iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "validators[1].name",
            "validators[1].consensus_key",
            "validators[1].peer_id",
            "validators[1].address",
        ]
    );
    assert!(matches!(err, GenesisError::Invalid { .. }));
}
