//! The fault run's load: signed puts at a steady rate, each sent to a reachable
//! validator (another one if it fails), and the list of every submission a node
//! acknowledged — what the checker later demands to find committed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_crypto::{Hash, SecretKey};
use cairn_rpc::{Client, codes};
use cairn_types::{BoundedBytes, ChainId, Op, Transaction, TxPayload};

/// Every acknowledged submission: (transaction hash, node that acknowledged it).
pub type Acked = Arc<Mutex<Vec<(Hash, usize)>>>;

/// Which validators the load may send to right now.
pub type Reachable = Arc<Mutex<Vec<bool>>>;

/// Submits `tps` transactions a second from `keys` (round-robin over accounts, each
/// with its own nonce sequence) until `until`. A transaction refused or lost in
/// transport is sent again, unchanged, at its account's next turn, so no nonce is
/// ever skipped.
pub async fn run(
    chain: ChainId,
    keys: Vec<SecretKey>,
    clients: Vec<Arc<Client>>,
    reachable: Reachable,
    tps: u64,
    until: Instant,
    acked: Acked,
) {
    let mut next: Vec<(u64, Option<Transaction>)> = vec![(0, None); keys.len()];
    let start = Instant::now();
    let mut i = 0u64;
    while Instant::now() < until {
        let due = start + Duration::from_secs_f64(i as f64 / tps.max(1) as f64);
        tokio::time::sleep_until(due.into()).await;
        let a = (i % keys.len() as u64) as usize;
        i += 1;
        let (nonce, pending) = &mut next[a];
        let tx = pending
            .get_or_insert_with(|| put(&keys[a], &chain, *nonce))
            .clone();
        let targets: Vec<usize> = match reachable.lock() {
            Ok(r) => (0..r.len()).filter(|j| r[*j]).collect(),
            Err(_) => Vec::new(),
        };
        let Some(node) = submit(&clients, &targets, i as usize, &tx).await else {
            continue;
        };
        if let Ok(mut list) = acked.lock() {
            list.push((tx.hash(), node));
        }
        *nonce += 1;
        *pending = None;
    }
}

/// Tries the reachable nodes from a rotating start; the node that acknowledged.
async fn submit(
    clients: &[Arc<Client>],
    targets: &[usize],
    turn: usize,
    tx: &Transaction,
) -> Option<usize> {
    for k in 0..targets.len() {
        let node = targets[(turn + k) % targets.len()];
        let answer =
            tokio::time::timeout(Duration::from_secs(2), clients[node].tx_submit(tx)).await;
        match answer {
            Ok(Ok(_)) => return Some(node),
            // An earlier attempt reached a node after all: it is known, so acknowledged.
            Ok(Err(e))
                if matches!(
                    e.code(),
                    Some(codes::TX_NONCE_IN_USE | codes::TX_STALE_NONCE)
                ) =>
            {
                return Some(node);
            }
            _ => continue,
        }
    }
    None
}

fn put(key: &SecretKey, chain: &ChainId, nonce: u64) -> Transaction {
    let name = format!("faults/{}/{nonce}", key.public());
    let op = Op::Put {
        key: BoundedBytes::new(name.into_bytes()).unwrap_or_default(),
        value: BoundedBytes::new(nonce.to_le_bytes().to_vec()).unwrap_or_default(),
    };
    let payload = TxPayload {
        chain_id: *chain,
        sender: key.public(),
        nonce,
        op,
    };
    Transaction::sign(payload, key)
}
