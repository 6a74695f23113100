//! `cairn testnet up`, a short `bench`, `explorer verify`, `explorer tx --prove` and
//! `testnet down`, as a developer and an auditor would run them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::TcpListener;
use std::path::Path;

use common::cluster::cairn;
use serde_json::Value;

/// A base port whose 4 × 10 ports are free now.
fn free_base() -> u16 {
    let start = 20_000 + (std::process::id() % 1_000) as u16 * 40;
    (0..200u16)
        .map(|k| start.wrapping_add(k * 40) % 60_000 + 1_024)
        .find(|base| (0..40).all(|p| TcpListener::bind(("127.0.0.1", base + p)).is_ok()))
        .expect("a free port range")
}

fn cairn_json(args: &[&str]) -> Value {
    let out = cairn().arg("--json").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "cairn {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("cairn {args:?}: not JSON ({e})"))
}

/// Stops the testnet however the test ends.
struct Down<'a>(&'a Path);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = cairn()
            .args(["testnet", "down", "--dir"])
            .arg(self.0)
            .output();
    }
}

#[test]
fn testnet_up_bench_verify_prove_down() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("net");
    let dir_s = dir.to_str().unwrap();
    let base = free_base().to_string();
    let _down = Down(&dir);

    // A taken port is refused before anything starts, naming the port and its use.
    let taken = TcpListener::bind(("127.0.0.1", base.parse::<u16>().unwrap() + 11)).unwrap();
    let out = cairn()
        .args(["testnet", "up", "--dir", dir_s, "--base-port", &base])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(rpc of node 1) is in use"), "{stderr}");
    drop(taken);

    let up = cairn_json(&[
        "testnet",
        "up",
        "-n",
        "4",
        "--dir",
        dir_s,
        "--base-port",
        &base,
        "--accounts",
        "8",
    ]);
    assert_eq!(up["nodes"].as_array().unwrap().len(), 4);
    assert!(up["height"].as_u64().unwrap() >= 1, "{up}");
    let rpc = up["nodes"][0]["rpc"].as_str().unwrap().to_string();

    // Up again on the same directory: refused for another size, resumed otherwise.
    let out = cairn()
        .args(["testnet", "up", "-n", "7", "--dir", dir_s])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("4-validator testnet"));

    let status = cairn_json(&["testnet", "status", "--dir", dir_s]);
    for node in status.as_array().unwrap() {
        assert_eq!(node["state"], "up", "{status}");
    }

    let bench = cairn_json(&[
        "testnet",
        "bench",
        "--dir",
        dir_s,
        "--rate",
        "100",
        "--duration",
        "3",
        "--accounts",
        "8",
    ]);
    let committed = bench["committed"].as_u64().unwrap();
    assert!(committed > 0, "{bench}");
    assert_eq!(
        bench["submitted"].as_u64().unwrap(),
        committed + bench["pending"].as_u64().unwrap(),
        "{bench}"
    );
    assert!(
        bench["latency"]["p50_ms"].as_f64().unwrap() > 0.0,
        "{bench}"
    );
    // Where the run stands: every validator's CPU was read from /proc, and the
    // signature bound measured here is far above what a debug testnet commits.
    let cpu = &bench["cpu"];
    let validators_s = cpu["validators_s"].as_array().unwrap();
    assert_eq!(validators_s.len(), 4, "{bench}");
    assert!(
        validators_s
            .iter()
            .all(|s| s.as_f64().is_some_and(|s| s > 0.0)),
        "{bench}"
    );
    assert!(
        cpu["us_per_tx_per_validator"].as_f64().unwrap() > 0.0,
        "{bench}"
    );
    assert!(
        cpu["generator_us_per_tx"].as_f64().unwrap() > 0.0,
        "{bench}"
    );
    let bound = bench["signature_bound"]["bound_tps"].as_f64().unwrap();
    let ratio = bench["bound_ratio"].as_f64().unwrap();
    assert!(bound > 0.0 && ratio > 0.0 && ratio < 1.0, "{bench}");
    // The load was signed before the window: at least what the rate sends in 3 s.
    assert!(bench["presigned"].as_u64().unwrap() >= 3 * 100, "{bench}");
    assert_eq!(bench["signed_in_window"].as_u64(), Some(0), "{bench}");
    // Each account submits through one node, in nonce order: batches keep that order,
    // so nothing is committed out of order (a bad nonce) or refused.
    assert_eq!(bench["rejected"].as_u64(), Some(0), "{bench}");

    let genesis = dir.join("genesis.json");
    let genesis_s = genesis.to_str().unwrap();
    let verify = cairn_json(&["explorer", "--rpc", &rpc, "--genesis", genesis_s, "verify"]);
    assert!(verify["blocks"].as_u64().unwrap() >= 1, "{verify}");
    assert!(
        verify["transactions"].as_u64().unwrap() >= committed,
        "{verify}"
    );
    // The chain was re-executed from the genesis: every signature checked, every
    // outcome and state hash the node recorded and every header's state claim agreed.
    let replay = &verify["replay"];
    assert_eq!(replay["transactions"], verify["transactions"], "{verify}");
    assert_eq!(
        replay["signatures_checked"], verify["transactions"],
        "{verify}"
    );
    assert_eq!(replay["bad_signatures"], 0, "{verify}");
    assert!(
        replay["state_claims_checked"].as_u64().unwrap() > 0,
        "{verify}"
    );

    // A committed transaction: the first block with one.
    let head = cairn_json(&["explorer", "--rpc", &rpc, "head"]);
    let top = head["height"].as_u64().unwrap();
    let hash = (1..=top)
        .find_map(|h| {
            let block = cairn_json(&["explorer", "--rpc", &rpc, "block", &h.to_string()]);
            block["txs"]
                .as_array()
                .and_then(|txs| txs.first())
                .map(|tx| tx["hash"].as_str().unwrap().to_string())
        })
        .expect("a block with transactions");
    let proof = cairn_json(&[
        "explorer",
        "--rpc",
        &rpc,
        "--genesis",
        genesis_s,
        "tx",
        &hash,
        "--prove",
    ]);
    assert_eq!(proof["proof"]["verified"], true, "{proof}");
    assert_eq!(proof["hash"], hash.as_str(), "{proof}");

    let down = cairn_json(&["testnet", "down", "--dir", dir_s]);
    for node in down.as_array().unwrap() {
        assert_eq!(node["outcome"], "stopped", "{down}");
    }
    let status = cairn_json(&["testnet", "status", "--dir", dir_s]);
    for node in status.as_array().unwrap() {
        assert_eq!(node["state"], "down", "{status}");
    }

    // Up again on the same directory resumes the same chain where it stopped.
    let again = cairn_json(&["testnet", "up", "-n", "4", "--dir", dir_s]);
    assert_eq!(again["resumed"], true, "{again}");
    assert_eq!(again["chain_id"], up["chain_id"], "{again}");
    assert!(
        again["height"].as_u64().unwrap() > top,
        "{again} (was at {top})"
    );
    let down = cairn_json(&["testnet", "down", "--dir", dir_s]);
    assert_eq!(down.as_array().unwrap().len(), 4, "{down}");
}
