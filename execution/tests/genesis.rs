//! The genesis state comes from a real, validated genesis document.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, UNIX_EPOCH};

use cairn_crypto::SecretKey;
use cairn_execution::{StateChange, genesis_state, genesis_state_root};
use cairn_genesis::{AccountEntry, GenesisDoc, ValidatorEntry, network_peer_id};
use cairn_types::{AccountState, Role};

fn doc() -> GenesisDoc {
    let mut doc = GenesisDoc::new(
        "exec-test",
        UNIX_EPOCH + Duration::from_millis(1_795_392_000_000),
    );
    doc.validators = (0..4u8)
        .map(|i| ValidatorEntry {
            name: format!("v{i}"),
            consensus_key: SecretKey::from_seed(&[i + 1; 32]).public(),
            peer_id: network_peer_id(&SecretKey::from_seed(&[i + 101; 32]).public()).to_string(),
            address: format!("/ip4/127.0.0.1/tcp/{}", 30400 + u16::from(i)),
        })
        .collect();
    doc.accounts = vec![
        AccountEntry {
            name: Some("alice".into()),
            public_key: SecretKey::from_seed(&[201; 32]).public(),
            role: Role::Admin,
            balance: 1_000_000,
        },
        AccountEntry {
            name: None,
            public_key: SecretKey::from_seed(&[202; 32]).public(),
            role: Role::Reader,
            balance: 0,
        },
    ];
    doc
}

#[test]
fn genesis_state_lists_each_account_with_nonce_zero() {
    let genesis = doc().validate().unwrap();
    let (changes, root) = genesis_state(&genesis);
    assert_eq!(
        changes,
        vec![
            StateChange::Account {
                key: SecretKey::from_seed(&[201; 32]).public(),
                state: AccountState {
                    role: Some(Role::Admin),
                    balance: 1_000_000,
                    nonce: 0,
                },
            },
            StateChange::Account {
                key: SecretKey::from_seed(&[202; 32]).public(),
                state: AccountState {
                    role: Some(Role::Reader),
                    balance: 0,
                    nonce: 0,
                },
            },
        ]
    );
    assert_eq!(root, genesis_state_root(&genesis.chain_id(), &changes));
}

#[test]
fn the_genesis_root_depends_on_the_chain_and_the_accounts() {
    let genesis = doc().validate().unwrap();
    let (_, root) = genesis_state(&genesis);
    let mut richer = doc();
    richer.accounts[1].balance = 1;
    let (_, richer_root) = genesis_state(&richer.validate().unwrap());
    assert_ne!(root, richer_root);
    let mut renamed = doc();
    renamed.chain_name = "exec-test-2".into();
    let renamed = renamed.validate().unwrap();
    assert_ne!(genesis.chain_id(), renamed.chain_id());
    assert_ne!(root, genesis_state(&renamed).1);
}
