//! `chain_subscribeHeads` over WebSocket: replay, follow, and slow subscribers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use cairn_rpc::{HeadEvent, RpcConfig, codes};
use common::{Fixture, test_config};
use jsonrpsee::core::client::Subscription;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(10);

async fn next(subscription: &mut Subscription<HeadEvent>) -> HeadEvent {
    timeout(WAIT, subscription.next())
        .await
        .expect("no notification in time")
        .expect("subscription ended")
        .unwrap()
}

#[tokio::test]
async fn replays_stored_blocks_in_order_then_follows_new_commits() {
    let mut fixture = Fixture::start(4, 1).await;
    let client = fixture.ws().await;
    let mut subscription = client.subscribe_heads(Some(1)).await.unwrap();
    let http = fixture.http().await;
    for height in 1..=4 {
        let event = next(&mut subscription).await;
        assert_eq!(event.height, height);
        let block = http.chain_get_block(height).await.unwrap();
        assert_eq!(event.block_id, block.id);
        assert_eq!(
            (event.round, event.timestamp_ms),
            (block.round, block.timestamp_ms)
        );
        assert_eq!(
            (event.tx_count, event.state_root),
            (1, block.result_state_root)
        );
    }
    assert_eq!(fixture.metrics.open_subscriptions(), 1);

    // Two commits, announced only once: nothing in between is skipped.
    let batch = fixture.builder.next_commit(2);
    fixture.store.commit(&batch).unwrap();
    fixture.commit_blocks(1);
    for height in 5..=7 {
        assert_eq!(next(&mut subscription).await.height, height);
    }

    // A live-only subscriber starts after the head.
    let mut live = client.subscribe_heads(None).await.unwrap();
    fixture.commit_blocks(1);
    assert_eq!(next(&mut live).await.height, 8);
    assert_eq!(next(&mut subscription).await.height, 8);

    subscription.unsubscribe().await.unwrap();
    live.unsubscribe().await.unwrap();
    let metrics = fixture.metrics.clone();
    wait_until("both subscriptions end", || {
        metrics.open_subscriptions() == 0
    })
    .await;
}

#[tokio::test]
async fn a_start_above_the_head_waits_for_it() {
    let mut fixture = Fixture::start(1, 0).await;
    let client = fixture.ws().await;
    let mut subscription = client.subscribe_heads(Some(3)).await.unwrap();
    fixture.commit_blocks(1);
    fixture.commit_blocks(1);
    assert_eq!(next(&mut subscription).await.height, 3);
}

#[tokio::test]
async fn subscriptions_per_connection_are_limited() {
    let config = RpcConfig {
        max_subscriptions_per_connection: 1,
        ..test_config()
    };
    let fixture = Fixture::start_with(config, 1, 0).await;
    let client = fixture.ws().await;
    let _first = client.subscribe_heads(None).await.unwrap();
    let error = client.subscribe_heads(None).await.unwrap_err();
    assert_eq!(error.code(), Some(codes::TOO_MANY_SUBSCRIPTIONS), "{error}");
    // Another connection has its own allowance.
    let _other = fixture.ws().await.subscribe_heads(None).await.unwrap();
}

#[tokio::test]
async fn subscriptions_need_websocket() {
    let fixture = Fixture::start(0, 0).await;
    let error = fixture
        .http()
        .await
        .subscribe_heads(None)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("ws://"), "{error}");
}

/// A WebSocket client that sends a subscription and then never reads, with a tiny
/// receive buffer so that the server's buffer fills quickly.
async fn stalled_subscriber(addr: std::net::SocketAddr, request: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let handshake = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(handshake.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\n") {
        response.push(stream.read_u8().await.unwrap());
    }
    assert!(
        response.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&response)
    );
    stream
        .write_all(&masked_text_frame(request.as_bytes()))
        .await
        .unwrap();
    stream
}

/// A client-to-server text frame (clients must mask).
fn masked_text_frame(payload: &[u8]) -> Vec<u8> {
    let mask = [0x12, 0x34, 0x56, 0x78];
    let mut frame = vec![0x81];
    match payload.len() {
        len if len < 126 => frame.push(0x80 | len as u8),
        len => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// Reads the payload of the next server text frame (servers do not mask), skipping
/// control frames.
async fn read_frame(stream: &mut TcpStream) -> Vec<u8> {
    loop {
        let opcode = stream.read_u8().await.unwrap() & 0x0f;
        let len = match stream.read_u8().await.unwrap() & 0x7f {
            126 => u64::from(stream.read_u16().await.unwrap()),
            127 => stream.read_u64().await.unwrap(),
            len => u64::from(len),
        };
        let mut payload = vec![0; len as usize];
        stream.read_exact(&mut payload).await.unwrap();
        if opcode == 1 {
            return payload;
        }
    }
}

/// Waits until `condition` holds.
async fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_subscriber_that_never_reads_is_closed_not_skipped() {
    let config = RpcConfig {
        subscription_buffer: 2,
        slow_subscriber_timeout: Duration::from_millis(300),
        ..test_config()
    };
    let mut fixture = Fixture::start_with(config, 0, 0).await;
    // Far more notifications than the server's queue and the kernel's socket buffers
    // hold (about 8,600 heads of ~330 bytes fill them with Linux's default 4 MiB
    // tcp_wmem maximum).
    for _ in 0..30 {
        fixture.commit_blocks(1000);
    }
    let request = r#"{"jsonrpc":"2.0","id":1,"method":"chain_subscribeHeads","params":[1]}"#;
    let mut stream = stalled_subscriber(fixture.addr(), request).await;

    // The server gives up on the subscriber once its buffer stays full.
    let metrics = fixture.metrics.clone();
    wait_until("the subscription opens", || {
        metrics.open_subscriptions() == 1
    })
    .await;
    wait_until("the subscription closes", || {
        metrics.open_subscriptions() == 0
    })
    .await;

    // Reading now: the subscription answer, consecutive heads from 1, then the error.
    let answer: serde_json::Value = serde_json::from_slice(&read_frame(&mut stream).await).unwrap();
    assert!(
        answer["result"].is_u64() || answer["result"].is_string(),
        "{answer}"
    );
    let mut expected = 1;
    loop {
        let frame = timeout(WAIT, read_frame(&mut stream))
            .await
            .expect("no close notification");
        let message: serde_json::Value = serde_json::from_slice(&frame).unwrap();
        assert_eq!(message["method"], "chain_head");
        let params = &message["params"];
        if let Some(error) = params.get("error") {
            assert_eq!(error["code"], codes::SUBSCRIBER_TOO_SLOW, "{error}");
            assert!(error["message"].as_str().unwrap().contains("too slow"));
            assert_eq!(error["data"]["next_height"], expected, "a head was skipped");
            break;
        }
        assert_eq!(params["result"]["height"], expected, "a head was skipped");
        expected += 1;
    }
    assert!(
        expected > 1 && expected < 30_000,
        "closed after {expected} heads"
    );
}
