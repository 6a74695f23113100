//! `cairn node run`: start every component of a validator, run until SIGINT or
//! SIGTERM, then stop in order (the driver finishes its in-flight write first).

mod admission;
mod byzantine;
mod driver;
mod execute;
mod follow;
mod forward;
mod metrics;
mod setup;
mod shared;
mod stall;
mod sync;
mod wire;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::watch;

use self::driver::{Driver, DriverExit, DriverSetup, SYNC_GAP};
use self::setup::Loaded;

/// Runs a validator (or, if `full`, a full node) from `home` with the genesis at
/// `genesis` until a signal stops it.
pub fn run(home: &Path, genesis: &Path, full: bool) -> Result<()> {
    let loaded = Loaded::load(home, genesis, full)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get().max(2)))
        .enable_all()
        .thread_name("cairn")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_loaded(loaded))
}

async fn run_loaded(loaded: Loaded) -> Result<()> {
    #[cfg(feature = "byzantine")]
    byzantine::arm();
    let shutdown_after = Duration::from_millis(loaded.config.timeouts.shutdown_ms);
    let started = loaded.start().await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let signals = tokio::spawn(async move {
        let signal = shutdown_signal().await;
        match &signal {
            Ok(name) => tracing::info!(signal = name, "shutting down"),
            Err(e) => tracing::error!(error = %e, "cannot listen for signals; shutting down"),
        }
        let _ = stop_tx.send(true);
    });
    let metrics = started
        .metrics_listener
        .map(|l| tokio::spawn(metrics::serve(l, started.registry.clone(), stop_rx.clone())));
    let forward = started.forward_rx.map(|rx| {
        tokio::spawn(forward::run(
            started.net.clone(),
            started.shared.genesis.n(),
            rx,
            stop_rx.clone(),
        ))
    });
    let sweep = {
        let shared = started.shared.clone();
        tokio::spawn(admission::sweep(
            started.shared.store.clone(),
            move |hash| shared.mempool().contains(hash),
            stop_rx.clone(),
        ))
    };
    let (id, rpc) = (started.shared.me.0, started.rpc.local_addr());
    match started.consensus_key {
        Some(_) => tracing::info!(validator = id, %rpc, "validator running"),
        None => tracing::info!(index = id, %rpc, "full node running"),
    }
    let shared = started.shared.clone();
    let result = match started.consensus_key {
        Some(key) => {
            let participate = Participation {
                shared: shared.clone(),
                net: started.net.clone(),
                heads: started.heads,
                key,
                block_fetch: started.block_fetch,
                evidence_dir: started.evidence_dir,
                peers: started.peers,
            };
            participate
                .run(started.incoming, stop_rx, shutdown_after)
                .await
        }
        None => {
            follow::follow(
                shared.clone(),
                started.net.clone(),
                started.heads,
                started.incoming,
                stop_rx,
                started.peers,
            )
            .await
        }
    };
    shared.stopping.store(true, Ordering::Relaxed);
    signals.abort();
    started.rpc.stop().await;
    let _ = started.net.shutdown().await;
    let _ = sweep.await;
    if let Some(forward) = forward {
        let _ = forward.await;
    }
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    match &result {
        Ok(()) => tracing::info!("stopped"),
        Err(e) => tracing::error!(error = format!("{e:#}"), "stopped on error"),
    }
    result
}

/// A validator's part in the network: block sync until it is near the head, then
/// consensus until it falls far behind again (then sync again), until stopped.
struct Participation {
    shared: std::sync::Arc<shared::Shared>,
    net: cairn_network::NetworkHandle,
    heads: watch::Sender<cairn_storage::Head>,
    key: cairn_crypto::SecretKey,
    block_fetch: Duration,
    evidence_dir: std::path::PathBuf,
    peers: usize,
}

impl Participation {
    async fn run(
        self,
        mut incoming: cairn_network::Inbox,
        stop: watch::Receiver<bool>,
        shutdown_after: Duration,
    ) -> Result<()> {
        let mut server =
            sync::SyncServer::new(self.shared.store.clone(), self.net.clone(), self.peers);
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            self.catch_up(&mut server, &mut incoming, stop.clone())
                .await?;
            if *stop.borrow() {
                return Ok(());
            }
            let resumed = setup::Resumed::from_store(
                &self.shared.store,
                &self.shared.genesis,
                self.shared.me,
                &self.key,
            )?;
            let head = self.shared.store.head()?;
            self.heads.send_replace(head);
            self.shared.metrics.height.set(head.height as i64);
            let driver = Driver::new(DriverSetup {
                core: resumed.core,
                shared: self.shared.clone(),
                net: self.net.clone(),
                heads: self.heads.clone(),
                state_root: resumed.state_root,
                pending: resumed.pending,
                block_fetch: self.block_fetch,
                evidence_dir: self.evidence_dir.clone(),
                peers: self.peers,
                byzantine: byzantine::Byzantine::from_env(&self.key, self.byzantine_context())?,
                key: cairn_crypto::SecretKey::from_seed(&self.key.seed()),
            })?;
            let mut task = tokio::spawn(driver.run(incoming, stop.clone()));
            let mut stopping = stop.clone();
            let joined = tokio::select! {
                joined = &mut task => joined,
                _ = stopping.wait_for(|s| *s) => {
                    match tokio::time::timeout(shutdown_after, &mut task).await {
                        Ok(joined) => joined,
                        Err(_) => anyhow::bail!(
                            "the consensus driver did not stop within timeouts.shutdown_ms ({} ms)",
                            shutdown_after.as_millis()
                        ),
                    }
                }
            };
            let (exit, inbox) = joined.context("the consensus driver panicked")??;
            incoming = inbox;
            match exit {
                DriverExit::Stopped => return Ok(()),
                DriverExit::Behind(height) => {
                    tracing::info!(network = height, "starting block sync");
                }
            }
        }
    }

    /// What a Byzantine behaviour forges with (fault-run builds only use it).
    fn byzantine_context(&self) -> byzantine::Context {
        let genesis = &self.shared.genesis;
        let max_block_bytes =
            usize::try_from(genesis.doc().params.max_block_bytes).unwrap_or(usize::MAX);
        byzantine::Context {
            chain: genesis.chain_id(),
            me: self.shared.me,
            senders: genesis
                .doc()
                .accounts
                .iter()
                .map(|a| a.public_key)
                .collect(),
            max_message_bytes: wire::max_message_bytes(max_block_bytes),
        }
    }

    /// Block sync until this node is within [`SYNC_GAP`] blocks of the highest head its
    /// peers prove, answering their requests meanwhile. No peer answering (the whole
    /// network starting) is not an error: consensus starts and catches up itself.
    async fn catch_up(
        &self,
        server: &mut sync::SyncServer,
        incoming: &mut cairn_network::Inbox,
        mut stop: watch::Receiver<bool>,
    ) -> Result<()> {
        self.shared.syncing.store(true, Ordering::Relaxed);
        let syncer = sync::Syncer::new(
            self.shared.store.clone(),
            &self.shared.genesis,
            self.net.clone(),
            self.validator_peers(),
            on_applied(self.shared.clone(), self.heads.clone()),
        );
        let syncer = match setup::stored_safety(&self.shared.store)? {
            Some(safety) => syncer.watching(self.shared.me, safety.highest_voted_round),
            None => syncer,
        };
        let work = tokio::spawn(async move { syncer.catch_up(SYNC_GAP).await });
        let abort = work.abort_handle();
        let outcome = tokio::select! {
            outcome = server.serve_while(incoming, work) => outcome,
            _ = stop.wait_for(|s| *s) => {
                abort.abort();
                return Ok(());
            }
        };
        self.shared.syncing.store(false, Ordering::Relaxed);
        match outcome.context("block sync panicked")? {
            Ok(sync::SyncOutcome::CaughtUp(c)) => {
                let secs = c.elapsed.as_secs_f64().max(1e-3);
                tracing::info!(
                    from = c.from,
                    to = c.to,
                    txs = c.txs,
                    seconds = format!("{secs:.1}"),
                    blocks_per_sec = format!("{:.0}", (c.to - c.from) as f64 / secs),
                    txs_per_sec = format!("{:.0}", c.txs as f64 / secs),
                    "caught up by block sync"
                );
                self.shared.metrics.height.set(c.to as i64);
                if let Some(round) = c.signed_above {
                    setup::mark_recovering(&self.shared.store, round)?;
                }
            }
            Ok(sync::SyncOutcome::UpToDate { height, network }) => {
                tracing::info!(height, network, "at the network's head");
            }
            Ok(sync::SyncOutcome::NoPeers) => {
                tracing::info!("no peer answered a status request; starting consensus");
            }
            Err(e) => tracing::warn!(error = format!("{e:#}"), "block sync stopped early"),
        }
        Ok(())
    }

    /// The other validators.
    fn validator_peers(&self) -> Vec<cairn_types::ValidatorId> {
        (0..self.shared.genesis.n())
            .map(|i| cairn_types::ValidatorId(i as u16))
            .filter(|v| *v != self.shared.me)
            .collect()
    }
}

/// What follows a synced write: the mempool forgets what committed, RPC subscribers
/// see the new head.
fn on_applied(
    shared: std::sync::Arc<shared::Shared>,
    heads: watch::Sender<cairn_storage::Head>,
) -> sync::OnApplied {
    std::sync::Arc::new(move |batch, head| {
        shared.note_commit(batch);
        heads.send_replace(head);
    })
}

/// Waits for SIGINT or SIGTERM and names it.
async fn shutdown_signal() -> Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}
