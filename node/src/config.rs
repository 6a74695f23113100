//! The validator's configuration file (`<home>/config.toml`).
//!
//! Every field has a default, so a file may set only what differs; unknown fields are
//! refused, so a typo is an error instead of a silently ignored setting. Paths are
//! relative to the home directory. docs/OPERATING.md describes each field.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The whole configuration file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Identity and files.
    pub node: NodeSection,
    /// Peer-to-peer networking.
    pub p2p: P2pSection,
    /// JSON-RPC server.
    pub rpc: RpcSection,
    /// Prometheus metrics endpoint.
    pub metrics: MetricsSection,
    /// Transaction pool.
    pub mempool: MempoolSection,
    /// Local timeouts (the round timeouts are chain parameters, in the genesis).
    pub timeouts: TimeoutsSection,
    /// Logging.
    pub log: LogSection,
}

/// `[node]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeSection {
    /// The name used in logs; the genesis validator name is the usual choice.
    pub name: String,
    /// RocksDB data directory.
    pub data_dir: PathBuf,
    /// This validator's consensus key file.
    pub consensus_key: PathBuf,
    /// This validator's network (libp2p) key file.
    pub network_key: PathBuf,
}

impl Default for NodeSection {
    fn default() -> Self {
        NodeSection {
            name: "validator".into(),
            data_dir: "data".into(),
            consensus_key: "keys/consensus.json".into(),
            network_key: "keys/network.json".into(),
        }
    }
}

/// `[p2p]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct P2pSection {
    /// Multiaddr to listen on.
    pub listen: String,
    /// Extra dial addresses (multiaddrs ending in `/p2p/<peer id>`) besides the
    /// validators' genesis addresses.
    pub bootstrap: Vec<String>,
    /// Peer ids of full nodes permitted to connect: they may ask for blocks and
    /// forward clients' transactions; they take no part in consensus (docs/OPERATING.md,
    /// "Full nodes"). A full node lists its own peer id here too.
    pub full_nodes: Vec<String>,
}

impl Default for P2pSection {
    fn default() -> Self {
        P2pSection {
            listen: "/ip4/127.0.0.1/tcp/26600".into(),
            bootstrap: Vec::new(),
            full_nodes: Vec::new(),
        }
    }
}

/// `[rpc]` (defaults: `cairn_rpc::RpcConfig::default()`, documented in docs/RPC.md)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RpcSection {
    /// Address of the JSON-RPC server (HTTP and WebSocket on one port).
    pub listen: SocketAddr,
    /// Largest request body, in bytes.
    pub max_request_bytes: u32,
    /// Largest response body, in bytes.
    pub max_response_bytes: u32,
    /// Most simultaneous connections.
    pub max_connections: u32,
    /// Most subscriptions one WebSocket connection may hold.
    pub max_subscriptions_per_connection: u32,
    /// Most calls in one batch request.
    pub max_batch_len: u32,
    /// Messages queued per WebSocket connection.
    pub subscription_buffer: usize,
    /// How long that queue may stay full before a subscriber is disconnected as too
    /// slow, in milliseconds.
    pub slow_subscriber_timeout_ms: u64,
    /// Calls per second one connection may make (0: no limit).
    pub rate_limit_per_second: u32,
    /// Calls one connection may make at once above that rate.
    pub rate_limit_burst: u32,
}

impl Default for RpcSection {
    fn default() -> Self {
        let rpc = cairn_rpc::RpcConfig::default();
        RpcSection {
            listen: rpc.listen,
            max_request_bytes: rpc.max_request_bytes,
            max_response_bytes: rpc.max_response_bytes,
            max_connections: rpc.max_connections,
            max_subscriptions_per_connection: rpc.max_subscriptions_per_connection,
            max_batch_len: rpc.max_batch_len,
            subscription_buffer: rpc.subscription_buffer,
            slow_subscriber_timeout_ms: u64::try_from(rpc.slow_subscriber_timeout.as_millis())
                .unwrap_or(u64::MAX),
            rate_limit_per_second: rpc.rate_limit_per_second,
            rate_limit_burst: rpc.rate_limit_burst,
        }
    }
}

/// `[metrics]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSection {
    /// Serve Prometheus metrics at `http://<listen>/metrics`.
    pub enabled: bool,
    /// Address of the metrics endpoint.
    pub listen: SocketAddr,
}

impl Default for MetricsSection {
    fn default() -> Self {
        MetricsSection {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 9600)),
        }
    }
}

/// `[mempool]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MempoolSection {
    /// Most pending transactions; beyond it `tx_submit` answers "busy".
    pub capacity: usize,
    /// Most bytes of pending transactions.
    pub max_bytes: usize,
    /// How far ahead of an account's committed nonce a pending nonce may be.
    pub max_nonce_ahead: u64,
}

impl Default for MempoolSection {
    fn default() -> Self {
        MempoolSection {
            capacity: 50_000,
            max_bytes: 64 << 20,
            max_nonce_ahead: 1_000,
        }
    }
}

/// `[timeouts]`, in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimeoutsSection {
    /// How long to wait for a peer to answer a block request before asking another.
    pub block_fetch_ms: u64,
    /// How long shutdown may take to finish in-flight work before giving up.
    pub shutdown_ms: u64,
}

impl Default for TimeoutsSection {
    fn default() -> Self {
        TimeoutsSection {
            block_fetch_ms: 2_000,
            shutdown_ms: 10_000,
        }
    }
}

/// `[log]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSection {
    /// A `tracing` filter: a level (`info`) or directives (`info,cairn_network=debug`).
    /// The `RUST_LOG` environment variable overrides it.
    pub level: String,
    /// `plain` (human-readable lines) or `json` (one object per line).
    pub format: LogFormat,
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection {
            level: "info".into(),
            format: LogFormat::Plain,
        }
    }
}

/// Log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Plain,
    /// One JSON object per line.
    Json,
}

/// Name of the configuration file inside a home directory.
pub const CONFIG_FILE: &str = "config.toml";

impl NodeConfig {
    /// Reads and checks `<home>/config.toml`. Errors name the file and the field.
    pub fn load(home: &Path) -> Result<NodeConfig> {
        let path = home.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let config: NodeConfig = toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "config file {}: {}",
                path.display(),
                e.to_string().trim().replace('\n', " ")
            )
        })?;
        config
            .check()
            .with_context(|| format!("config file {}", path.display()))?;
        Ok(config)
    }

    /// Checks values serde cannot: non-zero limits and a parseable listen address.
    pub fn check(&self) -> Result<()> {
        let nonzero = [
            (
                "rpc.max_request_bytes",
                u64::from(self.rpc.max_request_bytes),
            ),
            (
                "rpc.max_response_bytes",
                u64::from(self.rpc.max_response_bytes),
            ),
            ("rpc.max_connections", u64::from(self.rpc.max_connections)),
            ("rpc.max_batch_len", u64::from(self.rpc.max_batch_len)),
            (
                "rpc.subscription_buffer",
                self.rpc.subscription_buffer as u64,
            ),
            ("mempool.capacity", self.mempool.capacity as u64),
            ("mempool.max_bytes", self.mempool.max_bytes as u64),
            ("mempool.max_nonce_ahead", self.mempool.max_nonce_ahead),
            ("timeouts.block_fetch_ms", self.timeouts.block_fetch_ms),
            ("timeouts.shutdown_ms", self.timeouts.shutdown_ms),
            (
                "rpc.max_subscriptions_per_connection",
                u64::from(self.rpc.max_subscriptions_per_connection),
            ),
        ];
        for (field, value) in nonzero {
            if value == 0 {
                bail!("{field} must be greater than 0");
            }
        }
        self.p2p
            .listen
            .parse::<cairn_network::Multiaddr>()
            .map_err(|e| anyhow::anyhow!("p2p.listen {:?}: {e}", self.p2p.listen))?;
        for (i, addr) in self.p2p.bootstrap.iter().enumerate() {
            cairn_network::parse_dial_address(addr)
                .map_err(|e| anyhow::anyhow!("p2p.bootstrap[{i}]: {e}"))?;
        }
        self.full_node_peers()?;
        Ok(())
    }

    /// The peer ids of `p2p.full_nodes`, parsed.
    pub fn full_node_peers(&self) -> Result<Vec<cairn_network::PeerId>> {
        self.p2p
            .full_nodes
            .iter()
            .enumerate()
            .map(|(i, text)| {
                text.parse()
                    .map_err(|e| anyhow::anyhow!("p2p.full_nodes[{i}] {text:?}: {e}"))
            })
            .collect()
    }

    /// The configuration as TOML text, with a header comment.
    pub fn to_toml(&self) -> Result<String> {
        let body = toml::to_string_pretty(self).context("cannot serialise the config")?;
        Ok(format!(
            "# cairn validator configuration (docs/OPERATING.md). Paths are relative to this\n\
             # directory. Chain-wide parameters (round timeouts, block limits) live in the genesis.\n\n{body}"
        ))
    }

    /// `path` resolved against `home` unless absolute.
    pub fn resolve(home: &Path, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            home.join(path)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_round_trip_through_toml() {
        let config = NodeConfig::default();
        let text = config.to_toml().unwrap();
        assert_eq!(toml::from_str::<NodeConfig>(&text).unwrap(), config);
    }

    #[test]
    fn unknown_and_mistyped_fields_name_the_field() {
        let err = toml::from_str::<NodeConfig>("[rpc]\nlisten_addr = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("listen_addr"), "{err}");
        let err = toml::from_str::<NodeConfig>("[rpc]\nlisten = \"nope\"\n").unwrap_err();
        assert!(err.to_string().contains("listen"), "{err}");
    }

    #[test]
    fn zero_limits_are_refused() {
        let mut config = NodeConfig::default();
        config.mempool.capacity = 0;
        let err = config.check().unwrap_err().to_string();
        assert!(err.contains("mempool.capacity"), "{err}");
    }
}
