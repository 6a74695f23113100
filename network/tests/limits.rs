//! Size caps and rate limits: dropped, counted, and a persistent offender disconnected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use cairn_network::{DisconnectReason, DropReason, Incoming, NetworkError};
use cairn_types::ValidatorId;
use common::{Node, recv, start_nodes, wait_for};

async fn pair(tune: impl Fn(usize, &mut cairn_network::NetworkConfig)) -> Vec<Node> {
    start_nodes(2, tune).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_message_dropped() {
    // v0 allows 2 MiB messages, v1 only 64 KiB: v1 refuses v0's big frame unread.
    let mut nodes = pair(|i, c| {
        c.limits.max_message_bytes = if i == 0 { 2 << 20 } else { 64 << 10 };
    })
    .await;
    let too_big = nodes[1]
        .handle
        .send(ValidatorId(0), 1, vec![0; 65 << 10])
        .await;
    assert!(
        matches!(too_big, Err(NetworkError::TooLarge { .. })),
        "sender checks its own cap"
    );
    nodes[0]
        .handle
        .send(ValidatorId(1), 1, vec![7; 1 << 20])
        .await
        .unwrap();
    let m = nodes[1].handle.metrics().clone();
    wait_for("the oversized drop", Duration::from_secs(10), || {
        let m = m.clone();
        async move { m.dropped_count(DropReason::Oversized) >= 1 }
    })
    .await;
    // The link still works for messages within the cap.
    nodes[0]
        .handle
        .send(ValidatorId(1), 2, vec![1; 1000])
        .await
        .unwrap();
    match recv(&mut nodes[1].rx, Duration::from_secs(10))
        .await
        .expect("small message")
    {
        Incoming::Message { kind, payload, .. } => assert_eq!((kind, payload.len()), (2, 1000)),
        other => panic!("unexpected {other:?}"),
    }
    for n in &nodes {
        n.handle.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flooding_peer_is_rate_limited_then_disconnected() {
    let nodes = pair(|i, c| {
        if i == 1 {
            c.limits.rate_per_sec = 20;
            c.limits.rate_burst = 10;
            c.limits.max_strikes = 50;
            c.limits.ban_duration = Duration::from_secs(30);
        }
    })
    .await;
    for _ in 0..400 {
        nodes[0]
            .handle
            .send(ValidatorId(1), 1, vec![0; 32])
            .await
            .unwrap();
    }
    let m = nodes[1].handle.metrics().clone();
    wait_for("a penalty disconnect", Duration::from_secs(15), || {
        let m = m.clone();
        async move { m.disconnect_count(DisconnectReason::Penalty) >= 1 }
    })
    .await;
    assert!(m.dropped_count(DropReason::RateLimited) > 50);
    let h = nodes[1].handle.clone();
    wait_for("the offender gone", Duration::from_secs(10), || {
        let h = h.clone();
        async move { h.connected().await.unwrap().is_empty() }
    })
    .await;
    for n in &nodes {
        n.handle.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_and_unknown_version_frames_dropped() {
    use parity_scale_codec::Encode;
    let mut nodes = pair(|_, _| {}).await;
    let mut future = cairn_network::Envelope::new(1, vec![1, 2, 3]);
    future.version = 2;
    let h = &nodes[0].handle;
    h.send_raw_frame(ValidatorId(1), vec![0xff; 9])
        .await
        .unwrap();
    h.send_raw_frame(ValidatorId(1), Vec::new()).await.unwrap();
    h.send_raw_frame(ValidatorId(1), future.encode())
        .await
        .unwrap();
    h.send(ValidatorId(1), 8, b"fine".to_vec()).await.unwrap();
    match recv(&mut nodes[1].rx, Duration::from_secs(10))
        .await
        .expect("good message")
    {
        Incoming::Message { kind, payload, .. } => {
            assert_eq!((kind, &payload[..]), (8, &b"fine"[..]))
        }
        other => panic!("unexpected {other:?}"),
    }
    // Messages travel on separate streams, so the good one may overtake the bad ones.
    let m = nodes[1].handle.metrics().clone();
    wait_for("the bad frames counted", Duration::from_secs(10), || {
        let m = m.clone();
        async move {
            m.dropped_count(DropReason::Malformed) == 2
                && m.dropped_count(DropReason::UnknownVersion) == 1
        }
    })
    .await;
    assert!(
        recv(&mut nodes[1].rx, Duration::from_millis(200))
            .await
            .is_none()
    );
    for n in &nodes {
        n.handle.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reported_offences_ban_the_sender() {
    // 1000 strikes in the window, 50 per reported offence: the 21st report bans.
    let nodes = pair(|_, _| {}).await;
    let m = nodes[0].handle.metrics().clone();
    for _ in 0..20 {
        nodes[0]
            .handle
            .report(ValidatorId(1), cairn_network::Offence::Invalid);
    }
    wait_for("20 offences counted", Duration::from_secs(10), || {
        let m = m.clone();
        async move { m.offence_count(cairn_network::Offence::Invalid) == 20 }
    })
    .await;
    assert_eq!(m.disconnect_count(DisconnectReason::Penalty), 0);
    nodes[0]
        .handle
        .report(ValidatorId(1), cairn_network::Offence::Undecodable);
    wait_for("the offender disconnected", Duration::from_secs(10), || {
        let (m, h) = (m.clone(), nodes[0].handle.clone());
        async move {
            m.disconnect_count(DisconnectReason::Penalty) == 1
                && h.connected().await.unwrap().is_empty()
        }
    })
    .await;
    // A report against this node itself or an unknown validator is ignored.
    nodes[0]
        .handle
        .report(ValidatorId(0), cairn_network::Offence::Invalid);
    nodes[0]
        .handle
        .report(ValidatorId(9), cairn_network::Offence::Invalid);
    for n in &nodes {
        n.handle.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priority_kinds_overtake_a_backlog_of_bulk_messages() {
    let mut nodes = pair(|_, c| c.limits.priority_kinds = vec![9]).await;
    for i in 0..50u8 {
        nodes[0]
            .handle
            .send(ValidatorId(1), 1, vec![i; 1000])
            .await
            .unwrap();
    }
    nodes[0]
        .handle
        .send(ValidatorId(1), 9, vec![0; 10])
        .await
        .unwrap();
    // Let everything arrive before the node starts taking.
    let m = nodes[1].handle.metrics().clone();
    wait_for("51 messages received", Duration::from_secs(10), || {
        let m = m.clone();
        async move { m.received_count(1) == 50 && m.received_count(9) == 1 }
    })
    .await;
    match recv(&mut nodes[1].rx, Duration::from_secs(10)).await {
        Some(Incoming::Message { kind, .. }) => assert_eq!(kind, 9, "priority first"),
        other => panic!("unexpected {other:?}"),
    }
    for n in &nodes {
        n.handle.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_small_even_when_answers_are_large() {
    let nodes = pair(|_, _| {}).await;
    let big = nodes[0]
        .handle
        .request(ValidatorId(1), 1, vec![0; 65 * 1024])
        .await;
    assert!(
        matches!(big, Err(NetworkError::TooLarge { .. })),
        "a request above max_request_payload_bytes is refused: {big:?}"
    );
    for n in &nodes {
        n.handle.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_falls_behind_loses_nothing_and_keeps_the_order() {
    // v1 queues at most 64 KiB per peer and lane; v0 sends 4 MiB while v1 is not
    // taking. v1's stream is held (not read) instead of messages being dropped.
    let mut nodes = pair(|i, c| {
        if i == 1 {
            c.limits.incoming_peer_bytes = 64 << 10;
        }
        // What waits is held, not aged out (expiry has its own test in outbox.rs).
        c.limits.max_queued_age = Duration::from_secs(60);
    })
    .await;
    let count = 4096u32;
    for i in 0..count {
        let mut payload = i.to_be_bytes().to_vec();
        payload.resize(1024, 0);
        nodes[0]
            .handle
            .send(ValidatorId(1), 2, payload)
            .await
            .unwrap();
    }
    // Not taking for a moment (well under the 1 s a reader holds a message).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let held = nodes[1].rx.queued_bytes()[2];
    assert!(held <= 64 << 10, "the lane's share holds {held} bytes");
    for i in 0..count {
        match recv(&mut nodes[1].rx, Duration::from_secs(10)).await {
            Some(Incoming::Message { payload, .. }) => {
                assert_eq!(payload[..4], i.to_be_bytes(), "message {i} in order")
            }
            other => panic!("message {i}: unexpected {other:?}"),
        }
    }
    let m = nodes[1].handle.metrics();
    assert_eq!(m.dropped_count(DropReason::Backpressure), 0);
    assert_eq!(
        nodes[0]
            .handle
            .metrics()
            .dropped_count(DropReason::QueueFull),
        0
    );
    for n in &nodes {
        n.handle.shutdown().await.unwrap();
    }
}
