//! The submitters: one task per account, each signing its own nonces in order.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cairn_crypto::{PublicKey, SecretKey};
use cairn_rpc::{Client, codes};
use cairn_types::{BoundedBytes, ChainId, Op, Transaction, TxPayload};

use super::tracker::Tracker;
use cairn_rpc::RpcError;

/// Encoded bytes of a Put transaction besides its key and value (chain id, sender,
/// nonce, tags, lengths, signature).
const TX_OVERHEAD: usize = 32 + 32 + 8 + 64 + 8;

/// One signing account.
pub struct Account {
    /// Its position among the bench's accounts.
    pub index: usize,
    /// Its key.
    pub key: SecretKey,
    /// The nonce its next transaction carries.
    pub nonce: u64,
    /// The node it submits to.
    pub node: usize,
}

/// The shape of the load.
pub struct Load {
    /// The chain.
    pub chain: ChainId,
    /// Approximate transaction size.
    pub tx_size: usize,
    /// Total rate over all accounts, or as fast as possible.
    pub rate: Option<u64>,
    /// Most uncommitted transactions per account (0: no limit).
    pub window: u64,
    /// When to stop submitting.
    pub until: Instant,
}

/// The committed nonce of `key` (0 for an unknown account).
pub async fn next_nonce(client: &Client, key: &PublicKey) -> Result<u64, RpcError> {
    let account = client.account_get(key).await?;
    Ok(account.map_or(0, |a| a.nonce))
}

/// Runs one submitter per account until `load.until`.
pub async fn run(
    load: Load,
    accounts: Vec<Account>,
    clients: Vec<Arc<Client>>,
    tracker: Arc<Tracker>,
) {
    let load = Arc::new(load);
    let sequence = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = accounts
        .into_iter()
        .map(|account| {
            let client = clients[account.node].clone();
            let (load, tracker, sequence) = (load.clone(), tracker.clone(), sequence.clone());
            tokio::spawn(submitter(account, client, load, tracker, sequence, started))
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
}

async fn submitter(
    mut account: Account,
    client: Arc<Client>,
    load: Arc<Load>,
    tracker: Arc<Tracker>,
    sequence: Arc<AtomicU64>,
    started: Instant,
) {
    let value_len = load.tx_size.saturating_sub(TX_OVERHEAD + 24);
    while Instant::now() < load.until {
        if let Some(rate) = load.rate {
            // The i-th transaction of the whole bench is due at i / rate seconds.
            let i = sequence.fetch_add(1, Ordering::Relaxed);
            let due = started + Duration::from_secs_f64(i as f64 / rate.max(1) as f64);
            if due >= load.until {
                return;
            }
            tokio::time::sleep_until(due.into()).await;
        }
        while load.window > 0 && tracker.in_flight_of(account.index) >= load.window {
            if Instant::now() >= load.until {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let tx = put(&account, &load.chain, value_len);
        submit_one(&client, &tx, &mut account, &tracker, load.until).await;
    }
}

/// Submits `tx` until it is accepted, refused for good, or the bench ends; retries
/// while the node is busy or the account is too far ahead of the chain.
async fn submit_one(
    client: &Client,
    tx: &Transaction,
    account: &mut Account,
    tracker: &Tracker,
    until: Instant,
) {
    loop {
        let at = Instant::now();
        match client.tx_submit(tx).await {
            Ok(_) => {
                tracker.submitted(tx.hash(), at, account.index);
                account.nonce += 1;
                return;
            }
            Err(e)
                if matches!(
                    e.code(),
                    Some(codes::MEMPOOL_FULL | codes::TX_NONCE_TOO_FAR | codes::RATE_LIMITED)
                ) =>
            {
                tracker.busy.fetch_add(1, Ordering::Relaxed);
                if Instant::now() >= until {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => {
                tracing::debug!(error = %e, "submission refused");
                tracker.rejected.fetch_add(1, Ordering::Relaxed);
                if let Ok(nonce) = next_nonce(client, &account.key.public()).await {
                    account.nonce = account.nonce.max(nonce);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                return;
            }
        }
    }
}

fn put(account: &Account, chain: &ChainId, value_len: usize) -> Transaction {
    let key = format!("bench/{}/{}", account.key.public(), account.nonce);
    let op = Op::Put {
        key: BoundedBytes::new(key.into_bytes().into_iter().take(256).collect())
            .unwrap_or_default(),
        value: BoundedBytes::new(vec![0xab; value_len.min(60_000)]).unwrap_or_default(),
    };
    let payload = TxPayload {
        chain_id: *chain,
        sender: account.key.public(),
        nonce: account.nonce,
        op,
    };
    Transaction::sign(payload, &account.key)
}
