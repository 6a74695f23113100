//! One transaction: the ledger rules of `docs/EXECUTION.md`, in order.

use cairn_crypto::PublicKey;
use cairn_storage::StateChange;
use cairn_types::{AccountState, ChainId, Op, Outcome, RejectReason, Role, Transaction};

use crate::{PendingState, Result, StateView};

/// The effect of an operation on accounts other than the sender and on application
/// keys, or why the operation is refused.
type OpResult = std::result::Result<Vec<StateChange>, RejectReason>;

/// Executes `tx` on `state`, recording its changes there. `signature_valid` is the
/// block-level verdict on its signature. Returns the receipt's outcome; errors only
/// when the state cannot be read.
pub(crate) fn execute_tx<V: StateView + ?Sized>(
    state: &mut PendingState<'_, V>,
    chain: &ChainId,
    tx: &Transaction,
    signature_valid: bool,
) -> Result<Outcome> {
    let payload = &tx.payload;
    if payload.chain_id != *chain {
        return Ok(Outcome::Rejected(RejectReason::WrongChain));
    }
    if !signature_valid {
        return Ok(Outcome::Rejected(RejectReason::BadSignature));
    }
    let Some(mut sender) = state.account(&payload.sender)? else {
        return Ok(Outcome::Rejected(RejectReason::UnknownSender));
    };
    let bad_nonce = RejectReason::BadNonce {
        expected: sender.nonce,
        got: payload.nonce,
    };
    if payload.nonce != sender.nonce {
        return Ok(Outcome::Rejected(bad_nonce));
    }
    // An account whose nonce reached u64::MAX has no nonce left to consume.
    let Some(next_nonce) = sender.nonce.checked_add(1) else {
        return Ok(Outcome::Rejected(bad_nonce));
    };
    sender.nonce = next_nonce;
    // From here on the nonce is consumed, whatever the operation's fate.
    let nonce_only = sender.clone();
    let planned = plan_op(state, &payload.sender, &mut sender, &payload.op)?;
    let (sender, outcome, others) = match planned {
        Ok(others) => (sender, Outcome::Applied, others),
        Err(reason) => (nonce_only, Outcome::Rejected(reason), Vec::new()),
    };
    state.record(StateChange::Account {
        key: payload.sender,
        state: sender,
    });
    for change in others {
        state.record(change);
    }
    Ok(outcome)
}

/// Decides `op` for `sender` (whose nonce is already consumed). On success, `sender`
/// holds the sender's new state and the result lists the other changes; on refusal
/// `sender` may have been modified and must be discarded.
fn plan_op<V: StateView + ?Sized>(
    state: &PendingState<'_, V>,
    sender_key: &PublicKey,
    sender: &mut AccountState,
    op: &Op,
) -> Result<OpResult> {
    let needs = op.required_role();
    if sender.role.is_none_or(|has| has < needs) {
        return Ok(Err(RejectReason::NotPermitted {
            has: sender.role,
            needs,
        }));
    }
    match op {
        Op::Put { key, value } => Ok(Ok(vec![StateChange::Put {
            key: key.clone(),
            value: value.clone(),
        }])),
        Op::Delete { key } => Ok(Ok(vec![StateChange::Delete { key: key.clone() }])),
        Op::Transfer { to, amount } => transfer(state, sender_key, sender, to, *amount),
        Op::GrantRole { account, role } => set_role(state, sender_key, account, Some(*role)),
        Op::RevokeRole { account } => set_role(state, sender_key, account, None),
    }
}

/// Moves `amount` from `sender` to `to`, creating `to` (no role, nonce 0) if needed.
/// A transfer to oneself changes nothing but must still be covered by the balance.
fn transfer<V: StateView + ?Sized>(
    state: &PendingState<'_, V>,
    sender_key: &PublicKey,
    sender: &mut AccountState,
    to: &PublicKey,
    amount: u64,
) -> Result<OpResult> {
    let Some(debited) = sender.balance.checked_sub(amount) else {
        return Ok(Err(RejectReason::InsufficientBalance {
            balance: sender.balance,
            amount,
        }));
    };
    if to == sender_key {
        return Ok(Ok(Vec::new()));
    }
    let mut recipient = state.account(to)?.unwrap_or_default();
    let Some(credited) = recipient.balance.checked_add(amount) else {
        return Ok(Err(RejectReason::BalanceOverflow));
    };
    sender.balance = debited;
    recipient.balance = credited;
    Ok(Ok(vec![StateChange::Account {
        key: *to,
        state: recipient,
    }]))
}

/// Sets `account`'s role (`None` revokes it). The sender is an admin (checked by the
/// caller) and may not lower or remove its own admin role, so an admin always remains.
/// Granting to an unknown account creates it; revoking from one changes nothing.
fn set_role<V: StateView + ?Sized>(
    state: &PendingState<'_, V>,
    sender_key: &PublicKey,
    account: &PublicKey,
    role: Option<Role>,
) -> Result<OpResult> {
    if account == sender_key {
        return Ok(match role {
            Some(Role::Admin) => Ok(Vec::new()),
            _ => Err(RejectReason::LastAdmin),
        });
    }
    let existing = state.account(account)?;
    if existing.is_none() && role.is_none() {
        return Ok(Ok(Vec::new()));
    }
    let mut target = existing.unwrap_or_default();
    target.role = role;
    Ok(Ok(vec![StateChange::Account {
        key: *account,
        state: target,
    }]))
}
