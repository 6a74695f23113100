//! The batch verifier under concurrent load.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use cairn_mempool::{AdmitError, BatchVerifier};
use common::*;
use tokio::task::JoinSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_the_bad_signatures_are_refused_among_many_concurrent_requests() {
    let verifier = BatchVerifier::spawn(32, Duration::from_millis(5));
    let bad = [17usize, 101, 188];
    let mut requests = JoinSet::new();
    for i in 0..200usize {
        let mut t = tx(&key((i % 7) as u8 + 1), i as u64, put(i % 50));
        if bad.contains(&i) {
            t.signature.0[i % 64] ^= 0x10;
        }
        let verifier = verifier.clone();
        requests.spawn(async move { (i, t.clone(), verifier.verify(t).await) });
    }
    let mut refused = Vec::new();
    while let Some(joined) = requests.join_next().await {
        let (i, sent, verdict) = joined.unwrap();
        match verdict {
            Ok((returned, hash)) => {
                assert_eq!(returned, sent);
                assert_eq!(hash, sent.hash(), "hash of request {i}");
            }
            Err(AdmitError::BadSignature) => refused.push(i),
            Err(other) => panic!("request {i}: unexpected {other}"),
        }
    }
    refused.sort_unstable();
    assert_eq!(refused, bad);
}

#[tokio::test]
async fn a_lone_request_is_answered_after_at_most_the_wait() {
    let verifier = BatchVerifier::spawn(1_000, Duration::from_millis(20));
    let good = tx(&key(1), 0, put(1));
    let answer = tokio::time::timeout(Duration::from_secs(5), verifier.verify(good.clone()))
        .await
        .expect("answered without a full batch");
    assert_eq!(answer, Ok((good.clone(), good.hash())));
    let mut forged = good;
    forged.payload.nonce = 1;
    assert_eq!(verifier.verify(forged).await, Err(AdmitError::BadSignature));
}
