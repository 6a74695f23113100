//! Fixtures shared by the integration tests: fixed keys, a small genesis state, and
//! helpers to sign transactions and wrap them in blocks.
#![allow(dead_code)]

use cairn_crypto::{Hash, PublicKey, SecretKey};
use cairn_execution::{BlockResult, MemoryState, StateChange, execute_block, genesis_state_root};
use cairn_types::{
    AccountState, Block, BlockHeader, BoundedBytes, BoundedVec, ChainId, Op, Outcome, QuorumCert,
    Role, Transaction, TxPayload, ValidatorId,
};

/// The chain every fixture transaction is for.
pub fn chain() -> ChainId {
    ChainId(Hash::digest(b"cairn-execution test chain"))
}

/// A key from a one-byte seed.
pub fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32])
}

/// Admin at genesis, balance 1,000.
pub fn admin() -> SecretKey {
    key(1)
}
/// Writer at genesis, balance 500.
pub fn writer() -> SecretKey {
    key(2)
}
/// Reader at genesis, balance 50.
pub fn reader() -> SecretKey {
    key(3)
}
/// Not an account at genesis.
pub fn stranger() -> SecretKey {
    key(4)
}

/// The genesis changes: admin, writer, reader.
pub fn genesis_changes() -> Vec<StateChange> {
    [
        (admin(), Role::Admin, 1_000),
        (writer(), Role::Writer, 500),
        (reader(), Role::Reader, 50),
    ]
    .into_iter()
    .map(|(k, role, balance)| StateChange::Account {
        key: k.public(),
        state: AccountState {
            role: Some(role),
            balance,
            nonce: 0,
        },
    })
    .collect()
}

/// The genesis state in memory.
pub fn genesis() -> MemoryState {
    MemoryState::from_changes(&genesis_changes())
}

/// The genesis state hash of the fixture chain.
pub fn genesis_root() -> Hash {
    genesis_state_root(&chain(), &genesis_changes())
}

/// A short bounded byte string.
pub fn bytes<const N: usize>(b: &[u8]) -> BoundedBytes<N> {
    BoundedBytes::new(b.to_vec()).unwrap()
}

/// `signer` signs `op` with `nonce` for the fixture chain.
pub fn tx(signer: &SecretKey, nonce: u64, op: Op) -> Transaction {
    tx_on(chain(), signer, nonce, op)
}

/// `signer` signs `op` with `nonce` for `chain`.
pub fn tx_on(chain: ChainId, signer: &SecretKey, nonce: u64, op: Op) -> Transaction {
    Transaction::sign(
        TxPayload {
            chain_id: chain,
            sender: signer.public(),
            nonce,
            op,
        },
        signer,
    )
}

/// `Put key = value`.
pub fn put(k: &str, v: &str) -> Op {
    Op::Put {
        key: bytes(k.as_bytes()),
        value: bytes(v.as_bytes()),
    }
}

/// `Transfer amount to`.
pub fn transfer(to: PublicKey, amount: u64) -> Op {
    Op::Transfer { to, amount }
}

/// A block at `height` holding `txs`. Execution reads only the height and the
/// transactions, so the rest of the header is a plausible filler.
pub fn block(height: u64, txs: Vec<Transaction>) -> Block {
    let header = BlockHeader {
        chain_id: chain(),
        height,
        round: height,
        parent: Hash::digest(&height.to_le_bytes()),
        payload_root: Block::payload_root_of(&txs),
        state_height: 0,
        state_root: Hash::ZERO,
        proposer: ValidatorId(0),
        timestamp_ms: 1_700_000_000_000 + height,
        justify: QuorumCert::genesis(&chain()),
    };
    Block {
        header,
        txs: BoundedVec::new(txs).unwrap(),
    }
}

/// Executes `txs` as block 1 on `state`; returns the result and the state after it.
pub fn run(state: &MemoryState, txs: Vec<Transaction>) -> (BlockResult, MemoryState) {
    let result = execute_block(state, &chain(), &block(1, txs), &genesis_root()).unwrap();
    let mut after = state.clone();
    after.apply(&result.changes);
    (result, after)
}

/// The outcomes of a block's receipts.
pub fn outcomes(result: &BlockResult) -> Vec<Outcome> {
    result.receipts.iter().map(|r| r.outcome.clone()).collect()
}

/// The state of `who` in `state` (panics if absent).
pub fn account(state: &MemoryState, who: &PublicKey) -> AccountState {
    state
        .accounts()
        .find(|(k, _)| *k == who)
        .map(|(_, a)| a.clone())
        .unwrap_or_else(|| panic!("no account {who}"))
}

/// The value under `k` in `state`.
pub fn value(state: &MemoryState, k: &str) -> Option<Vec<u8>> {
    state
        .values()
        .find(|(key, _)| *key == k.as_bytes())
        .map(|(_, v)| v.to_vec())
}
