//! `precheck` agrees with execution on the sender rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cairn_execution::precheck;
use cairn_types::{AccountState, Op, Outcome, RejectReason, Role};
use common::*;

fn state(role: Option<Role>, balance: u64, nonce: u64) -> AccountState {
    AccountState {
        role,
        balance,
        nonce,
    }
}

#[test]
fn precheck_refuses_what_execution_would_reject_first() {
    let w = writer();
    let writer_state = state(Some(Role::Writer), 100, 3);
    let cases = [
        (
            None,
            tx(&w, 3, put("k", "v")),
            Err(RejectReason::UnknownSender),
        ),
        (
            Some(&writer_state),
            tx(&w, 2, put("k", "v")),
            Err(RejectReason::BadNonce {
                expected: 3,
                got: 2,
            }),
        ),
        (
            Some(&writer_state),
            tx(
                &w,
                3,
                Op::RevokeRole {
                    account: admin().public(),
                },
            ),
            Err(RejectReason::NotPermitted {
                has: Some(Role::Writer),
                needs: Role::Admin,
            }),
        ),
        (
            Some(&writer_state),
            tx(&w, 3, transfer(admin().public(), 101)),
            Err(RejectReason::InsufficientBalance {
                balance: 100,
                amount: 101,
            }),
        ),
        (
            Some(&writer_state),
            tx(&w, 3, transfer(admin().public(), 100)),
            Ok(()),
        ),
        (Some(&writer_state), tx(&w, 3, put("k", "v")), Ok(())),
    ];
    for (account, tx, expected) in cases {
        assert_eq!(precheck(account, &tx), expected, "{:?}", tx.payload.op);
    }
}

#[test]
fn precheck_refuses_an_admin_demoting_itself() {
    let a = admin();
    let admin_state = state(Some(Role::Admin), 0, 0);
    let demote = tx(
        &a,
        0,
        Op::GrantRole {
            account: a.public(),
            role: Role::Reader,
        },
    );
    let revoke = tx(
        &a,
        0,
        Op::RevokeRole {
            account: a.public(),
        },
    );
    let keep = tx(
        &a,
        0,
        Op::GrantRole {
            account: a.public(),
            role: Role::Admin,
        },
    );
    assert_eq!(
        precheck(Some(&admin_state), &demote),
        Err(RejectReason::LastAdmin)
    );
    assert_eq!(
        precheck(Some(&admin_state), &revoke),
        Err(RejectReason::LastAdmin)
    );
    assert_eq!(precheck(Some(&admin_state), &keep), Ok(()));
}

#[test]
fn precheck_matches_execution_on_the_genesis_accounts() {
    let txs = vec![
        tx(&reader(), 0, put("k", "v")),
        tx(&writer(), 1, put("k", "v")),
        tx(&writer(), 0, transfer(admin().public(), 501)),
        tx(
            &admin(),
            0,
            Op::RevokeRole {
                account: admin().public(),
            },
        ),
        tx(&admin(), 0, put("k", "v")),
        tx(&stranger(), 0, put("k", "v")),
    ];
    let start = genesis();
    for tx in txs {
        let sender = start
            .accounts()
            .find(|(k, _)| **k == tx.payload.sender)
            .map(|(_, a)| a.clone());
        let (result, _) = run(&start, vec![tx.clone()]);
        let executed = match &result.receipts[0].outcome {
            Outcome::Applied => Ok(()),
            Outcome::Rejected(reason) => Err(reason.clone()),
        };
        assert_eq!(
            precheck(sender.as_ref(), &tx),
            executed,
            "{:?}",
            tx.payload.op
        );
    }
}
