//! `cairn testnet status` and `cairn testnet down`.

use std::path::Path;
use std::time::Duration;

use cairn_rpc::Client;
use cairn_rpc::types::{ConsensusStatus, HealthInfo};
use serde::Serialize;

use crate::error::Result;
use crate::layout::Layout;
use crate::process;

/// One node's status.
#[derive(Debug, Serialize)]
pub struct NodeStatus {
    /// Node index.
    pub node: usize,
    /// "up" or "down".
    pub state: &'static str,
    /// Process id, if running.
    pub pid: Option<u32>,
    /// Committed height (if its RPC answered).
    pub height: Option<u64>,
    /// Consensus round.
    pub round: Option<u64>,
    /// Connected validators.
    pub peers: Option<usize>,
    /// JSON-RPC URL.
    pub rpc: String,
    /// Its stall report (`consensus_status`), if its RPC answered.
    pub consensus: Option<ConsensusStatus>,
}

/// The status of every node of the testnet in `dir`.
pub async fn status(dir: &Path) -> Result<Vec<NodeStatus>> {
    let layout = Layout::new(dir);
    let manifest = layout.load()?;
    let mut rows = Vec::new();
    for i in 0..manifest.n {
        let pid = process::running(&layout, i);
        let rpc = manifest.rpc_url(i);
        let (health, consensus) = match pid {
            Some(_) => query(&rpc).await,
            None => (None, None),
        };
        rows.push(NodeStatus {
            node: i,
            state: if pid.is_some() { "up" } else { "down" },
            pid,
            height: health.as_ref().map(|h| h.height),
            round: health.as_ref().map(|h| h.round),
            peers: health.as_ref().map(|h| h.connected_peers),
            rpc,
            consensus,
        });
    }
    Ok(rows)
}

/// A node's health and stall report, each `None` if it did not answer in time.
async fn query(url: &str) -> (Option<HealthInfo>, Option<ConsensusStatus>) {
    let Ok(client) = Client::connect(url).await else {
        return (None, None);
    };
    let wait = Duration::from_secs(3);
    let health = tokio::time::timeout(wait, client.system_health()).await;
    let consensus = tokio::time::timeout(wait, client.consensus_status()).await;
    (
        health.ok().and_then(|r| r.ok()),
        consensus.ok().and_then(|r| r.ok()),
    )
}

/// The lines under the status table: for each node that reports a stall, why.
pub fn stall_lines(rows: &[NodeStatus]) -> String {
    rows.iter()
        .filter_map(|r| {
            let c = r.consensus.as_ref()?;
            c.stalled.then(|| format!("v{}: {}\n", r.node, c.diagnosis))
        })
        .collect()
}

/// One node's fate in `down`.
#[derive(Debug, Serialize)]
pub struct Stopped {
    /// Node index.
    pub node: usize,
    /// Its pid, if it was running.
    pub pid: Option<u32>,
    /// "stopped" (exited on SIGTERM), "killed" (needed SIGKILL) or "not running".
    pub outcome: &'static str,
}

/// Stops every validator of the testnet in `dir` (SIGTERM, then SIGKILL after 20 s).
pub fn down(dir: &Path) -> Result<Vec<Stopped>> {
    let layout = Layout::new(dir);
    let manifest = layout.load()?;
    let running: Vec<_> = (0..manifest.n)
        .map(|i| process::running(&layout, i))
        .collect();
    for pid in running.iter().flatten() {
        process::signal(*pid, "TERM");
    }
    let mut rows = Vec::new();
    for (i, pid) in running.into_iter().enumerate() {
        let outcome = match pid {
            None => "not running",
            Some(pid) if process::stop(pid, Duration::from_secs(20)) => "stopped",
            Some(_) => "killed",
        };
        let _ = std::fs::remove_file(layout.pid(i));
        rows.push(Stopped {
            node: i,
            pid,
            outcome,
        });
    }
    Ok(rows)
}
