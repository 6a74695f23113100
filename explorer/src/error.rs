//! The error type of `cairn-explorer`.

use std::path::PathBuf;

use cairn_crypto::Hash;
use cairn_genesis::GenesisError;
use cairn_rpc::RpcError;
use cairn_storage::{ChainFault, StorageError};
use cairn_types::Height;

use crate::prove::ProofFault;

/// Result alias for this crate.
pub type Result<T, E = ExplorerError> = std::result::Result<T, E>;

/// Why an explorer command failed. Every variant carries the values involved; the
/// message says what to do where there is something to do.
#[derive(Debug, thiserror::Error)]
pub enum ExplorerError {
    /// The genesis file could not be read or is not a valid genesis.
    #[error("genesis {path}: {source}")]
    Genesis {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: GenesisError,
    },
    /// The command checks the chain and needs the genesis as its trust anchor.
    #[error(
        "`explorer {command}` verifies what the node says against the chain's genesis: \
         pass --genesis FILE"
    )]
    GenesisRequired {
        /// The command.
        command: &'static str,
    },
    /// A data directory was given without the genesis that names its chain.
    #[error("reading data directory {dir} needs the chain's genesis: pass --genesis FILE")]
    OfflineNeedsGenesis {
        /// The directory.
        dir: PathBuf,
    },
    /// The data directory could not be opened or read.
    #[error("data directory {path}: {source}")]
    Store {
        /// The directory.
        path: PathBuf,
        /// What the store said.
        source: Box<StorageError>,
    },
    /// A JSON-RPC call failed (connection, transport, or an error answer).
    #[error("{method} via {url}: {source}")]
    Rpc {
        /// The node's URL (or the data directory, offline).
        url: String,
        /// The method called.
        method: &'static str,
        /// What went wrong.
        source: RpcError,
    },
    /// The node's answer is inconsistent in itself (not a verification failure).
    #[error("{method} answered something inconsistent: {problem}")]
    BadAnswer {
        /// The method called.
        method: &'static str,
        /// What is wrong with the answer.
        problem: String,
    },
    /// A command-line value could not be parsed.
    #[error("{what} {value:?} is not valid: {problem}")]
    BadArgument {
        /// Which value ("block", "transaction hash", "account key").
        what: &'static str,
        /// The value given.
        value: String,
        /// Why it was refused.
        problem: String,
    },
    /// The inclusion proof of a transaction did not verify.
    #[error("proof of transaction {tx} is INVALID: {fault}")]
    InvalidProof {
        /// The transaction asked about.
        tx: Hash,
        /// The first check that failed.
        fault: ProofFault,
    },
    /// The chain audit found the chain invalid.
    #[error("chain INVALID at height {height}: {fault}")]
    InvalidChain {
        /// The first height found invalid.
        height: Height,
        /// What is wrong there.
        fault: ChainFault,
    },
    /// The watch subscription ended and could not be resumed.
    #[error("the head subscription at {url} ended: {reason}")]
    SubscriptionEnded {
        /// The WebSocket URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// Writing the output failed (closed pipe, full disk).
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// A background task failed to complete.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ExplorerError {
    /// An RPC failure of `method` at `url`.
    pub(crate) fn rpc(url: &str, method: &'static str) -> impl FnOnce(RpcError) -> ExplorerError {
        let url = url.to_string();
        move |source| ExplorerError::Rpc {
            url,
            method,
            source,
        }
    }

    /// A store failure in `path`; an audit failure becomes [`ExplorerError::InvalidChain`].
    pub(crate) fn store(path: PathBuf, error: StorageError) -> ExplorerError {
        match error {
            StorageError::InvalidChain { height, fault } => {
                ExplorerError::InvalidChain { height, fault }
            }
            source => ExplorerError::Store {
                path,
                source: Box::new(source),
            },
        }
    }
}

impl From<cairn_storage::audit::AuditFault> for ExplorerError {
    fn from(fault: cairn_storage::audit::AuditFault) -> Self {
        ExplorerError::InvalidChain {
            height: fault.height,
            fault: fault.fault,
        }
    }
}
