//! The error type of `cairn-execution`.

use cairn_types::Height;

/// Result alias for this crate.
pub type Result<T, E = ExecError> = std::result::Result<T, E>;

/// Why blocks could not be executed. A transaction that breaks a ledger rule is not an
/// error (it gets a rejected receipt); these are failures of the surroundings, and the
/// caller must not commit anything when it gets one.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// Reading the committed state failed (I/O error or a corrupt entry).
    #[error("cannot read the committed state: {0}")]
    Storage(#[from] cairn_storage::StorageError),
    /// The blocks handed to [`crate::execute_blocks`] do not follow each other.
    #[error(
        "blocks to execute must have consecutive heights: expected height {expected}, \
         got {got}"
    )]
    NotConsecutive {
        /// The height that should have come next.
        expected: Height,
        /// The height found.
        got: Height,
    },
    /// A block has more transactions than a receipt index (`u32`) can number; the
    /// protocol limit is far lower, so such a block never passed validation.
    #[error("block at height {height} has {count} transactions, more than receipts can index")]
    TooManyTransactions {
        /// The block's height.
        height: Height,
        /// Its number of transactions.
        count: usize,
    },
}
