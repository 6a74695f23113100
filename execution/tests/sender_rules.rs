//! The sender rules of execution (docs/EXECUTION.md): chain, signature, account, nonce,
//! and receipts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cairn_crypto::Signature;
use cairn_execution::{MemoryState, StateChange, execute_block};
use cairn_types::{AccountState, Outcome, RejectReason, Role};
use common::*;

fn rejected(reason: RejectReason) -> Outcome {
    Outcome::Rejected(reason)
}

#[test]
fn receipts_name_the_transaction_height_and_index() {
    let w = writer();
    let txs = vec![tx(&w, 0, put("a", "1")), tx(&w, 1, put("b", "2"))];
    let result = execute_block(
        &genesis(),
        &chain(),
        &block(7, txs.clone()),
        &genesis_root(),
    )
    .unwrap();
    for (i, (receipt, tx)) in result.receipts.iter().zip(&txs).enumerate() {
        assert_eq!(receipt.tx_hash, tx.hash());
        assert_eq!(receipt.height, 7);
        assert_eq!(receipt.index, i as u32);
    }
}

#[test]
fn wrong_chain_is_rejected_without_any_change() {
    let other = cairn_types::ChainId(cairn_crypto::Hash::digest(b"another chain"));
    let mut wrong = tx_on(other, &writer(), 0, put("k", "v"));
    let (result, after) = run(&genesis(), vec![wrong.clone()]);
    assert_eq!(outcomes(&result), vec![rejected(RejectReason::WrongChain)]);
    assert!(result.changes.is_empty());
    assert_eq!(after, genesis());
    // The chain check comes first: a bad signature on another chain's tx is WrongChain.
    wrong.signature.0[5] ^= 0xff;
    let (result, _) = run(&genesis(), vec![wrong]);
    assert_eq!(outcomes(&result), vec![rejected(RejectReason::WrongChain)]);
}

#[test]
fn bad_signatures_are_rejected_and_good_ones_in_the_same_block_still_apply() {
    let w = writer();
    let a = admin();
    let mut forged = tx(&w, 1, put("forged", "x"));
    forged.signature.0[0] ^= 1;
    let mut stolen = tx(&a, 0, transfer(w.public(), 999));
    stolen.signature = Signature([7; 64]);
    let txs = vec![
        tx(&w, 0, put("good", "1")),
        forged,
        tx(&w, 1, put("good2", "2")),
        stolen,
    ];
    let (result, after) = run(&genesis(), txs);
    assert_eq!(
        outcomes(&result),
        vec![
            Outcome::Applied,
            rejected(RejectReason::BadSignature),
            Outcome::Applied,
            rejected(RejectReason::BadSignature),
        ]
    );
    assert_eq!(value(&after, "forged"), None);
    assert_eq!(account(&after, &w.public()).nonce, 2);
    assert_eq!(
        account(&after, &a.public()),
        account(&genesis(), &a.public())
    );
}

#[test]
fn unknown_sender_is_rejected_without_creating_an_account() {
    let s = stranger();
    let (result, after) = run(&genesis(), vec![tx(&s, 0, put("k", "v"))]);
    assert_eq!(
        outcomes(&result),
        vec![rejected(RejectReason::UnknownSender)]
    );
    assert!(result.changes.is_empty());
    assert_eq!(after, genesis());
}

#[test]
fn wrong_nonce_is_rejected_without_consuming_anything() {
    let w = writer();
    let (result, after) = run(&genesis(), vec![tx(&w, 5, put("k", "v"))]);
    assert_eq!(
        outcomes(&result),
        vec![rejected(RejectReason::BadNonce {
            expected: 0,
            got: 5
        })]
    );
    assert!(result.changes.is_empty());
    assert_eq!(after, genesis());
}

#[test]
fn a_rejected_operation_still_consumes_the_nonce_so_it_cannot_be_replayed() {
    let r = reader();
    let denied = tx(&r, 0, put("k", "v"));
    let (result, after) = run(&genesis(), vec![denied.clone()]);
    assert_eq!(
        outcomes(&result),
        vec![rejected(RejectReason::NotPermitted {
            has: Some(Role::Reader),
            needs: Role::Writer,
        })]
    );
    assert_eq!(account(&after, &r.public()).nonce, 1);
    assert_eq!(account(&after, &r.public()).balance, 50);
    assert_eq!(value(&after, "k"), None);
    assert_eq!(result.changes.len(), 1, "only the sender's nonce changes");
    let (again, _) = run(&after, vec![denied]);
    assert_eq!(
        outcomes(&again),
        vec![rejected(RejectReason::BadNonce {
            expected: 1,
            got: 0
        })]
    );
}

#[test]
fn a_replayed_transaction_is_rejected_for_its_nonce() {
    let w = writer();
    let pay = tx(&w, 0, transfer(admin().public(), 100));
    let (result, after) = run(&genesis(), vec![pay.clone(), pay.clone()]);
    assert_eq!(
        outcomes(&result),
        vec![
            Outcome::Applied,
            rejected(RejectReason::BadNonce {
                expected: 1,
                got: 0
            })
        ]
    );
    assert_eq!(account(&after, &w.public()).balance, 400);
    // And in a later block.
    let (later, again) = run(&after, vec![pay]);
    assert_eq!(
        outcomes(&later),
        vec![rejected(RejectReason::BadNonce {
            expected: 1,
            got: 0
        })]
    );
    assert_eq!(again, after);
}

#[test]
fn an_exhausted_nonce_is_refused_without_panicking() {
    let w = writer();
    let mut state = MemoryState::new();
    state.apply(&[StateChange::Account {
        key: w.public(),
        state: AccountState {
            role: Some(Role::Writer),
            balance: 1,
            nonce: u64::MAX,
        },
    }]);
    let (result, after) = run(&state, vec![tx(&w, u64::MAX, put("k", "v"))]);
    assert_eq!(
        outcomes(&result),
        vec![rejected(RejectReason::BadNonce {
            expected: u64::MAX,
            got: u64::MAX
        })]
    );
    assert_eq!(after, state);
}

#[test]
fn signatures_the_caller_verified_are_not_rechecked_and_the_rest_still_are() {
    let w = writer();
    let good = tx(&w, 0, put("good", "1"));
    let mut forged = tx(&w, 1, put("forged", "x"));
    forged.signature.0[0] ^= 1;
    let blocks = vec![block(1, vec![good.clone(), forged])];
    let plain =
        cairn_execution::execute_blocks(&genesis(), &chain(), &blocks, &genesis_root()).unwrap();
    // The caller vouches for `good` only: same results as checking everything.
    let good_hash = good.hash();
    let vouched = cairn_execution::execute_blocks_verified(
        &genesis(),
        &chain(),
        &blocks,
        &genesis_root(),
        &|h| *h == good_hash,
    )
    .unwrap();
    assert_eq!(vouched, plain);
    assert_eq!(
        outcomes(&vouched[0]),
        vec![Outcome::Applied, rejected(RejectReason::BadSignature)]
    );
}
