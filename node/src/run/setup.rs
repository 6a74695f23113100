//! Start-up: load and check every input (config, genesis, keys, data directory) with
//! errors that name the file or field, then start the components.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use cairn_consensus::{
    BlockInfo, Config, Consensus, LeaderRecord, SafetyData, Setup, history_needed,
};
use cairn_crypto::{Hash, KeyFile, KeyKind, SecretKey};
use cairn_genesis::{Genesis, GenesisDoc};
use cairn_mempool::{BatchVerifier, Mempool, MempoolConfig};
use cairn_network::{Inbox, Network, NetworkConfig, NetworkHandle, PeerId};
use cairn_rpc::{RpcConfig, RpcContext, RpcMetrics, RpcServer};
use cairn_storage::{Head, Store};
use cairn_types::{Block, ValidatorId};
use parity_scale_codec::{DecodeAll, Encode};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::metrics::{self, NodeMetrics};
use super::shared::{RpcNode, Shared};
use crate::config::NodeConfig;

/// Everything read from disk before the runtime starts.
pub struct Loaded {
    /// The configuration.
    pub config: NodeConfig,
    home: PathBuf,
    genesis: Arc<Genesis>,
    /// None for a full node.
    consensus_key: Option<SecretKey>,
    network_key: SecretKey,
    /// The validator id, or a full node's index among the permitted peers.
    me: ValidatorId,
}

/// The running components, handed to the run loop.
pub struct Started {
    /// None for a full node.
    pub consensus_key: Option<SecretKey>,
    pub shared: Arc<Shared>,
    /// On a full node: the transactions to forward to validators.
    pub forward_rx: Option<tokio::sync::mpsc::Receiver<cairn_types::Transaction>>,
    pub net: NetworkHandle,
    pub incoming: Inbox,
    pub heads: watch::Sender<Head>,
    pub block_fetch: Duration,
    pub rpc: RpcServer,
    pub registry: Arc<Registry>,
    pub metrics_listener: Option<TcpListener>,
    pub evidence_dir: PathBuf,
    /// Peers the network numbers (validators, then permitted full nodes).
    pub peers: usize,
}

impl Loaded {
    /// Reads config, genesis and keys; installs logging. A validator (`full` false)
    /// must find its consensus key and network peer id in the genesis; a full node
    /// needs only a network key whose peer id its `p2p.full_nodes` lists.
    pub fn load(home: &Path, genesis_path: &Path, full: bool) -> Result<Loaded> {
        let config = NodeConfig::load(home)?;
        crate::logging::init(&config.log)?;
        let doc = GenesisDoc::load(genesis_path)
            .map_err(|e| anyhow!("genesis file {}: {e}", genesis_path.display()))?;
        let genesis = doc
            .validate()
            .map_err(|e| anyhow!("genesis file {}: {e}", genesis_path.display()))?;
        let net_path = NodeConfig::resolve(home, &config.node.network_key);
        let network_key = KeyFile::load(&net_path, KeyKind::Network)
            .map_err(|e| anyhow!("node.network_key: {e}"))?;
        let peer = cairn_genesis::network_peer_id(&network_key.public());
        let (consensus_key, me) = match full {
            true => (None, full_node_id(&config, &genesis, &peer)?),
            false => {
                let (key, me) = validator_identity(home, &config, &genesis, genesis_path)?;
                let expected_peer = &genesis.doc().validators[usize::from(me.0)].peer_id;
                if &peer.to_string() != expected_peer {
                    bail!(
                        "the network key in {} has peer id {peer}, but the genesis lists {expected_peer} for this validator",
                        net_path.display()
                    );
                }
                (Some(key), me)
            }
        };
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
        prepare_state(&store, &self.genesis)?;
        if self.consensus_key.is_some() {
            ensure_safety_state(&store, &self.home, &self.genesis)?;
        }
        let head = store.head()?;

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
        // Full nodes permitted to connect follow the validators: read-only peers.
        net_config.validators.extend(config.full_node_peers()?);
        net_config
            .addresses
            .resize(net_config.validators.len(), Vec::new());
        let peers = net_config.validators.len();
        let max_block_bytes =
            usize::try_from(self.genesis.doc().params.max_block_bytes).unwrap_or(usize::MAX);
        net_config.limits.max_message_bytes = super::wire::max_message_bytes(max_block_bytes);
        net_config.limits.max_request_bytes = net_config
            .limits
            .max_request_bytes
            .max(net_config.limits.max_message_bytes);
        // Consensus messages, batch votes and proofs, and batched proposals have their
        // own lane, taken before batches of transactions; a peer's share of a lane holds
        // at least two of the largest messages.
        net_config.limits.priority_kinds = vec![
            super::wire::KIND_CONSENSUS,
            super::wire::KIND_BATCH_VOTE,
            super::wire::KIND_BATCH_PROOF,
            super::wire::KIND_BATCHED_PROPOSAL,
        ];
        let limits = &mut net_config.limits;
        limits.incoming_peer_bytes = limits
            .incoming_peer_bytes
            .max(limits.max_message_bytes.saturating_mul(2));
        // Every peer's full share fits in a lane, so f colluding peers filling theirs
        // cannot crowd out an honest peer's messages.
        let others = peers.saturating_sub(1).max(1);
        limits.incoming_lane_bytes = limits
            .incoming_lane_bytes
            .max(limits.incoming_peer_bytes.saturating_mul(others));
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
        let admissions = super::admission::AdmissionLog::spawn(&store)
            .context("cannot start the admission writer")?;
        let acknowledged = store
            .admitted()
            .map_err(|e| anyhow!("reading acknowledged transactions: {e}"))?;
        let mut shared = Shared::new(
            store.clone(),
            self.genesis.clone(),
            self.me,
            mempool,
            verifier,
            node_metrics,
            admissions,
        );
        let forward_rx = if self.consensus_key.is_none() {
            let (tx, rx) = tokio::sync::mpsc::channel(16_384);
            shared.forward = Some(tx);
            Some(rx)
        } else {
            None
        };
        let shared = Arc::new(shared);
        if !acknowledged.is_empty() {
            let count = acknowledged.len();
            let pending = shared.readmit(acknowledged).await;
            tracing::info!(
                acknowledged = count,
                pending,
                "admitted again the transactions acknowledged before the restart"
            );
        }
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
            forward_rx,
            consensus_key: self.consensus_key,
            shared,
            net,
            incoming,
            heads,
            block_fetch: Duration::from_millis(config.timeouts.block_fetch_ms),
            rpc,
            registry: Arc::new(registry),
            metrics_listener,
            evidence_dir: self.home.join("evidence"),
            peers,
        })
    }
}

/// The consensus key and validator id of a validator's home.
fn validator_identity(
    home: &Path,
    config: &NodeConfig,
    genesis: &Genesis,
    genesis_path: &Path,
) -> Result<(SecretKey, ValidatorId)> {
    let key_path = NodeConfig::resolve(home, &config.node.consensus_key);
    let key = KeyFile::load(&key_path, KeyKind::Consensus)
        .map_err(|e| anyhow!("node.consensus_key: {e}"))?;
    let Some(me) = genesis.validators().id_of(&key.public()) else {
        bail!(
            "the consensus key in {} ({}) is not a validator of the genesis {} \
             (to follow the chain without a validator key, run a full node: --full)",
            key_path.display(),
            key.public(),
            genesis_path.display()
        );
    };
    Ok((key, me))
}

/// A full node's network index: its place among the permitted peers (the genesis
/// validators, then `p2p.full_nodes`), which must list it.
fn full_node_id(config: &NodeConfig, genesis: &Genesis, peer: &PeerId) -> Result<ValidatorId> {
    if genesis.peer_ids().contains(peer) {
        bail!("the network key's peer id {peer} is a validator's: a full node needs its own key");
    }
    let index = config
        .full_node_peers()?
        .iter()
        .position(|p| p == peer)
        .ok_or_else(|| {
            anyhow!(
                "a full node must list its own peer id {peer} in p2p.full_nodes \
                 (and the validators must list it too)"
            )
        })?;
    let index = genesis.n() + index;
    u16::try_from(index)
        .map(ValidatorId)
        .map_err(|_| anyhow!("too many permitted peers"))
}

/// The file in a validator's home that records that it has started on a chain: a data
/// directory without a safety state next to it was lost or replaced, not new.
pub const STARTED_MARKER: &str = "validator-started";

/// Makes sure the store holds a consensus safety state before consensus starts. A
/// fresh home on its first start gets the genesis state (nothing signed yet). A home
/// that has run before on this chain (its [`STARTED_MARKER`] names the chain) but
/// whose data directory has none lost it with the directory: the validator may have
/// signed things it no longer remembers, so it starts *recovering* — following
/// without signing until its peers' certificates show rounds beyond any it could
/// have signed in (docs/PROTOCOL.md, "Re-entry without safety state").
fn ensure_safety_state(store: &Store, home: &Path, genesis: &Genesis) -> Result<()> {
    let chain = genesis.chain_id();
    let marker = home.join(STARTED_MARKER);
    let started_here =
        std::fs::read_to_string(&marker).is_ok_and(|text| text.trim() == chain.0.to_string());
    if store.safety_state()?.is_none() {
        let safety = if started_here {
            tracing::warn!(
                marker = %marker.display(),
                "this validator ran on this chain before, but its data directory has no \
                 consensus safety state (lost or replaced): RECOVERING — following the chain \
                 without signing until the network is past every round it could have signed in"
            );
            SafetyData::recovering(&chain)
        } else {
            SafetyData::genesis(&chain)
        };
        store.put_safety_state(&safety.encode())?;
    }
    if !started_here {
        write_synced(&marker, format!("{}\n", chain.0).as_bytes())
            .map_err(|e| anyhow!("cannot write {}: {e}", marker.display()))?;
    }
    Ok(())
}

/// The stored consensus safety state, decoded.
pub fn stored_safety(store: &Store) -> Result<Option<SafetyData>> {
    store
        .safety_state()?
        .map(|bytes| {
            SafetyData::decode_all(&mut bytes.as_slice()).map_err(|e| {
                anyhow!("data directory: the stored consensus safety state is unreadable: {e}")
            })
        })
        .transpose()
}

/// The chain holds this validator's signature for `round`, above anything its safety
/// state remembers (a data directory restored from an old backup): it must recover
/// before it signs again.
pub fn mark_recovering(store: &Store, round: cairn_types::Round) -> Result<()> {
    let Some(mut safety) = stored_safety(store)? else {
        return Ok(());
    };
    if safety.recovering {
        return Ok(());
    }
    tracing::warn!(
        round,
        remembered = safety.highest_voted_round,
        "the chain holds this validator's signature for a round its safety state does not \
         remember (restored from an old backup?): RECOVERING before signing again"
    );
    safety.recovering = true;
    store.put_safety_state(&safety.encode())?;
    Ok(())
}

/// Writes `bytes` to `path` and syncs the file and its directory.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Writes the genesis state on first start.
fn prepare_state(store: &Store, genesis: &Genesis) -> Result<()> {
    if store.state_root_at(0)?.is_none() {
        let (changes, root) = cairn_execution::genesis_state(genesis);
        store.write_genesis_state(&changes, &root)?;
    }
    Ok(())
}

/// The consensus core and what the driver needs with it, rebuilt from the store: the
/// persisted safety state, the committed head, its state hash and the voted blocks.
/// Built at start and again after every block sync.
pub struct Resumed {
    pub core: Consensus,
    pub state_root: Hash,
    pub pending: Vec<Block>,
}

impl Resumed {
    pub fn from_store(
        store: &Store,
        genesis: &Genesis,
        me: ValidatorId,
        key: &SecretKey,
    ) -> Result<Resumed> {
        let head = store.head()?;
        let state_root = store.state_root_at(head.height)?.ok_or_else(|| {
            anyhow!(
                "data directory: no execution result for head height {}",
                head.height
            )
        })?;
        let key = SecretKey::from_seed(&key.seed());
        Ok(Resumed {
            core: restore_consensus(store, genesis, me, key)?,
            state_root,
            pending: store.pending_blocks()?,
        })
    }
}

/// Rebuilds the consensus core from the persisted safety state, head and voted blocks.
fn restore_consensus(
    store: &Store,
    genesis: &Genesis,
    me: ValidatorId,
    key: SecretKey,
) -> Result<Consensus> {
    let chain = genesis.chain_id();
    let safety = stored_safety(store)?
        .ok_or_else(|| anyhow!("data directory: no consensus safety state"))?;
    let head = store.head()?;
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
        history: leader_history(store, head.height, genesis.validators().len())?,
    })
    .map_err(|e| anyhow!("cannot restore consensus: {e}"))
}

/// The last committed blocks the leader rule reads, oldest first (headers only).
fn leader_history(store: &Store, head: u64, n: usize) -> Result<Vec<LeaderRecord>> {
    if head == 0 {
        return Ok(Vec::new());
    }
    let from = head.saturating_sub(history_needed(n) as u64 - 1).max(1);
    let headers = store.headers(from..=head)?;
    Ok(headers.iter().map(LeaderRecord::of_header).collect())
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
