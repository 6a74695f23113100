//! Admission: every reason to refuse, and the bounds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cairn_crypto::Hash;
use cairn_mempool::{AdmitError, Admitted, Mempool, MempoolConfig, TxStatus};
use cairn_types::{AccountState, ChainId, Op, Role, Transaction, TxPayload};
use common::*;
use parity_scale_codec::Encode;

fn insert(
    pool: &mut Mempool,
    tx: &Transaction,
    account: Option<&AccountState>,
) -> Result<Admitted, AdmitError> {
    pool.insert(tx.clone(), tx.hash(), account)
}

#[test]
fn a_valid_transaction_is_admitted_once() {
    let mut pool = pool(10);
    let t = tx(&key(1), 0, put(3));
    assert_eq!(
        insert(&mut pool, &t, Some(&writer(0, 0))),
        Ok(Admitted::New)
    );
    assert_eq!(
        insert(&mut pool, &t, Some(&writer(0, 0))),
        Ok(Admitted::AlreadyKnown)
    );
    assert_eq!(pool.len(), 1);
    assert_eq!(pool.bytes(), t.encode().len());
    assert!(pool.contains(&t.hash()));
    assert_eq!(pool.status(&t.hash()), TxStatus::Pending);
    assert_eq!(pool.status(&Hash::ZERO), TxStatus::Unknown);
}

#[test]
fn another_chains_transaction_is_refused() {
    let mut pool = pool(10);
    let signer = key(1);
    let other = Transaction::sign(
        TxPayload {
            chain_id: ChainId(Hash::digest(b"elsewhere")),
            sender: signer.public(),
            nonce: 0,
            op: put(1),
        },
        &signer,
    );
    assert_eq!(
        insert(&mut pool, &other, Some(&writer(0, 0))),
        Err(AdmitError::WrongChain)
    );
    assert!(pool.is_empty());
}

#[test]
fn unknown_senders_and_insufficient_roles_are_refused() {
    let mut pool = pool(10);
    let t = tx(&key(1), 0, put(1));
    assert_eq!(insert(&mut pool, &t, None), Err(AdmitError::UnknownSender));
    let reader = AccountState {
        role: Some(Role::Reader),
        balance: 0,
        nonce: 0,
    };
    assert_eq!(
        insert(&mut pool, &t, Some(&reader)),
        Err(AdmitError::NotPermitted {
            has: Some(Role::Reader),
            needs: Role::Writer
        })
    );
    let roleless = AccountState {
        role: None,
        balance: 9,
        nonce: 0,
    };
    assert_eq!(
        insert(&mut pool, &t, Some(&roleless)),
        Err(AdmitError::NotPermitted {
            has: None,
            needs: Role::Writer
        })
    );
    let grant = tx(
        &key(1),
        0,
        Op::GrantRole {
            account: key(2).public(),
            role: Role::Writer,
        },
    );
    assert_eq!(
        insert(&mut pool, &grant, Some(&writer(0, 0))),
        Err(AdmitError::NotPermitted {
            has: Some(Role::Writer),
            needs: Role::Admin
        })
    );
    assert!(pool.is_empty());
}

#[test]
fn nonces_must_lie_in_the_window_after_the_committed_nonce() {
    let mut pool = Mempool::new(
        MempoolConfig {
            max_nonce_ahead: 3,
            ..MempoolConfig::default()
        },
        chain(),
    );
    let k = key(1);
    let account = writer(0, 5);
    assert_eq!(
        insert(&mut pool, &tx(&k, 4, put(1)), Some(&account)),
        Err(AdmitError::StaleNonce {
            expected: 5,
            got: 4
        })
    );
    assert_eq!(
        insert(&mut pool, &tx(&k, 8, put(1)), Some(&account)),
        Err(AdmitError::NonceTooFar {
            expected: 5,
            got: 8,
            max_ahead: 3
        })
    );
    assert_eq!(
        insert(&mut pool, &tx(&k, u64::MAX, put(1)), Some(&account)),
        Err(AdmitError::NonceTooFar {
            expected: 5,
            got: u64::MAX,
            max_ahead: 3
        })
    );
    for nonce in [7, 5, 6] {
        assert_eq!(
            insert(&mut pool, &tx(&k, nonce, put(1)), Some(&account)),
            Ok(Admitted::New)
        );
    }
}

#[test]
fn a_second_transaction_with_a_pending_nonce_is_refused() {
    let mut pool = pool(10);
    let k = key(1);
    let first = tx(&k, 0, put(1));
    let rival = tx(&k, 0, put(2));
    insert(&mut pool, &first, Some(&writer(0, 0))).unwrap();
    assert_eq!(
        insert(&mut pool, &rival, Some(&writer(0, 0))),
        Err(AdmitError::NonceInUse { nonce: 0 })
    );
    assert!(!pool.contains(&rival.hash()));
}

#[test]
fn a_transfer_above_the_committed_balance_is_refused() {
    let mut pool = pool(10);
    let k = key(1);
    let pay = |amount| {
        tx(
            &k,
            0,
            Op::Transfer {
                to: key(2).public(),
                amount,
            },
        )
    };
    assert_eq!(
        insert(&mut pool, &pay(11), Some(&writer(10, 0))),
        Err(AdmitError::InsufficientBalance {
            balance: 10,
            amount: 11
        })
    );
    assert_eq!(
        insert(&mut pool, &pay(10), Some(&writer(10, 0))),
        Ok(Admitted::New)
    );
}

#[test]
fn an_oversized_transaction_is_refused() {
    let mut pool = Mempool::new(
        MempoolConfig {
            max_tx_bytes: 200,
            ..MempoolConfig::default()
        },
        chain(),
    );
    let big = tx(&key(1), 0, put(200));
    let size = big.encode().len();
    assert_eq!(
        insert(&mut pool, &big, Some(&writer(0, 0))),
        Err(AdmitError::TooLarge { size, max: 200 })
    );
    assert_eq!(
        insert(&mut pool, &tx(&key(1), 0, put(10)), Some(&writer(0, 0))),
        Ok(Admitted::New)
    );
}

#[test]
fn a_full_pool_is_busy_and_never_grows_past_capacity() {
    let mut pool = pool(5);
    for seed in 0..5u8 {
        admit(&mut pool, &tx(&key(seed), 0, put(1)), 0);
    }
    for seed in 5..20u8 {
        let t = tx(&key(seed), 0, put(1));
        assert_eq!(
            insert(&mut pool, &t, Some(&writer(0, 0))),
            Err(AdmitError::Busy { capacity: 5 })
        );
        assert_eq!(pool.len(), 5);
    }
    assert_eq!(pool.capacity(), 5);
    // A pending transaction resubmitted is still just known.
    let known = tx(&key(0), 0, put(1));
    assert_eq!(
        insert(&mut pool, &known, Some(&writer(0, 0))),
        Ok(Admitted::AlreadyKnown)
    );
}

#[test]
fn the_byte_limit_makes_the_pool_busy_too() {
    let one = tx(&key(1), 0, put(100)).encode().len();
    let small = tx(&key(3), 0, put(1)).encode().len();
    let mut pool = Mempool::new(
        MempoolConfig {
            max_bytes: 2 * one + small,
            ..MempoolConfig::default()
        },
        chain(),
    );
    admit(&mut pool, &tx(&key(1), 0, put(100)), 0);
    admit(&mut pool, &tx(&key(2), 0, put(100)), 0);
    let third = tx(&key(3), 0, put(100));
    assert_eq!(
        insert(&mut pool, &third, Some(&writer(0, 0))),
        Err(AdmitError::Busy { capacity: 50_000 })
    );
    assert_eq!(pool.bytes(), 2 * one);
    // A smaller one still fits, exactly.
    admit(&mut pool, &tx(&key(3), 0, put(1)), 0);
    assert_eq!(pool.bytes(), 2 * one + small);
}

#[test]
fn the_pool_remembers_the_highest_committed_nonce_it_learned() {
    let mut pool = pool(10);
    let k = key(1);
    pool.on_commit(&[], &[(k.public(), 4)]);
    // Storage read before that commit still says nonce 2: the pool knows better.
    assert_eq!(
        insert(&mut pool, &tx(&k, 3, put(1)), Some(&writer(0, 2))),
        Err(AdmitError::StaleNonce {
            expected: 4,
            got: 3
        })
    );
    assert_eq!(
        insert(&mut pool, &tx(&k, 4, put(1)), Some(&writer(0, 2))),
        Ok(Admitted::New)
    );
    assert_eq!(pool.next_nonce(&k.public()), Some(5));
}

#[test]
fn errors_explain_themselves() {
    let message = AdmitError::NotPermitted {
        has: None,
        needs: Role::Writer,
    }
    .to_string();
    assert!(
        message.contains("none") && message.contains("writer"),
        "{message}"
    );
    let message = AdmitError::NonceTooFar {
        expected: 1,
        got: 9,
        max_ahead: 3,
    }
    .to_string();
    assert!(
        message.contains('9') && message.contains("next nonce is 1"),
        "{message}"
    );
}
