//! `cairn node run`: start every component of a validator, run until SIGINT or
//! SIGTERM, then stop in order (the driver finishes its in-flight write first).

mod driver;
mod gossip;
mod metrics;
mod setup;
mod shared;
mod wire;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::watch;

use self::driver::{Driver, DriverSetup};
use self::setup::Loaded;

/// Runs a validator from `home` with the genesis at `genesis` until a signal stops it.
pub fn run(home: &Path, genesis: &Path) -> Result<()> {
    let loaded = Loaded::load(home, genesis)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get().max(2)))
        .enable_all()
        .thread_name("cairn")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_loaded(loaded))
}

async fn run_loaded(loaded: Loaded) -> Result<()> {
    let shutdown_after = Duration::from_millis(loaded.config.timeouts.shutdown_ms);
    let started = loaded.start().await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let metrics = started
        .metrics_listener
        .map(|l| tokio::spawn(metrics::serve(l, started.registry.clone(), stop_rx.clone())));
    let gossip = tokio::spawn(gossip::run(
        started.net.clone(),
        started.gossip_rx,
        stop_rx.clone(),
    ));
    let driver = Driver::new(DriverSetup {
        core: started.core,
        shared: started.shared.clone(),
        net: started.net.clone(),
        heads: started.heads,
        state_root: started.state_root,
        pending: started.pending,
        block_fetch: started.block_fetch,
        evidence_dir: started.evidence_dir,
    });
    let mut driver = tokio::spawn(driver.run(started.incoming, stop_rx));
    tracing::info!(
        validator = started.shared.me.0,
        rpc = %started.rpc.local_addr(),
        "validator running"
    );

    let outcome = tokio::select! {
        signal = shutdown_signal() => {
            tracing::info!(signal = signal?, "shutting down");
            None
        }
        result = &mut driver => Some(result),
    };
    started.shared.stopping.store(true, Ordering::Relaxed);
    let _ = stop_tx.send(true);
    let driver_result = match outcome {
        Some(result) => result,
        None => match tokio::time::timeout(shutdown_after, driver).await {
            Ok(result) => result,
            Err(_) => Ok(Err(anyhow::anyhow!(
                "the consensus driver did not stop within timeouts.shutdown_ms ({} ms)",
                shutdown_after.as_millis()
            ))),
        },
    };
    started.rpc.stop().await;
    let _ = started.net.shutdown().await;
    let _ = gossip.await;
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    let result = driver_result.context("the consensus driver panicked")?;
    match &result {
        Ok(()) => tracing::info!("stopped"),
        Err(e) => tracing::error!(error = format!("{e:#}"), "stopped on error"),
    }
    result
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
