//! `tx_submit` and its error codes; the server's limits; `rpc.discover`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use cairn_crypto::SecretKey;
use cairn_rpc::methods::{METHODS, registered_names};
use cairn_rpc::{RpcConfig, RpcError, RpcServer, SubmitError, codes};
use cairn_storage::testing::ChainBuilder;
use cairn_types::{BoundedBytes, Op, Role, Transaction, TxPayload, Wire};
use common::{Fixture, json_of, raw_post, test_config};
use serde_json::json;

fn transaction(value_len: usize) -> Transaction {
    let key = SecretKey::from_seed(&[9; 32]);
    let payload = TxPayload {
        chain_id: ChainBuilder::chain_id(),
        sender: key.public(),
        nonce: 0,
        op: Op::Put {
            key: BoundedBytes::new(b"k".to_vec()).unwrap(),
            value: BoundedBytes::new(vec![7; value_len]).unwrap(),
        },
    };
    Transaction::sign(payload, &key)
}

#[tokio::test]
async fn a_good_transaction_reaches_the_mempool_and_returns_its_hash() {
    let fixture = Fixture::start(0, 0).await;
    let client = fixture.http().await;
    let tx = transaction(10);
    let submitted = client.tx_submit(&tx).await.unwrap();
    assert_eq!(submitted.hash.0, tx.hash());
    assert_eq!(
        fixture.node.submitted.lock().unwrap().as_slice(),
        std::slice::from_ref(&tx)
    );

    // Parameters by name work as well.
    let named = json!({"jsonrpc": "2.0", "id": 1, "method": "tx_submit",
        "params": {"tx": format!("0x{}", hex::encode(tx.to_wire()))}});
    let (status, body) = raw_post(fixture.addr(), named.to_string().as_bytes()).await;
    assert_eq!(status, 200);
    assert_eq!(json_of(&body)["result"]["hash"], format!("0x{}", tx.hash()));
    assert_eq!(fixture.metrics.requests("tx_submit", "ok"), 2);
}

#[tokio::test]
async fn a_batch_submit_answers_each_transaction_as_tx_submit_would() {
    let config = RpcConfig {
        max_tx_bytes: 300,
        ..test_config()
    };
    let fixture = Fixture::start_with(config, 0, 0).await;
    let client = fixture.http().await;
    let good = transaction(10);
    let too_large = transaction(400);
    let batch = [good.to_wire(), vec![0xff; 40], too_large.to_wire()];
    let results = client.tx_submit_batch(&batch).await.unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].hash.as_ref().map(|h| h.0), Some(good.hash()));
    assert_eq!(results[0].error, None);
    let code = |i: usize| results[i].error.as_ref().map(|e| e.code);
    assert_eq!(code(1), Some(codes::TX_MALFORMED));
    assert_eq!(results[1].hash, None, "undecodable bytes have no hash");
    assert_eq!(code(2), Some(codes::TX_TOO_LARGE));
    assert_eq!(
        fixture.node.submitted.lock().unwrap().as_slice(),
        std::slice::from_ref(&good),
        "only the good transaction reached the mempool"
    );

    // A mempool refusal carries the code and data tx_submit gives, and the hash.
    *fixture.node.refuse_with.lock().unwrap() = Some(SubmitError::NonceInUse { nonce: 0 });
    let results = client.tx_submit_batch(&[good.to_wire()]).await.unwrap();
    let refusal = results[0].error.clone().unwrap();
    assert_eq!(refusal.code, codes::TX_NONCE_IN_USE);
    assert_eq!(refusal.data, Some(json!({"nonce": 0})));
    assert_eq!(results[0].hash.as_ref().map(|h| h.0), Some(good.hash()));
    let alone = client.tx_submit(&good).await.unwrap_err();
    assert_eq!(alone.code(), Some(refusal.code));

    // An empty batch is an empty answer; more than the cap is refused as a whole.
    assert!(client.tx_submit_batch(&[]).await.unwrap().is_empty());
    let over = vec![good.to_wire(); cairn_rpc::methods::MAX_SUBMIT_BATCH + 1];
    let error = client.tx_submit_batch(&over).await.unwrap_err();
    assert_eq!(error.code(), Some(codes::INVALID_PARAMS));
}

#[tokio::test]
async fn a_batch_submit_costs_one_token_per_transaction() {
    let config = RpcConfig {
        rate_limit_per_second: 1,
        rate_limit_burst: 5,
        ..test_config()
    };
    let fixture = Fixture::start_with(config, 0, 0).await;
    // One WebSocket connection, so one bucket.
    let client = fixture.ws().await;
    let three = vec![transaction(1).to_wire(); 3];
    assert_eq!(client.tx_submit_batch(&three).await.unwrap().len(), 3);
    let error = client.tx_submit_batch(&three).await.unwrap_err();
    assert_eq!(error.code(), Some(codes::RATE_LIMITED));
}

#[tokio::test]
async fn undecodable_or_oversized_transactions_are_refused_before_the_mempool() {
    let config = RpcConfig {
        max_tx_bytes: 300,
        ..test_config()
    };
    let fixture = Fixture::start_with(config, 0, 0).await;
    let client = fixture.http().await;

    let bad_hex = client
        .request::<serde_json::Value>("tx_submit", vec![json!("abcd")])
        .await
        .unwrap_err();
    assert_eq!(bad_hex.code(), Some(codes::INVALID_PARAMS));
    assert!(bad_hex.to_string().contains("0x"), "{bad_hex}");
    let wrong_type = client
        .request::<serde_json::Value>("tx_submit", vec![json!(12)])
        .await
        .unwrap_err();
    assert_eq!(wrong_type.code(), Some(codes::INVALID_PARAMS));
    let too_many = client
        .request::<serde_json::Value>("tx_submit", vec![json!("0x00"), json!(1)])
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), Some(codes::INVALID_PARAMS));
    assert!(too_many.to_string().contains("at most 1"), "{too_many}");

    let garbage = client.tx_submit_bytes(&[0xff; 40]).await.unwrap_err();
    assert_eq!(garbage.code(), Some(codes::TX_MALFORMED), "{garbage}");
    let mut trailing = transaction(10).to_wire();
    trailing.push(0);
    let error = client.tx_submit_bytes(&trailing).await.unwrap_err();
    assert_eq!(error.code(), Some(codes::TX_MALFORMED), "{error}");

    // Garbage above the limit is refused for its size, before any decoding.
    let error = client.tx_submit_bytes(&[0xff; 301]).await.unwrap_err();
    assert_eq!(error.code(), Some(codes::TX_TOO_LARGE), "{error}");
    assert_eq!(error.data().unwrap(), &json!({"size": 301, "max": 300}));
    let error = client.tx_submit(&transaction(400)).await.unwrap_err();
    assert_eq!(error.code(), Some(codes::TX_TOO_LARGE));
    assert!(fixture.node.submitted.lock().unwrap().is_empty());
}

#[tokio::test]
async fn every_mempool_refusal_has_its_own_code_and_data() {
    let fixture = Fixture::start(0, 0).await;
    let client = fixture.http().await;
    let cases = [
        (SubmitError::WrongChain, codes::TX_WRONG_CHAIN, None),
        (SubmitError::BadSignature, codes::TX_BAD_SIGNATURE, None),
        (SubmitError::UnknownSender, codes::TX_UNKNOWN_SENDER, None),
        (
            SubmitError::NotPermitted {
                has: Some(Role::Reader),
                needs: Role::Writer,
            },
            codes::TX_NOT_PERMITTED,
            Some(json!({"has": "reader", "needs": "writer"})),
        ),
        (
            SubmitError::StaleNonce {
                expected: 5,
                got: 3,
            },
            codes::TX_STALE_NONCE,
            Some(json!({"expected": 5, "got": 3})),
        ),
        (
            SubmitError::NonceTooFar {
                expected: 5,
                got: 500,
                max_ahead: 64,
            },
            codes::TX_NONCE_TOO_FAR,
            Some(json!({"expected": 5, "got": 500, "max_ahead": 64})),
        ),
        (
            SubmitError::NonceInUse { nonce: 4 },
            codes::TX_NONCE_IN_USE,
            Some(json!({"nonce": 4})),
        ),
        (
            SubmitError::InsufficientBalance {
                balance: 1,
                amount: 9,
            },
            codes::TX_INSUFFICIENT_BALANCE,
            Some(json!({"balance": 1, "amount": 9})),
        ),
        (
            SubmitError::TooLarge { size: 9, max: 8 },
            codes::TX_TOO_LARGE,
            Some(json!({"size": 9, "max": 8})),
        ),
        (
            SubmitError::Busy { capacity: 10 },
            codes::MEMPOOL_FULL,
            Some(json!({"capacity": 10})),
        ),
        (SubmitError::ShuttingDown, codes::SHUTTING_DOWN, None),
        (
            SubmitError::Internal("disk on fire".into()),
            codes::INTERNAL,
            None,
        ),
    ];
    for (refusal, code, data) in cases {
        *fixture.node.refuse_with.lock().unwrap() = Some(refusal.clone());
        let error = client.tx_submit(&transaction(1)).await.unwrap_err();
        assert_eq!(error.code(), Some(code), "{refusal:?}: {error}");
        assert_eq!(error.data(), data.as_ref(), "{refusal:?}");
        if let SubmitError::Internal(_) = refusal {
            assert!(
                !error.to_string().contains("disk on fire"),
                "details leak: {error}"
            );
        }
    }
    let busy = {
        *fixture.node.refuse_with.lock().unwrap() = Some(SubmitError::Busy { capacity: 10 });
        client.tx_submit(&transaction(1)).await.unwrap_err()
    };
    assert!(busy.to_string().contains("busy"), "{busy}");
    assert_eq!(fixture.metrics.requests("tx_submit", "error"), 13);
}

#[tokio::test]
async fn rpc_discover_describes_exactly_the_registered_methods() {
    let fixture = Fixture::start(0, 0).await;
    let doc = fixture.http().await.rpc_discover().await.unwrap();
    assert_eq!(doc["openrpc"], "1.2.6");
    let documented: BTreeSet<String> = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    let table: BTreeSet<String> = METHODS.iter().map(|m| m.name.to_string()).collect();
    assert_eq!(documented, table);
    for method in doc["methods"].as_array().unwrap() {
        assert!(method["result"]["schema"].is_object(), "{method}");
    }
    let submit = &doc["methods"][0];
    assert_eq!(submit["params"][0]["name"], "tx");
    assert_eq!(submit["params"][0]["required"], true);

    let ctx = cairn_rpc::RpcContext {
        store: fixture.store.clone(),
        genesis: fixture.genesis.clone(),
        node: fixture.node.clone(),
        heads: fixture.heads.subscribe(),
    };
    let module = cairn_rpc::build_module(ctx, &test_config(), None).unwrap();
    let registered: BTreeSet<&str> = module.method_names().collect();
    let expected: BTreeSet<&str> = registered_names().collect();
    assert_eq!(registered, expected);
    let unsubscribe: BTreeSet<&str> = METHODS
        .iter()
        .filter_map(|m| m.subscription.map(|s| s.unsubscribe))
        .collect();
    let documented: BTreeSet<&str> = documented.iter().map(String::as_str).collect();
    assert_eq!(&registered - &unsubscribe, documented);
}

#[tokio::test]
async fn malformed_json_unknown_methods_and_oversized_bodies_are_refused() {
    let config = RpcConfig {
        max_request_bytes: 4096,
        ..test_config()
    };
    let fixture = Fixture::start_with(config, 0, 0).await;
    let (_, body) = raw_post(
        fixture.addr(),
        b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\":",
    )
    .await;
    assert_eq!(json_of(&body)["error"]["code"], codes::PARSE_ERROR);

    let unknown = json!({"jsonrpc": "2.0", "id": 1, "method": "tx_explode", "params": []});
    let (_, body) = raw_post(fixture.addr(), unknown.to_string().as_bytes()).await;
    assert_eq!(json_of(&body)["error"]["code"], codes::METHOD_NOT_FOUND);

    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "tx_submit",
        "params": [format!("0x{}", "00".repeat(4096))]});
    let (status, body) = raw_post(fixture.addr(), big.to_string().as_bytes()).await;
    assert_eq!(status, 413);
    assert_eq!(json_of(&body)["error"]["code"], codes::OVERSIZED_REQUEST);
    assert!(fixture.node.submitted.lock().unwrap().is_empty());
}

fn batch(len: usize) -> Vec<u8> {
    let calls: Vec<_> = (0..len)
        .map(|id| json!({"jsonrpc": "2.0", "id": id, "method": "chain_head"}))
        .collect();
    serde_json::to_vec(&calls).unwrap()
}

#[tokio::test]
async fn batches_beyond_the_limit_are_refused() {
    let config = RpcConfig {
        max_batch_len: 3,
        ..test_config()
    };
    let fixture = Fixture::start_with(config, 1, 0).await;
    let (_, body) = raw_post(fixture.addr(), &batch(3)).await;
    let answers = json_of(&body);
    assert_eq!(answers.as_array().unwrap().len(), 3);
    assert!(
        answers
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["result"]["height"] == 1)
    );
    let (_, body) = raw_post(fixture.addr(), &batch(4)).await;
    assert_eq!(
        json_of(&body)["error"]["code"],
        codes::TOO_BIG_BATCH,
        "{body}"
    );
}

#[tokio::test]
async fn each_connection_is_rate_limited_and_batches_count_per_call() {
    let config = RpcConfig {
        rate_limit_per_second: 1,
        rate_limit_burst: 5,
        ..test_config()
    };
    let fixture = Fixture::start_with(config, 1, 0).await;
    let (_, body) = raw_post(fixture.addr(), &batch(7)).await;
    let answers = json_of(&body);
    let codes_seen: Vec<Option<i64>> = answers
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["error"]["code"].as_i64())
        .collect();
    let limited = Some(i64::from(codes::RATE_LIMITED));
    assert_eq!(codes_seen, [None, None, None, None, None, limited, limited]);
    // A fresh connection has its own bucket.
    let (_, body) = raw_post(fixture.addr(), &batch(1)).await;
    assert_eq!(json_of(&body)[0]["result"]["height"], 1);
    assert_eq!(fixture.metrics.requests("chain_head", "error"), 2);
}

#[tokio::test]
async fn a_port_in_use_is_an_error_naming_the_address() {
    let fixture = Fixture::start(0, 0).await;
    let config = RpcConfig {
        listen: fixture.addr(),
        ..RpcConfig::default()
    };
    let ctx = cairn_rpc::RpcContext {
        store: fixture.store.clone(),
        genesis: fixture.genesis.clone(),
        node: fixture.node.clone(),
        heads: fixture.heads.subscribe(),
    };
    let error = RpcServer::start(config, ctx, None).await.unwrap_err();
    assert!(matches!(error, RpcError::Bind { addr, .. } if addr == fixture.addr()));
    assert!(
        error.to_string().contains(&fixture.addr().to_string()),
        "{error}"
    );

    // Stopping releases the port.
    let addr = fixture.addr();
    fixture.server.stop().await;
    assert!(std::net::TcpListener::bind(addr).is_ok());
}
