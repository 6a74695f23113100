//! Shared fixtures for the network tests: fixed-seed keys, loopback ports, clusters.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use cairn_crypto::SecretKey;
use cairn_network::Inbox;
use cairn_network::{
    Incoming, Multiaddr, Network, NetworkConfig, NetworkHandle, PeerId, peer_id_of,
};
use cairn_types::ValidatorId;

/// A free TCP port on 127.0.0.1 (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Network key of test validator `i` (fixed seed).
pub fn key(i: u8) -> SecretKey {
    SecretKey::from_seed(&[i.wrapping_add(1); 32])
}

/// Loopback address for `port`.
pub fn addr(port: u16) -> Multiaddr {
    format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap()
}

/// Peer ids of keys `0..n`.
pub fn peers(n: u8) -> Vec<PeerId> {
    (0..n).map(|i| peer_id_of(&key(i)).unwrap()).collect()
}

/// One node of a test cluster.
pub struct Node {
    pub handle: NetworkHandle,
    pub rx: Inbox,
}

/// The configuration of validator `i` of `n`, listening on `port` (0: any free port),
/// with no peer addresses (tests add them with `add_address`).
pub fn node_config(i: usize, n: usize, port: u16) -> NetworkConfig {
    let mut c = NetworkConfig::new(key(i as u8), addr(port), peers(n as u8));
    c.initial_backoff = Duration::from_millis(100);
    c.max_backoff = Duration::from_millis(500);
    c
}

/// Tells `node` the listen address of every validator in `addrs`.
pub async fn introduce(node: &NetworkHandle, addrs: &[Multiaddr]) {
    for (j, a) in addrs.iter().enumerate() {
        node.add_address(ValidatorId(j as u16), a.clone())
            .await
            .unwrap();
    }
}

/// Starts `n` nodes on kernel-chosen loopback ports (`tune` adjusts each config),
/// tells each the others' addresses, and waits until all are connected. Returns the
/// nodes and their listen addresses.
pub async fn start_nodes(
    n: usize,
    tune: impl Fn(usize, &mut NetworkConfig),
) -> (Vec<Node>, Vec<Multiaddr>) {
    let mut nodes = Vec::new();
    let mut addrs = Vec::new();
    for i in 0..n {
        let mut cfg = node_config(i, n, 0);
        tune(i, &mut cfg);
        let (handle, rx) = Network::start(cfg).await.unwrap();
        addrs.push(handle.listen_addrs().await.unwrap()[0].clone());
        nodes.push(Node { handle, rx });
    }
    for node in &nodes {
        introduce(&node.handle, &addrs).await;
    }
    wait_all_connected(&nodes, n - 1).await;
    (nodes, addrs)
}

/// Starts `n` fully meshed nodes with default limits.
pub async fn start_mesh(n: usize) -> (Vec<Node>, Vec<Multiaddr>) {
    start_nodes(n, |_, _| {}).await
}

/// The TCP port of a loopback listen address.
pub fn port_of(addr: &Multiaddr) -> u16 {
    addr.iter()
        .find_map(|p| match p {
            cairn_network::Protocol::Tcp(port) => Some(port),
            _ => None,
        })
        .unwrap()
}

/// Waits until every node is connected to `want` validators.
pub async fn wait_all_connected(nodes: &[Node], want: usize) {
    let handles: Vec<NetworkHandle> = nodes.iter().map(|n| n.handle.clone()).collect();
    wait_for("all nodes connected", Duration::from_secs(20), || {
        let handles = handles.clone();
        async move {
            let mut all = true;
            let mut sets = Vec::new();
            for h in &handles {
                let c = h.connected().await.unwrap();
                all &= c.len() >= want;
                sets.push((h.local_id(), c));
            }
            if !all {
                eprintln!("connected so far: {sets:?}");
            }
            all
        }
    })
    .await;
}

/// Polls `cond` every 50 ms until it holds, failing the test after `limit`.
pub async fn wait_for<F, Fut>(what: &str, limit: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !cond().await {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Receives the next message within `limit`.
pub async fn recv(rx: &mut Inbox, limit: Duration) -> Option<Incoming> {
    tokio::time::timeout(limit, rx.recv()).await.ok().flatten()
}
