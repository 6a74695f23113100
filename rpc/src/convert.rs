//! From cairn's domain types to the JSON shapes of [`crate::types`].

use cairn_crypto::Hash;
use cairn_types::{
    AccountState, Block, BlockHeader, Op, Outcome, QuorumCert, RejectReason, Role, Transaction,
    Wire,
};

use crate::hex::{Hex, HexHash, HexKey};
use crate::types::{
    AccountInfo, BlockInfo, BlockTx, HeadInfo, JustifyInfo, OpInfo, OutcomeKind, ReceiptInfo,
    RoleName,
};

impl From<Role> for RoleName {
    fn from(role: Role) -> Self {
        match role {
            Role::Reader => RoleName::Reader,
            Role::Writer => RoleName::Writer,
            Role::Admin => RoleName::Admin,
        }
    }
}

impl From<RoleName> for Role {
    fn from(role: RoleName) -> Self {
        match role {
            RoleName::Reader => Role::Reader,
            RoleName::Writer => Role::Writer,
            RoleName::Admin => Role::Admin,
        }
    }
}

/// The stable snake_case code of a rejection reason (`reason_code` in receipts).
pub fn reject_reason_code(reason: &RejectReason) -> &'static str {
    match reason {
        RejectReason::UnknownSender => "unknown_sender",
        RejectReason::BadNonce { .. } => "bad_nonce",
        RejectReason::NotPermitted { .. } => "not_permitted",
        RejectReason::InsufficientBalance { .. } => "insufficient_balance",
        RejectReason::BalanceOverflow => "balance_overflow",
        RejectReason::BadSignature => "bad_signature",
        RejectReason::WrongChain => "wrong_chain",
        RejectReason::LastAdmin => "last_admin",
    }
}

impl From<&Outcome> for ReceiptInfo {
    fn from(outcome: &Outcome) -> Self {
        match outcome {
            Outcome::Applied => ReceiptInfo {
                outcome: OutcomeKind::Applied,
                reason: None,
                reason_code: None,
            },
            Outcome::Rejected(reason) => ReceiptInfo {
                outcome: OutcomeKind::Rejected,
                reason: Some(reason.to_string()),
                reason_code: Some(reject_reason_code(reason).to_string()),
            },
        }
    }
}

impl From<&Op> for OpInfo {
    fn from(op: &Op) -> Self {
        match op {
            Op::Put { key, value } => OpInfo::Put {
                key: Hex(key.as_bytes().to_vec()),
                value: Hex(value.as_bytes().to_vec()),
            },
            Op::Delete { key } => OpInfo::Delete {
                key: Hex(key.as_bytes().to_vec()),
            },
            Op::Transfer { to, amount } => OpInfo::Transfer {
                to: HexKey(*to),
                amount: *amount,
            },
            Op::GrantRole { account, role } => OpInfo::GrantRole {
                account: HexKey(*account),
                role: (*role).into(),
            },
            Op::RevokeRole { account } => OpInfo::RevokeRole {
                account: HexKey(*account),
            },
        }
    }
}

/// A block transaction with its outcome.
pub fn block_tx(tx: &Transaction, outcome: &Outcome) -> BlockTx {
    BlockTx {
        hash: HexHash(tx.hash()),
        sender: HexKey(tx.payload.sender),
        nonce: tx.payload.nonce,
        op: (&tx.payload.op).into(),
        outcome: outcome.into(),
    }
}

/// The signer ids of a certificate, ascending.
pub fn signers(qc: &QuorumCert) -> Vec<u16> {
    qc.signatures.iter().map(|(id, _)| id.0).collect()
}

/// A block with its outcomes (one per transaction, in order) and its executed state
/// hash.
pub fn block_info(block: &Block, outcomes: &[Outcome], result: Option<Hash>) -> BlockInfo {
    let header = &block.header;
    BlockInfo {
        id: HexHash(block.id()),
        height: header.height,
        round: header.round,
        parent: HexHash(header.parent),
        payload_root: HexHash(header.payload_root),
        state_height: header.state_height,
        state_root: HexHash(header.state_root),
        result_state_root: result.map(HexHash),
        proposer: header.proposer.0,
        timestamp_ms: header.timestamp_ms,
        justify: JustifyInfo {
            block_id: HexHash(header.justify.block_id()),
            round: header.justify.round(),
            height: header.justify.data.height,
            signers: signers(&header.justify),
        },
        txs: block
            .txs
            .iter()
            .zip(outcomes)
            .map(|(tx, outcome)| block_tx(tx, outcome))
            .collect(),
        encoded: Hex(block.to_wire()),
    }
}

/// A committed head from its header.
pub fn head_info(header: &BlockHeader, tx_count: u32, state_root: Option<Hash>) -> HeadInfo {
    HeadInfo {
        height: header.height,
        block_id: HexHash(header.id()),
        round: header.round,
        timestamp_ms: header.timestamp_ms,
        tx_count,
        state_root: state_root.map(HexHash),
    }
}

/// An account's state.
pub fn account_info(key: HexKey, state: &AccountState) -> AccountInfo {
    AccountInfo {
        key,
        role: state.role.map(RoleName::from),
        balance: state.balance,
        nonce: state.nonce,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_outcomes_carry_reason_and_code() {
        let receipt = ReceiptInfo::from(&Outcome::Rejected(RejectReason::InsufficientBalance {
            balance: 1,
            amount: 5,
        }));
        assert_eq!(receipt.outcome, OutcomeKind::Rejected);
        assert_eq!(receipt.reason_code.as_deref(), Some("insufficient_balance"));
        assert_eq!(
            receipt.reason.as_deref(),
            Some("balance 1 is below amount 5")
        );
        let json = serde_json::to_value(ReceiptInfo::from(&Outcome::Applied)).unwrap();
        assert_eq!(json, serde_json::json!({"outcome": "applied"}));
    }

    #[test]
    fn ops_are_tagged_by_type() {
        let key = cairn_crypto::SecretKey::from_seed(&[3; 32]).public();
        let op = OpInfo::from(&Op::GrantRole {
            account: key,
            role: Role::Admin,
        });
        let json = serde_json::to_value(&op).unwrap();
        assert_eq!(json["type"], "grant_role");
        assert_eq!(json["role"], "admin");
        assert_eq!(json["account"], format!("0x{key}"));
    }
}
