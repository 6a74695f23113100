//! Every validator SIGKILLed in the middle of a load, then restarted from its data
//! directory: the chain continues, every node agrees at every height, nobody signed
//! two conflicting messages (no equivocation evidence anywhere), and no transaction a
//! validator acknowledged is lost with its mempool.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use cairn_crypto::Hash;
use cairn_rpc::Client;
use cairn_types::Transaction;
use common::cluster::Cluster;
use common::ledger::*;

const N: usize = 4;
const LOADERS: usize = 4;
const PER_ACCOUNT: usize = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_all_killed_mid_load_recover_without_conflicts() {
    let mut cluster = Cluster::new(N, LOADERS + 1);
    cluster.start_all();
    let mut clients = connect(&cluster).await;
    let chain = chain_id(&clients[0]).await;
    let txs: Vec<Vec<Transaction>> = (1..=LOADERS)
        .map(|a| puts(&cluster.accounts[a], &chain, a, PER_ACCOUNT))
        .collect();
    let (first, second): (Vec<_>, Vec<_>) = txs
        .iter()
        .map(|t| t.split_at(PER_ACCOUNT / 2))
        .map(|(a, b)| (a.to_vec(), b.to_vec()))
        .unzip();
    let first: Vec<Transaction> = first.into_iter().flatten().collect();
    submit_all(&clients, &first).await;

    // Consensus is busy with the first half: kill every validator at once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = head_height(&clients[0]).await;
    for i in 0..N {
        cluster.kill(i);
    }
    for i in 0..N {
        cluster.start(i);
    }
    clients = connect(&cluster).await;

    // Nothing is resubmitted: an acknowledgement is durable, so every transaction of
    // the first half comes back with its validator's restart.
    let second: Vec<Transaction> = second.into_iter().flatten().collect();
    submit_all(&clients, &second).await;
    let all: Vec<Hash> = txs.iter().flatten().map(Transaction::hash).collect();
    let height = wait_all_committed(&clients, &all, Duration::from_secs(180)).await;
    assert!(
        height > before,
        "the chain continued after the crash ({before} → {height})"
    );
    same_chain_everywhere(&clients, height).await;

    for (i, v) in cluster.validators.iter().enumerate() {
        assert!(
            !v.home.join("evidence").exists(),
            "validator {i} recorded equivocation evidence"
        );
        let log = std::fs::read_to_string(v.home.join("node.log")).unwrap();
        assert!(
            !log.contains("EQUIVOCATION"),
            "validator {i} saw an equivocation:\n{}",
            cluster.log(i)
        );
    }
}

/// A validator alone (no quorum, so nothing commits and nobody hears its gossip)
/// acknowledges transactions and is killed at once; when the network starts, they
/// commit without being sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_acknowledged_by_a_lone_validator_survive_its_kill_9() {
    let mut cluster = Cluster::new(N, 2);
    cluster.start(0);
    let client = cluster.client(0).await;
    let chain = chain_id(&client).await;
    let txs = puts(&cluster.accounts[1], &chain, 1, 20);
    let hashes = submit_all(std::slice::from_ref(&client), &txs).await;
    cluster.kill(0);
    cluster.start_all();
    let clients = connect(&cluster).await;
    let height = wait_all_committed(&clients, &hashes, Duration::from_secs(60)).await;
    same_chain_everywhere(&clients, height).await;
}

async fn connect(cluster: &Cluster) -> Vec<Client> {
    let mut clients = Vec::new();
    for i in 0..N {
        clients.push(cluster.client(i).await);
    }
    clients
}
