//! Nodes that know only one bootstrap address find every other validator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use cairn_network::{Network, NetworkConfig, Protocol};
use common::{Node, addr, key, peers, wait_all_connected};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_kademlia_discovery_from_one_bootstrap() {
    let ids = peers(4);
    let mut nodes = Vec::new();
    let mut boot: Option<cairn_network::Multiaddr> = None;
    for i in 0..4 {
        // No validator addresses at all: only v0's, as a bootstrap address.
        let mut c = NetworkConfig::new(key(i as u8), addr(0), ids.clone());
        c.bootstrap = boot.iter().cloned().collect();
        c.discovery_interval = Duration::from_millis(300);
        c.initial_backoff = Duration::from_millis(100);
        c.max_backoff = Duration::from_millis(500);
        let (handle, rx) = Network::start(c).await.unwrap();
        if i == 0 {
            let a = handle.listen_addrs().await.unwrap()[0].clone();
            boot = Some(a.with(Protocol::P2p(ids[0])));
        }
        nodes.push(Node { handle, rx });
    }
    wait_all_connected(&nodes, 3).await;
    for n in &nodes {
        n.handle.shutdown().await.unwrap();
    }
}
