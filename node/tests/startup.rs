//! `cairn node init|run` refuse bad input at start with one line naming the cause.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::TcpListener;
use std::process::Output;

use common::cluster::{Cluster, cairn};

/// Runs `cairn node run` for validator 0 of `cluster` and returns its output (it must
/// fail before it would run).
fn run_node(cluster: &Cluster, genesis: &std::path::Path) -> Output {
    cairn()
        .args(["node", "run", "--home"])
        .arg(&cluster.validators[0].home)
        .arg("--genesis")
        .arg(genesis)
        .output()
        .unwrap()
}

fn one_line_error(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit status; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let last = stderr.lines().last().unwrap_or_default().to_string();
    assert!(last.starts_with("error: "), "{stderr}");
    last
}

#[test]
fn init_refuses_to_overwrite_a_home() {
    let cluster = Cluster::new(1, 1);
    let home = &cluster.validators[0].home;
    let out = cairn()
        .args(["node", "init", "--home"])
        .arg(home)
        .output()
        .unwrap();
    let line = one_line_error(&out);
    assert!(line.contains("config.toml already exists"), "{line}");
}

#[test]
fn broken_config_names_the_file_and_field() {
    let cluster = Cluster::new(1, 1);
    let config = cluster.validators[0].home.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("max_connections", "max_conections")).unwrap();
    let line = one_line_error(&run_node(&cluster, &cluster.genesis));
    assert!(
        line.contains("config.toml") && line.contains("max_conections"),
        "{line}"
    );

    std::fs::write(&config, text.replace("capacity = 50000", "capacity = 0")).unwrap();
    let line = one_line_error(&run_node(&cluster, &cluster.genesis));
    assert!(line.contains("mempool.capacity"), "{line}");
}

#[test]
fn broken_genesis_names_the_file() {
    let cluster = Cluster::new(1, 1);
    let bad = cluster.dir.path().join("bad-genesis.json");
    std::fs::write(&bad, "{ \"chain_name\": 5 }").unwrap();
    let line = one_line_error(&run_node(&cluster, &bad));
    assert!(
        line.contains("bad-genesis.json") && line.contains("chain_name"),
        "{line}"
    );
    let missing = cluster.dir.path().join("missing.json");
    let line = one_line_error(&run_node(&cluster, &missing));
    assert!(line.contains("missing.json"), "{line}");
}

#[test]
fn missing_or_foreign_keys_are_named() {
    let cluster = Cluster::new(1, 1);
    let keys = cluster.validators[0].home.join("keys");
    std::fs::rename(keys.join("network.json"), keys.join("network.bak")).unwrap();
    let line = one_line_error(&run_node(&cluster, &cluster.genesis));
    assert!(
        line.contains("node.network_key") && line.contains("network.json"),
        "{line}"
    );
    std::fs::rename(keys.join("network.bak"), keys.join("network.json")).unwrap();

    // A genesis this validator is not part of.
    let other = Cluster::new(1, 1);
    let line = one_line_error(&run_node(&cluster, &other.genesis));
    assert!(line.contains("is not a validator of the genesis"), "{line}");
}

#[test]
fn ports_in_use_are_named() {
    let cluster = Cluster::new(1, 1);
    let v = &cluster.validators[0];
    let taken = TcpListener::bind(("127.0.0.1", v.rpc_port)).unwrap();
    let line = one_line_error(&run_node(&cluster, &cluster.genesis));
    assert!(
        line.contains(&format!("rpc.listen 127.0.0.1:{}", v.rpc_port)),
        "{line}"
    );
    drop(taken);
    let taken = TcpListener::bind(("127.0.0.1", v.metrics_port)).unwrap();
    let line = one_line_error(&run_node(&cluster, &cluster.genesis));
    assert!(
        line.contains(&format!("metrics.listen 127.0.0.1:{}", v.metrics_port)),
        "{line}"
    );
    drop(taken);
}

#[test]
fn a_single_validator_commits_logs_json_and_stops_cleanly_on_sigterm() {
    let mut cluster = Cluster::new(1, 1);
    let config = cluster.validators[0].home.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("format = \"plain\"", "format = \"json\""),
    )
    .unwrap();
    cluster.start(0);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = cluster.client(0).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while client.chain_head().await.unwrap().height < 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "no commits:\n{}",
                cluster.log(0)
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    });
    let status = cluster.terminate(0);
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        cluster.log(0)
    );
    let log = std::fs::read_to_string(cluster.validators[0].home.join("node.log")).unwrap();
    let mut messages = Vec::new();
    for line in log.lines() {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        messages.push(value["message"].as_str().unwrap_or_default().to_string());
    }
    for expected in ["validator running", "committed", "shutting down", "stopped"] {
        assert!(
            messages.iter().any(|m| m == expected),
            "no {expected:?} log line in:\n{log}"
        );
    }
}
