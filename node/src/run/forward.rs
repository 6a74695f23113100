//! A full node's client transactions, forwarded to a validator that batches them.
//!
//! A full node takes no part in consensus and makes no batches. What its clients
//! submit is admitted to its own mempool (so it can answer `tx_get`) and forwarded,
//! in bundles, to one validator: the same one for every transaction of a sender, so
//! that a sender's nonces reach one batch maker in order. That validator admits them
//! like its own clients' transactions (`KIND_FORWARD`, docs/NETWORK.md).

use std::time::Duration;

use cairn_network::NetworkHandle;
use cairn_types::{BoundedVec, Transaction, ValidatorId};
use parity_scale_codec::Encode;
use tokio::sync::{mpsc, watch};

use super::wire::KIND_FORWARD;

/// Most transactions in one forwarded bundle.
pub const MAX_FORWARD_TXS: usize = 256;
/// How long a transaction may wait for companions before its bundle goes.
const LINGER: Duration = Duration::from_millis(5);

/// A bundle as it travels.
pub type Bundle = BoundedVec<Transaction, MAX_FORWARD_TXS>;

/// The validator (of `n`) that batches `tx`'s sender's transactions.
pub fn target(tx: &Transaction, n: usize) -> ValidatorId {
    let key = tx.payload.sender.as_bytes();
    let spread = u16::from_le_bytes([key[0], key[1]]);
    ValidatorId(u16::try_from(usize::from(spread) % n.max(1)).unwrap_or(0))
}

/// Forwards the transactions received on `txs` until `stop` or the channel closes.
pub async fn run(
    net: NetworkHandle,
    validators: usize,
    mut txs: mpsc::Receiver<Transaction>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let first = tokio::select! {
            tx = txs.recv() => match tx { Some(tx) => tx, None => return },
            _ = stop.changed() => return,
        };
        let mut bundle = vec![first];
        let deadline = tokio::time::Instant::now() + LINGER;
        while bundle.len() < MAX_FORWARD_TXS {
            match tokio::time::timeout_at(deadline, txs.recv()).await {
                Ok(Some(tx)) => bundle.push(tx),
                Ok(None) | Err(_) => break,
            }
        }
        let mut by_target: Vec<Vec<Transaction>> = vec![Vec::new(); validators.max(1)];
        for tx in bundle {
            let to = usize::from(target(&tx, validators).0);
            if let Some(list) = by_target.get_mut(to) {
                list.push(tx);
            }
        }
        for (to, list) in by_target.into_iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            let to = ValidatorId(u16::try_from(to).unwrap_or(0));
            if let Err(e) = net.send(to, KIND_FORWARD, list.encode()).await {
                tracing::debug!(to = to.0, error = %e, "forwarding transactions failed");
            }
        }
    }
}
