//! A full node's part: follow the chain by block sync, forever, answering peers'
//! requests; never sign.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use cairn_network::{Inbox, NetworkHandle};
use cairn_storage::Head;
use cairn_types::ValidatorId;
use tokio::sync::watch;

use super::shared::Shared;
use super::sync::{SyncOutcome, SyncServer, Syncer};

/// Pause between two looks at the validators' heads once at the head.
const FOLLOW_INTERVAL: Duration = Duration::from_millis(200);

/// Follows the chain until `stop` turns true.
pub async fn follow(
    shared: Arc<Shared>,
    net: NetworkHandle,
    heads: watch::Sender<Head>,
    mut incoming: Inbox,
    mut stop: watch::Receiver<bool>,
    peers: usize,
) -> Result<()> {
    let mut server = SyncServer::new(shared.store.clone(), net.clone(), peers);
    let validators = (0..shared.genesis.n())
        .map(|i| ValidatorId(i as u16))
        .collect();
    let syncer = Syncer::new(
        shared.store.clone(),
        &shared.genesis,
        net,
        validators,
        super::on_applied(shared.clone(), heads),
    );
    let mut caught_up_once = false;
    loop {
        let s = syncer.clone();
        let work = tokio::spawn(async move { s.catch_up(0).await });
        let abort = work.abort_handle();
        let outcome = tokio::select! {
            outcome = server.serve_while(&mut incoming, work) => outcome,
            _ = stop.wait_for(|s| *s) => {
                abort.abort();
                return Ok(());
            }
        };
        match outcome {
            Ok(Ok(SyncOutcome::CaughtUp(c))) => {
                if !caught_up_once || c.to - c.from > 100 {
                    tracing::info!(
                        from = c.from,
                        to = c.to,
                        txs = c.txs,
                        "following: caught up"
                    );
                }
                caught_up_once = true;
            }
            Ok(Ok(SyncOutcome::UpToDate { .. })) => caught_up_once = true,
            Ok(Ok(SyncOutcome::NoPeers)) => tracing::debug!("no validator answered"),
            Ok(Err(e)) => tracing::warn!(error = format!("{e:#}"), "block sync stopped early"),
            Err(e) => tracing::error!(error = %e, "block sync panicked"),
        }
        shared
            .syncing
            .store(!caught_up_once, std::sync::atomic::Ordering::Relaxed);
        let pause = tokio::spawn(tokio::time::sleep(FOLLOW_INTERVAL));
        tokio::select! {
            _ = server.serve_while(&mut incoming, pause) => {}
            _ = stop.wait_for(|s| *s) => return Ok(()),
        }
    }
}
