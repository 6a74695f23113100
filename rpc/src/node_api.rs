//! What the RPC server needs from the running node beyond the store: the mempool,
//! live consensus status and the peer table.

use cairn_crypto::Hash;
use cairn_types::{Role, Transaction};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::codes;

/// What the RPC server needs from the running node beyond the store.
///
/// The node implements it over its mempool, consensus driver and network; tests use a
/// fake. Methods other than [`NodeApi::submit`] are called from blocking threads and
/// must return promptly (no waiting on locks held across I/O).
#[jsonrpsee::core::async_trait]
pub trait NodeApi: Send + Sync + 'static {
    /// Hands a decoded, size-checked transaction to the mempool; resolves once the
    /// mempool has accepted it (Ok) or refused it (Err with the reason). Never Ok for a
    /// dropped tx.
    async fn submit(&self, tx: Transaction) -> Result<(), SubmitError>;
    /// The mempool's view of a transaction the store does not hold.
    fn pending_status(&self, hash: &Hash) -> PendingStatus;
    /// Live node status for `system_health`.
    fn health(&self) -> NodeHealth;
    /// Every validator with its connection state, for `system_peers`.
    fn peers(&self) -> Vec<PeerStatus>;
    /// The stall report, for `consensus_status`; `None` (the default) for a node that
    /// runs no consensus.
    fn consensus_status(&self) -> Option<crate::types::ConsensusStatus> {
        None
    }
}

/// The mempool's view of a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PendingStatus {
    /// The mempool has never seen it (or has forgotten it).
    Unknown,
    /// Waiting in the mempool to be proposed.
    Pending,
    /// Accepted once, then dropped from the mempool without being committed.
    Evicted {
        /// Why (e.g. "replaced by a committed transaction with the same nonce").
        reason: String,
    },
}

/// Live status of the node, for `system_health`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeHealth {
    /// The consensus round the node is in.
    pub round: u64,
    /// How many other validators it is connected to.
    pub connected_peers: usize,
    /// Transactions waiting in the mempool.
    pub mempool_size: usize,
    /// Most transactions the mempool holds.
    pub mempool_capacity: usize,
    /// True while the node is fetching blocks it missed.
    pub syncing: bool,
}

/// One validator as this node's network sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PeerStatus {
    /// Its validator id (position in the genesis list).
    pub id: u16,
    /// Its name in the genesis document.
    pub name: String,
    /// Its libp2p peer id.
    pub peer_id: String,
    /// True if this node has a live connection to it.
    pub connected: bool,
}

/// Why the mempool refused a transaction. Each maps to a stable error code
/// ([`SubmitError::code`]) and carries its values in the error's `data`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The transaction names another chain.
    #[error("transaction is for another chain")]
    WrongChain,
    /// The signature does not verify against the sender's key.
    #[error("signature does not verify")]
    BadSignature,
    /// The sender is not an account of this chain.
    #[error("sender is not an account of this chain")]
    UnknownSender,
    /// The sender's role does not allow the operation.
    #[error("{}", not_permitted_message(*has, *needs))]
    NotPermitted {
        /// The sender's role, if any.
        has: Option<Role>,
        /// The role the operation needs.
        needs: Role,
    },
    /// The nonce was already used by a committed transaction.
    #[error("nonce {got} is already used; the sender's next nonce is {expected}")]
    StaleNonce {
        /// The sender's next nonce.
        expected: u64,
        /// The nonce the transaction carried.
        got: u64,
    },
    /// The nonce is too far ahead of the sender's next nonce.
    #[error(
        "nonce {got} is too far ahead: the sender's next nonce is {expected}, at most {max_ahead} ahead is accepted"
    )]
    NonceTooFar {
        /// The sender's next nonce.
        expected: u64,
        /// The nonce the transaction carried.
        got: u64,
        /// How far ahead of `expected` a nonce may be.
        max_ahead: u64,
    },
    /// Another pending transaction of this sender has this nonce.
    #[error("another pending transaction of this sender has nonce {nonce}")]
    NonceInUse {
        /// The nonce.
        nonce: u64,
    },
    /// The sender cannot afford the transfer.
    #[error("balance {balance} is below amount {amount}")]
    InsufficientBalance {
        /// The sender's balance.
        balance: u64,
        /// The amount of the transfer.
        amount: u64,
    },
    /// The encoded transaction is larger than allowed.
    #[error("transaction is {size} bytes; at most {max} are allowed")]
    TooLarge {
        /// Its size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The mempool is full.
    #[error("busy: the mempool is full ({capacity} transactions), retry later")]
    Busy {
        /// The mempool's capacity.
        capacity: usize,
    },
    /// The node is shutting down and takes no more transactions.
    #[error("the node is shutting down")]
    ShuttingDown,
    /// The mempool failed for a reason of its own.
    #[error("internal mempool error: {0}")]
    Internal(String),
}

fn not_permitted_message(has: Option<Role>, needs: Role) -> String {
    match has {
        Some(has) => format!("role {has} may not do this; needs {needs}"),
        None => format!("sender has no role; needs {needs}"),
    }
}

impl SubmitError {
    /// The stable JSON-RPC error code of this refusal.
    pub fn code(&self) -> i32 {
        match self {
            SubmitError::WrongChain => codes::TX_WRONG_CHAIN,
            SubmitError::BadSignature => codes::TX_BAD_SIGNATURE,
            SubmitError::UnknownSender => codes::TX_UNKNOWN_SENDER,
            SubmitError::NotPermitted { .. } => codes::TX_NOT_PERMITTED,
            SubmitError::StaleNonce { .. } => codes::TX_STALE_NONCE,
            SubmitError::NonceTooFar { .. } => codes::TX_NONCE_TOO_FAR,
            SubmitError::NonceInUse { .. } => codes::TX_NONCE_IN_USE,
            SubmitError::InsufficientBalance { .. } => codes::TX_INSUFFICIENT_BALANCE,
            SubmitError::TooLarge { .. } => codes::TX_TOO_LARGE,
            SubmitError::Busy { .. } => codes::MEMPOOL_FULL,
            SubmitError::ShuttingDown => codes::SHUTTING_DOWN,
            SubmitError::Internal(_) => codes::INTERNAL,
        }
    }

    /// The structured fields of this refusal, for the error's `data`.
    pub fn data(&self) -> Option<Value> {
        match self {
            SubmitError::NotPermitted { has, needs } => Some(json!({
                "has": has.map(Role::as_str),
                "needs": needs.as_str(),
            })),
            SubmitError::StaleNonce { expected, got } => {
                Some(json!({ "expected": expected, "got": got }))
            }
            SubmitError::NonceTooFar {
                expected,
                got,
                max_ahead,
            } => Some(json!({ "expected": expected, "got": got, "max_ahead": max_ahead })),
            SubmitError::NonceInUse { nonce } => Some(json!({ "nonce": nonce })),
            SubmitError::InsufficientBalance { balance, amount } => {
                Some(json!({ "balance": balance, "amount": amount }))
            }
            SubmitError::TooLarge { size, max } => Some(json!({ "size": size, "max": max })),
            SubmitError::Busy { capacity } => Some(json!({ "capacity": capacity })),
            SubmitError::WrongChain
            | SubmitError::BadSignature
            | SubmitError::UnknownSender
            | SubmitError::ShuttingDown
            | SubmitError::Internal(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_data_carries_the_values() {
        let all = [
            SubmitError::WrongChain,
            SubmitError::BadSignature,
            SubmitError::UnknownSender,
            SubmitError::NotPermitted {
                has: None,
                needs: Role::Writer,
            },
            SubmitError::StaleNonce {
                expected: 5,
                got: 3,
            },
            SubmitError::NonceTooFar {
                expected: 5,
                got: 900,
                max_ahead: 64,
            },
            SubmitError::NonceInUse { nonce: 4 },
            SubmitError::InsufficientBalance {
                balance: 1,
                amount: 2,
            },
            SubmitError::TooLarge { size: 10, max: 5 },
            SubmitError::Busy { capacity: 100 },
            SubmitError::ShuttingDown,
        ];
        let mut seen: Vec<i32> = all.iter().map(SubmitError::code).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), all.len());
        assert_eq!(all[4].data().unwrap(), json!({"expected": 5, "got": 3}));
        assert_eq!(
            all[3].data().unwrap(),
            json!({"has": null, "needs": "writer"})
        );
        assert!(all[9].to_string().starts_with("busy"));
    }
}
