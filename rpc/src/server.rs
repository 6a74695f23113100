//! The server: configuration, what it serves from, and its handle.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cairn_genesis::Genesis;
use cairn_storage::{Head, Store};
use jsonrpsee::server::middleware::rpc::RpcServiceBuilder;
use jsonrpsee::server::{BatchRequestConfig, Server, ServerConfig, ServerHandle};
use tokio::sync::watch;

use crate::error::{Result, RpcError};
use crate::metrics::RpcMetrics;
use crate::middleware::{Guard, RateLimiter};
use crate::module::build_module;
use crate::node_api::NodeApi;

/// How the server listens and what it allows. Construct with struct update syntax
/// (`RpcConfig { listen, ..RpcConfig::default() }`): fields may be added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcConfig {
    /// Address for HTTP and WebSocket (one port). Default `127.0.0.1:8600`.
    pub listen: SocketAddr,
    /// Largest request body (HTTP) or message (WebSocket), in bytes. Default 10 MiB.
    pub max_request_bytes: u32,
    /// Largest response, in bytes. Default 64 MiB (a 16 MiB block is hex twice over).
    pub max_response_bytes: u32,
    /// Most simultaneous connections. Default 100.
    pub max_connections: u32,
    /// Most open subscriptions per WebSocket connection. Default 16.
    pub max_subscriptions_per_connection: u32,
    /// Most calls in one batch; 0 disables batches. Default 100.
    pub max_batch_len: u32,
    /// Messages buffered per WebSocket connection before a subscriber counts as slow.
    /// Default 256.
    pub subscription_buffer: usize,
    /// Largest transaction `tx_submit` accepts, in bytes (set it to the genesis
    /// `max_tx_bytes`). Default `cairn_types::limits::MAX_TX_BYTES`.
    pub max_tx_bytes: usize,
    /// How long a subscriber's buffer may stay full before the subscription is closed
    /// with `SUBSCRIBER_TOO_SLOW`. Default 5 s.
    pub slow_subscriber_timeout: Duration,
    /// Calls per second allowed on one connection (batch entries count one each); 0
    /// disables the limit. Default 1000.
    pub rate_limit_per_second: u32,
    /// Calls one connection may make in a burst above the rate. Default 2000.
    pub rate_limit_burst: u32,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8600)),
            max_request_bytes: 10 * 1024 * 1024,
            max_response_bytes: 64 * 1024 * 1024,
            max_connections: 100,
            max_subscriptions_per_connection: 16,
            max_batch_len: 100,
            subscription_buffer: 256,
            max_tx_bytes: cairn_types::limits::MAX_TX_BYTES,
            slow_subscriber_timeout: Duration::from_secs(5),
            rate_limit_per_second: 1000,
            rate_limit_burst: 2000,
        }
    }
}

/// What the server serves from.
#[derive(Clone)]
pub struct RpcContext {
    /// The node's store.
    pub store: Arc<Store>,
    /// The chain's genesis.
    pub genesis: Arc<Genesis>,
    /// The mempool, consensus status and peers.
    pub node: Arc<dyn NodeApi>,
    /// The committed head, updated by the node after each commit; wakes subscribers.
    pub heads: watch::Receiver<Head>,
}

impl std::fmt::Debug for RpcContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcContext")
            .field("store", &self.store)
            .field("chain", &self.genesis.chain_id())
            .finish_non_exhaustive()
    }
}

/// A running JSON-RPC server. Dropping it stops the server too, without waiting.
#[derive(Debug)]
pub struct RpcServer {
    handle: ServerHandle,
    local_addr: SocketAddr,
}

impl RpcServer {
    /// Binds and starts serving HTTP and WebSocket on one port. A port in use is an
    /// error naming the address.
    pub async fn start(
        config: RpcConfig,
        ctx: RpcContext,
        metrics: Option<Arc<RpcMetrics>>,
    ) -> Result<RpcServer> {
        let module = build_module(ctx, &config, metrics.clone())?;
        let limiter = (config.rate_limit_per_second > 0).then(|| {
            Arc::new(RateLimiter::new(
                config.rate_limit_per_second,
                config.rate_limit_burst,
            ))
        });
        let max_response_bytes = config.max_response_bytes as usize;
        let middleware = RpcServiceBuilder::new().layer_fn(move |inner| Guard {
            inner,
            limiter: limiter.clone(),
            metrics: metrics.clone(),
            max_response_bytes,
        });
        let server = Server::builder()
            .set_config(server_config(&config))
            .set_rpc_middleware(middleware)
            .build(config.listen)
            .await
            .map_err(|source| RpcError::Bind {
                addr: config.listen,
                source,
            })?;
        let local_addr = server.local_addr().map_err(|source| RpcError::Bind {
            addr: config.listen,
            source,
        })?;
        let handle = server.start(module);
        tracing::info!(%local_addr, "JSON-RPC server listening (HTTP and WebSocket)");
        Ok(RpcServer { handle, local_addr })
    }

    /// The address the server listens on (with the actual port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections, closes the open ones, and waits until the server
    /// has stopped.
    pub async fn stop(self) {
        // An error means it already stopped, which is what was asked for.
        let _ = self.handle.stop();
        self.handle.stopped().await;
        tracing::info!(local_addr = %self.local_addr, "JSON-RPC server stopped");
    }
}

/// jsonrpsee's configuration from ours.
fn server_config(config: &RpcConfig) -> ServerConfig {
    let batches = match config.max_batch_len {
        0 => BatchRequestConfig::Disabled,
        n => BatchRequestConfig::Limit(n),
    };
    ServerConfig::builder()
        .max_request_body_size(config.max_request_bytes)
        .max_response_body_size(config.max_response_bytes)
        .max_connections(config.max_connections)
        .max_subscriptions_per_connection(config.max_subscriptions_per_connection)
        .set_batch_request_config(batches)
        .set_message_buffer_capacity(u32::try_from(config.subscription_buffer).unwrap_or(u32::MAX))
        .build()
}
