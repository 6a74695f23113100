//! What can go wrong managing a testnet.

use std::path::PathBuf;

/// A testnet error; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum TestnetError {
    /// A port the testnet needs is taken.
    #[error("port {port} ({what}) is in use; stop whatever holds it or choose another --base-port")]
    PortInUse {
        /// The port.
        port: u16,
        /// Which node and service wanted it.
        what: String,
    },
    /// The directory holds something that is not this testnet.
    #[error("{dir} holds {found}; use another --dir (or `cairn testnet down` and remove it)")]
    ForeignDirectory {
        /// The directory.
        dir: PathBuf,
        /// What is there.
        found: String,
    },
    /// No testnet in the directory.
    #[error("no testnet in {dir}; start one with `cairn testnet up --dir {dir}`")]
    NoTestnet {
        /// The directory.
        dir: PathBuf,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A `cairn` subcommand failed.
    #[error("`cairn {command}` failed: {stderr}")]
    Command {
        /// The command line.
        command: String,
        /// Its error output.
        stderr: String,
    },
    /// The network did not come up in time.
    #[error("{0}")]
    NotReady(String),
    /// A JSON-RPC call failed.
    #[error("node {node}: {source}")]
    Rpc {
        /// The node index.
        node: usize,
        /// The cause.
        source: cairn_rpc::RpcError,
    },
    /// A bad argument.
    #[error("{0}")]
    Usage(String),
    /// A genesis problem.
    #[error(transparent)]
    Genesis(#[from] cairn_genesis::GenesisError),
    /// A key file problem.
    #[error(transparent)]
    Key(#[from] cairn_crypto::CryptoError),
}

/// Result alias.
pub type Result<T> = std::result::Result<T, TestnetError>;

/// Maps an I/O error to [`TestnetError::Io`] for `path`.
pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> TestnetError {
    let path = path.into();
    move |source| TestnetError::Io { path, source }
}
