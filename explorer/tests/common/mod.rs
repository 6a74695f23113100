//! Shared fixtures: a store holding a real signed chain (ChainBuilder), a genesis with
//! the same validators, an RPC server over a store on 127.0.0.1:0, and explorers over
//! both sources.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use cairn_crypto::{Hash, SecretKey};
use cairn_explorer::cli::ExplorerCommand;
use cairn_explorer::{Explorer, ExplorerError, Source, TrustRoot};
use cairn_genesis::{AccountEntry, Genesis, GenesisDoc, ValidatorEntry, network_peer_id};
use cairn_rpc::{
    NodeApi, NodeHealth, PeerStatus, PendingStatus, RpcConfig, RpcContext, RpcServer, SubmitError,
};
use cairn_storage::testing::ChainBuilder;
use cairn_storage::{Head, Store};
use cairn_types::{Role, Transaction};
use tempfile::TempDir;
use tokio::sync::watch;

/// What the explorer trusts in these tests: the chain builder's chain and validators
/// (a genesis document cannot have the builder's fixed chain id, which is not a genesis
/// hash).
pub fn trust() -> TrustRoot {
    TrustRoot {
        chain: ChainBuilder::chain_id(),
        validators: ChainBuilder::validator_set(),
        // Test chains carry made-up results: the structural audit only.
        genesis_state: None,
    }
}

/// A valid genesis document whose validators are the chain builder's.
pub fn genesis_doc() -> GenesisDoc {
    let mut doc = GenesisDoc::new(
        "cairn-explorer-test",
        UNIX_EPOCH + Duration::from_millis(1_795_392_000_000),
    );
    doc.validators = ChainBuilder::validator_keys()
        .iter()
        .zip(0u16..)
        .map(|(key, id)| ValidatorEntry {
            name: format!("v{id}"),
            consensus_key: key.public(),
            peer_id: network_peer_id(&SecretKey::from_seed(&[100 + id as u8; 32]).public())
                .to_string(),
            address: format!("/ip4/127.0.0.1/tcp/{}", 30400 + id),
        })
        .collect();
    doc.accounts = vec![AccountEntry {
        name: Some("writer".into()),
        public_key: ChainBuilder::sender(),
        role: Role::Admin,
        balance: 0,
    }];
    doc
}

/// The validated genesis.
pub fn genesis() -> Arc<Genesis> {
    Arc::new(genesis_doc().validate().unwrap())
}

/// A data directory holding a chain committed `commits[i]` blocks at a time, with `txs`
/// transactions per block. The writer is closed when this returns.
pub fn chain_dir(commits: &[usize], txs: usize) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &ChainBuilder::chain_id()).unwrap();
    let mut builder = ChainBuilder::new(txs);
    for &blocks in commits {
        store.commit(&builder.next_commit(blocks)).unwrap();
    }
    dir
}

/// A copy of a closed data directory (RocksDB files are plain files).
pub fn copy_dir(from: &Path) -> TempDir {
    let to = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        assert!(entry.file_type().unwrap().is_file(), "{entry:?}");
        std::fs::copy(entry.path(), to.path().join(entry.file_name())).unwrap();
    }
    to
}

/// Opens the (closed) store in `dir` as its writer, applies `change`, closes it.
pub fn tamper(dir: &Path, change: impl FnOnce(&Store)) {
    let store = Store::open(dir, &ChainBuilder::chain_id()).unwrap();
    change(&store);
}

/// An explorer reading `dir` offline.
pub fn offline(dir: &Path, json: bool) -> Explorer {
    let source = Source::open_store(dir, genesis(), &ChainBuilder::chain_id()).unwrap();
    Explorer::new(source, Some(trust()), json)
}

/// An explorer talking to `url`.
pub async fn online(url: &str, json: bool) -> Explorer {
    Explorer::new(Source::connect(url).await.unwrap(), Some(trust()), json)
}

/// Runs `command` and returns what it printed.
pub async fn output(
    explorer: &Explorer,
    command: ExplorerCommand,
) -> Result<String, ExplorerError> {
    let mut out = Vec::new();
    explorer.execute(&command, &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

/// A node with an empty mempool and no peers.
pub struct QuietNode;

#[jsonrpsee::core::async_trait]
impl NodeApi for QuietNode {
    async fn submit(&self, _tx: Transaction) -> Result<(), SubmitError> {
        Err(SubmitError::ShuttingDown)
    }

    fn pending_status(&self, _hash: &Hash) -> PendingStatus {
        PendingStatus::Unknown
    }

    fn health(&self) -> NodeHealth {
        NodeHealth {
            round: 1,
            connected_peers: 3,
            mempool_size: 0,
            mempool_capacity: 100,
            syncing: false,
        }
    }

    fn peers(&self) -> Vec<PeerStatus> {
        Vec::new()
    }
}

/// A real RPC server over a store.
pub struct Served {
    pub server: RpcServer,
    pub store: Arc<Store>,
    pub heads: watch::Sender<Head>,
    pub url: String,
}

/// Serves the store in `dir` (opened as its writer) on 127.0.0.1:0.
pub async fn serve(dir: &Path) -> Served {
    let store = Arc::new(Store::open(dir, &ChainBuilder::chain_id()).unwrap());
    let (heads, receiver) = watch::channel(store.head().unwrap());
    let ctx = RpcContext {
        store: Arc::clone(&store),
        genesis: genesis(),
        node: Arc::new(QuietNode),
        heads: receiver,
    };
    let config = RpcConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..RpcConfig::default()
    };
    let server = RpcServer::start(config, ctx, None).await.unwrap();
    let url = format!("http://{}", server.local_addr());
    Served {
        server,
        store,
        heads,
        url,
    }
}
