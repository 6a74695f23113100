//! Runs the real `cairn` binary: happy paths and every kind of bad input for the
//! `keys` and `genesis` commands.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn cairn(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("cairn").unwrap();
    cmd.current_dir(dir);
    cmd
}

/// Runs `cairn --json ARGS` and parses its stdout.
fn json(dir: &Path, args: &[&str]) -> Value {
    let output = cairn(dir).arg("--json").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "cairn {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Asserts that `cairn ARGS` fails with exit code 1 and a one-line error containing `needle`.
fn fails_with(dir: &Path, args: &[&str], needle: &str) {
    let output = cairn(dir).args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "cairn {args:?} should fail");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: "), "cairn {args:?}: {stderr}");
    assert!(
        last.contains(needle),
        "cairn {args:?}: expected {needle:?} in {last:?}"
    );
}

fn keygen(dir: &Path, kind: &str, name: &str) -> Value {
    json(dir, &["keys", "generate", "--kind", kind, "--out", name])
}

/// A valid four-validator genesis with one admin, built through the CLI.
fn four_validator_genesis(dir: &Path) -> PathBuf {
    cairn(dir)
        .args([
            "genesis",
            "new",
            "--chain-name",
            "test-net",
            "--genesis-time",
            "2026-11-23T00:00:00Z",
            "-o",
            "genesis.json",
        ])
        .assert()
        .success();
    for i in 0..4 {
        keygen(dir, "consensus", &format!("c{i}.key"));
        keygen(dir, "network", &format!("n{i}.key"));
        cairn(dir)
            .args([
                "genesis",
                "add-validator",
                "genesis.json",
                "--name",
                &format!("v{i}"),
            ])
            .args([
                "--consensus-key-file",
                &format!("c{i}.key"),
                "--network-key-file",
                &format!("n{i}.key"),
            ])
            .args(["--address", &format!("/ip4/127.0.0.1/tcp/{}", 30400 + i)])
            .assert()
            .success();
    }
    keygen(dir, "account", "admin.key");
    cairn(dir)
        .args([
            "genesis",
            "add-account",
            "genesis.json",
            "--key-file",
            "admin.key",
            "--role",
            "admin",
            "--balance",
            "1000",
        ])
        .assert()
        .success();
    dir.join("genesis.json")
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["keys", "--help"],
        vec!["keys", "generate", "--help"],
        vec!["keys", "show", "--help"],
        vec!["genesis", "--help"],
        vec!["genesis", "new", "--help"],
        vec!["genesis", "add-validator", "--help"],
        vec!["genesis", "add-account", "--help"],
        vec!["genesis", "validate", "--help"],
    ] {
        cairn(dir.path())
            .args(&args)
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage: cairn"));
    }
}

#[test]
fn keys_generate_and_show() {
    let dir = tempfile::tempdir().unwrap();
    let made = keygen(dir.path(), "network", "net.key");
    assert_eq!(made["kind"], "network");
    assert!(made["peer_id"].as_str().unwrap().starts_with("12D3KooW"));
    let shown = json(dir.path(), &["keys", "show", "net.key"]);
    assert_eq!(shown["public_key"], made["public_key"]);
    assert_eq!(shown["peer_id"], made["peer_id"]);

    // The file never shows up in output with its secret, and is owner-only.
    let text = std::fs::read_to_string(dir.path().join("net.key")).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let secret = file["secret_seed"].as_str().unwrap();
    let human = cairn(dir.path())
        .args(["keys", "show", "net.key"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&human.stdout).contains(secret));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("net.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn keys_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    keygen(dir.path(), "account", "a.key");
    fails_with(
        dir.path(),
        &["keys", "generate", "--kind", "account", "--out", "a.key"],
        "a.key",
    );
    fails_with(dir.path(), &["keys", "show", "missing.key"], "missing.key");
    std::fs::write(dir.path().join("junk.key"), "{\"kind\":").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let junk = dir.path().join("junk.key");
        std::fs::set_permissions(&junk, std::fs::Permissions::from_mode(0o600)).unwrap();
        fails_with(
            dir.path(),
            &["keys", "show", "junk.key"],
            "not a cairn key file",
        );
        std::fs::set_permissions(
            dir.path().join("a.key"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        fails_with(
            dir.path(),
            &["keys", "show", "a.key"],
            "readable by other users",
        );
    }
    // Unknown kind is a usage error (exit 2).
    cairn(dir.path())
        .args(["keys", "generate", "--kind", "wallet", "--out", "w.key"])
        .assert()
        .code(2);
}

#[test]
fn genesis_built_through_the_cli_validates() {
    let dir = tempfile::tempdir().unwrap();
    four_validator_genesis(dir.path());
    let summary = json(dir.path(), &["genesis", "validate", "genesis.json"]);
    assert_eq!(summary["valid"], true);
    assert_eq!(summary["validators"], 4);
    assert_eq!(summary["max_faulty"], 1);
    assert_eq!(summary["quorum"], 3);
    assert_eq!(summary["accounts"], 1);
    assert_eq!(summary["chain_id"].as_str().unwrap().len(), 64);
    cairn(dir.path())
        .args(["genesis", "validate", "genesis.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("n = 4, tolerates f = 1"));
}

#[test]
fn genesis_refuses_bad_additions_and_keeps_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = four_validator_genesis(dir.path());
    let before = std::fs::read(&path).unwrap();

    // A network key file offered as a consensus key.
    fails_with(
        dir.path(),
        &[
            "genesis",
            "add-validator",
            "genesis.json",
            "--name",
            "v9",
            "--consensus-key-file",
            "n0.key",
            "--peer-id",
            "x",
            "--address",
            "/ip4/127.0.0.1/tcp/1",
        ],
        "holds a network key",
    );
    // A consensus key that is already used.
    keygen(dir.path(), "network", "n9.key");
    fails_with(
        dir.path(),
        &[
            "genesis",
            "add-validator",
            "genesis.json",
            "--name",
            "v9",
            "--consensus-key-file",
            "c0.key",
            "--network-key-file",
            "n9.key",
            "--address",
            "/ip4/127.0.0.1/tcp/1",
        ],
        "validators[4].consensus_key",
    );
    // A malformed peer id and address.
    keygen(dir.path(), "consensus", "c9.key");
    fails_with(
        dir.path(),
        &[
            "genesis",
            "add-validator",
            "genesis.json",
            "--name",
            "v9",
            "--consensus-key-file",
            "c9.key",
            "--peer-id",
            "not-a-peer",
            "--address",
            "/ip4/127.0.0.1/tcp/1",
        ],
        "validators[4].peer_id",
    );
    fails_with(
        dir.path(),
        &[
            "genesis",
            "add-validator",
            "genesis.json",
            "--name",
            "v9",
            "--consensus-key-file",
            "c9.key",
            "--network-key-file",
            "n9.key",
            "--address",
            "127.0.0.1:30400",
        ],
        "validators[4].address",
    );
    // A malformed hex key.
    fails_with(
        dir.path(),
        &[
            "genesis",
            "add-account",
            "genesis.json",
            "--public-key",
            "abcd",
            "--role",
            "writer",
        ],
        "--public-key",
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a refused change must leave the file untouched"
    );

    // Unknown role is a usage error.
    cairn(dir.path())
        .args([
            "genesis",
            "add-account",
            "genesis.json",
            "--public-key",
            "00",
            "--role",
            "king",
        ])
        .assert()
        .code(2);
}

#[test]
fn genesis_validate_reports_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = four_validator_genesis(dir.path());
    let good = std::fs::read_to_string(&path).unwrap();

    // Unknown field.
    let mut doc: Value = serde_json::from_str(&good).unwrap();
    doc["validators"][1]["colour"] = "blue".into();
    std::fs::write(&path, doc.to_string()).unwrap();
    fails_with(
        dir.path(),
        &["genesis", "validate", "genesis.json"],
        "colour",
    );

    // Truncated JSON.
    std::fs::write(&path, &good[..good.len() / 2]).unwrap();
    fails_with(
        dir.path(),
        &["genesis", "validate", "genesis.json"],
        "genesis.json",
    );

    // No admin, and a duplicate peer id: both reported, in JSON too.
    let mut doc: Value = serde_json::from_str(&good).unwrap();
    doc["accounts"][0]["role"] = "writer".into();
    doc["validators"][2]["peer_id"] = doc["validators"][0]["peer_id"].clone();
    std::fs::write(&path, doc.to_string()).unwrap();
    fails_with(
        dir.path(),
        &["genesis", "validate", "genesis.json"],
        "is not a valid genesis",
    );
    let output = cairn(dir.path())
        .args(["--json", "genesis", "validate", "genesis.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["valid"], false);
    let problems: Vec<String> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    assert!(
        problems.iter().any(|p| p.contains("validators[2].peer_id")),
        "{problems:?}"
    );
    assert!(problems.iter().any(|p| p.contains("admin")), "{problems:?}");
    let err: Value = serde_json::from_slice(&output.stderr).unwrap();
    assert!(err["error"].as_str().unwrap().contains("genesis.json"));

    // No validators at all.
    cairn(dir.path())
        .args([
            "genesis",
            "new",
            "--chain-name",
            "empty",
            "-o",
            "empty.json",
        ])
        .assert()
        .success();
    fails_with(
        dir.path(),
        &["genesis", "validate", "empty.json"],
        "validator",
    );

    // Missing file.
    fails_with(
        dir.path(),
        &["genesis", "validate", "nope.json"],
        "nope.json",
    );
}

#[test]
fn genesis_new_refuses_to_overwrite_and_bad_names() {
    let dir = tempfile::tempdir().unwrap();
    cairn(dir.path())
        .args(["genesis", "new", "--chain-name", "a", "-o", "g.json"])
        .assert()
        .success();
    fails_with(
        dir.path(),
        &["genesis", "new", "--chain-name", "a", "-o", "g.json"],
        "--force",
    );
    cairn(dir.path())
        .args([
            "genesis",
            "new",
            "--chain-name",
            "b",
            "-o",
            "g.json",
            "--force",
        ])
        .assert()
        .success();
    fails_with(
        dir.path(),
        &[
            "genesis",
            "new",
            "--chain-name",
            "Bad Name!",
            "-o",
            "h.json",
        ],
        "chain_name",
    );
    fails_with(
        dir.path(),
        &[
            "genesis",
            "new",
            "--chain-name",
            "a",
            "--genesis-time",
            "yesterday",
            "-o",
            "h.json",
        ],
        "RFC 3339",
    );
}
