//! Client transactions: who may do what to the ledger.

use cairn_crypto::{Domain, Hash, PublicKey, SecretKey, Signature};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::codec::{BoundedBytes, Wire};
use crate::limits::{MAX_KEY_BYTES, MAX_TX_BYTES, MAX_VALUE_BYTES};
use crate::{ChainId, Result};

/// A state key: at most [`MAX_KEY_BYTES`] bytes.
pub type Key = BoundedBytes<MAX_KEY_BYTES>;
/// A state value: at most [`MAX_VALUE_BYTES`] bytes.
pub type Value = BoundedBytes<MAX_VALUE_BYTES>;

/// What an account may do. Roles are ordered: each includes the rights of those below.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// May read state through RPC; may not submit transactions that change it.
    #[codec(index = 0)]
    Reader,
    /// May put and delete keys and transfer its balance.
    #[codec(index = 1)]
    Writer,
    /// May also grant and revoke roles.
    #[codec(index = 2)]
    Admin,
}

impl Role {
    /// The lowercase name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "reader" => Ok(Role::Reader),
            "writer" => Ok(Role::Writer),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}; expected admin, writer or reader"
            )),
        }
    }
}

/// The operation a transaction performs.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Op {
    /// Sets `key` to `value`. Needs [`Role::Writer`].
    #[codec(index = 0)]
    Put {
        /// The key.
        key: Key,
        /// The new value.
        value: Value,
    },
    /// Removes `key`. Needs [`Role::Writer`].
    #[codec(index = 1)]
    Delete {
        /// The key.
        key: Key,
    },
    /// Moves `amount` from the sender's balance to `to`. Needs [`Role::Writer`].
    #[codec(index = 2)]
    Transfer {
        /// The receiving account.
        to: PublicKey,
        /// Amount in the ledger's smallest unit.
        amount: u64,
    },
    /// Gives `account` the role `role`, replacing any role it had. Needs [`Role::Admin`].
    #[codec(index = 3)]
    GrantRole {
        /// The account.
        account: PublicKey,
        /// Its new role.
        role: Role,
    },
    /// Takes every role from `account`; its balance stays. Needs [`Role::Admin`].
    #[codec(index = 4)]
    RevokeRole {
        /// The account.
        account: PublicKey,
    },
}

impl Op {
    /// The least role that may perform this operation.
    pub fn required_role(&self) -> Role {
        match self {
            Op::Put { .. } | Op::Delete { .. } | Op::Transfer { .. } => Role::Writer,
            Op::GrantRole { .. } | Op::RevokeRole { .. } => Role::Admin,
        }
    }
}

/// The signed part of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct TxPayload {
    /// The chain this transaction is for.
    pub chain_id: ChainId,
    /// The account that signs and pays.
    pub sender: PublicKey,
    /// The sender's next nonce: its first transaction has nonce 0, and each committed
    /// transaction (applied or rejected after its nonce check) uses one up.
    pub nonce: u64,
    /// What to do.
    pub op: Op,
}

/// A signed client transaction. Encoding: `SCALE(payload) || signature`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Transaction {
    /// What is signed.
    pub payload: TxPayload,
    /// The sender's signature over `cairn/tx/v1 || SCALE(payload)`.
    pub signature: Signature,
}

impl Transaction {
    /// Signs `payload` with `key`. The key should be the payload's sender.
    pub fn sign(payload: TxPayload, key: &SecretKey) -> Transaction {
        let signature = key.sign(Domain::Tx, &payload.encode());
        Transaction { payload, signature }
    }

    /// The transaction hash: blake3 of the whole encoding, signature included.
    pub fn hash(&self) -> Hash {
        Hash::digest(&self.encode())
    }

    /// The positions in `txs` of the transactions whose signatures do not verify: one
    /// batch check, bisected down to the bad ones by [`cairn_crypto::find_invalid`]
    /// (the one rule, so the verdicts are every validator's).
    pub fn invalid_signatures(txs: &[&Transaction]) -> Vec<usize> {
        let payloads: Vec<Vec<u8>> = txs.iter().map(|tx| tx.payload.encode()).collect();
        let items: Vec<cairn_crypto::SignedItem<'_>> = txs
            .iter()
            .zip(&payloads)
            .map(|(tx, payload)| cairn_crypto::SignedItem {
                domain: Domain::Tx,
                message: payload,
                signer: &tx.payload.sender,
                signature: &tx.signature,
            })
            .collect();
        cairn_crypto::find_invalid(&items)
    }

    /// Checks the sender's signature (strictly; use batch verification for many).
    pub fn verify_signature(&self) -> Result<()> {
        self.payload
            .sender
            .verify(Domain::Tx, &self.payload.encode(), &self.signature)?;
        Ok(())
    }
}

impl Wire for Transaction {
    const MAX_BYTES: usize = MAX_TX_BYTES;
    const NAME: &'static str = "transaction";
}
