//! Shared fixtures: a real store with a real signed chain, a genesis for it, a fake
//! node, and a server on 127.0.0.1:0.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use cairn_crypto::{Hash, SecretKey};
use cairn_genesis::{AccountEntry, Genesis, GenesisDoc, ValidatorEntry, network_peer_id};
use cairn_rpc::{
    Client, NodeApi, NodeHealth, PeerStatus, PendingStatus, RpcConfig, RpcContext, RpcMetrics,
    RpcServer, SubmitError,
};
use cairn_storage::testing::ChainBuilder;
use cairn_storage::{CommitBatch, Head, Store};
use cairn_types::{Role, Transaction};
use prometheus_client::registry::Registry;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// 2026-11-23T00:00:00Z.
pub const GENESIS_MS: u64 = 1_795_392_000_000;

/// A node whose answers the test sets.
pub struct FakeNode {
    /// Every transaction `submit` accepted.
    pub submitted: Mutex<Vec<Transaction>>,
    /// When set, `submit` refuses with this.
    pub refuse_with: Mutex<Option<SubmitError>>,
    /// The mempool's view of transactions.
    pub pending: Mutex<HashMap<Hash, PendingStatus>>,
    /// What `health` answers.
    pub health: Mutex<NodeHealth>,
}

impl Default for FakeNode {
    fn default() -> Self {
        FakeNode {
            submitted: Mutex::default(),
            refuse_with: Mutex::default(),
            pending: Mutex::default(),
            health: Mutex::new(NodeHealth {
                round: 42,
                connected_peers: 3,
                mempool_size: 7,
                mempool_capacity: 1000,
                syncing: false,
            }),
        }
    }
}

#[jsonrpsee::core::async_trait]
impl NodeApi for FakeNode {
    async fn submit(&self, tx: Transaction) -> Result<(), SubmitError> {
        if let Some(error) = self.refuse_with.lock().unwrap().clone() {
            return Err(error);
        }
        self.submitted.lock().unwrap().push(tx);
        Ok(())
    }

    fn pending_status(&self, hash: &Hash) -> PendingStatus {
        self.pending
            .lock()
            .unwrap()
            .get(hash)
            .cloned()
            .unwrap_or(PendingStatus::Unknown)
    }

    fn health(&self) -> NodeHealth {
        self.health.lock().unwrap().clone()
    }

    fn peers(&self) -> Vec<PeerStatus> {
        (0..4u16)
            .map(|id| PeerStatus {
                id,
                name: format!("v{id}"),
                peer_id: network_peer_id(&network_key(id)).to_string(),
                connected: id != 3,
            })
            .collect()
    }
}

fn network_key(id: u16) -> cairn_crypto::PublicKey {
    SecretKey::from_seed(&[100 + id as u8; 32]).public()
}

/// A valid genesis whose validators are the chain builder's.
pub fn genesis() -> Genesis {
    let mut doc = GenesisDoc::new(
        "cairn-rpc-test",
        UNIX_EPOCH + Duration::from_millis(GENESIS_MS),
    );
    doc.validators = ChainBuilder::validator_keys()
        .iter()
        .zip(0u16..)
        .map(|(key, id)| ValidatorEntry {
            name: format!("v{id}"),
            consensus_key: key.public(),
            peer_id: network_peer_id(&network_key(id)).to_string(),
            address: format!("/ip4/127.0.0.1/tcp/{}", 30400 + id),
        })
        .collect();
    doc.accounts = vec![AccountEntry {
        name: Some("writer".into()),
        public_key: ChainBuilder::sender(),
        role: Role::Admin,
        balance: 0,
    }];
    doc.validate().unwrap()
}

/// A store, a chain, a fake node and a running server.
pub struct Fixture {
    pub dir: TempDir,
    pub store: Arc<Store>,
    pub builder: ChainBuilder,
    pub node: Arc<FakeNode>,
    pub heads: watch::Sender<Head>,
    pub genesis: Arc<Genesis>,
    pub metrics: Arc<RpcMetrics>,
    pub registry: Registry,
    pub server: RpcServer,
}

/// Test defaults: an ephemeral port, everything else as shipped.
pub fn test_config() -> RpcConfig {
    RpcConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..RpcConfig::default()
    }
}

impl Fixture {
    /// `commits` commits of one block each with `txs` transactions, served with the
    /// default test configuration.
    pub async fn start(commits: usize, txs: usize) -> Fixture {
        Fixture::start_with(test_config(), commits, txs).await
    }

    /// As [`Fixture::start`], with `config`.
    pub async fn start_with(config: RpcConfig, commits: usize, txs: usize) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path(), &ChainBuilder::chain_id()).unwrap());
        let mut builder = ChainBuilder::new(txs);
        for _ in 0..commits {
            store.commit(&builder.next_commit(1)).unwrap();
        }
        let (heads, heads_rx) = watch::channel(store.head().unwrap());
        let genesis = Arc::new(genesis());
        let node = Arc::new(FakeNode::default());
        let mut registry = Registry::default();
        let metrics = RpcMetrics::register(&mut registry);
        let ctx = RpcContext {
            store: store.clone(),
            genesis: genesis.clone(),
            node: node.clone(),
            heads: heads_rx,
        };
        let server = RpcServer::start(config, ctx, Some(metrics.clone()))
            .await
            .unwrap();
        Fixture {
            dir,
            store,
            builder,
            node,
            heads,
            genesis,
            metrics,
            registry,
            server,
        }
    }

    /// Commits `batch` and tells the server about the new head, as the node does.
    pub fn commit(&self, batch: &CommitBatch) -> Head {
        let head = self.store.commit(batch).unwrap();
        self.heads.send_replace(head);
        head
    }

    /// Commits `blocks` more blocks in one commit and announces the new head.
    pub fn commit_blocks(&mut self, blocks: usize) -> Head {
        let batch = self.builder.next_commit(blocks);
        self.commit(&batch)
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    pub async fn http(&self) -> Client {
        Client::connect(&format!("http://{}", self.addr()))
            .await
            .unwrap()
    }

    pub async fn ws(&self) -> Client {
        Client::connect(&format!("ws://{}", self.addr()))
            .await
            .unwrap()
    }
}

/// Posts `body` as one HTTP/1.1 request on a fresh connection; returns the status code
/// and the response body.
pub async fn raw_post(addr: SocketAddr, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The server may answer (and stop reading) before a refused body is all sent.
    let _ = stream.write_all(body).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The JSON value in an HTTP response body.
pub fn json_of(body: &str) -> serde_json::Value {
    let start = body
        .find(['{', '['])
        .unwrap_or_else(|| panic!("no JSON in {body:?}"));
    let end = body.rfind(['}', ']']).unwrap();
    serde_json::from_str(&body[start..=end]).unwrap()
}
