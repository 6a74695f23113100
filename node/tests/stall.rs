//! The stall report (`consensus_status`) of a real validator: with only two of four
//! validators running it says the chain is stalled and why, naming the validators it
//! cannot reach; once the others start, it says it is committing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use cairn_rpc::Client;
use cairn_rpc::types::ConsensusStatus;
use common::cluster::Cluster;

async fn wait_for(
    client: &Client,
    what: &str,
    limit: Duration,
    cond: impl Fn(&ConsensusStatus) -> bool,
) -> ConsensusStatus {
    let deadline = Instant::now() + limit;
    loop {
        let status = client.consensus_status().await.unwrap();
        if cond(&status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "never {what}; last report: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_validator_says_why_and_a_committing_one_says_so() {
    let mut cluster = Cluster::new(4, 1);
    cluster.start(0);
    cluster.start(1);
    let client = cluster.client(0).await;
    let stalled = wait_for(&client, "stalled", Duration::from_secs(60), |s| s.stalled).await;
    assert!(
        stalled.diagnosis.contains("connected to 1 of 3") && stalled.diagnosis.contains("v2, v3"),
        "{}",
        stalled.diagnosis
    );
    assert_eq!(stalled.validator, 0);
    assert_eq!(stalled.quorum, 3);
    let connected: Vec<(u16, bool)> = stalled.peers.iter().map(|p| (p.id, p.connected)).collect();
    assert_eq!(connected, vec![(1, true), (2, false), (3, false)]);
    assert!(stalled.timeouts.missing.contains(&2));
    assert!(
        stalled.last_commit_age_ms.is_none(),
        "nothing committed yet"
    );

    cluster.start(2);
    cluster.start(3);
    let moving = wait_for(&client, "committing", Duration::from_secs(60), |s| {
        !s.stalled && s.last_commit_age_ms.is_some()
    })
    .await;
    assert!(
        moving.diagnosis.starts_with("committing"),
        "{}",
        moving.diagnosis
    );
    assert!(moving.height >= 1);
    assert!(moving.leader.is_some());
}
