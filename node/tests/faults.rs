//! The fault runner as CI runs it on every change: `cairn testnet faults` with
//! `testnet/scenarios/ci.toml` (a kill -9 and restart, a pause, a wiped data
//! directory, an isolated validator, a 2/2 split, one-way loss and a slow link, under
//! load) on validators that each run in their own network namespace. Needs root, iproute2 and nftables, which
//! the test command installs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::cluster::cairn;
use serde_json::Value;

#[test]
fn the_ci_scenario_passes_every_check_on_separate_hosts() {
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/../testnet/scenarios/ci.toml");
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let child = cairn()
        .args([
            "--json",
            "testnet",
            "faults",
            "--scenario",
            scenario,
            "--dir",
        ])
        .arg(&run_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The runner names its namespaces after its process id.
    let tag = format!("cairn-{:05}-", child.id() % 100_000);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the fault run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdict: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let names: Vec<&str> = verdict
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for expected in [
        "no acknowledged transaction lost",
        "one chain",
        "no honest validator equivocated",
        "audit of every honest data directory",
        "v2 back at the head after Restart [2] at",
        "v3 back at the head after Wipe [3] at",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(expected)),
            "no check {expected:?} in {names:?}"
        );
    }
    assert!(verdict.iter().all(|c| c["ok"] == Value::Bool(true)));
    let resumed = names
        .iter()
        .filter(|n| n.starts_with("commits resume"))
        .count();
    assert_eq!(
        resumed, 6,
        "a resume check per restart, resume, wipe and heal"
    );
    // Nothing of the run's hosts is left behind.
    let netns = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    let left = String::from_utf8_lossy(&netns.stdout);
    assert!(!left.contains(&tag), "namespaces left behind: {left}");
}
