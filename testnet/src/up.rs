//! `cairn testnet up`: create (or resume) the network, start its validators, wait
//! until blocks are committed.

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use cairn_rpc::Client;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::error::{Result, TestnetError};
use crate::layout::{Layout, Manifest};
use crate::{create, process};

/// Options of `up`.
pub struct UpOptions {
    /// Validators in a new network (an existing one keeps its own).
    pub n: usize,
    /// First port of a new network.
    pub base_port: u16,
    /// Funded accounts in a new network.
    pub accounts: usize,
    /// How long to wait for the first commit.
    pub timeout: Duration,
    /// Show a progress bar.
    pub progress: bool,
    /// Validators to start Byzantine (`--byzantine 3:equivocate`).
    pub byzantine: Vec<crate::byzantine::ByzantineNode>,
}

/// One row of the table `up` prints.
#[derive(Debug, Serialize)]
pub struct NodeRow {
    /// Node index.
    pub node: usize,
    /// Process id.
    pub pid: u32,
    /// JSON-RPC URL.
    pub rpc: String,
    /// Metrics URL.
    pub metrics: String,
    /// libp2p address.
    pub p2p: String,
    /// Log file.
    pub log: String,
    /// The Byzantine behaviour it was started with, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byzantine: Option<String>,
}

/// What `up` reports.
#[derive(Debug, Serialize)]
pub struct UpReport {
    /// The testnet directory.
    pub dir: String,
    /// True if an existing network was resumed.
    pub resumed: bool,
    /// The chain id.
    pub chain_id: String,
    /// Committed height when `up` returned.
    pub height: u64,
    /// The nodes.
    pub nodes: Vec<NodeRow>,
}

/// Creates or resumes the testnet in `dir` and starts every validator not running.
pub async fn up(cairn: &Path, dir: &Path, options: &UpOptions) -> Result<UpReport> {
    let layout = Layout::new(dir);
    let bar = progress(options.progress);
    let (manifest, resumed) = match layout.load() {
        Ok(manifest) => {
            if manifest.n != options.n {
                bar.finish_and_clear();
                return Err(TestnetError::ForeignDirectory {
                    dir: dir.to_path_buf(),
                    found: format!(
                        "a {}-validator testnet (asked for {})",
                        manifest.n, options.n
                    ),
                });
            }
            (manifest, true)
        }
        Err(TestnetError::NoTestnet { .. }) => {
            refuse_non_empty(dir)?;
            check_ports(
                &Manifest {
                    kind: String::new(),
                    n: options.n,
                    base_port: options.base_port,
                    chain_id: String::new(),
                    accounts: 0,
                },
                &layout,
            )?;
            bar.set_message(format!(
                "creating a {}-validator testnet in {}",
                options.n,
                dir.display()
            ));
            std::fs::create_dir_all(dir).map_err(crate::error::io(dir))?;
            (
                create::create(
                    cairn,
                    &layout,
                    options.n,
                    options.base_port,
                    options.accounts,
                )?,
                false,
            )
        }
        Err(e) => return Err(e),
    };
    check_ports(&manifest, &layout)?;
    let behaviours = byzantine_of(&layout, &manifest, options, &bar)?;
    let mut pids = Vec::new();
    for (i, behaviour) in behaviours.iter().enumerate() {
        let pid = match process::running(&layout, i) {
            Some(pid) => pid,
            None => {
                bar.set_message(format!("starting validator {i}"));
                process::start(cairn, &layout, i, behaviour.as_deref())?
            }
        };
        pids.push(pid);
    }
    let height = wait_ready(&layout, &manifest, &pids, &bar, options.timeout).await?;
    bar.finish_and_clear();
    let nodes = (0..manifest.n)
        .map(|i| {
            let ports = manifest.ports(i);
            NodeRow {
                node: i,
                pid: pids[i],
                rpc: manifest.rpc_url(i),
                metrics: format!("http://127.0.0.1:{}/metrics", ports.metrics),
                p2p: format!("/ip4/127.0.0.1/tcp/{}", ports.p2p),
                log: layout.log(i).display().to_string(),
                byzantine: behaviours[i].clone(),
            }
        })
        .collect();
    Ok(UpReport {
        dir: dir.display().to_string(),
        resumed,
        chain_id: manifest.chain_id.clone(),
        height,
        nodes,
    })
}

/// Each validator's Byzantine behaviour; refuses a bad `--byzantine` and one for a
/// validator already running (its behaviour is fixed until it restarts).
fn byzantine_of(
    layout: &Layout,
    manifest: &Manifest,
    options: &UpOptions,
    bar: &ProgressBar,
) -> Result<Vec<Option<String>>> {
    let refuse = |message: String| {
        bar.finish_and_clear();
        Err(TestnetError::Usage(format!("--byzantine: {message}")))
    };
    if let Err(e) = crate::byzantine::check(&options.byzantine, manifest.n) {
        return refuse(e);
    }
    if let Some(b) = options
        .byzantine
        .iter()
        .find(|b| process::running(layout, b.node).is_some())
    {
        return refuse(format!(
            "validator {} is running; stop the testnet (cairn testnet down) to start it Byzantine",
            b.node
        ));
    }
    Ok(crate::byzantine::per_node(&options.byzantine, manifest.n))
}

fn progress(show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn refuse_non_empty(dir: &Path) -> Result<()> {
    let non_empty = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    if non_empty {
        return Err(TestnetError::ForeignDirectory {
            dir: dir.to_path_buf(),
            found: "files that are not a cairn testnet (no testnet.json)".into(),
        });
    }
    Ok(())
}

/// Refuses when a port of a node that is not running is taken.
fn check_ports(manifest: &Manifest, layout: &Layout) -> Result<()> {
    for i in 0..manifest.n {
        if process::running(layout, i).is_some() {
            continue;
        }
        let ports = manifest.ports(i);
        for (port, what) in [
            (ports.p2p, "p2p"),
            (ports.rpc, "rpc"),
            (ports.metrics, "metrics"),
        ] {
            if TcpListener::bind(("127.0.0.1", port)).is_err() {
                return Err(TestnetError::PortInUse {
                    port,
                    what: format!("{what} of node {i}"),
                });
            }
        }
    }
    Ok(())
}

/// Waits until every node answers RPC and the chain commits a new block.
async fn wait_ready(
    layout: &Layout,
    manifest: &Manifest,
    pids: &[u32],
    bar: &ProgressBar,
    limit: Duration,
) -> Result<u64> {
    let deadline = Instant::now() + limit;
    let mut clients = Vec::new();
    for (i, pid) in pids.iter().enumerate() {
        bar.set_message(format!(
            "waiting for validators' RPC ({i}/{} up)",
            manifest.n
        ));
        loop {
            if !process::alive(*pid) {
                return Err(TestnetError::NotReady(format!(
                    "validator {i} exited; last lines of {}:\n{}",
                    layout.log(i).display(),
                    process::log_tail(layout, i, 20)
                )));
            }
            if let Ok(client) = Client::connect(&manifest.rpc_url(i)).await
                && client.chain_head().await.is_ok()
            {
                clients.push(client);
                break;
            }
            if Instant::now() > deadline {
                return Err(TestnetError::NotReady(format!(
                    "validator {i}'s RPC did not answer within {limit:?}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    bar.set_message("waiting for blocks to be committed");
    let start = clients[0]
        .chain_head()
        .await
        .map_err(|source| TestnetError::Rpc { node: 0, source })?
        .height;
    loop {
        let head = clients[0]
            .chain_head()
            .await
            .map_err(|source| TestnetError::Rpc { node: 0, source })?;
        if head.height > start {
            return Ok(head.height);
        }
        if Instant::now() > deadline {
            return Err(TestnetError::NotReady(format!(
                "no block committed within {limit:?}; see the logs in {}",
                layout.dir.join("nodes").display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
