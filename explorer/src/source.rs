//! [`Source`]: where the explorer reads the chain — a node's JSON-RPC, or a data
//! directory opened read-only — behind one typed interface.

use std::path::Path;
use std::sync::Arc;

use cairn_crypto::{Hash, PublicKey};
use cairn_genesis::Genesis;
use cairn_rpc::methods as m;
use cairn_rpc::types::{
    AccountInfo, BlockInfo, BlockRef, CommitInfo, ConsensusStatus, HeadInfo, TxInfo, TxProof,
    ValidatorsInfo,
};
use cairn_rpc::{Client, HexHash, HexKey, RpcError};
use cairn_types::ChainId;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::local::LocalNode;
use crate::{ExplorerError, Result};

/// Where the chain is read from.
#[derive(Debug)]
pub enum Source {
    /// A node's JSON-RPC server.
    Rpc {
        /// The connection.
        client: Client,
        /// Its URL, as given.
        url: String,
    },
    /// A node's data directory, opened read-only.
    Local(LocalNode),
}

impl Source {
    /// Connects to the JSON-RPC server at `url` (`http://`, `https://`, `ws://`, `wss://`).
    pub async fn connect(url: &str) -> Result<Source> {
        let client = Client::connect(url)
            .await
            .map_err(ExplorerError::rpc(url, "connect"))?;
        Ok(Source::Rpc {
            client,
            url: url.to_string(),
        })
    }

    /// Opens the data directory `dir` read-only for chain `chain` (see [`LocalNode::open`]).
    pub fn open_store(dir: &Path, genesis: Arc<Genesis>, chain: &ChainId) -> Result<Source> {
        LocalNode::open(dir, genesis, chain).map(Source::Local)
    }

    /// The URL or data directory, for messages.
    pub fn describe(&self) -> String {
        match self {
            Source::Rpc { url, .. } => url.clone(),
            Source::Local(local) => local.path().display().to_string(),
        }
    }

    /// `chain_head`.
    pub async fn head(&self) -> Result<HeadInfo> {
        self.call(m::CHAIN_HEAD, &[]).await
    }

    /// `chain_getBlock`.
    pub async fn block(&self, at: BlockRef) -> Result<BlockInfo> {
        self.call(m::CHAIN_GET_BLOCK, &[to_json(&at)?]).await
    }

    /// `chain_getCommit`.
    pub async fn commit(&self, height: u64) -> Result<CommitInfo> {
        self.call(m::CHAIN_GET_COMMIT, &[height.into()]).await
    }

    /// `tx_get`.
    pub async fn tx(&self, hash: &Hash) -> Result<TxInfo> {
        self.call(m::TX_GET, &[to_json(&HexHash(*hash))?]).await
    }

    /// `tx_proof`.
    pub async fn tx_proof(&self, hash: &Hash) -> Result<TxProof> {
        self.call(m::TX_PROOF, &[to_json(&HexHash(*hash))?]).await
    }

    /// `account_get`: `None` for an unknown account.
    pub async fn account(&self, key: &PublicKey) -> Result<Option<AccountInfo>> {
        self.call(m::ACCOUNT_GET, &[to_json(&HexKey(*key))?]).await
    }

    /// `validators_list`.
    pub async fn validators(&self) -> Result<ValidatorsInfo> {
        self.call(m::VALIDATORS_LIST, &[]).await
    }

    /// The node's stall report (`consensus_status`).
    pub async fn consensus_status(&self) -> Result<ConsensusStatus> {
        self.call(m::CONSENSUS_STATUS, &[]).await
    }

    async fn call<R: DeserializeOwned + Clone>(
        &self,
        method: &'static str,
        params: &[serde_json::Value],
    ) -> Result<R> {
        let params = params.to_vec();
        let answer: std::result::Result<R, RpcError> = match self {
            Source::Rpc { client, .. } => client.request(method, params).await,
            Source::Local(local) => local.request(method, params).await,
        };
        answer.map_err(ExplorerError::rpc(&self.describe(), method))
    }
}

fn to_json(value: &impl Serialize) -> Result<serde_json::Value> {
    serde_json::to_value(value)
        .map_err(|e| ExplorerError::Internal(format!("cannot encode a parameter: {e}")))
}
