//! A Byzantine validator floods an honest one over real libp2p: first with valid
//! replays of every consensus message it received, as fast as the rate limit allows,
//! then with undecodable consensus payloads. Validators 0–2 are real `cairn node run`
//! processes; validator 3 is this test, holding v3's network key. The flooded node's
//! resident memory stays under a stated bound, honest commits continue throughout,
//! replays are dropped on arrival or skip the signature checks, and the garbage gets the flooder banned.
//!
//! `CAIRN_FLOOD_SECS` sets the replay phase's length (default 15 s, run in CI); the
//! longer run is documented in docs/TESTING.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_crypto::{KeyFile, KeyKind};
use cairn_genesis::GenesisDoc;
use cairn_network::{Incoming, Network, NetworkConfig, NetworkHandle};
use cairn_rpc::Client;
use cairn_types::ValidatorId;
use common::cluster::Cluster;
use common::ledger::*;

/// The node's message kind of consensus messages (docs/NETWORK.md, node kinds).
const KIND_CONSENSUS: u8 = 1;
/// How much the flooded node's resident memory may grow over its pre-flood level.
/// The budgets it holds for one peer (docs/OPERATING.md, "Budgets") add up to about
/// 150 MiB; the rest is allocator slack.
const RSS_GROWTH_BOUND_MIB: u64 = 256;
/// The first byte of a consensus message that is a proposal (its SCALE variant index).
const PROPOSAL_TAG: u8 = 0;
/// Consensus messages kept for replay.
const REPLAY_POOL: usize = 512;
/// Replays sent per second: three quarters of the network's default per-peer rate
/// limit (20,000 a second), the most a flooder can send without being banned.
const REPLAY_RATE: f64 = 15_000.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flooded_validator_keeps_committing_within_its_memory_bound() {
    let flood = Duration::from_secs(
        std::env::var("CAIRN_FLOOD_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(15),
    );
    let mut cluster = Cluster::new(4, 3);
    for i in 0..3 {
        cluster.start(i);
    }
    let (flooder, captured) = byzantine_peer(&cluster, 3).await;
    let clients: Vec<Client> = futures_all(&cluster).await;
    let chain = chain_id(&clients[0]).await;

    // The three honest validators are a quorum: wait for the chain to move, and for
    // the flooder to have something to replay.
    let warmup = puts(&cluster.accounts[1], &chain, 1, 50);
    let hashes = submit_all(&clients, &warmup).await;
    wait_all_committed(&clients, &hashes, Duration::from_secs(60)).await;
    // The leader rule skips the flooder's turns, so no round times out and nobody
    // sends it a vote: it would have nothing to replay. With validator 2 stopped the
    // chain cannot commit (the flooder does not vote), v0 and v1 time out round after
    // round, and their timeouts reach the flooder.
    cluster.kill(2);
    wait_until("messages to replay", Duration::from_secs(60), || {
        captured.lock().unwrap().len() >= 10
    })
    .await;
    let baseline = cluster.validators[0].rss_kib().unwrap();

    // Phase 1: valid replays at the rate limit while clients keep submitting. Validator 2
    // comes back a third of the way in: until then only v0's round timer moves it on,
    // under the flood.
    let height_before = head_height(&clients[0]).await;
    let timeouts_before = cluster.validators[0].metric("cairn_node_timeouts_total");
    let replaying = tokio::spawn(replay(flooder.clone(), captured.clone(), flood));
    let load = puts(&cluster.accounts[2], &chain, 2, 300);
    let mut peak = baseline;
    let mut hashes = Vec::new();
    let start = Instant::now();
    let mut stopped = true;
    for chunk in load.chunks(20) {
        if stopped && start.elapsed() >= flood / 3 {
            cluster.start(2);
            stopped = false;
        }
        hashes.extend(submit_all(&clients[..2], chunk).await);
        peak = peak.max(cluster.validators[0].rss_kib().unwrap_or(0));
        let pause = flood.saturating_sub(start.elapsed()) / 16;
        tokio::time::sleep(pause.min(Duration::from_secs(1))).await;
    }
    while !replaying.is_finished() {
        peak = peak.max(cluster.validators[0].rss_kib().unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sent = replaying.await.unwrap();
    if stopped {
        cluster.start(2);
    }
    let clients = futures_all(&cluster).await;
    let settled = wait_all_committed(&clients, &hashes, Duration::from_secs(120)).await;
    let height_after = head_height(&clients[0]).await;
    let v0 = &cluster.validators[0];
    let received = v0.metric("cairn_network_received_messages_total{kind=\"1\"}");
    let skipped = v0.metric("cairn_node_replays_skipped_total");
    let replays_dropped = v0.metric("cairn_node_replays_dropped_total");
    let dropped = v0.metric("cairn_node_dropped_messages_total");
    let backpressure = v0.metric("cairn_network_dropped_messages_total{reason=\"Backpressure\"}");
    let rate_limited = v0.metric("cairn_network_dropped_messages_total{reason=\"RateLimited\"}");
    let bans = v0.metric("cairn_network_peer_disconnects_total{reason=\"Penalty\"}");
    let growth_mib = peak.saturating_sub(baseline) / 1024;
    eprintln!(
        "flood: {sent} replays queued in {flood:?}, v0 received {received} consensus messages; \
         v0 rss {} MiB -> peak {} MiB (+{growth_mib}); replays not re-verified {skipped}, \
         replays dropped on arrival {replays_dropped}, dropped by budget {dropped}, network backpressure {backpressure}, \
         rate-limited {rate_limited}, bans {bans}; \
         height {height_before} -> {height_after}",
        baseline / 1024,
        peak / 1024,
    );
    assert!(
        received > 10_000.0,
        "v0 received only {received} consensus messages in the flood"
    );
    // Replays of the last moments are dropped on arrival, older ones skip the
    // signature checks; either way none is verified again.
    assert!(
        skipped + replays_dropped > 0.0,
        "replays were verified again"
    );
    assert!(
        growth_mib < RSS_GROWTH_BOUND_MIB,
        "v0 grew {growth_mib} MiB under the flood (bound {RSS_GROWTH_BOUND_MIB} MiB)"
    );
    assert!(height_after > height_before, "no commits during the flood");
    // While validator 2 was down the chain moved through rounds only because the
    // flooded node's round timer kept firing under the flood.
    let timeouts = v0.metric("cairn_node_timeouts_total") - timeouts_before;
    assert!(
        timeouts >= 1.0,
        "v0's round timer never fired during the flood"
    );
    same_chain_everywhere(&clients, settled).await;

    // Phase 2: undecodable consensus payloads, each reported against the flooder; 20
    // reports in the strike window ban it, and the honest three go on committing.
    for i in 0..40u32 {
        let junk = vec![0xff; 1_000 + i as usize];
        let _ = flooder.send(ValidatorId(0), KIND_CONSENSUS, junk).await;
    }
    wait_until("the flooder banned", Duration::from_secs(30), || {
        cluster.validators[0].metric("cairn_network_peer_disconnects_total{reason=\"Penalty\"}")
            >= 1.0
    })
    .await;
    let undecodable = v0.metric("cairn_network_offences_total{offence=\"Undecodable\"}");
    assert!(undecodable >= 20.0, "only {undecodable} offences reported");
    let more = puts(&cluster.accounts[1], &chain, 1, 80);
    let hashes = submit_all(&clients, &more[50..]).await;
    let height = wait_all_committed(&clients, &hashes, Duration::from_secs(60)).await;
    same_chain_everywhere(&clients, height).await;
    flooder.shutdown().await.unwrap();
}

/// Starts a libp2p peer with validator `i`'s network key on its genesis address; it
/// keeps the consensus messages it receives (up to [`REPLAY_POOL`]) except proposals:
/// those are only ever sent by their proposer, so relaying one is an offence, not a
/// valid replay.
async fn byzantine_peer(cluster: &Cluster, i: usize) -> (NetworkHandle, Arc<Mutex<Vec<Vec<u8>>>>) {
    let genesis = GenesisDoc::load(&cluster.genesis)
        .unwrap()
        .validate()
        .unwrap();
    let home = &cluster.validators[i].home;
    let key = KeyFile::load(&home.join("keys/network.json"), KeyKind::Network).unwrap();
    let address = &genesis.doc().validators[i].address;
    let listen = cairn_network::parse_dial_address(address).unwrap();
    let mut config = NetworkConfig::from_genesis(&genesis, key, listen).unwrap();
    config.limits.max_message_bytes = 8 << 20;
    let (handle, mut inbox) = Network::start(config).await.unwrap();
    let captured = Arc::new(Mutex::new(Vec::new()));
    let pool = captured.clone();
    tokio::spawn(async move {
        while let Some(item) = inbox.recv().await {
            if let Incoming::Message {
                kind: KIND_CONSENSUS,
                payload,
                ..
            } = item
                && payload.first() != Some(&PROPOSAL_TAG)
            {
                let mut pool = pool.lock().unwrap();
                if pool.len() < REPLAY_POOL {
                    pool.push(payload);
                }
            }
        }
    });
    (handle, captured)
}

/// Sends the captured messages to validator 0 over and over for `length`; returns how
/// many were handed to the network.
async fn replay(net: NetworkHandle, pool: Arc<Mutex<Vec<Vec<u8>>>>, length: Duration) -> u64 {
    let start = Instant::now();
    let mut sent = 0u64;
    while start.elapsed() < length {
        let batch: Vec<Vec<u8>> = pool.lock().unwrap().clone();
        for payload in batch {
            if net
                .send(ValidatorId(0), KIND_CONSENSUS, payload)
                .await
                .is_ok()
            {
                sent += 1;
            }
        }
        // Stay under the network's per-peer rate limit: above it the flooder is
        // banned (as the network tests show) and would flood nothing.
        let due = Duration::from_secs_f64(sent as f64 / REPLAY_RATE);
        match due.checked_sub(start.elapsed()) {
            Some(ahead) => tokio::time::sleep(ahead).await,
            None => tokio::task::yield_now().await,
        }
    }
    sent
}

async fn futures_all(cluster: &Cluster) -> Vec<Client> {
    let mut clients = Vec::new();
    for i in 0..3 {
        clients.push(cluster.client(i).await);
    }
    clients
}

async fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
