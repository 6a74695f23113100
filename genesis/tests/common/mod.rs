//! Fixtures shared by the integration tests: a valid n = 4 genesis from fixed seeds.
#![allow(dead_code)]

use std::time::{Duration, UNIX_EPOCH};

use cairn_crypto::{PublicKey, SecretKey};
use cairn_genesis::{AccountEntry, GenesisDoc, GenesisError, ValidatorEntry, network_peer_id};
use cairn_types::Role;

/// 2026-11-23T00:00:00Z.
pub const GENESIS_MS: u64 = 1_795_392_000_000;

/// Validator `i`'s consensus key.
pub fn consensus_key(i: u8) -> PublicKey {
    SecretKey::from_seed(&[i + 1; 32]).public()
}

/// Validator `i`'s network key.
pub fn network_key(i: u8) -> PublicKey {
    SecretKey::from_seed(&[i + 101; 32]).public()
}

/// An account key.
pub fn account_key(i: u8) -> PublicKey {
    SecretKey::from_seed(&[i + 201; 32]).public()
}

/// Validator `i` at 127.0.0.1:30400+i.
pub fn validator(i: u8) -> ValidatorEntry {
    ValidatorEntry {
        name: format!("v{i}"),
        consensus_key: consensus_key(i),
        peer_id: network_peer_id(&network_key(i)).to_string(),
        address: format!("/ip4/127.0.0.1/tcp/{}", 30400 + u16::from(i)),
    }
}

/// A valid genesis with four validators and three accounts (admin, writer, reader).
pub fn valid_doc() -> GenesisDoc {
    let mut doc = GenesisDoc::new("cairn-test", UNIX_EPOCH + Duration::from_millis(GENESIS_MS));
    doc.validators = (0..4).map(validator).collect();
    doc.accounts = vec![
        AccountEntry {
            name: Some("alice".into()),
            public_key: account_key(0),
            role: Role::Admin,
            balance: 1_000_000,
        },
        AccountEntry {
            name: Some("bob".into()),
            public_key: account_key(1),
            role: Role::Writer,
            balance: 500,
        },
        AccountEntry {
            name: None,
            public_key: account_key(2),
            role: Role::Reader,
            balance: 0,
        },
    ];
    doc
}

/// The fields named by the problems of a failed validation (panics if it passed).
pub fn problem_fields(doc: &GenesisDoc) -> Vec<String> {
    match doc.validate() {
        Ok(_) => panic!("validation passed"),
        Err(GenesisError::Invalid { problems }) => problems.into_iter().map(|p| p.field).collect(),
        Err(other) => panic!("unexpected error {other}"),
    }
}

/// The only problem of a failed validation, as "field: message" (panics otherwise).
pub fn only_problem(doc: &GenesisDoc) -> (String, String) {
    match doc.validate() {
        Err(GenesisError::Invalid { problems }) if problems.len() == 1 => {
            (problems[0].field.clone(), problems[0].message.clone())
        }
        Err(GenesisError::Invalid { problems }) => {
            panic!("expected one problem, got {problems:#?}")
        }
        Ok(_) => panic!("validation passed"),
        Err(other) => panic!("unexpected error {other}"),
    }
}

/// The canonical bytes exactly as `docs/GENESIS.md` describes them, written out by
/// hand (independently of the crate's `Encode` derive). Valid for the small documents
/// used here: every string, list and peer id is shorter than 64, so each SCALE compact
/// length is the single byte `len << 2`.
pub fn documented_canonical_bytes(doc: &GenesisDoc) -> Vec<u8> {
    fn compact(len: usize) -> u8 {
        assert!(len < 64);
        (len as u8) << 2
    }
    fn string(out: &mut Vec<u8>, s: &str) {
        out.push(compact(s.len()));
        out.extend_from_slice(s.as_bytes());
    }
    let genesis = doc.validate().unwrap();
    let mut out = Vec::new();
    string(&mut out, &doc.chain_name);
    out.extend_from_slice(&genesis.genesis_time_unix_ms().to_le_bytes());
    let p = &doc.params;
    for v in [
        p.round_timeout_ms,
        p.max_round_timeout_ms,
        p.heartbeat_ms,
        p.max_block_txs,
        p.max_block_bytes,
        p.max_tx_bytes,
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.push(compact(doc.validators.len()));
    for (v, peer) in doc.validators.iter().zip(genesis.peer_ids()) {
        string(&mut out, &v.name);
        out.extend_from_slice(v.consensus_key.as_bytes());
        let peer_bytes = peer.to_bytes();
        out.push(compact(peer_bytes.len()));
        out.extend_from_slice(&peer_bytes);
        string(
            &mut out,
            &v.address
                .parse::<multiaddr::Multiaddr>()
                .unwrap()
                .to_string(),
        );
    }
    out.push(compact(doc.accounts.len()));
    for a in &doc.accounts {
        match &a.name {
            None => out.push(0),
            Some(name) => {
                out.push(1);
                string(&mut out, name);
            }
        }
        out.extend_from_slice(a.public_key.as_bytes());
        out.push(match a.role {
            Role::Reader => 0,
            Role::Writer => 1,
            Role::Admin => 2,
        });
        out.extend_from_slice(&a.balance.to_le_bytes());
    }
    out
}

/// blake3 of the domain tag and [`documented_canonical_bytes`].
pub fn documented_hash(doc: &GenesisDoc) -> cairn_crypto::Hash {
    cairn_crypto::Hash::digest_parts(&[b"cairn/genesis/v1", &documented_canonical_bytes(doc)])
}

/// Lowercase hex.
pub fn to_hex(bytes: impl AsRef<[u8]>) -> String {
    bytes.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
