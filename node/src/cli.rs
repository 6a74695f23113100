//! The command-line grammar (clap).

use std::path::PathBuf;

use cairn_crypto::KeyKind;
use cairn_types::Role;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// cairn: a Byzantine-fault-tolerant permissioned ledger node.
#[derive(Parser)]
#[command(name = "cairn", version, about, propagate_version = true)]
pub struct Cli {
    /// Print results as JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Subcommand)]
pub enum Command {
    /// Create and inspect key files.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Build and check a genesis document.
    #[command(subcommand)]
    Genesis(GenesisCommand),
    /// Set up and run a validator.
    #[command(subcommand)]
    Node(NodeCommand),
    /// Sign transactions, and submit them to a node.
    #[command(subcommand)]
    Tx(TxCommand),
    /// Browse, prove and audit the chain, over RPC or from a data directory.
    Explorer(cairn_explorer::cli::ExplorerArgs),
    /// Run a local network of validators on 127.0.0.1, and load it.
    #[command(subcommand)]
    Testnet(cairn_testnet::cli::TestnetCommand),
}

/// `cairn node …`
#[derive(Subcommand)]
pub enum NodeCommand {
    /// Create a validator home: config.toml and new consensus and network keys.
    Init(NodeInit),
    /// Run a validator (or, with --full, a full node) until SIGINT or SIGTERM.
    Run {
        /// The node's home directory (made by `cairn node init`).
        #[arg(long)]
        home: PathBuf,
        /// The chain's genesis file.
        #[arg(long)]
        genesis: PathBuf,
        /// Run a full node: follow the chain by block sync, verify every certificate,
        /// serve the JSON-RPC API and forward submitted transactions to the
        /// validators; never sign. Its network peer id must be in the validators'
        /// `p2p.full_nodes`.
        #[arg(long)]
        full: bool,
    },
}

/// `cairn node init`
#[derive(Args)]
pub struct NodeInit {
    /// The home directory to create (or an empty existing one).
    #[arg(long)]
    pub home: PathBuf,
    /// The validator's name (used in logs and suggested for the genesis).
    #[arg(long, default_value = "validator")]
    pub name: String,
    /// The p2p listen multiaddr.
    #[arg(long, default_value = "/ip4/127.0.0.1/tcp/26600")]
    pub p2p_listen: String,
    /// The JSON-RPC listen address.
    #[arg(long, default_value = "127.0.0.1:8600")]
    pub rpc_listen: std::net::SocketAddr,
    /// The metrics listen address.
    #[arg(long, default_value = "127.0.0.1:9600")]
    pub metrics_listen: std::net::SocketAddr,
}

/// `cairn keys …`
#[derive(Subcommand)]
pub enum KeysCommand {
    /// Generate a new ed25519 key and write it to a new file with mode 0600.
    Generate {
        /// What the key is for: a validator's consensus key, a validator's network
        /// (libp2p) key, or a client account key.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// The file to create; an existing file is never overwritten.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Show the public half of a key file (and its PeerId, for a network key).
    Show {
        /// The key file.
        file: PathBuf,
    },
}

/// Key kinds as command-line values.
#[derive(Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// Signs proposals, votes and timeouts.
    Consensus,
    /// The validator's libp2p identity.
    Network,
    /// Signs client transactions.
    Account,
}

impl From<KindArg> for KeyKind {
    fn from(kind: KindArg) -> KeyKind {
        match kind {
            KindArg::Consensus => KeyKind::Consensus,
            KindArg::Network => KeyKind::Network,
            KindArg::Account => KeyKind::Account,
        }
    }
}

/// `cairn genesis …`
#[derive(Subcommand)]
pub enum GenesisCommand {
    /// Start a new genesis document with default parameters and no members.
    New {
        /// Human-readable chain name ([a-z0-9._-], at most 64 characters).
        #[arg(long)]
        chain_name: String,
        /// Genesis time, RFC 3339 (for example 2026-11-23T00:00:00Z); default: now.
        #[arg(long)]
        genesis_time: Option<String>,
        /// The file to create.
        #[arg(long, short)]
        out: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Add a validator to a genesis document.
    AddValidator(AddValidator),
    /// Add an account to a genesis document.
    AddAccount(AddAccount),
    /// Check a genesis document and show its chain id, n and f.
    Validate {
        /// The genesis file.
        file: PathBuf,
    },
}

/// `cairn genesis add-validator`
#[derive(Args)]
#[command(group = clap::ArgGroup::new("consensus").required(true))]
#[command(group = clap::ArgGroup::new("network").required(true))]
pub struct AddValidator {
    /// The genesis file to change.
    pub file: PathBuf,
    /// A unique name for the validator.
    #[arg(long)]
    pub name: String,
    /// The validator's consensus public key, as hex.
    #[arg(long, group = "consensus")]
    pub consensus_key: Option<String>,
    /// Read the consensus public key from this consensus key file.
    #[arg(long, group = "consensus")]
    pub consensus_key_file: Option<PathBuf>,
    /// The validator's libp2p PeerId (an ed25519 one).
    #[arg(long, group = "network")]
    pub peer_id: Option<String>,
    /// Read the PeerId from this network key file.
    #[arg(long, group = "network")]
    pub network_key_file: Option<PathBuf>,
    /// The address the validator listens on, as a multiaddr (for example /ip4/127.0.0.1/tcp/30400).
    #[arg(long)]
    pub address: String,
}

/// `cairn genesis add-account`
#[derive(Args)]
#[command(group = clap::ArgGroup::new("key").required(true))]
pub struct AddAccount {
    /// The genesis file to change.
    pub file: PathBuf,
    /// The account's public key, as hex.
    #[arg(long, group = "key")]
    pub public_key: Option<String>,
    /// Read the public key from this account key file.
    #[arg(long, group = "key")]
    pub key_file: Option<PathBuf>,
    /// The account's role: admin, writer or reader.
    #[arg(long)]
    pub role: Role,
    /// Initial balance.
    #[arg(long, default_value_t = 0)]
    pub balance: u64,
    /// An optional unique name.
    #[arg(long)]
    pub name: Option<String>,
}

/// `cairn tx …`
#[derive(Subcommand)]
pub enum TxCommand {
    /// Sign a transaction and print it as 0x-hex SCALE (the `tx_submit` parameter).
    Sign {
        /// The sender's account key file.
        #[arg(long)]
        key: PathBuf,
        /// The chain id (genesis hash), hex.
        #[arg(long)]
        chain_id: String,
        /// The sender's next nonce.
        #[arg(long)]
        nonce: u64,
        /// The operation.
        #[command(subcommand)]
        op: OpArg,
    },
    /// Sign a transaction and submit it over JSON-RPC.
    Send {
        /// The sender's account key file.
        #[arg(long)]
        key: PathBuf,
        /// The node's JSON-RPC URL.
        #[arg(long, default_value = "http://127.0.0.1:8600")]
        rpc: String,
        /// The nonce (default: the account's committed nonce, from the node).
        #[arg(long)]
        nonce: Option<u64>,
        /// Wait until the transaction is in a block and show its receipt.
        #[arg(long)]
        wait: bool,
        /// The operation.
        #[command(subcommand)]
        op: OpArg,
    },
}

/// A transaction's operation on the command line.
#[derive(Subcommand, Clone)]
pub enum OpArg {
    /// Set a key (needs the writer role). Text, or 0x-hex bytes.
    Put {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Remove a key (needs the writer role).
    Delete {
        /// The key.
        key: String,
    },
    /// Move an amount to another account (needs the writer role).
    Transfer {
        /// The receiving account's public key, hex.
        to: String,
        /// The amount.
        amount: u64,
    },
    /// Give an account a role (needs the admin role).
    Grant {
        /// The account's public key, hex.
        account: String,
        /// admin, writer or reader.
        role: Role,
    },
    /// Take an account's role away (needs the admin role).
    Revoke {
        /// The account's public key, hex.
        account: String,
    },
}
