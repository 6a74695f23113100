//! Fixtures shared by the integration tests.
#![allow(dead_code)]

use cairn_crypto::{Hash, SecretKey};
use cairn_mempool::{Mempool, MempoolConfig};
use cairn_types::{AccountState, BoundedBytes, ChainId, Op, Role, Transaction, TxPayload};

/// The pool's chain.
pub fn chain() -> ChainId {
    ChainId(Hash::digest(b"cairn-mempool test chain"))
}

/// A key from a one-byte seed.
pub fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32])
}

/// A writer account with `balance` and committed `nonce`.
pub fn writer(balance: u64, nonce: u64) -> AccountState {
    AccountState {
        role: Some(Role::Writer),
        balance,
        nonce,
    }
}

/// A `Put` whose value has `len` bytes (to control sizes).
pub fn put(len: usize) -> Op {
    Op::Put {
        key: BoundedBytes::new(b"k".to_vec()).unwrap(),
        value: BoundedBytes::new(vec![7; len]).unwrap(),
    }
}

/// `signer` signs `op` with `nonce` for the pool's chain.
pub fn tx(signer: &SecretKey, nonce: u64, op: Op) -> Transaction {
    Transaction::sign(
        TxPayload {
            chain_id: chain(),
            sender: signer.public(),
            nonce,
            op,
        },
        signer,
    )
}

/// A pool with `capacity` and otherwise default limits.
pub fn pool(capacity: usize) -> Mempool {
    Mempool::new(
        MempoolConfig {
            capacity,
            ..MempoolConfig::default()
        },
        chain(),
    )
}

/// Inserts `tx` as a writer with a large balance and committed nonce `committed`.
pub fn admit(pool: &mut Mempool, tx: &Transaction, committed: u64) {
    pool.insert(tx.clone(), tx.hash(), Some(&writer(1_000_000, committed)))
        .unwrap();
}
