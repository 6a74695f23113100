//! Sharing client transactions with the other validators, in batches.

use std::time::Duration;

use cairn_network::NetworkHandle;
use cairn_types::Transaction;
use parity_scale_codec::Encode;
use tokio::sync::{mpsc, watch};

use super::driver::GossipBatch;
use super::wire::{KIND_TXS, MAX_GOSSIP_BYTES, MAX_GOSSIP_TXS};

/// How long a transaction may wait for companions before its batch is sent.
const LINGER: Duration = Duration::from_millis(5);

/// Broadcasts the transactions received on `txs` in batches of up to
/// [`MAX_GOSSIP_TXS`] transactions or [`MAX_GOSSIP_BYTES`], each sent at most [`LINGER`] after its first transaction.
pub async fn run(
    net: NetworkHandle,
    mut txs: mpsc::Receiver<Transaction>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let first = tokio::select! {
            tx = txs.recv() => match tx { Some(tx) => tx, None => return },
            _ = stop.changed() => return,
        };
        let mut bytes = first.encoded_size();
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + LINGER;
        while batch.len() < MAX_GOSSIP_TXS && bytes < MAX_GOSSIP_BYTES {
            match tokio::time::timeout_at(deadline, txs.recv()).await {
                Ok(Some(tx)) => {
                    bytes += tx.encoded_size();
                    batch.push(tx);
                }
                Ok(None) | Err(_) => break,
            }
        }
        let count = batch.len();
        let Ok(batch) = GossipBatch::new(batch) else {
            continue;
        };
        if let Err(e) = net.broadcast(KIND_TXS, batch.encode()).await {
            tracing::warn!(error = %e, count, bytes, "transaction gossip failed");
        }
    }
}
