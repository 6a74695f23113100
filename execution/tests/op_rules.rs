//! The operations of execution (docs/EXECUTION.md): put, delete, transfer, roles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cairn_execution::StateChange;
use cairn_types::{AccountState, Op, Outcome, RejectReason, Role};
use common::*;

fn rejected(reason: RejectReason) -> Outcome {
    Outcome::Rejected(reason)
}

#[test]
fn applied_put_and_delete_change_the_state_in_order() {
    let w = writer();
    let (result, after) = run(
        &genesis(),
        vec![
            tx(&w, 0, put("colour", "blue")),
            tx(&w, 1, put("shape", "round")),
            tx(
                &w,
                2,
                Op::Delete {
                    key: bytes(b"colour"),
                },
            ),
        ],
    );
    assert_eq!(outcomes(&result), vec![Outcome::Applied; 3]);
    assert_eq!(value(&after, "colour"), None);
    assert_eq!(value(&after, "shape"), Some(b"round".to_vec()));
    assert_eq!(account(&after, &w.public()).nonce, 3);
    // Per transaction: the sender's account, then the operation's own change.
    assert!(matches!(result.changes[0], StateChange::Account { key, .. } if key == w.public()));
    assert!(
        matches!(&result.changes[1], StateChange::Put { key, .. } if key.as_bytes() == b"colour")
    );
    assert!(
        matches!(&result.changes[5], StateChange::Delete { key } if key.as_bytes() == b"colour")
    );
    assert_eq!(result.changes.len(), 6);
}

#[test]
fn double_spend_of_the_full_balance_applies_once() {
    let w = writer();
    let s = stranger().public();
    let (result, after) = run(
        &genesis(),
        vec![tx(&w, 0, transfer(s, 500)), tx(&w, 1, transfer(s, 500))],
    );
    assert_eq!(
        outcomes(&result),
        vec![
            Outcome::Applied,
            rejected(RejectReason::InsufficientBalance {
                balance: 0,
                amount: 500
            })
        ]
    );
    assert_eq!(
        account(&after, &w.public()),
        AccountState {
            role: Some(Role::Writer),
            balance: 0,
            nonce: 2
        }
    );
    // The recipient did not exist: it is created with no role and nonce 0.
    assert_eq!(
        account(&after, &s),
        AccountState {
            role: None,
            balance: 500,
            nonce: 0
        }
    );
}

#[test]
fn an_account_without_a_role_may_receive_but_not_send() {
    let s = stranger();
    let (_, funded) = run(&genesis(), vec![tx(&writer(), 0, transfer(s.public(), 10))]);
    let (result, after) = run(&funded, vec![tx(&s, 0, transfer(writer().public(), 1))]);
    assert_eq!(
        outcomes(&result),
        vec![rejected(RejectReason::NotPermitted {
            has: None,
            needs: Role::Writer
        })]
    );
    assert_eq!(account(&after, &s.public()).balance, 10);
    assert_eq!(account(&after, &s.public()).nonce, 1);
}

#[test]
fn self_transfer_is_applied_and_changes_no_balance() {
    let w = writer();
    let (result, after) = run(
        &genesis(),
        vec![
            tx(&w, 0, transfer(w.public(), 200)),
            tx(&w, 1, transfer(w.public(), 501)),
        ],
    );
    assert_eq!(
        outcomes(&result),
        vec![
            Outcome::Applied,
            rejected(RejectReason::InsufficientBalance {
                balance: 500,
                amount: 501
            })
        ]
    );
    assert_eq!(account(&after, &w.public()).balance, 500);
    assert_eq!(account(&after, &w.public()).nonce, 2);
}

#[test]
fn a_transfer_that_would_overflow_the_recipient_is_rejected() {
    let w = writer();
    let rich = stranger().public();
    let mut state = genesis();
    state.apply(&[StateChange::Account {
        key: rich,
        state: AccountState {
            role: None,
            balance: u64::MAX - 1,
            nonce: 0,
        },
    }]);
    let (result, after) = run(
        &state,
        vec![tx(&w, 0, transfer(rich, 2)), tx(&w, 1, transfer(rich, 1))],
    );
    assert_eq!(
        outcomes(&result),
        vec![rejected(RejectReason::BalanceOverflow), Outcome::Applied]
    );
    assert_eq!(account(&after, &rich).balance, u64::MAX);
    assert_eq!(account(&after, &w.public()).balance, 499);
}

#[test]
fn an_admin_may_not_remove_or_lower_its_own_admin_role() {
    let a = admin();
    let (result, after) = run(
        &genesis(),
        vec![
            tx(
                &a,
                0,
                Op::RevokeRole {
                    account: a.public(),
                },
            ),
            tx(
                &a,
                1,
                Op::GrantRole {
                    account: a.public(),
                    role: Role::Writer,
                },
            ),
            tx(
                &a,
                2,
                Op::GrantRole {
                    account: a.public(),
                    role: Role::Admin,
                },
            ),
        ],
    );
    assert_eq!(
        outcomes(&result),
        vec![
            rejected(RejectReason::LastAdmin),
            rejected(RejectReason::LastAdmin),
            Outcome::Applied,
        ]
    );
    let state = account(&after, &a.public());
    assert_eq!(state.role, Some(Role::Admin));
    assert_eq!(state.nonce, 3);
}

#[test]
fn admins_demote_each_other_but_one_always_remains() {
    let a = admin();
    let w = writer();
    let (result, after) = run(
        &genesis(),
        vec![
            tx(
                &a,
                0,
                Op::GrantRole {
                    account: w.public(),
                    role: Role::Admin,
                },
            ),
            tx(
                &w,
                0,
                Op::RevokeRole {
                    account: a.public(),
                },
            ),
            tx(
                &a,
                1,
                Op::GrantRole {
                    account: a.public(),
                    role: Role::Admin,
                },
            ),
            tx(
                &w,
                1,
                Op::RevokeRole {
                    account: w.public(),
                },
            ),
        ],
    );
    assert_eq!(
        outcomes(&result),
        vec![
            Outcome::Applied,
            Outcome::Applied,
            rejected(RejectReason::NotPermitted {
                has: None,
                needs: Role::Admin
            }),
            rejected(RejectReason::LastAdmin),
        ]
    );
    assert_eq!(account(&after, &a.public()).role, None);
    assert_eq!(
        account(&after, &a.public()).balance,
        1_000,
        "revoking keeps the balance"
    );
    assert_eq!(account(&after, &w.public()).role, Some(Role::Admin));
}

#[test]
fn granting_a_role_to_an_unknown_account_creates_it_and_later_txs_see_it() {
    let a = admin();
    let s = stranger();
    let (result, after) = run(
        &genesis(),
        vec![
            tx(&s, 0, put("early", "x")),
            tx(
                &a,
                0,
                Op::GrantRole {
                    account: s.public(),
                    role: Role::Writer,
                },
            ),
            tx(&s, 0, put("late", "y")),
        ],
    );
    assert_eq!(
        outcomes(&result),
        vec![
            rejected(RejectReason::UnknownSender),
            Outcome::Applied,
            Outcome::Applied
        ]
    );
    assert_eq!(
        account(&after, &s.public()),
        AccountState {
            role: Some(Role::Writer),
            balance: 0,
            nonce: 1
        }
    );
    assert_eq!(value(&after, "late"), Some(b"y".to_vec()));
}

#[test]
fn revoking_an_unknown_account_creates_nothing() {
    let a = admin();
    let s = stranger().public();
    let (result, after) = run(&genesis(), vec![tx(&a, 0, Op::RevokeRole { account: s })]);
    assert_eq!(outcomes(&result), vec![Outcome::Applied]);
    assert!(after.accounts().all(|(k, _)| *k != s));
}

#[test]
fn a_writer_may_not_grant_roles() {
    let w = writer();
    let (result, after) = run(
        &genesis(),
        vec![tx(
            &w,
            0,
            Op::GrantRole {
                account: w.public(),
                role: Role::Admin,
            },
        )],
    );
    assert_eq!(
        outcomes(&result),
        vec![rejected(RejectReason::NotPermitted {
            has: Some(Role::Writer),
            needs: Role::Admin
        })]
    );
    assert_eq!(account(&after, &w.public()).role, Some(Role::Writer));
}
