//! A live Byzantine validator on its own host: `testnet/scenarios/byzantine.toml`
//! (validator 3 equivocates in every round it leads) through the fault runner. Only
//! in builds with `--features byzantine` (scripts/test runs it so).
#![cfg(feature = "byzantine")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::cluster::cairn;
use serde_json::Value;

#[test]
fn the_honest_three_survive_an_equivocating_validator_and_report_it() {
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testnet/scenarios/byzantine.toml"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = cairn()
        .args([
            "--json",
            "testnet",
            "faults",
            "--scenario",
            scenario,
            "--dir",
        ])
        .arg(dir.path().join("run"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the fault run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdict: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let evidence = verdict
        .iter()
        .find(|c| c["name"] == "equivocation evidence reported")
        .expect("an evidence check");
    assert_eq!(evidence["ok"], Value::Bool(true), "{evidence}");
    assert!(verdict.iter().all(|c| c["ok"] == Value::Bool(true)));
}
