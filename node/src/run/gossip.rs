//! Sharing client transactions with the other validators, in batches, and announcing
//! again the ones that stall.
//!
//! Gossip is best effort: a receiver drops batches from a peer that sends faster than
//! it admits, and the network drops messages to a peer whose queue is full. A dropped
//! batch leaves a nonce gap at every validator but the one the client reached, and if
//! that validator's own proposals are not committing (the leader before a crashed one
//! never gathers its certificate) the sender's transactions would wait forever. So
//! every [`REANNOUNCE_EVERY`], the transactions of senders that made no progress for a
//! whole interval are broadcast again ([`cairn_mempool::Mempool::stalled`]); a
//! receiver that has them pays one hash each.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use cairn_network::NetworkHandle;
use cairn_types::Transaction;
use parity_scale_codec::Encode;
use tokio::sync::{mpsc, watch};

use super::driver::GossipBatch;
use super::shared::Shared;
use super::wire::{KIND_TXS, MAX_GOSSIP_BYTES, MAX_GOSSIP_TXS};

/// How long a transaction may wait for companions before its batch is sent.
const LINGER: Duration = Duration::from_millis(5);
/// How often stalled transactions are announced again.
pub const REANNOUNCE_EVERY: Duration = Duration::from_secs(2);
/// Most transactions announced again per interval.
const REANNOUNCE_TXS: usize = 4 * MAX_GOSSIP_TXS;
/// Most bytes of transactions announced again per interval.
const REANNOUNCE_BYTES: usize = 2 * MAX_GOSSIP_BYTES;
/// Most bytes announced again per interval summed over all peers: on a large network
/// each peer gets a smaller share, so the total stays bounded.
const REANNOUNCE_TOTAL_BYTES: usize = 8 * MAX_GOSSIP_BYTES;

/// What one interval may announce again when broadcasting to `peers` validators:
/// (transactions, bytes), both scaled down alike on a large network.
fn reannounce_budget(peers: usize) -> (usize, usize) {
    let bytes = REANNOUNCE_BYTES.min(REANNOUNCE_TOTAL_BYTES / peers.max(1));
    let txs = REANNOUNCE_TXS * bytes / REANNOUNCE_BYTES;
    (txs.max(1), bytes)
}

/// Broadcasts the transactions received on `txs` in batches of up to
/// [`MAX_GOSSIP_TXS`] transactions or [`MAX_GOSSIP_BYTES`], each sent at most
/// [`LINGER`] after its first transaction; every [`REANNOUNCE_EVERY`], broadcasts the
/// stalled ones of `shared`'s mempool again.
pub async fn run(
    net: NetworkHandle,
    shared: Arc<Shared>,
    mut txs: mpsc::Receiver<Transaction>,
    mut stop: watch::Receiver<bool>,
) {
    let mut reannounce = tokio::time::interval(REANNOUNCE_EVERY);
    reannounce.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let first = tokio::select! {
            tx = txs.recv() => match tx { Some(tx) => tx, None => return },
            _ = reannounce.tick() => {
                announce_stalled(&net, &shared).await;
                continue;
            }
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
        broadcast(&net, batch).await;
    }
}

/// Broadcasts the mempool's stalled transactions again, in gossip batches. Not while
/// block sync runs: the pool's committed nonces are behind then, so everything would
/// look stalled.
async fn announce_stalled(net: &NetworkHandle, shared: &Shared) {
    if shared.syncing.load(Ordering::Relaxed) {
        return;
    }
    let peers = shared.genesis.n().saturating_sub(1);
    let (max_txs, max_bytes) = reannounce_budget(peers);
    let stalled = shared.mempool().stalled(max_txs, max_bytes);
    if stalled.is_empty() {
        return;
    }
    shared.metrics.reannounced_txs.inc_by(stalled.len() as u64);
    tracing::debug!(
        count = stalled.len(),
        "announcing stalled transactions again"
    );
    for batch in batches(stalled) {
        broadcast(net, batch).await;
    }
}

/// `txs` in order, cut into batches of at most [`MAX_GOSSIP_TXS`] transactions and
/// [`MAX_GOSSIP_BYTES`] (a single larger transaction goes alone).
fn batches(txs: Vec<Transaction>) -> Vec<Vec<Transaction>> {
    let mut out: Vec<Vec<Transaction>> = Vec::new();
    let mut bytes = 0;
    for tx in txs {
        let size = tx.encoded_size();
        let fits = out
            .last()
            .is_some_and(|last| last.len() < MAX_GOSSIP_TXS && bytes + size <= MAX_GOSSIP_BYTES);
        if !fits {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        if let Some(last) = out.last_mut() {
            last.push(tx);
        }
    }
    out
}

async fn broadcast(net: &NetworkHandle, batch: Vec<Transaction>) {
    let count = batch.len();
    let Ok(batch) = GossipBatch::new(batch) else {
        return;
    };
    if let Err(e) = net.broadcast(KIND_TXS, batch.encode()).await {
        tracing::warn!(error = %e, count, "transaction gossip failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_crypto::{Hash, SecretKey};
    use cairn_types::{BoundedBytes, ChainId, Op, TxPayload};

    fn tx(nonce: u64, value_len: usize) -> Transaction {
        let key = SecretKey::from_seed(&[3; 32]);
        Transaction::sign(
            TxPayload {
                chain_id: ChainId(Hash::digest(b"gossip")),
                sender: key.public(),
                nonce,
                op: Op::Put {
                    key: BoundedBytes::new(b"k".to_vec()).unwrap(),
                    value: BoundedBytes::new(vec![0; value_len]).unwrap(),
                },
            },
            &key,
        )
    }

    #[test]
    fn the_reannouncement_budget_shrinks_with_the_network() {
        assert_eq!(reannounce_budget(3), (REANNOUNCE_TXS, REANNOUNCE_BYTES));
        let (txs, bytes) = reannounce_budget(255);
        assert!(bytes * 255 <= REANNOUNCE_TOTAL_BYTES);
        assert!((1..REANNOUNCE_TXS / 50).contains(&txs), "{txs}");
        assert_eq!(reannounce_budget(0), (REANNOUNCE_TXS, REANNOUNCE_BYTES));
    }

    #[test]
    fn batches_keep_the_order_and_both_limits() {
        let small: Vec<Transaction> = (0..(MAX_GOSSIP_TXS as u64 + 10))
            .map(|n| tx(n, 1))
            .collect();
        let cut = batches(small.clone());
        assert_eq!(cut.len(), 2);
        assert_eq!(cut[0].len(), MAX_GOSSIP_TXS);
        assert_eq!(cut.concat(), small, "order kept, nothing lost");
        let big: Vec<Transaction> = (0..40).map(|n| tx(n, 60 * 1024)).collect();
        let cut = batches(big.clone());
        assert_eq!(cut.concat(), big);
        for batch in &cut {
            let bytes: usize = batch.iter().map(Encode::encoded_size).sum();
            assert!(bytes <= MAX_GOSSIP_BYTES, "{bytes} bytes");
        }
        assert!(batches(Vec::new()).is_empty());
    }
}
