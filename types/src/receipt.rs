//! Receipts: what executing a committed transaction did.

use cairn_crypto::Hash;
use parity_scale_codec::{Decode, Encode};

use crate::codec::Wire;
use crate::{Height, Role};

/// Why a committed transaction was not applied. New reasons are only ever appended,
/// so stored receipts keep decoding.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum RejectReason {
    /// The sender is not an account of this chain.
    #[codec(index = 0)]
    UnknownSender,
    /// The nonce is not the sender's next one.
    #[codec(index = 1)]
    BadNonce {
        /// The nonce the ledger expected.
        expected: u64,
        /// The nonce the transaction carried.
        got: u64,
    },
    /// The sender's role does not allow the operation.
    #[codec(index = 2)]
    NotPermitted {
        /// The sender's role, if any.
        has: Option<Role>,
        /// The role needed.
        needs: Role,
    },
    /// The sender's balance is below the amount.
    #[codec(index = 3)]
    InsufficientBalance {
        /// The sender's balance.
        balance: u64,
        /// The amount asked for.
        amount: u64,
    },
    /// The recipient's balance would overflow.
    #[codec(index = 4)]
    BalanceOverflow,
    /// The signature does not verify.
    #[codec(index = 5)]
    BadSignature,
    /// The transaction is for another chain.
    #[codec(index = 6)]
    WrongChain,
    /// The operation would leave the chain without any admin.
    #[codec(index = 7)]
    LastAdmin,
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RejectReason::UnknownSender => f.write_str("sender is not an account of this chain"),
            RejectReason::BadNonce { expected, got } => {
                write!(f, "nonce {got}, expected {expected}")
            }
            RejectReason::NotPermitted {
                has: Some(has),
                needs,
            } => write!(f, "role {has} may not do this; needs {needs}"),
            RejectReason::NotPermitted { has: None, needs } => {
                write!(f, "sender has no role; needs {needs}")
            }
            RejectReason::InsufficientBalance { balance, amount } => {
                write!(f, "balance {balance} is below amount {amount}")
            }
            RejectReason::BalanceOverflow => f.write_str("recipient balance would overflow"),
            RejectReason::BadSignature => f.write_str("signature does not verify"),
            RejectReason::WrongChain => f.write_str("transaction is for another chain"),
            RejectReason::LastAdmin => f.write_str("would leave the chain without an admin"),
        }
    }
}

/// The outcome of one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Outcome {
    /// The operation took effect.
    #[codec(index = 0)]
    Applied,
    /// The operation had no effect, for this reason.
    #[codec(index = 1)]
    Rejected(RejectReason),
}

/// Where a committed transaction landed and what it did.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Receipt {
    /// The transaction's hash.
    pub tx_hash: Hash,
    /// Height of the block that holds it.
    pub height: Height,
    /// Its position in that block, from 0.
    pub index: u32,
    /// What executing it did.
    pub outcome: Outcome,
}

impl Wire for Receipt {
    const MAX_BYTES: usize = 1024;
    const NAME: &'static str = "receipt";
}
