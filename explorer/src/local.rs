//! Offline access: the node's own JSON-RPC handlers, served in-process over a data
//! directory opened read-only, so that every command gives the same answer offline as
//! against a running node.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairn_crypto::Hash;
use cairn_genesis::Genesis;
use cairn_rpc::{
    NodeApi, NodeHealth, PeerStatus, PendingStatus, RpcConfig, RpcContext, RpcError, SubmitError,
};
use cairn_storage::{Head, Store};
use cairn_types::{ChainId, Transaction};
use jsonrpsee::RpcModule;
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::core::server::MethodsError;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use crate::{ExplorerError, Result};

/// A data directory opened read-only, with the RPC methods served over it in-process.
pub struct LocalNode {
    module: RpcModule<()>,
    store: Arc<Store>,
    path: PathBuf,
    /// Keeps the heads channel of the module's context open.
    _heads: watch::Sender<Head>,
}

impl std::fmt::Debug for LocalNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalNode")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl LocalNode {
    /// Opens the store in `dir` read-only (this works while a node runs on it) for
    /// chain `chain`, described to `validators_list` and friends by `genesis`.
    pub fn open(dir: &Path, genesis: Arc<Genesis>, chain: &ChainId) -> Result<LocalNode> {
        let path = dir.to_path_buf();
        let store = Store::open_read_only(dir, chain)
            .map(Arc::new)
            .map_err(|e| ExplorerError::store(path.clone(), e))?;
        let head = store
            .head()
            .map_err(|e| ExplorerError::store(path.clone(), e))?;
        let (heads_tx, heads) = watch::channel(head);
        let ctx = RpcContext {
            store: Arc::clone(&store),
            genesis,
            node: Arc::new(OfflineNode),
            heads,
        };
        let module = cairn_rpc::build_module(ctx, &RpcConfig::default(), None)
            .map_err(|e| ExplorerError::Internal(format!("cannot build the RPC methods: {e}")))?;
        Ok(LocalNode {
            module,
            store,
            path,
            _heads: heads_tx,
        })
    }

    /// The read-only store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Catches up with what the node has committed since the store was opened.
    pub fn refresh(&self) -> Result<()> {
        self.store
            .refresh()
            .map_err(|e| ExplorerError::store(self.path.clone(), e))
    }

    /// Calls `method` in-process with positional `params`.
    pub(crate) async fn request<R: DeserializeOwned + Clone>(
        &self,
        method: &str,
        params: Vec<serde_json::Value>,
    ) -> std::result::Result<R, RpcError> {
        let mut array = ArrayParams::new();
        for param in params {
            array
                .insert(param)
                .map_err(|e| RpcError::Decode(e.to_string()))?;
        }
        self.module
            .call(method, array)
            .await
            .map_err(|error| match error {
                MethodsError::JsonRpc(object) => RpcError::Call {
                    code: object.code(),
                    message: object.message().to_string(),
                    data: object
                        .data()
                        .and_then(|raw| serde_json::from_str(raw.get()).ok()),
                },
                MethodsError::Parse(e) => RpcError::Decode(e.to_string()),
                other => RpcError::Transport(other.to_string()),
            })
    }
}

/// The node-side API of an offline store: no mempool, no peers, nothing pending.
struct OfflineNode;

#[jsonrpsee::core::async_trait]
impl NodeApi for OfflineNode {
    async fn submit(&self, _tx: Transaction) -> std::result::Result<(), SubmitError> {
        Err(SubmitError::Internal(
            "the explorer reads a data directory and cannot submit transactions".into(),
        ))
    }

    fn pending_status(&self, _hash: &Hash) -> PendingStatus {
        PendingStatus::Unknown
    }

    fn health(&self) -> NodeHealth {
        NodeHealth {
            round: 0,
            connected_peers: 0,
            mempool_size: 0,
            mempool_capacity: 0,
            syncing: false,
        }
    }

    fn peers(&self) -> Vec<PeerStatus> {
        Vec::new()
    }
}
