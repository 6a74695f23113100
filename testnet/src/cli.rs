//! The `cairn testnet …` command line, embedded by the `cairn` binary.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::bench::{BenchOptions, bench};
use crate::error::{Result, TestnetError};
use crate::faults;
use crate::status::{down, stall_lines, status};
use crate::table::{opt, print, table};
use crate::up::{UpOptions, up};

/// `cairn testnet …`
#[derive(Subcommand)]
pub enum TestnetCommand {
    /// Create (or resume) a local network and start its validators.
    Up {
        /// Number of validators of a new network.
        #[arg(short = 'n', long, default_value_t = 4)]
        n: usize,
        /// The testnet directory.
        #[arg(long, default_value = "cairn-testnet")]
        dir: PathBuf,
        /// First port: node i uses base + 10·i (p2p), +1 (RPC), +2 (metrics).
        #[arg(long, default_value_t = 26600)]
        base_port: u16,
        /// Funded accounts to create in a new network (for `bench`).
        #[arg(long, default_value_t = 64)]
        accounts: usize,
        /// Seconds to wait for the first commit.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        /// Start validator NODE with a Byzantine BEHAVIOUR, e.g. `3:equivocate`, to
        /// watch the network survive it (repeatable, at most f). Needs a cairn built
        /// with `--features byzantine`; see docs/TESTING.md "Byzantine validators".
        #[arg(long, value_name = "NODE:BEHAVIOUR")]
        byzantine: Vec<crate::byzantine::ByzantineNode>,
    },
    /// Show each node: up or down, height, round, peers.
    Status {
        /// The testnet directory.
        #[arg(long, default_value = "cairn-testnet")]
        dir: PathBuf,
    },
    /// Stop every validator (SIGTERM; SIGKILL after 20 s).
    Down {
        /// The testnet directory.
        #[arg(long, default_value = "cairn-testnet")]
        dir: PathBuf,
    },
    /// Load the network with signed transactions and report throughput and latency.
    Bench(BenchArgs),
    /// Run a fault scenario (TOML) on validators each on its own host (network
    /// namespaces; needs root, iproute2 and nftables), then check what it did; exits
    /// non-zero naming every violation.
    Faults {
        /// The scenario file (docs/TESTING.md "Fault runs"; examples in
        /// testnet/scenarios/).
        #[arg(long)]
        scenario: PathBuf,
        /// Where to keep the run's homes and logs (must not exist; default: a new
        /// directory under the system's temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// `cairn testnet bench`
#[derive(Args)]
#[command(group = clap::ArgGroup::new("pace").required(false))]
pub struct BenchArgs {
    /// The testnet directory.
    #[arg(long, default_value = "cairn-testnet")]
    pub dir: PathBuf,
    /// Target rate in transactions per second over all accounts.
    #[arg(long, group = "pace", default_value_t = 1000)]
    pub rate: u64,
    /// Submit as fast as the nodes accept instead of at a fixed rate.
    #[arg(long, group = "pace")]
    pub max: bool,
    /// Seconds of load.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Accounts that sign (each submits its own nonces in order).
    #[arg(long, default_value_t = 32)]
    pub accounts: usize,
    /// Approximate size of each transaction in bytes.
    #[arg(long, default_value_t = 256)]
    pub tx_size: usize,
    /// Most transactions an account keeps submitted but not yet committed (0: no limit).
    #[arg(long, default_value_t = 32)]
    pub window: u64,
}

/// Runs a testnet command. `cairn` is the binary that runs validators (normally the
/// running executable); `json` prints one JSON document instead of tables.
pub async fn run(command: TestnetCommand, json: bool, cairn: &Path) -> Result<()> {
    let progress = !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    match command {
        TestnetCommand::Up {
            n,
            dir,
            base_port,
            accounts,
            timeout,
            byzantine,
        } => {
            let options = UpOptions {
                n,
                base_port,
                accounts,
                timeout: Duration::from_secs(timeout),
                progress,
                byzantine,
            };
            let report = up(cairn, &dir, &options).await?;
            print(json, &report, || {
                let verb = if report.resumed { "resumed" } else { "started" };
                let rows = report.nodes.iter().map(|r| {
                    let node = match &r.byzantine {
                        Some(b) => format!("v{} (byzantine: {b})", r.node),
                        None => format!("v{}", r.node),
                    };
                    vec![
                        node,
                        r.pid.to_string(),
                        r.rpc.clone(),
                        r.metrics.clone(),
                        r.p2p.clone(),
                        r.log.clone(),
                    ]
                });
                format!(
                    "{verb} a {}-validator testnet in {} (chain {}), committing at height {}\n{}\n\
                     status: cairn testnet status --dir {dir}   stop: cairn testnet down --dir {dir}",
                    report.nodes.len(),
                    report.dir,
                    report.chain_id,
                    report.height,
                    table(&["node", "pid", "rpc", "metrics", "p2p", "log"], rows),
                    dir = report.dir,
                )
            });
        }
        TestnetCommand::Status { dir } => {
            let rows = status(&dir).await?;
            print(json, &rows, || {
                let header = [
                    "node",
                    "state",
                    "pid",
                    "height",
                    "round",
                    "leader",
                    "last commit",
                    "peers",
                    "rpc",
                ];
                let body = table(
                    &header,
                    rows.iter().map(|r| {
                        let c = r.consensus.as_ref();
                        vec![
                            format!("v{}", r.node),
                            r.state.to_string(),
                            opt(r.pid),
                            opt(r.height),
                            opt(r.round),
                            opt(c.and_then(|c| c.leader.as_ref()).map(|l| l.name.clone())),
                            opt(c
                                .and_then(|c| c.last_commit_age_ms)
                                .map(|ms| format!("{ms} ms ago"))),
                            opt(r.peers),
                            r.rpc.clone(),
                        ]
                    }),
                );
                format!("{body}\n{}", stall_lines(&rows))
            });
        }
        TestnetCommand::Down { dir } => {
            let rows = down(&dir)?;
            print(json, &rows, || {
                table(
                    &["node", "pid", "outcome"],
                    rows.iter()
                        .map(|r| vec![format!("v{}", r.node), opt(r.pid), r.outcome.to_string()]),
                )
            });
        }
        TestnetCommand::Bench(args) => {
            let options = BenchOptions {
                rate: (!args.max).then_some(args.rate),
                duration: Duration::from_secs(args.duration),
                accounts: args.accounts,
                tx_size: args.tx_size,
                window: args.window,
                drain: Duration::from_secs(30),
                progress,
            };
            let report = bench(&args.dir, &options).await?;
            print(json, &report, || report.human());
        }
        TestnetCommand::Faults { scenario, dir } => {
            let loaded = faults::Scenario::load(&scenario)?;
            let dir = dir.unwrap_or_else(faults::default_dir);
            // Dropping the run on Ctrl-C or SIGTERM removes its hosts and processes.
            let verdict = tokio::select! {
                verdict = faults::run(cairn, &dir, &loaded) => verdict?,
                () = interrupted() => {
                    return Err(TestnetError::Usage(format!(
                        "interrupted; the run's hosts are removed (homes and logs in {})",
                        dir.display()
                    )));
                }
            };
            print(json, &verdict, || {
                table(
                    &["check", "verdict", "detail"],
                    verdict.iter().map(|c| {
                        let mark = if c.ok { "ok" } else { "VIOLATED" };
                        vec![c.name.clone(), mark.to_string(), c.detail.clone()]
                    }),
                )
            });
            if !faults::all_ok(&verdict) {
                let broken: Vec<&str> = verdict
                    .iter()
                    .filter(|c| !c.ok)
                    .map(|c| c.name.as_str())
                    .collect();
                return Err(TestnetError::Usage(format!(
                    "the fault run broke: {} (homes and logs in {})",
                    broken.join(", "),
                    dir.display()
                )));
            }
        }
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn interrupted() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
