//! End-to-end: four real `cairn node run` processes on 127.0.0.1 with real RocksDB
//! directories and libp2p, driven over JSON-RPC.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cairn_crypto::{Hash, SecretKey};
use cairn_rpc::Client;
use cairn_types::{BoundedBytes, ChainId, Op, Transaction};
use common::cluster::{BALANCE, Cluster, http_get};
use common::ledger::*;

const N: usize = 4;
const ACCOUNTS: usize = 11; // account 0 is the admin; 1..=10 submit the load
const TXS_PER_ACCOUNT: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_end_to_end() {
    let mut cluster = Cluster::new(N, ACCOUNTS);
    cluster.start_all();
    let mut clients = Vec::new();
    for i in 0..N {
        clients.push(cluster.client(i).await);
    }
    let chain = chain_id(&clients[0]).await;

    // 1,000 transactions spread over all four nodes.
    let load = load_1000(&cluster, &clients, &chain).await;
    let height = wait_all_committed(&clients, &load.hashes, Duration::from_secs(180)).await;
    report_throughput(&load, height);
    same_chain_everywhere(&clients, height).await;
    for client in &clients {
        for hash in load.hashes.iter().step_by(37) {
            let info = client.tx_get(hash).await.unwrap();
            assert_eq!(status(&info), "committed", "{hash} on every node: {info:?}");
        }
    }

    metrics_are_served(&cluster, height);
    double_spend_and_replay(&cluster, &clients, &chain).await;
    bad_input_is_refused_and_changes_nothing(&cluster, &clients[1], &chain).await;

    // Kill one validator: the other three keep committing.
    cluster.kill(3);
    let before = head_height(&clients[0]).await;
    let more = transfers(&cluster.accounts[2], &chain, TXS_PER_ACCOUNT as u64, 50);
    let hashes = submit_all(&clients[..3], &more).await;
    let live = wait_all_committed(&clients[..3], &hashes, Duration::from_secs(120)).await;
    assert!(
        live > before,
        "three validators kept committing ({before} → {live})"
    );

    // Restart it: it catches up to the others' head.
    cluster.start(3);
    clients[3] = cluster.client(3).await;
    let target = head_height(&clients[0]).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    while head_height(&clients[3]).await < target {
        assert!(
            Instant::now() < deadline,
            "restarted validator did not catch up:\n{}",
            cluster.log(3)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Every node has reached `target` by now or will within moments (node 0 may have
    // been a block ahead of the others when it was asked).
    for client in &clients[1..3] {
        while head_height(client).await < target {
            assert!(Instant::now() < deadline, "validators stopped committing");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    same_chain_everywhere(&clients, target).await;
    for hash in &hashes {
        assert_eq!(status(&clients[3].tx_get(hash).await.unwrap()), "committed");
    }

    // SIGTERM: every validator stops cleanly.
    for i in 0..N {
        let status = cluster.terminate(i);
        assert!(
            status.success(),
            "validator {i} exit status {status}:\n{}",
            cluster.log(i)
        );
    }
}

/// What the load phase submitted and when.
struct Load {
    hashes: Vec<Hash>,
    submitted: HashMap<Hash, Instant>,
    committed: HashMap<Hash, Instant>,
    started: Instant,
    finished: Instant,
}

async fn load_1000(cluster: &Cluster, clients: &[Client], chain: &ChainId) -> Load {
    let watcher = Client::connect(&cluster.validators[0].ws()).await.unwrap();
    let from = head_height(&watcher).await + 1;
    let mut heads = watcher.subscribe_heads(Some(from)).await.unwrap();
    let txs: Vec<Transaction> = (1..ACCOUNTS)
        .flat_map(|a| puts(&cluster.accounts[a], chain, a, TXS_PER_ACCOUNT))
        .collect();
    let started = Instant::now();
    let mut submitted = HashMap::new();
    let tasks = txs
        .chunks(TXS_PER_ACCOUNT)
        .enumerate()
        .map(|(a, chunk)| async move {
            let mut times = Vec::new();
            for (j, tx) in chunk.iter().enumerate() {
                let client = &clients[(a + j) % clients.len()];
                let at = Instant::now();
                let hash = client.tx_submit(tx).await.expect("accepted").hash.0;
                assert_eq!(hash, tx.hash());
                times.push((hash, at));
            }
            times
        });
    for times in futures::future::join_all(tasks).await {
        submitted.extend(times);
    }
    let hashes: Vec<Hash> = txs.iter().map(Transaction::hash).collect();
    let mut committed = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(180);
    while committed.len() < hashes.len() && Instant::now() < deadline {
        let Ok(Some(Ok(head))) = tokio::time::timeout(Duration::from_secs(30), heads.next()).await
        else {
            break;
        };
        let block = watcher.chain_get_block(head.height).await.unwrap();
        let now = Instant::now();
        for tx in block.txs {
            if submitted.contains_key(&tx.hash.0) {
                committed.insert(tx.hash.0, now);
            }
        }
    }
    Load {
        hashes,
        submitted,
        committed,
        started,
        finished: Instant::now(),
    }
}

fn report_throughput(load: &Load, height: u64) {
    let mut latencies: Vec<Duration> = load
        .committed
        .iter()
        .map(|(h, at)| at.duration_since(load.submitted[h]))
        .collect();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    let secs = load.finished.duration_since(load.started).as_secs_f64();
    eprintln!(
        "e2e load: {} txs committed by height {height} in {secs:.2} s = {:.0} tx/s; \
         submit-to-commit p50 {:?} p99 {:?} max {:?}",
        load.committed.len(),
        load.committed.len() as f64 / secs,
        pct(0.5),
        pct(0.99),
        latencies.last().unwrap()
    );
    assert_eq!(
        load.committed.len(),
        load.hashes.len(),
        "the subscription saw every transaction commit"
    );
}

async fn double_spend_and_replay(cluster: &Cluster, clients: &[Client], chain: &ChainId) {
    let spender = &cluster.accounts[ACCOUNTS - 1];
    let nonce = clients[0]
        .account_get(&spender.public())
        .await
        .unwrap()
        .unwrap()
        .nonce;
    let to_a = SecretKey::from_seed(&[200; 32]).public();
    let to_b = SecretKey::from_seed(&[201; 32]).public();
    let first = sign(
        spender,
        chain,
        nonce,
        Op::Transfer {
            to: to_a,
            amount: BALANCE,
        },
    );
    let second = sign(
        spender,
        chain,
        nonce + 1,
        Op::Transfer {
            to: to_b,
            amount: BALANCE,
        },
    );
    clients[0].tx_submit(&first).await.unwrap();
    clients[1].tx_submit(&second).await.unwrap();
    wait_all_final(
        clients,
        &[first.hash(), second.hash()],
        Duration::from_secs(60),
    )
    .await;
    let info = clients[2].tx_get(&second.hash()).await.unwrap();
    assert_eq!(status(&info), "rejected", "{info:?}");
    let receipt = info.receipt.unwrap();
    assert_eq!(
        receipt.reason_code.as_deref(),
        Some("insufficient_balance"),
        "{receipt:?}"
    );
    assert_eq!(
        status(&clients[2].tx_get(&first.hash()).await.unwrap()),
        "committed"
    );
    assert_eq!(
        clients[3]
            .account_get(&to_a)
            .await
            .unwrap()
            .unwrap()
            .balance,
        BALANCE
    );
    assert!(clients[3].account_get(&to_b).await.unwrap().is_none());

    // Replaying the applied transfer is refused with the stale nonce.
    let err = clients[2].tx_submit(&first).await.unwrap_err();
    assert_eq!(err.code(), Some(cairn_rpc::codes::TX_STALE_NONCE), "{err}");
}

async fn bad_input_is_refused_and_changes_nothing(
    cluster: &Cluster,
    client: &Client,
    chain: &ChainId,
) {
    use cairn_rpc::codes;
    let key = &cluster.accounts[1];
    let before = client.account_get(&key.public()).await.unwrap().unwrap();
    let good = |nonce| {
        sign(
            key,
            chain,
            nonce,
            Op::Delete {
                key: BoundedBytes::new(b"k".to_vec()).unwrap(),
            },
        )
    };

    let mut bad_sig = good(before.nonce);
    bad_sig.signature = key.sign(cairn_crypto::Domain::Tx, b"something else");
    let wrong_chain = sign(
        key,
        &ChainId(Hash::digest(b"other chain")),
        before.nonce,
        Op::Delete {
            key: BoundedBytes::new(b"k".to_vec()).unwrap(),
        },
    );
    let stranger = SecretKey::from_seed(&[77; 32]);
    let unknown = sign(
        &stranger,
        chain,
        0,
        Op::Delete {
            key: BoundedBytes::new(b"k".to_vec()).unwrap(),
        },
    );
    let stale = good(before.nonce.saturating_sub(1));
    for (tx, code) in [
        (&bad_sig, codes::TX_BAD_SIGNATURE),
        (&wrong_chain, codes::TX_WRONG_CHAIN),
        (&unknown, codes::TX_UNKNOWN_SENDER),
        (&stale, codes::TX_STALE_NONCE),
    ] {
        let err = client.tx_submit(tx).await.unwrap_err();
        assert_eq!(err.code(), Some(code), "{err}");
        assert_eq!(status(&client.tx_get(&tx.hash()).await.unwrap()), "unknown");
    }
    let err = client.tx_submit_bytes(&[1, 2, 3]).await.unwrap_err();
    assert_eq!(err.code(), Some(codes::TX_MALFORMED), "{err}");
    let err = client.tx_submit_bytes(&vec![0; 200_000]).await.unwrap_err();
    assert_eq!(err.code(), Some(codes::TX_TOO_LARGE), "{err}");

    let port = cluster.validators[1].rpc_port;
    let parse = raw_post(port, "{not json");
    assert!(parse.contains("-32700"), "{parse}");
    let bad_hex = raw_post(
        port,
        r#"{"jsonrpc":"2.0","id":1,"method":"tx_submit","params":["0xzz"]}"#,
    );
    assert!(bad_hex.contains("-32602"), "{bad_hex}");
    let wrong_type = raw_post(
        port,
        r#"{"jsonrpc":"2.0","id":1,"method":"tx_get","params":[42]}"#,
    );
    assert!(wrong_type.contains("-32602"), "{wrong_type}");

    assert_eq!(
        client.account_get(&key.public()).await.unwrap().unwrap(),
        before,
        "nothing changed"
    );
}

/// Every node serves Prometheus metrics with the names docs/OPERATING.md lists.
fn metrics_are_served(cluster: &Cluster, height: u64) {
    // Transactions travel in certified batches, and proposals carry their proofs.
    let total = |name: &str| -> f64 { cluster.validators.iter().map(|v| v.metric(name)).sum() };
    assert!(total("cairn_node_batches_certified_total") >= 1.0);
    assert!(total("cairn_node_batched_proposals_total") >= 1.0);
    assert_eq!(total("cairn_node_batches_refused_total"), 0.0);
    for v in &cluster.validators {
        let text = http_get(v.metrics_port, "/metrics");
        for name in [
            "cairn_node_height",
            "cairn_node_round",
            "cairn_node_mempool_size",
            "cairn_node_commit_latency_seconds_bucket",
            "cairn_node_timeouts_total",
            // Honest validators agree on every executed state.
            "cairn_node_state_divergences_total 0",
            "cairn_network_connected_peers 3",
            "cairn_rpc_requests_total{method=\"tx_submit\",outcome=\"ok\"}",
        ] {
            assert!(
                text.contains(name),
                "metrics of port {} lack {name}:\n{text}",
                v.metrics_port
            );
        }
        let reported: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("cairn_node_height "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap();
        assert!(
            reported >= height,
            "cairn_node_height {reported} < {height}"
        );
        // Honest peers under a burst of load: no consensus message was dropped for a
        // full budget or queue (transaction gossip may be, by design).
        for dropped in [
            "cairn_node_dropped_messages_total",
            "cairn_network_dropped_messages_total{reason=\"Backpressure\"}",
            "cairn_node_bad_signatures_total",
            "cairn_node_bad_messages_total",
        ] {
            assert_eq!(
                v.metric(dropped),
                0.0,
                "{dropped} on port {}",
                v.metrics_port
            );
        }
    }
}

/// POSTs `body` to the node's RPC port over a plain TCP connection; returns the response.
fn raw_post(port: u16, body: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}
