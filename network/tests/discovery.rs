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

/// A listener that accepts TCP connections and never says a word: a dial to it hangs
/// until the connection upgrade times out, as a dial to a stale address behind a
/// firewall that drops packets hangs until TCP gives up.
async fn tarpit() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let at = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    at
}

/// The configuration of validator `i` whose genesis names `stale` for v1–v3 and
/// whose one bootstrap address is `boot`.
fn stale_config(
    i: usize,
    listen: cairn_network::Multiaddr,
    stale: &cairn_network::Multiaddr,
    boot: &Option<cairn_network::Multiaddr>,
) -> NetworkConfig {
    let mut c = NetworkConfig::new(key(i as u8), listen, peers(4));
    c.bootstrap = boot.iter().cloned().collect();
    for j in 1..4 {
        c.addresses[j] = vec![stale.clone()];
    }
    c.discovery_interval = Duration::from_secs(1);
    c
}

/// The genesis names stale addresses for v1–v3 (a dial there hangs), and every node
/// knows v0 as its bootstrap: every node finds every other, and finds a restarted one
/// again. Neither this node's dials nor Kademlia's, hanging on a stale address, may
/// hold off the dial to the address that works (they did: after v2 restarted, v3
/// dialled only v2's stale address, over and over).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_discovery_is_not_held_up_by_a_stale_genesis_address() {
    let ids = peers(4);
    let pit = tarpit().await;
    let stale: cairn_network::Multiaddr = format!("/ip4/127.0.0.1/tcp/{}", pit.port())
        .parse()
        .unwrap();
    let mut nodes = Vec::new();
    let mut boot: Option<cairn_network::Multiaddr> = None;
    let mut listen = Vec::new();
    for i in 0..4 {
        let c = stale_config(i, addr(0), &stale, &boot);
        let (handle, rx) = Network::start(c).await.unwrap();
        let a = handle.listen_addrs().await.unwrap()[0].clone();
        if i == 0 {
            boot = Some(a.clone().with(Protocol::P2p(ids[0])));
        }
        listen.push(a);
        nodes.push(Node { handle, rx });
    }
    // Fails after 20 s.
    wait_all_connected(&nodes, 3).await;

    nodes[2].handle.shutdown().await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let c = stale_config(2, listen[2].clone(), &stale, &boot);
    let (handle, rx) = Network::start(c).await.unwrap();
    nodes[2] = Node { handle, rx };
    wait_all_connected(&nodes, 3).await;
    for n in &nodes {
        n.handle.shutdown().await.unwrap();
    }
}
