//! A validator that dies and comes back is reconnected by its peers on their own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use cairn_network::{Incoming, Network};
use common::{node_config, port_of, recv, start_mesh, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_restarted_peer_reconnects() {
    let (mut nodes, addrs) = start_mesh(4).await;
    nodes[3].handle.shutdown().await.unwrap();
    let h0 = nodes[0].handle.clone();
    wait_for("v3 seen down", Duration::from_secs(10), || {
        let h = h0.clone();
        async move { h.connected().await.unwrap().len() == 2 }
    })
    .await;
    // Same key, same port: a restarted process.
    let (handle, rx) = Network::start(node_config(3, 4, port_of(&addrs[3])))
        .await
        .unwrap();
    // The restarted node is told no addresses: only its peers can re-establish the
    // links, so this shows that they redial on their own.
    nodes[3] = common::Node { handle, rx };
    common::wait_all_connected(&nodes, 3).await;
    nodes[0]
        .handle
        .broadcast(5, b"welcome back".to_vec())
        .await
        .unwrap();
    match recv(&mut nodes[3].rx, Duration::from_secs(10))
        .await
        .expect("delivered")
    {
        Incoming::Message { kind, payload, .. } => {
            assert_eq!((kind, &payload[..]), (5, &b"welcome back"[..]))
        }
        other => panic!("unexpected {other:?}"),
    }
    for n in &nodes {
        n.handle.shutdown().await.unwrap();
    }
}
