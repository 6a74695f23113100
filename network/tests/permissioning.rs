//! A real outsider swarm is refused and nothing it sends reaches the node.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use cairn_network::{Network, NetworkConfig};
use cairn_types::ValidatorId;
use common::{addr, key, peers, recv, start_mesh, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_outsider_refused() {
    let (mut nodes, addrs) = start_mesh(4).await;
    // The outsider believes it and validator 0 form a validator set; validator 0's
    // genesis does not name it.
    let outsider_key = key(200);
    let outsider_peer = cairn_network::peer_id_of(&outsider_key).unwrap();
    let mut cfg = NetworkConfig::new(outsider_key, addr(0), vec![peers(1)[0], outsider_peer]);
    cfg.addresses = vec![vec![addrs[0].clone()], vec![]];
    cfg.initial_backoff = Duration::from_millis(50);
    cfg.max_backoff = Duration::from_millis(100);
    let (outsider, _outsider_rx) = Network::start(cfg).await.unwrap();

    let denied = nodes[0].handle.clone();
    wait_for("v0 to deny the outsider", Duration::from_secs(10), || {
        let h = denied.clone();
        async move { h.metrics().denied_count() >= 2 }
    })
    .await;
    for _ in 0..20 {
        outsider
            .send(ValidatorId(0), 1, b"let me in".to_vec())
            .await
            .unwrap();
        outsider.broadcast(1, b"let me in".to_vec()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        recv(&mut nodes[0].rx, Duration::from_millis(800))
            .await
            .is_none()
    );
    assert!(outsider.connected().await.unwrap().is_empty());
    assert_eq!(nodes[0].handle.connected().await.unwrap().len(), 3);
    outsider.shutdown().await.unwrap();
    for n in &nodes {
        n.handle.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_refuses_a_key_outside_the_set() {
    let cfg = NetworkConfig::new(key(99), addr(0), peers(4));
    assert!(matches!(
        Network::start(cfg).await,
        Err(cairn_network::NetworkError::NotAValidator { .. })
    ));
}
