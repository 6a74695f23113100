//! Where a testnet keeps its files, and its manifest (`testnet.json`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, TestnetError, io};

/// Name of the manifest file that marks a directory as a cairn testnet.
pub const MANIFEST: &str = "testnet.json";
/// Ports per node: p2p, rpc, metrics (`base + 10·i + 0/1/2`).
pub const PORT_STRIDE: u16 = 10;

/// What `testnet.json` records: enough to resume, inspect and stop the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always "cairn-testnet".
    pub kind: String,
    /// Number of validators.
    pub n: usize,
    /// First port; node i uses base + 10·i (+0 p2p, +1 rpc, +2 metrics).
    pub base_port: u16,
    /// The chain id (genesis hash), hex.
    pub chain_id: String,
    /// Number of funded bench accounts (key files in `accounts/`).
    pub accounts: usize,
}

/// The ports of one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
    /// libp2p.
    pub p2p: u16,
    /// JSON-RPC.
    pub rpc: u16,
    /// Prometheus.
    pub metrics: u16,
}

impl Manifest {
    /// The ports of node `i`.
    pub fn ports(&self, i: usize) -> Ports {
        ports(self.base_port, i)
    }

    /// Node `i`'s RPC URL.
    pub fn rpc_url(&self, i: usize) -> String {
        format!(
            "http://{}",
            SocketAddr::from(([127, 0, 0, 1], self.ports(i).rpc))
        )
    }

    /// Node `i`'s WebSocket RPC URL.
    pub fn ws_url(&self, i: usize) -> String {
        format!(
            "ws://{}",
            SocketAddr::from(([127, 0, 0, 1], self.ports(i).rpc))
        )
    }
}

/// The ports of node `i` for `base`.
pub fn ports(base: u16, i: usize) -> Ports {
    let first = base.saturating_add(PORT_STRIDE.saturating_mul(i as u16));
    Ports {
        p2p: first,
        rpc: first.saturating_add(1),
        metrics: first.saturating_add(2),
    }
}

/// Paths inside a testnet directory.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The directory.
    pub dir: PathBuf,
}

impl Layout {
    /// The layout of `dir`.
    pub fn new(dir: &Path) -> Layout {
        Layout {
            dir: dir.to_path_buf(),
        }
    }
    /// `testnet.json`
    pub fn manifest(&self) -> PathBuf {
        self.dir.join(MANIFEST)
    }
    /// `genesis.json`
    pub fn genesis(&self) -> PathBuf {
        self.dir.join("genesis.json")
    }
    /// Node `i`'s home.
    pub fn home(&self, i: usize) -> PathBuf {
        self.dir.join("nodes").join(format!("v{i}"))
    }
    /// Node `i`'s log file.
    pub fn log(&self, i: usize) -> PathBuf {
        self.home(i).join("node.log")
    }
    /// Node `i`'s pid file.
    pub fn pid(&self, i: usize) -> PathBuf {
        self.home(i).join("node.pid")
    }
    /// Node `i`'s data directory.
    pub fn data(&self, i: usize) -> PathBuf {
        self.home(i).join("data")
    }
    /// Bench account `k`'s key file.
    pub fn account(&self, k: usize) -> PathBuf {
        self.dir.join("accounts").join(format!("account-{k}.json"))
    }

    /// Reads the manifest; [`TestnetError::NoTestnet`] when there is none.
    pub fn load(&self) -> Result<Manifest> {
        let path = self.manifest();
        if !path.exists() {
            return Err(TestnetError::NoTestnet {
                dir: self.dir.clone(),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| TestnetError::ForeignDirectory {
                dir: self.dir.clone(),
                found: format!("an unreadable {MANIFEST} ({e})"),
            })?;
        if manifest.kind != "cairn-testnet" {
            return Err(TestnetError::ForeignDirectory {
                dir: self.dir.clone(),
                found: format!("a {MANIFEST} of kind {:?}", manifest.kind),
            });
        }
        Ok(manifest)
    }

    /// Writes the manifest.
    pub fn save(&self, manifest: &Manifest) -> Result<()> {
        let path = self.manifest();
        let text = serde_json::to_string_pretty(manifest)
            .map_err(|e| TestnetError::Usage(e.to_string()))?;
        std::fs::write(&path, text + "\n").map_err(io(&path))
    }
}
