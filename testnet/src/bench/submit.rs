//! The submitters: one task per account, sending its transactions, signed before the
//! timed window, in order and in batches (`tx_submitBatch`).

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cairn_crypto::{Hash, PublicKey, SecretKey};
use cairn_rpc::types::TxSubmitResult;
use cairn_rpc::{Client, RpcError, codes};
use cairn_types::{BoundedBytes, ChainId, Op, Transaction, TxPayload, Wire};

use super::tracker::Tracker;

/// Encoded bytes of a Put transaction besides its key and value (chain id, sender,
/// nonce, tags, lengths, signature).
const TX_OVERHEAD: usize = 32 + 32 + 8 + 64 + 8;

/// Most transactions in one `tx_submitBatch` call of the bench.
const BATCH: usize = 256;

/// Most transactions signed ahead of a `--max` run over all accounts (about 600 MB
/// of 512-byte transactions with their hashes).
pub const MAX_PRESIGNED: u64 = 1_000_000;

/// One transaction ready to send: its encoding and hash.
pub struct Signed {
    wire: Vec<u8>,
    hash: Hash,
}

/// One signing account.
pub struct Account {
    /// Its position among the bench's accounts.
    pub index: usize,
    /// Its key.
    pub key: SecretKey,
    /// The nonce of the next transaction it signs (beyond those in `ready`).
    pub nonce: u64,
    /// The node it submits to.
    pub node: usize,
    /// Transactions signed before the timed window, in nonce order.
    pub ready: VecDeque<Signed>,
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
    /// How many accounts share the rate.
    pub accounts: usize,
}

/// The committed nonce of `key` (0 for an unknown account).
pub async fn next_nonce(client: &Client, key: &PublicKey) -> Result<u64, RpcError> {
    let account = client.account_get(key).await?;
    Ok(account.map_or(0, |a| a.nonce))
}

/// Signs `per_account` transactions for every account, on every core, before the
/// timed window, so the window measures the network and not the generator's signing.
pub fn presign(accounts: &mut [Account], chain: &ChainId, tx_size: usize, per_account: u64) {
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let chunk = accounts.len().div_ceil(cores).max(1);
    std::thread::scope(|scope| {
        for group in accounts.chunks_mut(chunk) {
            scope.spawn(move || {
                for account in group {
                    for _ in 0..per_account {
                        let signed = sign_next(account, chain, tx_size);
                        account.ready.push_back(signed);
                    }
                }
            });
        }
    });
}

/// Runs one submitter per account until `load.until`; returns how many transactions
/// had to be signed inside the timed window (none unless the pre-signed ones ran out
/// or a refusal changed an account's nonce).
pub async fn run(
    load: Load,
    accounts: Vec<Account>,
    clients: Vec<Arc<Client>>,
    tracker: Arc<Tracker>,
) -> u64 {
    let load = Arc::new(load);
    let signed_late = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = accounts
        .into_iter()
        .map(|account| {
            let client = clients[account.node].clone();
            let (load, tracker, late) = (load.clone(), tracker.clone(), signed_late.clone());
            tokio::spawn(submitter(account, client, load, tracker, late, started))
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    signed_late.load(Ordering::Relaxed)
}

async fn submitter(
    mut account: Account,
    client: Arc<Client>,
    load: Arc<Load>,
    tracker: Arc<Tracker>,
    signed_late: Arc<AtomicU64>,
    started: Instant,
) {
    // Transactions of this account sent so far (for the pace of `--rate`).
    let mut sent: u64 = 0;
    while Instant::now() < load.until {
        let mut room = BATCH as u64;
        if load.window > 0 {
            room = room.min(
                load.window
                    .saturating_sub(tracker.in_flight_of(account.index)),
            );
        }
        if let Some(rate) = load.rate {
            let due = due_by(Instant::now(), started, rate, load.accounts, account.index);
            if due <= sent {
                let next = due_at(sent, started, rate, load.accounts, account.index);
                if next >= load.until {
                    return;
                }
                tokio::time::sleep_until(next.into()).await;
                continue;
            }
            room = room.min(due - sent);
        }
        if room == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
            continue;
        }
        while (account.ready.len() as u64) < room {
            let signed = sign_next(&mut account, &load.chain, load.tx_size);
            account.ready.push_back(signed);
            signed_late.fetch_add(1, Ordering::Relaxed);
        }
        sent += submit_batch(&client, &mut account, room as usize, &tracker, &load).await;
    }
}

/// How many of this account's transactions are due by `now`: the bench's i-th
/// transaction is due at i / rate seconds, and account `index` of `accounts` sends
/// every `accounts`-th one, starting with the `index`-th.
fn due_by(now: Instant, started: Instant, rate: u64, accounts: usize, index: usize) -> u64 {
    let total = (now.saturating_duration_since(started).as_secs_f64() * rate.max(1) as f64) as u64;
    let (accounts, index) = (accounts.max(1) as u64, index as u64);
    if total < index {
        0
    } else {
        (total - index) / accounts + 1
    }
}

/// When this account's `k`-th transaction (from 0) is due.
fn due_at(k: u64, started: Instant, rate: u64, accounts: usize, index: usize) -> Instant {
    let i = k * accounts.max(1) as u64 + index as u64;
    started + Duration::from_secs_f64(i as f64 / rate.max(1) as f64)
}

/// Sends up to `count` of the account's ready transactions in one call; returns how
/// many were accepted. Busy refusals stay queued (retried after a pause); any other
/// refusal is counted, and the account's nonce is read again and its queue re-signed
/// from there, since its later transactions would wait behind the gap.
async fn submit_batch(
    client: &Client,
    account: &mut Account,
    count: usize,
    tracker: &Tracker,
    load: &Load,
) -> u64 {
    let count = count.min(account.ready.len());
    let wires: Vec<Vec<u8>> = account
        .ready
        .iter()
        .take(count)
        .map(|s| s.wire.clone())
        .collect();
    let at = Instant::now();
    let results = match client.tx_submit_batch(&wires).await {
        Ok(results) if results.len() == count => results,
        Ok(_) | Err(_) => {
            tracker.busy.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(20)).await;
            return 0;
        }
    };
    let mut accepted = 0;
    for result in results {
        match outcome(&result) {
            Outcome::Accepted => {
                if let Some(signed) = account.ready.pop_front() {
                    tracker.submitted(signed.hash, at, account.index);
                }
                accepted += 1;
            }
            Outcome::Busy => {
                // This and the later ones are retried, in order.
                tracker.busy.fetch_add(1, Ordering::Relaxed);
                if Instant::now() < load.until {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                return accepted;
            }
            Outcome::Refused => {
                tracker.rejected.fetch_add(1, Ordering::Relaxed);
                let _ = account.ready.pop_front();
                tracing::debug!(error = ?result.error, "submission refused");
                resync(client, account, load).await;
                return accepted;
            }
        }
    }
    accepted
}

enum Outcome {
    Accepted,
    Busy,
    Refused,
}

fn outcome(result: &TxSubmitResult) -> Outcome {
    match &result.error {
        None => Outcome::Accepted,
        Some(e)
            if matches!(
                e.code,
                codes::MEMPOOL_FULL | codes::TX_NONCE_TOO_FAR | codes::RATE_LIMITED
            ) =>
        {
            Outcome::Busy
        }
        Some(_) => Outcome::Refused,
    }
}

/// After a refusal (the refused transaction already taken off the queue): the queue no
/// longer follows the account's nonces. Drop it, sign again from the refused nonce or
/// the committed one, whichever is higher; the submitter signs what it sends next.
async fn resync(client: &Client, account: &mut Account, load: &Load) {
    let refused_nonce = account.nonce.saturating_sub(account.ready.len() as u64 + 1);
    account.ready.clear();
    account.nonce = refused_nonce;
    if let Ok(nonce) = next_nonce(client, &account.key.public()).await {
        account.nonce = account.nonce.max(nonce);
    }
    if Instant::now() < load.until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Signs the account's next transaction: a Put of about `tx_size` bytes.
fn sign_next(account: &mut Account, chain: &ChainId, tx_size: usize) -> Signed {
    let value_len = tx_size.saturating_sub(TX_OVERHEAD + 24);
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
    account.nonce += 1;
    let tx = Transaction::sign(payload, &account.key);
    Signed {
        wire: tx.to_wire(),
        hash: tx.hash(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_share_the_rate_in_turn() {
        let started = Instant::now();
        let at = |ms: u64| started + Duration::from_millis(ms);
        // 1,000 tx/s over 4 accounts: the bench's i-th transaction is due at i ms.
        assert_eq!(due_by(at(0), started, 1000, 4, 0), 1);
        assert_eq!(due_by(at(0), started, 1000, 4, 1), 0);
        assert_eq!(due_by(at(10), started, 1000, 4, 1), 3, "1, 5 and 9");
        assert_eq!(due_by(at(10), started, 1000, 4, 2), 3, "2, 6 and 10");
        assert_eq!(due_at(2, started, 1000, 4, 1), at(9));
        // Over all accounts, what is due after t ms is t + 1 transactions.
        let total: u64 = (0..4).map(|i| due_by(at(999), started, 1000, 4, i)).sum();
        assert_eq!(total, 1000);
    }
}
