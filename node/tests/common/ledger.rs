//! Ledger helpers for end-to-end tests: sign transactions, submit them, wait for
//! them, and compare nodes.

use std::time::{Duration, Instant};

use cairn_crypto::{Hash, SecretKey};
use cairn_rpc::Client;
use cairn_types::{BoundedBytes, ChainId, Op, Transaction, TxPayload};

pub async fn chain_id(client: &Client) -> ChainId {
    ChainId(client.validators_list().await.unwrap().chain_id.0)
}

pub async fn head_height(client: &Client) -> u64 {
    client.chain_head().await.unwrap().height
}

pub fn status(info: &cairn_rpc::types::TxInfo) -> String {
    serde_json::to_value(info.status)
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

pub fn sign(key: &SecretKey, chain: &ChainId, nonce: u64, op: Op) -> Transaction {
    let payload = TxPayload {
        chain_id: *chain,
        sender: key.public(),
        nonce,
        op,
    };
    Transaction::sign(payload, key)
}

/// `count` puts from `key`, nonces 0.., keys `a<account>/<j>`.
pub fn puts(key: &SecretKey, chain: &ChainId, account: usize, count: usize) -> Vec<Transaction> {
    (0..count)
        .map(|j| {
            let op = Op::Put {
                key: BoundedBytes::new(format!("a{account}/{j}").into_bytes()).unwrap(),
                value: BoundedBytes::new(vec![j as u8; 64]).unwrap(),
            };
            sign(key, chain, j as u64, op)
        })
        .collect()
}

/// `count` transfers of 1 from `key` starting at nonce `first`.
pub fn transfers(key: &SecretKey, chain: &ChainId, first: u64, count: u64) -> Vec<Transaction> {
    let to = SecretKey::from_seed(&[99; 32]).public();
    (first..first + count)
        .map(|nonce| sign(key, chain, nonce, Op::Transfer { to, amount: 1 }))
        .collect()
}

pub async fn submit_all(clients: &[Client], txs: &[Transaction]) -> Vec<Hash> {
    let mut hashes = Vec::new();
    for (i, tx) in txs.iter().enumerate() {
        let hash = clients[i % clients.len()]
            .tx_submit(tx)
            .await
            .expect("accepted")
            .hash
            .0;
        hashes.push(hash);
    }
    hashes
}

/// Waits until every transaction is in a block (applied or rejected) on every client;
/// returns the lowest head height among them afterwards.
pub async fn wait_all_final(clients: &[Client], hashes: &[Hash], limit: Duration) -> u64 {
    let deadline = Instant::now() + limit;
    for client in clients {
        for hash in hashes {
            loop {
                let info = client.tx_get(hash).await.unwrap();
                let s = status(&info);
                if s == "committed" || s == "rejected" {
                    break;
                }
                assert!(s == "pending" || s == "unknown", "{hash}: {info:?}");
                assert!(
                    Instant::now() < deadline,
                    "{hash} still {s} after {limit:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    let mut lowest = u64::MAX;
    for client in clients {
        lowest = lowest.min(head_height(client).await);
    }
    lowest
}

/// Like [`wait_all_final`], and every transaction was applied.
pub async fn wait_all_committed(clients: &[Client], hashes: &[Hash], limit: Duration) -> u64 {
    let height = wait_all_final(clients, hashes, limit).await;
    for hash in hashes {
        let info = clients[0].tx_get(hash).await.unwrap();
        assert_eq!(status(&info), "committed", "{info:?}");
    }
    height
}

/// Every client holds the same block id and the same executed state hash at every
/// height up to `height`.
pub async fn same_chain_everywhere(clients: &[Client], height: u64) {
    for h in 1..=height {
        let first = clients[0].chain_get_block(h).await.unwrap();
        assert!(
            first.result_state_root.is_some(),
            "height {h} has a state hash"
        );
        for (i, client) in clients.iter().enumerate().skip(1) {
            let block = client.chain_get_block(h).await.unwrap();
            assert_eq!(block.id, first.id, "block id at height {h} on node {i}");
            assert_eq!(
                block.result_state_root, first.result_state_root,
                "state hash at height {h} on node {i}"
            );
        }
    }
}
