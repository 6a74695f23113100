//! The error type of `cairn-storage`.

use std::path::PathBuf;

use cairn_crypto::Hash;
use cairn_types::{ChainId, Height};

use crate::ChainFault;

/// Result alias for this crate.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Why a store could not be opened, read, written or audited. Every variant carries the
/// values involved, and the message says what to do where there is something to do.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The data directory could not be created or is not a directory.
    #[error("cannot create data directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The data directory could not be read (missing, not a directory, no permission).
    #[error("cannot read data directory {path}: {source}")]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The directory holds files but no RocksDB database: refusing to write into it.
    #[error("{path} is not empty and is not a cairn store; choose an empty or new directory")]
    NotAStore {
        /// The directory.
        path: PathBuf,
    },
    /// Another process (or this one) has the store open for writing.
    #[error(
        "store {path} is locked: another process (a running node?) has it open; stop it, \
         or open the store read-only"
    )]
    Locked {
        /// The directory.
        path: PathBuf,
    },
    /// RocksDB refused to open the directory.
    #[error("cannot open store {path}: {source}")]
    Open {
        /// The directory.
        path: PathBuf,
        /// RocksDB's reason.
        source: rocksdb::Error,
    },
    /// The store belongs to another chain.
    #[error("store {path} belongs to chain {found}, not {expected}; use another data directory")]
    WrongChain {
        /// The directory.
        path: PathBuf,
        /// The chain the caller asked for.
        expected: ChainId,
        /// The chain recorded in the store.
        found: ChainId,
    },
    /// The store was written with a schema this version cannot read.
    #[error("store {path} has schema version {found}; this build reads version {supported} only")]
    SchemaVersion {
        /// The directory.
        path: PathBuf,
        /// The version recorded in the store.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// The store exists but its metadata is missing (read-only open of a store that was
    /// never initialised).
    #[error("store {path} has no chain recorded: it was never opened by a node")]
    Uninitialised {
        /// The directory.
        path: PathBuf,
    },
    /// A read or write failed (disk full, I/O error, ...).
    #[error("storage {op} failed: {source}")]
    Db {
        /// What was being done.
        op: &'static str,
        /// RocksDB's reason.
        source: rocksdb::Error,
    },
    /// A stored entry does not decode: the database is damaged.
    #[error("corrupt {what} entry (key {key}): {problem}")]
    Corrupt {
        /// Which kind of entry.
        what: &'static str,
        /// Its key, in hex.
        key: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A write was attempted on a store opened read-only.
    #[error("store is open read-only; {op} needs the writer (the node)")]
    ReadOnly {
        /// The refused operation.
        op: &'static str,
    },
    /// A commit does not extend the committed chain.
    #[error(
        "commit refused: block at height {height} (parent {parent}) does not extend \
         height {head_height} (id {head_id})"
    )]
    NotExtending {
        /// Height of the offending block.
        height: Height,
        /// Its parent link.
        parent: Hash,
        /// Height of the block it should extend.
        head_height: Height,
        /// Id of the block it should extend.
        head_id: Hash,
    },
    /// A commit is inconsistent in itself (certificate, receipts, payload, chain).
    #[error("commit refused at height {height}: {problem}")]
    BadCommit {
        /// The height concerned (the last block's, for certificate problems).
        height: Height,
        /// What is wrong.
        problem: String,
    },
    /// Genesis state may only be written before the first block is committed.
    #[error("genesis state refused: blocks are already committed (head height {head})")]
    GenesisAfterCommit {
        /// The committed head height.
        head: Height,
    },
    /// `verify_chain` found the chain invalid at `height`.
    #[error("chain invalid at height {height}: {fault}")]
    InvalidChain {
        /// The first height found invalid.
        height: Height,
        /// What is wrong there.
        fault: ChainFault,
    },
}

impl StorageError {
    /// Wraps a RocksDB error from operation `op`.
    pub(crate) fn db(op: &'static str) -> impl FnOnce(rocksdb::Error) -> StorageError {
        move |source| StorageError::Db { op, source }
    }

    /// A corrupt entry of kind `what` under `key`.
    pub(crate) fn corrupt(what: &'static str, key: &[u8], problem: impl ToString) -> StorageError {
        StorageError::Corrupt {
            what,
            key: hex::encode(key),
            problem: problem.to_string(),
        }
    }
}
