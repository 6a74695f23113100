//! Messages per second and bytes per second between two cairn nodes on 127.0.0.1.
//!
//! `cargo run --release -p cairn-network --example throughput`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cairn_crypto::SecretKey;
use cairn_network::{Network, NetworkConfig, peer_id_of};
use cairn_types::ValidatorId;

fn port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn run(size: usize, count: u64) {
    let keys = [[1u8; 32], [2u8; 32]];
    let ids: Vec<_> = keys
        .iter()
        .map(|s| peer_id_of(&SecretKey::from_seed(s)).unwrap())
        .collect();
    let ports = [port(), port()];
    let addr = |p: u16| format!("/ip4/127.0.0.1/tcp/{p}").parse().unwrap();
    let mut nodes = Vec::new();
    for i in 0..2 {
        let mut c = NetworkConfig::new(SecretKey::from_seed(&keys[i]), addr(ports[i]), ids.clone());
        c.addresses = ports.iter().map(|p| vec![addr(*p)]).collect();
        c.limits.rate_per_sec = u32::MAX;
        c.limits.rate_burst = u32::MAX;
        nodes.push(Network::start(c).await.unwrap());
    }
    let (h1, mut rx) = nodes.pop().unwrap();
    let (tx, _) = &nodes[0];
    let rx_handle = &h1;
    while tx.connected().await.unwrap().is_empty()
        || rx_handle.connected().await.unwrap().is_empty()
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    let sink = tokio::spawn(async move {
        while counter.load(Ordering::Relaxed) < count {
            if rx.recv().await.is_none() {
                break;
            }
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    let window = 1024;
    let payload = vec![0xabu8; size];
    let start = Instant::now();
    for sent in 0..count {
        while sent.saturating_sub(received.load(Ordering::Relaxed)) >= window {
            tokio::task::yield_now().await;
        }
        tx.send(ValidatorId(1), 1, payload.clone()).await.unwrap();
    }
    sink.await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    let n = received.load(Ordering::Relaxed);
    println!(
        "{size:>6} B x {n:>6}: {:>9.0} msg/s  {:>8.1} MiB/s  ({secs:.2} s)",
        n as f64 / secs,
        (n as f64 * size as f64) / secs / (1024.0 * 1024.0)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    run(256, 50_000).await;
    run(64 * 1024, 3_000).await;
}
