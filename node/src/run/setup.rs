//! Start-up: load and check every input (config, genesis, keys, data directory) with
//! errors that name the file or field, then start the components.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use cairn_consensus::{BlockInfo, Config, Consensus, SafetyData, Setup};
use cairn_crypto::{Hash, KeyFile, KeyKind, SecretKey};
use cairn_genesis::{Genesis, GenesisDoc};
use cairn_mempool::{BatchVerifier, Mempool, MempoolConfig};
use cairn_network::{Inbox, Network, NetworkConfig, NetworkHandle};
use cairn_rpc::{RpcConfig, RpcContext, RpcMetrics, RpcServer};
use cairn_storage::{Head, Store};
use cairn_types::{Block, Transaction, ValidatorId};
use parity_scale_codec::DecodeAll;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use super::metrics::{self, NodeMetrics};
use super::shared::{RpcNode, Shared};
use crate::config::NodeConfig;

/// Everything read from disk before the runtime starts.
pub struct Loaded {
    /// The configuration.
    pub config: NodeConfig,
    home: PathBuf,
    genesis: Arc<Genesis>,
    consensus_key: SecretKey,
    network_key: SecretKey,
    me: ValidatorId,
}

/// The running components, handed to the run loop.
pub struct Started {
    pub core: Consensus,
    pub shared: Arc<Shared>,
    pub net: NetworkHandle,
    pub incoming: Inbox,
    pub heads: watch::Sender<Head>,
    pub state_root: Hash,
    pub pending: Vec<Block>,
    pub block_fetch: Duration,
    pub rpc: RpcServer,
    pub registry: Arc<Registry>,
    pub metrics_listener: Option<TcpListener>,
    pub gossip_rx: mpsc::Receiver<Transaction>,
    pub evidence_dir: PathBuf,
}

impl Loaded {
    /// Reads config, genesis and keys; installs logging.
    pub fn load(home: &Path, genesis_path: &Path) -> Result<Loaded> {
        let config = NodeConfig::load(home)?;
        crate::logging::init(&config.log)?;
        let doc = GenesisDoc::load(genesis_path)
            .map_err(|e| anyhow!("genesis file {}: {e}", genesis_path.display()))?;
        let genesis = doc
            .validate()
            .map_err(|e| anyhow!("genesis file {}: {e}", genesis_path.display()))?;
        let key_path = NodeConfig::resolve(home, &config.node.consensus_key);
        let consensus_key = KeyFile::load(&key_path, KeyKind::Consensus)
            .map_err(|e| anyhow!("node.consensus_key: {e}"))?;
        let net_path = NodeConfig::resolve(home, &config.node.network_key);
        let network_key = KeyFile::load(&net_path, KeyKind::Network)
            .map_err(|e| anyhow!("node.network_key: {e}"))?;
        let Some(me) = genesis.validators().id_of(&consensus_key.public()) else {
            bail!(
                "the consensus key in {} ({}) is not a validator of the genesis {}",
                key_path.display(),
                consensus_key.public(),
                genesis_path.display()
            );
        };
        let expected_peer = &genesis.doc().validators[usize::from(me.0)].peer_id;
        let peer = cairn_genesis::network_peer_id(&network_key.public()).to_string();
        if &peer != expected_peer {
            bail!(
                "the network key in {} has peer id {peer}, but the genesis lists {expected_peer} for this validator",
                net_path.display()
            );
        }
        Ok(Loaded {
            config,
            home: home.to_path_buf(),
            genesis: Arc::new(genesis),
            consensus_key,
            network_key,
            me,
        })
    }

    /// Binds the ports, opens the store, restores consensus and starts the network and
    /// the RPC server.
    pub async fn start(self) -> Result<Started> {
        let config = &self.config;
        let metrics_listener = match config.metrics.enabled {
            true => Some(metrics::bind(config.metrics.listen).await?),
            false => None,
        };
        let data = NodeConfig::resolve(&self.home, &config.node.data_dir);
        let chain = self.genesis.chain_id();
        let store = Arc::new(
            Store::open(&data, &chain)
                .map_err(|e| anyhow!("data directory {}: {e}", data.display()))?,
        );
        let state_root = prepare_state(&store, &self.genesis)?;
        let head = store.head()?;
        let core = restore_consensus(&store, &self.genesis, self.me, self.consensus_key)?;
        let pending = store.pending_blocks()?;

        let mut registry = Registry::default();
        let node_metrics = NodeMetrics::register(&mut registry);
        node_metrics.height.set(head.height as i64);
        let net_metrics = Arc::new(cairn_network::Metrics::default());
        net_metrics.register(&mut registry);
        let rpc_metrics = RpcMetrics::register(&mut registry);

        let listen = config
            .p2p
            .listen
            .parse()
            .map_err(|e| anyhow!("p2p.listen: {e}"))?;
        let mut net_config = NetworkConfig::from_genesis(&self.genesis, self.network_key, listen)
            .map_err(|e| anyhow!("genesis validator address: {e}"))?;
        let max_block_bytes =
            usize::try_from(self.genesis.doc().params.max_block_bytes).unwrap_or(usize::MAX);
        net_config.limits.max_message_bytes = super::wire::max_message_bytes(max_block_bytes);
        net_config.limits.max_request_bytes = net_config
            .limits
            .max_request_bytes
            .max(net_config.limits.max_message_bytes);
        // Consensus messages have their own lane, taken before transaction gossip; a
        // peer's share of a lane holds at least two of the largest messages.
        net_config.limits.priority_kinds = vec![super::wire::KIND_CONSENSUS];
        let limits = &mut net_config.limits;
        limits.incoming_peer_bytes = limits
            .incoming_peer_bytes
            .max(limits.max_message_bytes.saturating_mul(2));
        // Every peer's full share fits in a lane, so f colluding peers filling theirs
        // cannot crowd out an honest peer's messages.
        let peers = self.genesis.n().saturating_sub(1).max(1);
        limits.incoming_lane_bytes = limits
            .incoming_lane_bytes
            .max(limits.incoming_peer_bytes.saturating_mul(peers));
        for addr in &config.p2p.bootstrap {
            net_config.bootstrap.push(
                addr.parse()
                    .map_err(|e| anyhow!("p2p.bootstrap {addr}: {e}"))?,
            );
        }
        let (net, incoming) = Network::start_with_metrics(net_config, net_metrics)
            .await
            .map_err(|e| anyhow!("p2p.listen {}: {e}", config.p2p.listen))?;

        let mempool = Mempool::new(
            MempoolConfig {
                capacity: config.mempool.capacity,
                max_bytes: config.mempool.max_bytes,
                max_nonce_ahead: config.mempool.max_nonce_ahead,
                max_tx_bytes: usize::try_from(self.genesis.doc().params.max_tx_bytes)
                    .unwrap_or(usize::MAX),
                ..MempoolConfig::default()
            },
            chain,
        );
        let max_tx_bytes =
            usize::try_from(self.genesis.doc().params.max_tx_bytes).unwrap_or(usize::MAX);
        if config.mempool.max_bytes < max_tx_bytes {
            bail!(
                "mempool.max_bytes ({}) is below the genesis max_tx_bytes ({max_tx_bytes}): no transaction would fit",
                config.mempool.max_bytes
            );
        }
        let verifier = BatchVerifier::spawn(256, Duration::from_millis(2));
        let (gossip_tx, gossip_rx) = mpsc::channel(16_384);
        let shared = Arc::new(Shared::new(
            store.clone(),
            self.genesis.clone(),
            self.me,
            mempool,
            verifier,
            gossip_tx,
            node_metrics,
        ));
        let (heads, heads_rx) = watch::channel(head);
        let rpc = RpcServer::start(
            rpc_config(config, &self.genesis),
            RpcContext {
                store,
                genesis: self.genesis.clone(),
                node: Arc::new(RpcNode(shared.clone())),
                heads: heads_rx,
            },
            Some(rpc_metrics),
        )
        .await
        .map_err(|e| anyhow!("rpc.listen {}: {e}", config.rpc.listen))?;
        Ok(Started {
            core,
            shared,
            net,
            incoming,
            heads,
            state_root,
            pending,
            block_fetch: Duration::from_millis(config.timeouts.block_fetch_ms),
            rpc,
            registry: Arc::new(registry),
            metrics_listener,
            gossip_rx,
            evidence_dir: self.home.join("evidence"),
        })
    }
}

/// Writes the genesis state on first start; returns the state hash after the head.
fn prepare_state(store: &Store, genesis: &Genesis) -> Result<Hash> {
    if store.state_root_at(0)?.is_none() {
        let (changes, root) = cairn_execution::genesis_state(genesis);
        store.write_genesis_state(&changes, &root)?;
    }
    let head = store.head()?;
    store.state_root_at(head.height)?.ok_or_else(|| {
        anyhow!(
            "data directory: no execution result for head height {}",
            head.height
        )
    })
}

/// Rebuilds the consensus core from the persisted safety state, head and voted blocks.
fn restore_consensus(
    store: &Store,
    genesis: &Genesis,
    me: ValidatorId,
    key: SecretKey,
) -> Result<Consensus> {
    let chain = genesis.chain_id();
    let safety = match store.safety_state()? {
        Some(bytes) => SafetyData::decode_all(&mut bytes.as_slice()).map_err(|e| {
            anyhow!("data directory: the stored consensus safety state is unreadable: {e}")
        })?,
        None => SafetyData::genesis(&chain),
    };
    let head = store.head()?;
    if store.safety_state()?.is_none() && head.height > 0 {
        // Safety state is written before anything is signed, so a store without one
        // never signed — unless it was copied or restored without its safety state.
        tracing::warn!(
            head = head.height,
            "the data directory has committed blocks but no consensus safety state; \
             starting from a fresh one (safe only if this validator never signed with these keys)"
        );
    }
    let committed = if head.height == 0 {
        BlockInfo::genesis(&chain)
    } else {
        let block = store
            .block_at(head.height)?
            .ok_or_else(|| anyhow!("data directory: the head block {} is missing", head.height))?;
        BlockInfo::of(&block)
    };
    let params = &genesis.doc().params;
    let config = Config {
        round_timeout_ms: params.round_timeout_ms,
        max_round_timeout_ms: params.max_round_timeout_ms,
        heartbeat_ms: params.heartbeat_ms,
        max_block_txs: usize::try_from(params.max_block_txs).unwrap_or(usize::MAX),
        ..Config::default()
    };
    Consensus::new(Setup {
        config,
        chain,
        validators: genesis.validators().clone(),
        me,
        key,
        safety,
        committed,
        blocks: store.pending_blocks()?,
    })
    .map_err(|e| anyhow!("cannot restore consensus: {e}"))
}

fn rpc_config(config: &NodeConfig, genesis: &Genesis) -> RpcConfig {
    let rpc = &config.rpc;
    RpcConfig {
        listen: rpc.listen,
        max_request_bytes: rpc.max_request_bytes,
        max_response_bytes: rpc.max_response_bytes,
        max_connections: rpc.max_connections,
        max_subscriptions_per_connection: rpc.max_subscriptions_per_connection,
        max_batch_len: rpc.max_batch_len,
        subscription_buffer: rpc.subscription_buffer,
        max_tx_bytes: usize::try_from(genesis.doc().params.max_tx_bytes).unwrap_or(usize::MAX),
        slow_subscriber_timeout: Duration::from_millis(rpc.slow_subscriber_timeout_ms),
        rate_limit_per_second: rpc.rate_limit_per_second,
        rate_limit_burst: rpc.rate_limit_burst,
    }
}
