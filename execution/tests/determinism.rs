//! Execution is a pure function: the same blocks on the same state give the same
//! receipts, changes and state hashes, whether executed one by one or in one call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cairn_crypto::{Hash, SecretKey};
use cairn_execution::{BlockResult, ExecError, MemoryState, execute_block, execute_blocks};
use cairn_types::{Block, Op, Role, Transaction};
use common::*;
use proptest::prelude::*;

/// One generated transaction: who sends, what, and how its nonce and signature are
/// disturbed.
#[derive(Clone, Debug)]
struct GenTx {
    sender: usize,
    op: GenOp,
    /// 0: the expected nonce; 1: one too high; 2: one too low (when possible).
    nonce_skew: u8,
    bad_signature: bool,
}

#[derive(Clone, Debug)]
enum GenOp {
    Put(u8, u8),
    Delete(u8),
    Transfer(usize, u64),
    Grant(usize, Role),
    Revoke(usize),
}

fn keys() -> Vec<SecretKey> {
    vec![admin(), writer(), reader(), stranger()]
}

fn gen_tx() -> impl Strategy<Value = GenTx> {
    let amount = prop_oneof![0u64..20, 400u64..1_200, Just(u64::MAX)];
    let role = prop_oneof![Just(Role::Reader), Just(Role::Writer), Just(Role::Admin)];
    let op = prop_oneof![
        (0u8..4, any::<u8>()).prop_map(|(k, v)| GenOp::Put(k, v)),
        (0u8..4).prop_map(GenOp::Delete),
        (0usize..4, amount).prop_map(|(to, a)| GenOp::Transfer(to, a)),
        (0usize..4, role).prop_map(|(who, r)| GenOp::Grant(who, r)),
        (0usize..4).prop_map(GenOp::Revoke),
    ];
    let skew = prop_oneof![8 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)];
    (0usize..4, op, skew, proptest::bool::weighted(0.05)).prop_map(
        |(sender, op, nonce_skew, bad_signature)| GenTx {
            sender,
            op,
            nonce_skew,
            bad_signature,
        },
    )
}

/// Signs the generated transactions into blocks from height 1, choosing nonces as if
/// every earlier transaction of the sender consumed one.
fn build_blocks(blocks: &[Vec<GenTx>]) -> Vec<Block> {
    let keys = keys();
    let mut nonces = [0u64; 4];
    blocks
        .iter()
        .enumerate()
        .map(|(i, gens)| {
            let txs: Vec<Transaction> = gens.iter().map(|g| sign(g, &keys, &mut nonces)).collect();
            block(i as u64 + 1, txs)
        })
        .collect()
}

fn sign(g: &GenTx, keys: &[SecretKey], nonces: &mut [u64; 4]) -> Transaction {
    let op = match &g.op {
        GenOp::Put(k, v) => put(&format!("key{k}"), &format!("value{v}")),
        GenOp::Delete(k) => Op::Delete {
            key: bytes(format!("key{k}").as_bytes()),
        },
        GenOp::Transfer(to, amount) => transfer(keys[*to].public(), *amount),
        GenOp::Grant(who, role) => Op::GrantRole {
            account: keys[*who].public(),
            role: *role,
        },
        GenOp::Revoke(who) => Op::RevokeRole {
            account: keys[*who].public(),
        },
    };
    let expected = nonces[g.sender];
    let nonce = match g.nonce_skew {
        0 => {
            nonces[g.sender] += 1;
            expected
        }
        1 => expected + 1,
        _ => expected.saturating_sub(1),
    };
    let mut signed = tx(&keys[g.sender], nonce, op);
    if g.bad_signature {
        signed.signature.0[10] ^= 0x40;
    }
    signed
}

fn one_by_one(start: &MemoryState, blocks: &[Block]) -> (Vec<BlockResult>, MemoryState) {
    let mut state = start.clone();
    let mut parent = genesis_root();
    let mut results = Vec::new();
    for block in blocks {
        let result = execute_block(&state, &chain(), block, &parent).unwrap();
        state.apply(&result.changes);
        parent = result.state_root;
        results.push(result);
    }
    (results, state)
}

fn total_balance(state: &MemoryState) -> u128 {
    state.accounts().map(|(_, a)| u128::from(a.balance)).sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn same_blocks_same_results(gens in proptest::collection::vec(proptest::collection::vec(gen_tx(), 0..12), 1..5)) {
        let blocks = build_blocks(&gens);
        let start = genesis();
        let first = execute_blocks(&start, &chain(), &blocks, &genesis_root()).unwrap();
        let second = execute_blocks(&start.clone(), &chain(), &blocks, &genesis_root()).unwrap();
        prop_assert_eq!(&first, &second);

        let (separately, end) = one_by_one(&start, &blocks);
        prop_assert_eq!(&first, &separately);

        // Applying every block's changes in order gives the same end state.
        let mut replayed = start.clone();
        for result in &first {
            replayed.apply(&result.changes);
        }
        prop_assert_eq!(&replayed, &end);
        // Transfers move balance, never create or destroy it.
        prop_assert_eq!(total_balance(&end), total_balance(&start));
        // Every transaction has a receipt, numbered in block order.
        for (block, result) in blocks.iter().zip(&first) {
            prop_assert_eq!(block.txs.len(), result.receipts.len());
            for (i, receipt) in result.receipts.iter().enumerate() {
                prop_assert_eq!(receipt.index as usize, i);
                prop_assert_eq!(receipt.height, block.header.height);
            }
        }
    }

    #[test]
    fn a_different_history_gives_a_different_root(gens in proptest::collection::vec(gen_tx(), 1..12)) {
        let blocks = build_blocks(&[gens]);
        let result = execute_blocks(&genesis(), &chain(), &blocks, &genesis_root()).unwrap();
        let other_parent = Hash::digest(b"another parent");
        let moved = execute_blocks(&genesis(), &chain(), &blocks, &other_parent).unwrap();
        prop_assert_ne!(result[0].state_root, moved[0].state_root);
        prop_assert_eq!(&result[0].changes, &moved[0].changes);
    }
}

#[test]
fn execute_blocks_refuses_blocks_that_do_not_follow_each_other() {
    let blocks = vec![block(1, Vec::new()), block(3, Vec::new())];
    let err = execute_blocks(&genesis(), &chain(), &blocks, &genesis_root()).unwrap_err();
    assert!(
        matches!(
            err,
            ExecError::NotConsecutive {
                expected: 2,
                got: 3
            }
        ),
        "{err}"
    );
}

#[test]
fn an_empty_block_still_advances_the_hash_chain() {
    let results = execute_blocks(
        &genesis(),
        &chain(),
        &[block(1, Vec::new()), block(2, Vec::new())],
        &genesis_root(),
    )
    .unwrap();
    assert!(results[0].changes.is_empty() && results[0].receipts.is_empty());
    assert_ne!(results[0].state_root, genesis_root());
    assert_ne!(results[0].state_root, results[1].state_root);
}
