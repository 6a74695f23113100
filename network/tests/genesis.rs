//! The permitted set and dial addresses come straight from a validated genesis.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, UNIX_EPOCH};

use cairn_crypto::SecretKey;
use cairn_genesis::{AccountEntry, GenesisDoc, ValidatorEntry, network_peer_id};
use cairn_network::{Incoming, Network, NetworkConfig};
use cairn_types::{Role, ValidatorId};
use common::{Node, addr, free_port, key, recv, wait_all_connected};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_cluster_from_genesis() {
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let mut doc = GenesisDoc::new(
        "net-test",
        UNIX_EPOCH + Duration::from_millis(1_795_392_000_000),
    );
    doc.validators = (0..4u8)
        .map(|i| ValidatorEntry {
            name: format!("v{i}"),
            consensus_key: SecretKey::from_seed(&[i + 50; 32]).public(),
            peer_id: network_peer_id(&key(i + 150).public()).to_string(),
            address: format!("/ip4/127.0.0.1/tcp/{}", ports[usize::from(i)]),
        })
        .collect();
    doc.accounts = vec![AccountEntry {
        name: Some("admin".into()),
        public_key: SecretKey::from_seed(&[99; 32]).public(),
        role: Role::Admin,
        balance: 0,
    }];
    let genesis = doc.validate().unwrap();
    let mut nodes = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let cfg = NetworkConfig::from_genesis(&genesis, key(i as u8 + 150), addr(*port)).unwrap();
        let (handle, rx) = Network::start(cfg).await.unwrap();
        assert_eq!(handle.local_id(), ValidatorId(i as u16));
        nodes.push(Node { handle, rx });
    }
    wait_all_connected(&nodes, 3).await;
    nodes[2].handle.broadcast(3, vec![42]).await.unwrap();
    match recv(&mut nodes[0].rx, Duration::from_secs(10))
        .await
        .expect("delivered")
    {
        Incoming::Message { from, .. } => assert_eq!(from, ValidatorId(2)),
        other => panic!("unexpected {other:?}"),
    }
    for n in &nodes {
        n.handle.shutdown().await.unwrap();
    }
}
