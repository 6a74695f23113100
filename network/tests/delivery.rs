//! n = 4 validators on 127.0.0.1: broadcast, direct send and request-response.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use cairn_network::Incoming;
use cairn_types::ValidatorId;
use common::{recv, start_mesh};

const T: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_all_to_all_broadcast() {
    let (mut nodes, _) = start_mesh(4).await;
    for (i, n) in nodes.iter().enumerate() {
        n.handle.broadcast(1, vec![i as u8; 100]).await.unwrap();
    }
    for (me, node) in nodes.iter_mut().enumerate() {
        let mut from = BTreeSet::new();
        while from.len() < 3 {
            match recv(&mut node.rx, T).await.expect("broadcast delivered") {
                Incoming::Message {
                    from: f,
                    kind,
                    payload,
                } => {
                    assert_eq!(kind, 1);
                    assert_eq!(
                        payload,
                        vec![f.0 as u8; 100],
                        "payload tagged with its sender"
                    );
                    assert_ne!(usize::from(f.0), me, "a broadcast does not loop back");
                    from.insert(f);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    for n in &nodes {
        n.handle.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_direct_send_reaches_only_its_target() {
    let (mut nodes, _) = start_mesh(4).await;
    nodes[0]
        .handle
        .send(ValidatorId(2), 9, b"to v2".to_vec())
        .await
        .unwrap();
    match recv(&mut nodes[2].rx, T)
        .await
        .expect("direct message delivered")
    {
        Incoming::Message {
            from,
            kind,
            payload,
        } => {
            assert_eq!(
                (from, kind, payload),
                (ValidatorId(0), 9, b"to v2".to_vec())
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    for i in [1, 3] {
        assert!(
            recv(&mut nodes[i].rx, Duration::from_millis(300))
                .await
                .is_none()
        );
    }
    for n in &nodes {
        n.handle.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_request_response() {
    let (mut nodes, _) = start_mesh(4).await;
    let common::Node {
        handle: h3,
        rx: mut server,
    } = nodes.remove(3);
    let answering = tokio::spawn(async move {
        // Answer the first request; drop the responder of the second.
        for n in 0..2 {
            match server.recv().await.unwrap() {
                Incoming::Request {
                    from,
                    kind,
                    mut payload,
                    responder,
                } => {
                    assert_eq!((from, kind), (ValidatorId(1), 4));
                    payload.reverse();
                    if n == 0 {
                        responder.respond(payload);
                    }
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    });
    let answer = nodes[1]
        .handle
        .request(ValidatorId(3), 4, vec![1, 2, 3])
        .await
        .unwrap();
    assert_eq!(answer, vec![3, 2, 1]);
    let unanswered = nodes[1].handle.request(ValidatorId(3), 4, vec![5]).await;
    assert!(
        unanswered.is_err(),
        "a dropped responder is an error, got {unanswered:?}"
    );
    answering.await.unwrap();
    h3.shutdown().await.unwrap();
    for n in &nodes {
        n.handle.shutdown().await.unwrap();
    }
}
