//! `validators_list`, `system_health`, `system_peers`, `system_version`, `rpc.discover`.

use jsonrpsee::types::ErrorObjectOwned;

use crate::api_error::internal;
use crate::error::codes;
use crate::hex::{HexHash, HexKey};
use crate::methods::SYSTEM_HEALTH;
use crate::module::Handler;
use crate::node_api::PeerStatus;
use crate::params::NoParams;
use crate::types::{ConsensusStatus, HealthInfo, ValidatorInfo, ValidatorsInfo, VersionInfo};

/// The protocol version this crate speaks (`docs/PROTOCOL.md`).
pub const PROTOCOL_VERSION: u32 = 1;

/// `validators_list`, from the genesis document.
pub(crate) fn validators(
    handler: &Handler,
    _: NoParams,
) -> Result<ValidatorsInfo, ErrorObjectOwned> {
    let genesis = &handler.ctx.genesis;
    let validators = genesis
        .doc()
        .validators
        .iter()
        .zip(0u16..)
        .map(|(entry, id)| ValidatorInfo {
            id,
            name: entry.name.clone(),
            consensus_key: HexKey(entry.consensus_key),
            peer_id: entry.peer_id.clone(),
            address: entry.address.clone(),
        })
        .collect();
    Ok(ValidatorsInfo {
        chain_id: HexHash(genesis.chain_id().0),
        quorum: genesis.quorum(),
        validators,
    })
}

/// `system_health`: healthy when connected to at least quorum − 1 other validators
/// (with itself, a quorum) and not syncing.
pub(crate) fn health(handler: &Handler, _: NoParams) -> Result<HealthInfo, ErrorObjectOwned> {
    let head = handler
        .ctx
        .store
        .head()
        .map_err(|e| internal(SYSTEM_HEALTH, e))?;
    let node = handler.ctx.node.health();
    let needed = handler.ctx.genesis.quorum().saturating_sub(1);
    Ok(HealthInfo {
        healthy: node.connected_peers >= needed && !node.syncing,
        height: head.height,
        round: node.round,
        connected_peers: node.connected_peers,
        mempool_size: node.mempool_size,
        mempool_capacity: node.mempool_capacity,
        syncing: node.syncing,
    })
}

/// `system_peers`.
pub(crate) fn peers(handler: &Handler, _: NoParams) -> Result<Vec<PeerStatus>, ErrorObjectOwned> {
    Ok(handler.ctx.node.peers())
}

/// `consensus_status`: the node's stall report; refused by a node that runs no
/// consensus.
pub(crate) fn consensus_status(
    handler: &Handler,
    _: NoParams,
) -> Result<ConsensusStatus, ErrorObjectOwned> {
    handler.ctx.node.consensus_status().ok_or_else(|| {
        ErrorObjectOwned::owned(
            codes::NO_CONSENSUS,
            "this node runs no consensus (a full node, or a store opened offline)",
            None::<()>,
        )
    })
}

/// `system_version`.
pub(crate) fn version(handler: &Handler, _: NoParams) -> Result<VersionInfo, ErrorObjectOwned> {
    let genesis = &handler.ctx.genesis;
    Ok(VersionInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        protocol: PROTOCOL_VERSION,
        chain_name: genesis.doc().chain_name.clone(),
        chain_id: HexHash(genesis.chain_id().0),
    })
}

/// `rpc.discover`: the OpenRPC document.
pub(crate) fn discover(
    handler: &Handler,
    _: NoParams,
) -> Result<serde_json::Value, ErrorObjectOwned> {
    Ok(handler.discover.clone())
}
