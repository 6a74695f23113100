//! The error type of `cairn-mempool`.

use cairn_types::Role;

/// Result alias for this crate.
pub type Result<T, E = AdmitError> = std::result::Result<T, E>;

/// Why a transaction was not admitted. Each variant carries the values involved; the
/// message says what the client can do about it.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum AdmitError {
    /// The transaction is for another chain.
    #[error("transaction is for another chain; sign it with this chain's id")]
    WrongChain,
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// The sender is not an account of this chain.
    #[error("sender is not an account of this chain")]
    UnknownSender,
    /// The sender's role does not allow the operation.
    #[error("sender's role ({}) may not do this; needs {needs}", role_name(.has))]
    NotPermitted {
        /// The sender's role, if any.
        has: Option<Role>,
        /// The role needed.
        needs: Role,
    },
    /// The nonce was already used by a committed transaction.
    #[error("nonce {got} is already used; the sender's next nonce is {expected}")]
    StaleNonce {
        /// The sender's next nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The nonce is too far ahead of the sender's next nonce.
    #[error(
        "nonce {got} is too far ahead: the sender's next nonce is {expected} and at most \
         {max_ahead} nonces may be queued; wait for earlier transactions to commit"
    )]
    NonceTooFar {
        /// The sender's next nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
        /// How many nonces may be queued.
        max_ahead: u64,
    },
    /// Another pending transaction of the sender has this nonce.
    #[error("another pending transaction of this sender has nonce {nonce}")]
    NonceInUse {
        /// The nonce.
        nonce: u64,
    },
    /// The sender's committed balance is below the transferred amount.
    #[error("balance {balance} is below amount {amount}")]
    InsufficientBalance {
        /// The sender's committed balance.
        balance: u64,
        /// The amount to transfer.
        amount: u64,
    },
    /// The encoded transaction is larger than allowed.
    #[error("transaction of {size} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Its encoded size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The pool is full (by count or by bytes).
    #[error("mempool is full (capacity {capacity} transactions); retry later")]
    Busy {
        /// The pool's capacity in transactions.
        capacity: usize,
    },
    /// The batch verifier has stopped (the node is shutting down).
    #[error("signature verifier is not running; the node is shutting down")]
    VerifierStopped,
}

fn role_name(role: &Option<Role>) -> &'static str {
    role.map_or("none", Role::as_str)
}
