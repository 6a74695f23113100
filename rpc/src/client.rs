//! A typed client of the cairn API for the explorer, the testnet tools and tests.

use cairn_crypto::{Hash, PublicKey};
use cairn_types::{Transaction, Wire};
use jsonrpsee::core::client::{ClientT, Subscription, SubscriptionClientT};
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::block_ref::BlockRef;
use crate::error::{Result, RpcError};
use crate::hex::{Hex, HexHash, HexKey};
use crate::methods as m;
use crate::node_api::PeerStatus;
use crate::types::{
    AccountInfo, BlockInfo, BlockOutcomes, CommitInfo, ConsensusStatus, HeadEvent, HeadInfo,
    HealthInfo, StateEntry, TxInfo, TxProof, TxSubmitResult, TxSubmitted, ValidatorsInfo,
    VersionInfo,
};

/// Largest request the client sends, in bytes.
const MAX_REQUEST_BYTES: u32 = 16 * 1024 * 1024;
/// Largest answer the client reads, in bytes (a maximal block, hex-encoded, fits).
const MAX_RESPONSE_BYTES: u32 = 128 * 1024 * 1024;

enum Transport {
    Http(HttpClient),
    Ws(WsClient),
}

/// A connection to a cairn node's JSON-RPC server: HTTP for calls, WebSocket for calls
/// and subscriptions.
pub struct Client {
    transport: Transport,
    url: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("url", &self.url).finish()
    }
}

impl Client {
    /// http(s):// → HTTP client; ws(s):// → WebSocket client (needed for subscriptions).
    pub async fn connect(url: &str) -> Result<Client> {
        let connect_failed = |e: jsonrpsee::core::ClientError| RpcError::Connect {
            url: url.to_string(),
            reason: e.to_string(),
        };
        let transport = if url.starts_with("http://") || url.starts_with("https://") {
            let client = HttpClientBuilder::default()
                .max_request_size(MAX_REQUEST_BYTES)
                .max_response_size(MAX_RESPONSE_BYTES)
                .build(url)
                .map_err(connect_failed)?;
            Transport::Http(client)
        } else if url.starts_with("ws://") || url.starts_with("wss://") {
            let client = WsClientBuilder::default()
                .max_request_size(MAX_REQUEST_BYTES)
                .max_response_size(MAX_RESPONSE_BYTES)
                .build(url)
                .await
                .map_err(connect_failed)?;
            Transport::Ws(client)
        } else {
            return Err(RpcError::UnsupportedUrl {
                url: url.to_string(),
            });
        };
        Ok(Client {
            transport,
            url: url.to_string(),
        })
    }

    /// The URL this client talks to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls `method` with positional `params` and decodes the result as `R`: for
    /// methods this client has no typed wrapper for, and for testing the server with
    /// arbitrary parameters.
    pub async fn request<R: DeserializeOwned>(
        &self,
        method: &str,
        params: Vec<serde_json::Value>,
    ) -> Result<R> {
        let mut array = ArrayParams::new();
        for param in params {
            array
                .insert(param)
                .map_err(|e| RpcError::Decode(e.to_string()))?;
        }
        let answer = match &self.transport {
            Transport::Http(client) => client.request(method, array).await,
            Transport::Ws(client) => client.request(method, array).await,
        };
        answer.map_err(RpcError::from)
    }

    async fn call<R: DeserializeOwned>(
        &self,
        method: &str,
        params: &[&dyn ErasedParam],
    ) -> Result<R> {
        let values = params
            .iter()
            .map(|param| param.to_value())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| RpcError::Decode(e.to_string()))?;
        self.request(method, values).await
    }

    /// `tx_submit` of a signed transaction.
    pub async fn tx_submit(&self, tx: &Transaction) -> Result<TxSubmitted> {
        self.tx_submit_bytes(&tx.to_wire()).await
    }

    /// `tx_submit` of already encoded bytes (sent as they are).
    pub async fn tx_submit_bytes(&self, bytes: &[u8]) -> Result<TxSubmitted> {
        self.call(m::TX_SUBMIT, &[&Hex(bytes.to_vec())]).await
    }

    /// `tx_submitBatch` of already encoded transactions (at most
    /// [`m::MAX_SUBMIT_BATCH`]): one result per transaction, in order.
    pub async fn tx_submit_batch(&self, txs: &[Vec<u8>]) -> Result<Vec<TxSubmitResult>> {
        let txs: Vec<Hex> = txs.iter().map(|bytes| Hex(bytes.clone())).collect();
        self.call(m::TX_SUBMIT_BATCH, &[&txs]).await
    }

    /// `tx_get`.
    pub async fn tx_get(&self, hash: &Hash) -> Result<TxInfo> {
        self.call(m::TX_GET, &[&HexHash(*hash)]).await
    }

    /// `tx_proof`.
    pub async fn tx_proof(&self, hash: &Hash) -> Result<TxProof> {
        self.call(m::TX_PROOF, &[&HexHash(*hash)]).await
    }

    /// `chain_head`.
    pub async fn chain_head(&self) -> Result<HeadInfo> {
        self.call(m::CHAIN_HEAD, &[]).await
    }

    /// `chain_getBlock` by height (`u64`) or id ([`HexHash`] / [`struct@Hash`]).
    pub async fn chain_get_block(&self, at: impl Into<BlockRef>) -> Result<BlockInfo> {
        self.call(m::CHAIN_GET_BLOCK, &[&at.into()]).await
    }

    /// `chain_getOutcomes`.
    pub async fn chain_get_outcomes(&self, at: impl Into<BlockRef>) -> Result<BlockOutcomes> {
        self.call(m::CHAIN_GET_OUTCOMES, &[&at.into()]).await
    }

    /// `chain_getCommit`.
    pub async fn chain_get_commit(&self, height: u64) -> Result<CommitInfo> {
        self.call(m::CHAIN_GET_COMMIT, &[&height]).await
    }

    /// `state_get`.
    pub async fn state_get(&self, key: &[u8]) -> Result<StateEntry> {
        self.call(m::STATE_GET, &[&Hex(key.to_vec())]).await
    }

    /// `account_get`: `None` for an unknown account.
    pub async fn account_get(&self, key: &PublicKey) -> Result<Option<AccountInfo>> {
        self.call(m::ACCOUNT_GET, &[&HexKey(*key)]).await
    }

    /// `validators_list`.
    pub async fn validators_list(&self) -> Result<ValidatorsInfo> {
        self.call(m::VALIDATORS_LIST, &[]).await
    }

    /// `system_health`.
    pub async fn system_health(&self) -> Result<HealthInfo> {
        self.call(m::SYSTEM_HEALTH, &[]).await
    }

    /// `system_peers`.
    pub async fn system_peers(&self) -> Result<Vec<PeerStatus>> {
        self.call(m::SYSTEM_PEERS, &[]).await
    }

    /// `system_version`.
    pub async fn system_version(&self) -> Result<VersionInfo> {
        self.call(m::SYSTEM_VERSION, &[]).await
    }

    /// `consensus_status`: the node's stall report.
    pub async fn consensus_status(&self) -> Result<ConsensusStatus> {
        self.call(m::CONSENSUS_STATUS, &[]).await
    }

    /// `rpc.discover`: the OpenRPC document.
    pub async fn rpc_discover(&self) -> Result<serde_json::Value> {
        self.call(m::RPC_DISCOVER, &[]).await
    }

    /// `chain_subscribeHeads` (WebSocket only): every committed block from `from`
    /// (default: the next one), in order. The stream ends if the server closes the
    /// subscription (e.g. because this client read too slowly); resubscribe from the
    /// height after the last one received to continue without a gap.
    pub async fn subscribe_heads(&self, from: Option<u64>) -> Result<Subscription<HeadEvent>> {
        let Transport::Ws(client) = &self.transport else {
            return Err(RpcError::Transport(format!(
                "subscriptions need a WebSocket connection (ws:// or wss://), not {}",
                self.url
            )));
        };
        let mut params = ArrayParams::new();
        if let Some(from) = from {
            params
                .insert(from)
                .map_err(|e| RpcError::Decode(e.to_string()))?;
        }
        client
            .subscribe(m::CHAIN_SUBSCRIBE_HEADS, params, m::CHAIN_UNSUBSCRIBE_HEADS)
            .await
            .map_err(RpcError::from)
    }
}

impl From<Hash> for BlockRef {
    fn from(id: Hash) -> Self {
        BlockRef::Id(HexHash(id))
    }
}

/// A parameter of any serialisable type, so that calls can list mixed parameters.
trait ErasedParam: Sync {
    fn to_value(&self) -> serde_json::Result<serde_json::Value>;
}

impl<T: Serialize + Sync> ErasedParam for T {
    fn to_value(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::to_value(self)
    }
}
