//! Early refusal of transactions that would certainly be rejected.

use cairn_types::{AccountState, Op, RejectReason, Role, Transaction};

/// The sender checks of execution (rules 3–5 of `docs/EXECUTION.md`) for `tx` against
/// its sender's committed state `account`, without executing anything: the sender
/// exists, `tx`'s nonce is the next one, its role allows the operation, a transfer is
/// covered by the balance, and an admin does not demote itself. `Ok` does not
/// guarantee the transaction will be applied (earlier transactions may change the
/// state); an error means that, executed now, it would be rejected for that reason.
///
/// The chain id and the signature (rules 1–2) are the caller's to check.
pub fn precheck(account: Option<&AccountState>, tx: &Transaction) -> Result<(), RejectReason> {
    let payload = &tx.payload;
    let account = account.ok_or(RejectReason::UnknownSender)?;
    if payload.nonce != account.nonce || account.nonce == u64::MAX {
        return Err(RejectReason::BadNonce {
            expected: account.nonce,
            got: payload.nonce,
        });
    }
    let needs = payload.op.required_role();
    if account.role.is_none_or(|has| has < needs) {
        return Err(RejectReason::NotPermitted {
            has: account.role,
            needs,
        });
    }
    match &payload.op {
        Op::Transfer { amount, .. } if *amount > account.balance => {
            Err(RejectReason::InsufficientBalance {
                balance: account.balance,
                amount: *amount,
            })
        }
        Op::GrantRole {
            account: target,
            role,
        } if *target == payload.sender && *role != Role::Admin => Err(RejectReason::LastAdmin),
        Op::RevokeRole { account: target } if *target == payload.sender => {
            Err(RejectReason::LastAdmin)
        }
        _ => Ok(()),
    }
}
