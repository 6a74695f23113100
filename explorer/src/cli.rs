//! The `cairn explorer …` command line: its arguments and [`run`].

use std::path::PathBuf;
use std::sync::Arc;

use crate::trust::load_genesis;
use crate::{Explorer, ExplorerError, Source, TrustRoot};

/// The node RPC address used when neither `--rpc` nor `--data-dir` is given.
pub const DEFAULT_RPC_URL: &str = "http://127.0.0.1:8600";

/// `cairn explorer [--rpc URL | --data-dir DIR] [--genesis FILE] <command>`
#[derive(Clone, Debug, clap::Args)]
pub struct ExplorerArgs {
    /// The node's JSON-RPC URL (http://, https://, ws:// or wss://); `watch` uses the
    /// WebSocket on the same port.
    #[arg(long, value_name = "URL", default_value = DEFAULT_RPC_URL, conflicts_with = "data_dir")]
    pub rpc: String,
    /// Read a node's data directory instead (read-only; works while the node runs).
    /// Needs --genesis.
    #[arg(long, value_name = "DIR", requires = "genesis")]
    pub data_dir: Option<PathBuf>,
    /// The chain's genesis file: the trust anchor that `tx --prove` and `verify` check
    /// everything against (nothing the node says is trusted); needed with --data-dir.
    #[arg(long, value_name = "FILE")]
    pub genesis: Option<PathBuf>,
    /// What to show or check.
    #[command(subcommand)]
    pub command: ExplorerCommand,
}

/// The explorer's commands.
#[derive(Clone, Debug, PartialEq, Eq, clap::Subcommand)]
pub enum ExplorerCommand {
    /// The committed head.
    Head,
    /// A committed block, by height or id, with its transactions.
    Block {
        /// A height (decimal) or a block id (64 hex digits, 0x optional).
        at: String,
    },
    /// A transaction's status and receipt; with --prove, its verified inclusion proof.
    Tx {
        /// The transaction hash (64 hex digits, 0x optional).
        hash: String,
        /// Fetch the Merkle inclusion proof, the headers up to the commit certificate
        /// and the certificate, and verify all of it against the genesis (needs
        /// --genesis).
        #[arg(long)]
        prove: bool,
    },
    /// An account's role, balance and next nonce.
    Account {
        /// The account's public key (64 hex digits, 0x optional).
        key: String,
    },
    /// The genesis validator set.
    Validators,
    /// Print every block as it commits, until interrupted.
    Watch {
        /// Start at this height (default: the next block to commit).
        #[arg(long)]
        from: Option<u64>,
    },
    /// Audit the whole chain from genesis to head against the genesis (needs --genesis).
    Verify,
    /// The node's stall report: its round and leader, the votes and timeouts it holds
    /// and lacks, its peers and their last faults, and why the chain is not moving if
    /// it is not (a running validator only).
    Status,
}

impl ExplorerCommand {
    /// The command's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            ExplorerCommand::Head => "head",
            ExplorerCommand::Block { .. } => "block",
            ExplorerCommand::Tx { .. } => "tx",
            ExplorerCommand::Account { .. } => "account",
            ExplorerCommand::Validators => "validators",
            ExplorerCommand::Watch { .. } => "watch",
            ExplorerCommand::Verify => "verify",
            ExplorerCommand::Status => "status",
        }
    }
}

/// Runs a command, printing a table (or one JSON document with `json`) to stdout; errors
/// are returned (the binary prints `error: …` and exits 1).
pub async fn run(args: ExplorerArgs, json: bool) -> Result<(), ExplorerError> {
    let genesis = args.genesis.as_deref().map(load_genesis).transpose()?;
    let trust = genesis.as_ref().map(TrustRoot::from_genesis);
    let source = match (&args.data_dir, genesis) {
        (Some(dir), Some(genesis)) => {
            let chain = genesis.chain_id();
            Source::open_store(dir, Arc::new(genesis), &chain)?
        }
        (Some(dir), None) => {
            return Err(ExplorerError::OfflineNeedsGenesis { dir: dir.clone() });
        }
        (None, _) => Source::connect(&args.rpc).await?,
    };
    tracing::debug!(source = %source.describe(), command = args.command.name(), "explorer");
    let explorer = Explorer::new(source, trust, json);
    explorer
        .execute(&args.command, &mut std::io::stdout())
        .await
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: ExplorerArgs,
    }

    fn parse(line: &[&str]) -> Result<ExplorerArgs, clap::Error> {
        let argv = std::iter::once("explorer").chain(line.iter().copied());
        Cli::try_parse_from(argv).map(|cli| cli.args)
    }

    #[test]
    fn the_rpc_url_defaults_and_commands_parse() {
        let args = parse(&["tx", "0xabc", "--prove"]).unwrap();
        assert_eq!(args.rpc, DEFAULT_RPC_URL);
        assert_eq!(
            args.command,
            ExplorerCommand::Tx {
                hash: "0xabc".into(),
                prove: true
            }
        );
        let args = parse(&["--rpc", "ws://[::1]:9", "watch", "--from", "7"]).unwrap();
        assert_eq!(args.rpc, "ws://[::1]:9");
        assert_eq!(args.command, ExplorerCommand::Watch { from: Some(7) });
        assert_eq!(parse(&["block", "12"]).unwrap().command.name(), "block");
    }

    #[test]
    fn a_data_dir_needs_a_genesis_and_excludes_rpc() {
        let args = parse(&["--data-dir", "d", "--genesis", "g.json", "verify"]).unwrap();
        assert_eq!(args.data_dir, Some(PathBuf::from("d")));
        assert!(parse(&["--data-dir", "d", "verify"]).is_err());
        assert!(
            parse(&[
                "--data-dir",
                "d",
                "--genesis",
                "g",
                "--rpc",
                "http://x",
                "head"
            ])
            .is_err()
        );
    }
}
