//! `cairn testnet faults`: a scenario of faults on validators that run on their own
//! hosts (network namespaces on a private bridge), under load, followed by a checker
//! that trusts no node (docs/TESTING.md "Fault runs").
//!
//! The run: create the hosts and a network whose validators listen on the hosts'
//! addresses; start every validator in its namespace; submit a steady load; apply the
//! scenario's faults at their times while a poller samples every node's height; then
//! end every fault, wait for the acknowledged transactions, stop the validators and
//! check ([`check`]). Everything the run made is removed at the end, also on failure.

mod check;
mod delay;
mod hosts;
mod load;
mod nodes;
pub mod scenario;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_crypto::{Hash, KeyFile, KeyKind};
use cairn_rpc::Client;
use cairn_types::ChainId;
use serde::Serialize;

pub use check::{Check, Verdict, all_ok};
use hosts::Hosts;
use nodes::Nodes;
pub use scenario::{Action, Fault, Scenario};

use crate::error::{Result, TestnetError};
use crate::layout::Layout;

/// The ports every host uses (p2p, RPC, metrics): each host has its own address.
const HOST_BASE_PORT: u16 = 7_000;
/// Funded accounts the load signs with.
const LOAD_ACCOUNTS: usize = 8;
/// How often the poller samples every node's height.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// One applied fault, with when it happened.
#[derive(Clone, Debug, Serialize)]
pub struct Applied {
    /// Seconds after the load started.
    pub at_s: f64,
    /// What was done.
    pub action: Action,
    /// To whom.
    pub nodes: Vec<usize>,
    /// Split groups, if a split.
    pub groups: Vec<Vec<usize>>,
}

/// One sample of every node's committed height (`None`: it did not answer).
#[derive(Clone, Debug)]
pub struct Sample {
    /// Seconds after the load started.
    pub at_s: f64,
    /// Height per node.
    pub heights: Vec<Option<u64>>,
}

/// Runs `scenario` with the `cairn` binary at `cairn`, in `dir` (created; must not
/// exist). Returns the verdict; its `ok()` says whether every check held.
pub async fn run(cairn: &Path, dir: &Path, scenario: &Scenario) -> Result<Verdict> {
    if dir.exists() {
        return Err(TestnetError::Usage(format!(
            "{} exists; a fault run needs a fresh directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(crate::error::io(dir))?;
    let n = scenario.validators;
    let hosts = Hosts::create(n)?;
    let layout = Layout::new(dir);
    let addrs: Vec<_> = (0..n).map(|i| hosts.addr(i)).collect();
    let unlisted: Option<Vec<_>> = (scenario.discovery == scenario::Discovery::Bootstrap)
        .then(|| (0..n).map(|i| hosts.unused(i)).collect());
    let manifest = crate::create::create_on_hosts(
        cairn,
        &layout,
        &addrs,
        HOST_BASE_PORT,
        LOAD_ACCOUNTS,
        unlisted.as_deref(),
    )?;
    let rpc_port = crate::layout::ports(HOST_BASE_PORT, 0).rpc;
    let urls: Vec<String> = addrs
        .iter()
        .map(|a| format!("http://{a}:{rpc_port}"))
        .collect();
    let mut nodes = Nodes::new(cairn, &layout, &hosts, n, &scenario.byzantine);
    for i in 0..n {
        nodes.start(i)?;
    }
    let clients = connect_all(&urls).await?;
    wait_for_commits(&clients).await?;
    let chain = ChainId(
        manifest
            .chain_id
            .parse::<Hash>()
            .map_err(|e| TestnetError::Usage(format!("the manifest's chain id: {e}")))?,
    );

    let keys = (0..LOAD_ACCOUNTS)
        .map(|k| KeyFile::load(&layout.account(k), KeyKind::Account))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let acked: load::Acked = Arc::default();
    let honest: Vec<bool> = (0..n).map(|i| scenario.is_honest(i)).collect();
    // Only an honest validator's acknowledgement promises anything.
    let reachable: load::Reachable = Arc::new(Mutex::new(honest.clone()));
    let start = Instant::now();
    let until = start + Duration::from_secs(scenario.duration_s);
    let load = tokio::spawn(load::run(
        chain,
        keys,
        clients.clone(),
        reachable.clone(),
        scenario.load_tps,
        until,
        acked.clone(),
    ));
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let poller = tokio::spawn(poll_heights(
        clients.clone(),
        honest.clone(),
        start,
        samples.clone(),
    ));

    let mut applied = Vec::new();
    for fault in scenario.timeline() {
        let at = start + Duration::from_secs_f64(fault.at_s);
        tokio::time::sleep_until(at.into()).await;
        apply(&fault, &mut nodes, &hosts)?;
        if let Ok(mut r) = reachable.lock() {
            *r = nodes
                .reachable()
                .iter()
                .zip(&honest)
                .map(|(r, h)| *r && *h)
                .collect();
        }
        tracing::info!(at_s = fault.at_s, action = ?fault.action, nodes = ?fault.nodes, "fault");
        applied.push(Applied {
            at_s: start.elapsed().as_secs_f64(),
            action: fault.action,
            nodes: fault.nodes.clone(),
            groups: fault.groups.clone(),
        });
    }
    let _ = load.await;
    // End every fault, so that everything acknowledged can commit everywhere.
    hosts.heal()?;
    nodes.heal_disks();
    nodes.recover_all()?;
    let healed_at = start.elapsed().as_secs_f64();
    let acked = acked.lock().map(|a| a.clone()).unwrap_or_default();
    let honest_clients: Vec<Arc<Client>> = clients
        .iter()
        .zip(&honest)
        .filter(|(_, h)| **h)
        .map(|(c, _)| c.clone())
        .collect();
    let settle = check::settle(&honest_clients, &acked, Duration::from_secs(90)).await;
    // Settling can take less than one sample period: give the poller until the
    // height has risen after the final heal (or the resume bound passed) before
    // judging whether commits resumed.
    let resume_by = Instant::now() + Duration::from_secs(scenario.resume_within_s);
    while Instant::now() < resume_by {
        let risen = samples
            .lock()
            .map(|s| check::resumed_everywhere(&s, healed_at))
            .unwrap_or(true);
        if risen {
            break;
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
    poller.abort();
    let samples = samples.lock().map(|s| s.clone()).unwrap_or_default();
    let stalls = if settle.is_err() || !check::resumed_everywhere(&samples, healed_at) {
        check::stall_reports(&honest_clients).await
    } else {
        Vec::new()
    };
    let inputs = check::Inputs {
        scenario,
        applied: &applied,
        samples: &samples,
        acked: &acked,
        clients: &honest_clients,
        honest: &honest,
        layout: &layout,
        cairn,
        settle,
        stalls,
    };
    let chain_checks = check::chain_checks(&inputs).await;
    nodes.stop_all();
    let mut verdict = chain_checks;
    verdict.extend(check::disk_checks(&inputs));
    drop(hosts);
    Ok(verdict)
}

/// The next value of a xorshift64* sequence in `state` (never 0): reproducible draws
/// for chaos kills and link jitter, without a random-number crate.
pub(crate) fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// Where a run keeps its files when no `--dir` is given.
pub fn default_dir() -> PathBuf {
    std::env::temp_dir().join(format!("cairn-faults-{}", std::process::id()))
}

fn apply(fault: &Fault, nodes: &mut Nodes<'_>, hosts: &Hosts) -> Result<()> {
    match fault.action {
        Action::Kill => fault.nodes.iter().try_for_each(|i| nodes.kill(*i)),
        Action::Restart => fault.nodes.iter().try_for_each(|i| nodes.start(*i)),
        Action::Pause => fault.nodes.iter().try_for_each(|i| nodes.pause(*i)),
        Action::Resume => fault.nodes.iter().try_for_each(|i| nodes.resume(*i)),
        Action::Wipe => fault.nodes.iter().try_for_each(|i| nodes.wipe(*i)),
        Action::Isolate => {
            let rest: Vec<usize> = (0..nodes.len())
                .filter(|i| !fault.nodes.contains(i))
                .collect();
            hosts.split(&[fault.nodes.clone(), rest])
        }
        Action::Split => hosts.split(&fault.groups),
        Action::Heal => {
            nodes.heal_disks();
            hosts.heal()
        }
        Action::Misbehave => fault.nodes.iter().try_for_each(|i| nodes.misbehave(*i)),
        Action::Loss => fault
            .nodes
            .iter()
            .try_for_each(|i| hosts.loss(*i, &fault.to, fault.percent.unwrap_or(0))),
        Action::SlowLink => fault
            .nodes
            .iter()
            .try_for_each(|i| hosts.slow_link(*i, fault.kbit.unwrap_or(8))),
        Action::Delay => fault.nodes.iter().try_for_each(|i| {
            let ms = |v: Option<u64>| Duration::from_millis(v.unwrap_or(0));
            hosts.delay(*i, &fault.to, ms(fault.ms), ms(fault.jitter_ms))
        }),
        Action::SlowDisk => fault
            .nodes
            .iter()
            .try_for_each(|i| nodes.slow_disk(*i, fault.ms.unwrap_or(0))),
    }
}

async fn connect_all(urls: &[String]) -> Result<Vec<Arc<Client>>> {
    let mut clients = Vec::new();
    for (node, url) in urls.iter().enumerate() {
        let client = Client::connect(url)
            .await
            .map_err(|source| TestnetError::Rpc { node, source })?;
        clients.push(Arc::new(client));
    }
    Ok(clients)
}

/// Waits (up to a minute) until every node answers and the chain has committed.
async fn wait_for_commits(clients: &[Arc<Client>]) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut heights = Vec::new();
        for client in clients {
            heights.push(client.chain_head().await.ok().map(|h| h.height));
        }
        if heights.iter().all(|h| h.is_some_and(|h| h >= 1)) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(TestnetError::NotReady(format!(
                "the validators did not commit within a minute (heights {heights:?})"
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Samples every honest node's height (a Byzantine node's is recorded as `None`).
async fn poll_heights(
    clients: Vec<Arc<Client>>,
    honest: Vec<bool>,
    start: Instant,
    samples: Arc<Mutex<Vec<Sample>>>,
) {
    loop {
        let mut heights = Vec::with_capacity(clients.len());
        for (client, honest) in clients.iter().zip(&honest) {
            if !honest {
                heights.push(None);
                continue;
            }
            let head = tokio::time::timeout(Duration::from_millis(500), client.chain_head()).await;
            heights.push(head.ok().and_then(|h| h.ok()).map(|h| h.height));
        }
        if let Ok(mut list) = samples.lock() {
            list.push(Sample {
                at_s: start.elapsed().as_secs_f64(),
                heights,
            });
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
}
