//! `cairn testnet bench`: a load generator. Signs real transactions from many funded
//! accounts, submits them over JSON-RPC to every node, follows commits over a
//! WebSocket subscription and reports throughput and submit-to-commit latency, the CPU
//! the validators and the generator spent per committed transaction, and how far the
//! rate is from the signature bound measured in the same run.

mod cost;
mod stats;
mod submit;
mod tracker;
mod watch;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_crypto::{Hash, KeyFile, KeyKind};
use cairn_rpc::Client;
use cairn_types::ChainId;
use indicatif::{ProgressBar, ProgressStyle};

pub use cost::{CpuCost, SignatureBound, cpu_seconds};
pub use stats::{BenchReport, Latency};

use crate::error::{Result, TestnetError};
use crate::layout::Layout;
use submit::Account;
use tracker::Tracker;

/// Options of `bench`.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Target transactions per second over all accounts; `None` = as fast as accepted.
    pub rate: Option<u64>,
    /// How long to submit.
    pub duration: Duration,
    /// How many funded accounts sign (at most the testnet's).
    pub accounts: usize,
    /// Approximate encoded size of each transaction, in bytes.
    pub tx_size: usize,
    /// Most transactions one account has submitted and not yet seen committed before
    /// it waits (0: no limit). Keeps `--max` measuring a bounded queue.
    pub window: u64,
    /// How long to wait after submitting for the last commits.
    pub drain: Duration,
    /// Show a progress bar.
    pub progress: bool,
}

/// Runs the load against the testnet in `dir`.
pub async fn bench(dir: &Path, options: &BenchOptions) -> Result<BenchReport> {
    let layout = Layout::new(dir);
    let manifest = layout.load()?;
    if options.accounts == 0 || options.accounts > manifest.accounts {
        return Err(TestnetError::Usage(format!(
            "--accounts must be between 1 and {} (the testnet's funded accounts)",
            manifest.accounts
        )));
    }
    let chain = ChainId(
        manifest
            .chain_id
            .parse::<Hash>()
            .map_err(|e| TestnetError::Usage(format!("testnet.json chain_id: {e}")))?,
    );
    // Load the nodes that answer; a testnet with validators down is still a network
    // worth measuring (it commits while a quorum is up).
    let mut clients = Vec::new();
    let mut live = Vec::new();
    for i in 0..manifest.n {
        match connect_live(&manifest.rpc_url(i)).await {
            Some(client) => {
                clients.push(Arc::new(client));
                live.push(i);
            }
            None => tracing::warn!(node = i, "node does not answer; not loading it"),
        }
    }
    if clients.is_empty() {
        return Err(TestnetError::NotReady(format!(
            "no node of the testnet in {} answers; start it with `cairn testnet up`",
            dir.display()
        )));
    }
    let mut accounts = Vec::new();
    for k in 0..options.accounts {
        let key = KeyFile::load(&layout.account(k), KeyKind::Account)?;
        let slot = k % clients.len();
        let nonce = submit::next_nonce(&clients[slot], &key.public())
            .await
            .map_err(|source| TestnetError::Rpc {
                node: live[slot],
                source,
            })?;
        accounts.push(Account {
            index: k,
            key,
            nonce,
            node: slot,
            ready: Default::default(),
        });
    }
    // Measured while the testnet idles, just before the load: the same machine,
    // the same moment, so the ratio holds however busy the machine is otherwise.
    let bound = SignatureBound::measure(manifest.n);
    let per_account = presigned_per_account(options, bound.bound_tps);
    let signing = Instant::now();
    submit::presign(&mut accounts, &chain, options.tx_size, per_account);
    tracing::info!(
        per_account,
        seconds = signing.elapsed().as_secs_f64(),
        "signed the load before the timed window"
    );
    let tracker = Arc::new(Tracker::new(options.accounts));
    let watched = live[0];
    let rpc_error = |source| TestnetError::Rpc {
        node: watched,
        source,
    };
    let watcher = Client::connect(&manifest.ws_url(watched))
        .await
        .map_err(rpc_error)?;
    let from = watcher.chain_head().await.map_err(rpc_error)?.height + 1;
    let watch = tokio::spawn(watch::follow(watcher, from, tracker.clone()));
    let meter = cost::CpuMeter::start(
        (0..manifest.n)
            .map(|i| crate::process::running(&layout, i))
            .collect(),
    );
    let bar = progress_bar(options);
    let started = Instant::now();
    let ticker = tokio::spawn(tick(
        bar.clone(),
        tracker.clone(),
        started,
        options.duration,
    ));
    let load = submit::Load {
        chain,
        tx_size: options.tx_size,
        rate: options.rate,
        window: options.window,
        until: started + options.duration,
        accounts: options.accounts,
    };
    let signed_late = submit::run(load, accounts, clients, tracker.clone()).await;
    let duration = started.elapsed();
    bar.set_message("waiting for the last commits");
    tracker.drain(options.drain).await;
    watch.abort();
    ticker.abort();
    bar.finish_and_clear();
    let mut report = tracker.report(manifest.n, live.len(), options, started, duration);
    report.cpu = meter.finish(report.committed);
    report.bound_ratio = report.committed_tps / bound.bound_tps;
    report.signature_bound = bound;
    report.presigned = per_account * options.accounts as u64;
    report.signed_in_window = signed_late;
    Ok(report)
}

/// Transactions each account signs before the timed window: what `--rate` will send,
/// or for `--max` what the signature bound allows (no network commits more), with a
/// margin, capped at [`submit::MAX_PRESIGNED`] over all accounts.
fn presigned_per_account(options: &BenchOptions, bound_tps: f64) -> u64 {
    let seconds = options.duration.as_secs_f64();
    let total = match options.rate {
        Some(rate) => rate as f64 * seconds,
        None => bound_tps * seconds * 1.2,
    };
    let total = (total.ceil() as u64).min(submit::MAX_PRESIGNED);
    total.div_ceil(options.accounts.max(1) as u64) + 1
}

/// A client of the node at `url` if it answers `chain_head` within 3 s.
async fn connect_live(url: &str) -> Option<Client> {
    let client = Client::connect(url).await.ok()?;
    let head = tokio::time::timeout(Duration::from_secs(3), client.chain_head()).await;
    matches!(head, Ok(Ok(_))).then_some(client)
}

fn progress_bar(options: &BenchOptions) -> ProgressBar {
    if !options.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(options.duration.as_secs().max(1));
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} s  {msg}") {
        bar.set_style(style);
    }
    bar
}

async fn tick(bar: ProgressBar, tracker: Arc<Tracker>, started: Instant, duration: Duration) {
    let mut interval = tokio::time::interval(Duration::from_millis(250));
    loop {
        interval.tick().await;
        bar.set_position(started.elapsed().min(duration).as_secs());
        bar.set_message(tracker.progress_line());
    }
}
