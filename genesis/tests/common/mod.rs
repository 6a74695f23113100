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
