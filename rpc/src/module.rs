//! Builds the jsonrpsee [`RpcModule`] from the method table: every method of
//! [`crate::methods::METHODS`] with its handler.

use std::sync::Arc;
use std::time::Duration;

use jsonrpsee::RpcModule;
use jsonrpsee::types::ErrorObjectOwned;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Result, RpcError};
use crate::handlers::{chain, state, system, tx};
use crate::methods::{self as m, MethodSpec};
use crate::metrics::RpcMetrics;
use crate::params;
use crate::server::{RpcConfig, RpcContext};
use crate::subscription;

/// Everything a method handler can reach.
pub(crate) struct Handler {
    /// The node's store, genesis, mempool and heads.
    pub ctx: RpcContext,
    /// Largest transaction `tx_submit` takes, in bytes.
    pub max_tx_bytes: usize,
    /// How long a subscriber's full buffer is tolerated before it is closed.
    pub slow_subscriber_timeout: Duration,
    /// Where subscriptions are counted.
    pub metrics: Option<Arc<RpcMetrics>>,
    /// The OpenRPC document, built once.
    pub discover: serde_json::Value,
}

/// Builds the module of every cairn method over `ctx`. [`crate::RpcServer::start`]
/// serves it; it is public so that tests and embedders can inspect or merge it.
pub fn build_module(
    ctx: RpcContext,
    config: &RpcConfig,
    metrics: Option<Arc<RpcMetrics>>,
) -> Result<RpcModule<()>> {
    let handler = Handler {
        ctx,
        max_tx_bytes: config.max_tx_bytes,
        slow_subscriber_timeout: config.slow_subscriber_timeout,
        metrics,
        discover: crate::openrpc::document(),
    };
    let mut module = RpcModule::new(handler);
    register_submit(&mut module)?;
    register_blocking(&mut module, m::TX_GET, tx::get)?;
    register_blocking(&mut module, m::TX_PROOF, tx::proof)?;
    register_blocking(&mut module, m::CHAIN_HEAD, chain::head)?;
    register_blocking(&mut module, m::CHAIN_GET_BLOCK, chain::get_block)?;
    register_blocking(&mut module, m::CHAIN_GET_OUTCOMES, chain::get_outcomes)?;
    register_blocking(&mut module, m::CHAIN_GET_COMMIT, chain::get_commit)?;
    register_heads_subscription(&mut module)?;
    register_blocking(&mut module, m::STATE_GET, state::state_get)?;
    register_blocking(&mut module, m::ACCOUNT_GET, state::account_get)?;
    register_blocking(&mut module, m::VALIDATORS_LIST, system::validators)?;
    register_blocking(&mut module, m::SYSTEM_HEALTH, system::health)?;
    register_blocking(&mut module, m::SYSTEM_PEERS, system::peers)?;
    register_blocking(&mut module, m::SYSTEM_VERSION, system::version)?;
    register_blocking(&mut module, m::CONSENSUS_STATUS, system::consensus_status)?;
    register_blocking(&mut module, m::RPC_DISCOVER, system::discover)?;
    Ok(module.remove_context())
}

fn spec_of(name: &'static str) -> Result<&'static MethodSpec> {
    m::spec(name).ok_or_else(|| RpcError::Register(format!("{name} is not in the method table")))
}

fn registration_failed(error: jsonrpsee::core::RegisterMethodError) -> RpcError {
    RpcError::Register(error.to_string())
}

/// Registers a method whose handler reads the store: it runs on a blocking thread.
fn register_blocking<P, R>(
    module: &mut RpcModule<Handler>,
    name: &'static str,
    handler: fn(&Handler, P) -> std::result::Result<R, ErrorObjectOwned>,
) -> Result<()>
where
    P: DeserializeOwned + 'static,
    R: Serialize + Clone + 'static,
{
    let spec = spec_of(name)?;
    module
        .register_blocking_method(name, move |raw, shared, _| {
            let params = params::parse::<P>(spec, &raw)?;
            handler(&shared, params)
        })
        .map_err(registration_failed)?;
    Ok(())
}

/// Registers `tx_submit` and `tx_submitBatch`, which wait for the mempool.
fn register_submit(module: &mut RpcModule<Handler>) -> Result<()> {
    let spec = spec_of(m::TX_SUBMIT)?;
    module
        .register_async_method(m::TX_SUBMIT, move |raw, shared, _| async move {
            let params = params::parse::<params::SubmitParams>(spec, &raw)?;
            tx::submit(&shared, params).await
        })
        .map_err(registration_failed)?;
    let spec = spec_of(m::TX_SUBMIT_BATCH)?;
    module
        .register_async_method(m::TX_SUBMIT_BATCH, move |raw, shared, _| async move {
            let params = params::parse::<params::SubmitBatchParams>(spec, &raw)?;
            tx::submit_batch(&shared, params).await
        })
        .map_err(registration_failed)?;
    Ok(())
}

/// Registers `chain_subscribeHeads` / `chain_unsubscribeHeads`.
fn register_heads_subscription(module: &mut RpcModule<Handler>) -> Result<()> {
    let spec = spec_of(m::CHAIN_SUBSCRIBE_HEADS)?;
    module
        .register_subscription(
            m::CHAIN_SUBSCRIBE_HEADS,
            m::CHAIN_HEAD_NOTIFICATION,
            m::CHAIN_UNSUBSCRIBE_HEADS,
            move |raw, pending, shared, _| async move {
                match params::parse::<params::SubscribeParams>(spec, &raw) {
                    Ok(params) => subscription::serve_heads(shared, pending, params.from).await,
                    Err(error) => {
                        pending.reject(error).await;
                        jsonrpsee::SubscriptionCloseResponse::None
                    }
                }
            },
        )
        .map_err(registration_failed)?;
    Ok(())
}
