//! The checker of a fault run. It trusts no node: every claim is compared across all
//! of them, and the data directories are audited offline against the genesis.
//!
//! * **no acknowledged transaction lost**: each one a node acknowledged is in a block
//!   (committed or rejected with a receipt) on every node;
//! * **one chain**: the same block id and executed state hash at every height;
//! * **audit**: `cairn explorer verify` passes on a copy of each data directory;
//! * **no honest validator equivocated**: no honest validator keeps evidence against
//!   an honest one (and, with an equivocating validator in the run, some honest one
//!   keeps evidence against it);
//! * **commits resume**: after each fault ends (restart, resume, wipe, heal), the
//!   chain's height rises within the scenario's `resume_within_s`;
//! * **back at the head**: a restarted, resumed or wiped validator (after a heal:
//!   every validator) reaches the height the others had at that moment within the
//!   same bound.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cairn_crypto::Hash;
use cairn_rpc::Client;
use cairn_rpc::types::{ConsensusStatus, TxStatus};
use serde::Serialize;

use super::{Action, Applied, Sample, Scenario};
use crate::layout::Layout;

/// One check's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Whether it held.
    pub ok: bool,
    /// The figures, or what broke.
    pub detail: String,
}

/// Every check of a run.
pub type Verdict = Vec<Check>;

/// Whether every check held.
pub fn all_ok(verdict: &Verdict) -> bool {
    verdict.iter().all(|c| c.ok)
}

/// What the checks read.
pub struct Inputs<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// The faults as applied.
    pub applied: &'a [Applied],
    /// Heights sampled during the run.
    pub samples: &'a [Sample],
    /// Acknowledged submissions.
    pub acked: &'a [(Hash, usize)],
    /// One client per honest node.
    pub clients: &'a [std::sync::Arc<Client>],
    /// Which validators are honest.
    pub honest: &'a [bool],
    /// The run's directory.
    pub layout: &'a Layout,
    /// The `cairn` binary.
    pub cairn: &'a Path,
    /// Whether everything acknowledged settled in time (or what had not).
    pub settle: Result<Duration, String>,
    /// Stall reports taken when commits did not resume.
    pub stalls: Vec<(usize, Option<ConsensusStatus>)>,
}

/// Waits until every acknowledged transaction is in a block on every node; how long
/// it took, or which were still missing at `limit`.
pub async fn settle(
    clients: &[std::sync::Arc<Client>],
    acked: &[(Hash, usize)],
    limit: Duration,
) -> Result<Duration, String> {
    let start = Instant::now();
    let mut waiting: Vec<(usize, Hash)> = (0..clients.len())
        .flat_map(|node| acked.iter().map(move |(hash, _)| (node, *hash)))
        .collect();
    while !waiting.is_empty() {
        // Many questions at once: one at a time, 60,000 of them took the checker
        // itself most of two minutes.
        use futures::StreamExt;
        let answers: Vec<((usize, Hash), bool)> = futures::stream::iter(waiting)
            .map(|(node, hash)| async move {
                let final_ = match clients[node].tx_get(&hash).await {
                    Ok(info) => matches!(info.status, TxStatus::Committed | TxStatus::Rejected),
                    Err(_) => false,
                };
                ((node, hash), final_)
            })
            .buffer_unordered(32)
            .collect()
            .await;
        waiting = answers
            .into_iter()
            .filter(|(_, final_)| !final_)
            .map(|(pair, _)| pair)
            .collect();
        if waiting.is_empty() {
            break;
        }
        if start.elapsed() > limit {
            let nodes: std::collections::BTreeSet<usize> =
                waiting.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "{} (node, transaction) pairs not in a block after {limit:?}, on nodes {nodes:?}",
                waiting.len()
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(start.elapsed())
}

/// Whether the highest height rose after `since_s` in the samples.
pub fn resumed_everywhere(samples: &[Sample], since_s: f64) -> bool {
    resume_time(samples, since_s).is_some()
}

/// Every node's stall report (`None` where it did not answer).
pub async fn stall_reports(
    clients: &[std::sync::Arc<Client>],
) -> Vec<(usize, Option<ConsensusStatus>)> {
    let mut reports = Vec::new();
    for (i, client) in clients.iter().enumerate() {
        let report = tokio::time::timeout(Duration::from_secs(3), client.consensus_status()).await;
        reports.push((i, report.ok().and_then(|r| r.ok())));
    }
    reports
}

/// The checks that ask the running nodes.
pub async fn chain_checks(inputs: &Inputs<'_>) -> Verdict {
    let mut verdict = vec![lost_check(inputs)];
    verdict.push(one_chain(inputs.clients).await);
    verdict.extend(resume_checks(inputs));
    if let Some(rate) = &inputs.scenario.rate {
        verdict.push(rate_check(rate, inputs.samples));
    }
    if inputs.scenario.discovery == super::scenario::Discovery::Bootstrap {
        verdict.push(discovery_check(inputs).await);
    }
    if !inputs.stalls.is_empty() {
        let lines: Vec<String> = inputs
            .stalls
            .iter()
            .map(|(i, r)| match r {
                Some(r) => format!("v{i}: {}", r.diagnosis),
                None => format!("v{i}: no answer"),
            })
            .collect();
        verdict.push(Check {
            name: "stall reports".into(),
            ok: false,
            detail: lines.join("; "),
        });
    }
    verdict
}

/// With one bootstrap address: every honest node is connected to every other honest
/// one, whose addresses only discovery told it.
async fn discovery_check(inputs: &Inputs<'_>) -> Check {
    let honest: Vec<usize> = (0..inputs.scenario.validators)
        .filter(|i| is_honest(inputs, *i))
        .collect();
    let mut missing = Vec::new();
    for (k, client) in inputs.clients.iter().enumerate() {
        let me = honest[k];
        match client.system_peers().await {
            Ok(peers) => missing.extend(
                peers
                    .iter()
                    .filter(|p| honest.contains(&usize::from(p.id)) && !p.connected)
                    .map(|p| format!("v{me}–v{}", p.id)),
            ),
            Err(e) => missing.push(format!("v{me}: {e}")),
        }
    }
    Check {
        name: "discovery from one bootstrap address".into(),
        ok: missing.is_empty(),
        detail: if missing.is_empty() {
            format!(
                "the genesis lists v0's address only; all {} honest validators connected to each other",
                honest.len()
            )
        } else {
            format!("not connected: {}", missing.join(", "))
        },
    }
}

/// The honest chain's rate during the fault against its rate without it.
fn rate_check(rate: &super::scenario::RateCheck, samples: &[Sample]) -> Check {
    let name = "commit rate under the fault".to_string();
    let (Some(base), Some(faulty)) = (
        blocks_per_second(samples, rate.baseline),
        blocks_per_second(samples, rate.faulty),
    ) else {
        return Check {
            name,
            ok: false,
            detail: "no height samples in a window".into(),
        };
    };
    let share = if base > 0.0 { faulty / base } else { 0.0 };
    let floor = rate
        .min_blocks_per_s
        .map(|b| format!(", and {b:.2} blocks/s"))
        .unwrap_or_default();
    Check {
        name,
        ok: share >= rate.min_share && rate.min_blocks_per_s.is_none_or(|b| faulty >= b),
        detail: format!(
            "{:.0} % of the fault-free rate (needs {:.0} %{floor}): {faulty:.2} blocks/s in {:?} s, {base:.2} blocks/s in {:?} s",
            share * 100.0,
            rate.min_share * 100.0,
            rate.faulty,
            rate.baseline
        ),
    }
}

/// Blocks per second of the highest honest height over `[from, to]` (the samples
/// nearest the two ends).
pub fn blocks_per_second(samples: &[Sample], [from, to]: [f64; 2]) -> Option<f64> {
    let inside: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at_s >= from && s.at_s <= to)
        .collect();
    let (first, last) = (inside.first()?, inside.last()?);
    let top = |s: &Sample| s.heights.iter().flatten().max().copied();
    let (a, b) = (top(first)?, top(last)?);
    let seconds = last.at_s - first.at_s;
    (seconds > 0.0).then(|| b.saturating_sub(a) as f64 / seconds)
}

/// The checks on the stopped validators' data directories.
pub fn disk_checks(inputs: &Inputs<'_>) -> Verdict {
    let n = inputs.scenario.validators;
    let honest: Vec<usize> = (0..n).filter(|i| is_honest(inputs, *i)).collect();
    let mut verdict = Vec::new();
    // Evidence files are named `<kind>-round<r>-validator<culprit>.hex`.
    let mut against_honest = Vec::new();
    let mut against_byzantine = 0usize;
    for i in &honest {
        let dir = inputs.layout.home(*i).join("evidence");
        let names: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        for name in names {
            match culprit(&name) {
                Some(c) if !is_honest(inputs, c) => against_byzantine += 1,
                _ => against_honest.push(format!("v{i} keeps {name}")),
            }
        }
    }
    verdict.push(Check {
        name: "no honest validator equivocated".into(),
        ok: against_honest.is_empty(),
        detail: if against_honest.is_empty() {
            format!(
                "no evidence against an honest validator on any of the {} honest ones",
                honest.len()
            )
        } else {
            against_honest.join("; ")
        },
    });
    let equivocators: Vec<usize> = inputs
        .scenario
        .byzantine
        .iter()
        .filter(|b| b.behaviour == "equivocate" || b.behaviour == "double-vote")
        .map(|b| b.node)
        .collect();
    if !equivocators.is_empty() {
        verdict.push(Check {
            name: "equivocation evidence reported".into(),
            ok: against_byzantine > 0,
            detail: format!(
                "{against_byzantine} evidence files against the equivocating {equivocators:?} on the honest validators"
            ),
        });
    }
    let audits: Vec<String> = honest
        .iter()
        .filter_map(|i| audit(inputs, *i).err())
        .collect();
    verdict.push(Check {
        name: "audit of every honest data directory".into(),
        ok: audits.is_empty(),
        detail: if audits.is_empty() {
            format!(
                "`cairn explorer verify` passed on a copy of each of the {}",
                honest.len()
            )
        } else {
            audits.join("; ")
        },
    });
    verdict
}

fn is_honest(inputs: &Inputs<'_>, i: usize) -> bool {
    inputs.honest.get(i).copied().unwrap_or(true)
}

/// The culprit an evidence file names (`…-validator<id>.hex`).
fn culprit(file_name: &str) -> Option<usize> {
    file_name
        .strip_suffix(".hex")?
        .rsplit_once("-validator")?
        .1
        .parse()
        .ok()
}

fn lost_check(inputs: &Inputs<'_>) -> Check {
    let acked = inputs.acked.len();
    match &inputs.settle {
        Ok(took) => Check {
            name: "no acknowledged transaction lost".into(),
            ok: acked > 0,
            detail: format!(
                "{acked} acknowledged, all in a block on every node ({:.1} s after the end)",
                took.as_secs_f64()
            ),
        },
        Err(missing) => Check {
            name: "no acknowledged transaction lost".into(),
            ok: false,
            detail: format!("{acked} acknowledged; {missing}"),
        },
    }
}

async fn one_chain(clients: &[std::sync::Arc<Client>]) -> Check {
    let mut lowest = u64::MAX;
    for client in clients {
        lowest = lowest.min(client.chain_head().await.map(|h| h.height).unwrap_or(0));
    }
    for h in 1..=lowest {
        let mut first = None;
        for (i, client) in clients.iter().enumerate() {
            let block = match client.chain_get_block(h).await {
                Ok(block) => (block.id, block.result_state_root),
                Err(e) => return broken(format!("v{i} cannot serve height {h}: {e}")),
            };
            match &first {
                None => first = Some(block),
                Some(seen) if *seen != block => {
                    return broken(format!("v{i} differs from v0 at height {h}: a fork"));
                }
                Some(_) => {}
            }
        }
    }
    Check {
        name: "one chain".into(),
        ok: lowest > 0,
        detail: format!(
            "identical block ids and state hashes at heights 1..={lowest} on every node"
        ),
    }
}

fn broken(detail: String) -> Check {
    Check {
        name: "one chain".into(),
        ok: false,
        detail,
    }
}

/// Seconds from `since_s` until the highest height of any node rose above what it was
/// at `since_s`.
fn resume_time(samples: &[Sample], since_s: f64) -> Option<f64> {
    let top = |s: &Sample| s.heights.iter().flatten().copied().max().unwrap_or(0);
    let before = samples
        .iter()
        .filter(|s| s.at_s <= since_s)
        .map(top)
        .max()
        .unwrap_or(0);
    samples
        .iter()
        .find(|s| s.at_s > since_s && top(s) > before)
        .map(|s| s.at_s - since_s)
}

/// Seconds from `since_s` until node `i` reached the highest height any node had then.
fn catch_up_time(samples: &[Sample], i: usize, since_s: f64) -> Option<f64> {
    let target = samples
        .iter()
        .filter(|s| s.at_s <= since_s)
        .flat_map(|s| s.heights.iter().flatten().copied())
        .max()
        .unwrap_or(0);
    samples
        .iter()
        .find(|s| {
            s.at_s > since_s
                && s.heights
                    .get(i)
                    .copied()
                    .flatten()
                    .is_some_and(|h| h >= target)
        })
        .map(|s| s.at_s - since_s)
}

fn resume_checks(inputs: &Inputs<'_>) -> Verdict {
    let bound = inputs.scenario.resume_within_s as f64;
    let mut verdict = Vec::new();
    for fault in inputs.applied.iter().filter(|f| f.action.ends_a_fault()) {
        let what = format!(
            "{:?} {:?} at {:.1} s",
            fault.action, fault.nodes, fault.at_s
        );
        let resumed = resume_time(inputs.samples, fault.at_s);
        verdict.push(Check {
            name: format!("commits resume after {what}"),
            ok: resumed.is_some_and(|t| t <= bound),
            detail: match resumed {
                Some(t) => format!("in {t:.2} s (bound {bound} s)"),
                None => "the height never rose again during the run".into(),
            },
        });
        // Who must be back at the head: the validators it restarted or resumed, or
        // after a heal every validator (the cut-off side catches up).
        // A Byzantine validator's height is not sampled: it promises nothing.
        let back_nodes: Vec<usize> = match fault.action {
            Action::Heal => (0..inputs.scenario.validators).collect::<Vec<_>>(),
            _ => fault.nodes.clone(),
        }
        .into_iter()
        .filter(|i| is_honest(inputs, *i))
        .collect();
        for i in &back_nodes {
            let back = catch_up_time(inputs.samples, *i, fault.at_s);
            verdict.push(Check {
                name: format!("v{i} back at the head after {what}"),
                ok: back.is_some_and(|t| t <= bound),
                detail: match back {
                    Some(t) => format!("in {t:.2} s (bound {bound} s)"),
                    None => "it never reached the others' height during the run".into(),
                },
            });
        }
    }
    verdict
}

/// `cairn explorer verify` on a copy of validator `i`'s data directory.
fn audit(inputs: &Inputs<'_>, i: usize) -> Result<(), String> {
    let data = inputs.layout.data(i);
    let copy = inputs.layout.dir.join(format!("audit-copy-{i}"));
    let copied = Command::new("cp")
        .arg("-a")
        .arg(&data)
        .arg(&copy)
        .status()
        .map_err(|e| format!("v{i}: cannot copy {}: {e}", data.display()))?;
    if !copied.success() {
        return Err(format!("v{i}: cannot copy {}", data.display()));
    }
    let out = Command::new(inputs.cairn)
        .arg("explorer")
        .arg("--data-dir")
        .arg(&copy)
        .arg("--genesis")
        .arg(inputs.layout.genesis())
        .arg("verify")
        .output()
        .map_err(|e| format!("v{i}: cannot run the explorer: {e}"))?;
    let _ = std::fs::remove_dir_all(&copy);
    if out.status.success() {
        Ok(())
    } else {
        let text = String::from_utf8_lossy(&out.stdout);
        let tail: Vec<&str> = text.lines().rev().take(3).collect();
        Err(format!("v{i}: verify failed: {}", tail.join(" / ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_s: f64, heights: &[Option<u64>]) -> Sample {
        Sample {
            at_s,
            heights: heights.to_vec(),
        }
    }

    #[test]
    fn the_rate_is_the_honest_top_height_over_the_window() {
        let samples = [
            sample(0.0, &[Some(0), Some(0), None]),
            sample(5.0, &[Some(40), Some(50), None]),
            sample(10.0, &[Some(90), Some(100), None]),
            sample(20.0, &[Some(120), Some(110), None]),
        ];
        assert_eq!(blocks_per_second(&samples, [0.0, 10.0]), Some(10.0));
        assert_eq!(blocks_per_second(&samples, [10.0, 20.0]), Some(2.0));
        assert_eq!(blocks_per_second(&samples, [30.0, 40.0]), None);
        let rate = super::super::scenario::RateCheck {
            baseline: [0.0, 10.0],
            faulty: [10.0, 20.0],
            min_share: 0.8,
            min_blocks_per_s: None,
        };
        let check = rate_check(&rate, &samples);
        assert!(!check.ok, "{check:?}");
        assert!(check.detail.starts_with("20 %"), "{check:?}");
        // An absolute floor: 2 blocks/s passes a floor of 2 with no share needed, and
        // fails a floor of 3.
        let floor = |b: f64| super::super::scenario::RateCheck {
            min_share: 0.0,
            min_blocks_per_s: Some(b),
            ..rate.clone()
        };
        assert!(rate_check(&floor(2.0), &samples).ok);
        let check = rate_check(&floor(3.0), &samples);
        assert!(!check.ok, "{check:?}");
        assert!(check.detail.contains("and 3.00 blocks/s"), "{check:?}");
    }

    fn inputs<'a>(
        scenario: &'a Scenario,
        applied: &'a [Applied],
        samples: &'a [Sample],
        layout: &'a Layout,
        settle: Result<Duration, String>,
    ) -> Inputs<'a> {
        Inputs {
            scenario,
            applied,
            samples,
            acked: &[],
            clients: &[],
            honest: &[],
            layout,
            cairn: Path::new("cairn"),
            settle,
            stalls: Vec::new(),
        }
    }

    #[test]
    fn a_chain_that_never_resumes_and_a_node_that_never_catches_up_are_violations() {
        let scenario: Scenario = toml::from_str("validators = 4\nduration_s = 10\n").unwrap();
        let applied = [Applied {
            at_s: 2.0,
            action: Action::Restart,
            nodes: vec![3],
            groups: Vec::new(),
        }];
        let stuck = [
            sample(1.0, &[Some(9), Some(9), Some(9), None]),
            sample(5.0, &[Some(9), Some(9), Some(9), Some(3)]),
        ];
        let layout = Layout::new(Path::new("/nonexistent"));
        let verdict = resume_checks(&inputs(
            &scenario,
            &applied,
            &stuck,
            &layout,
            Ok(Duration::ZERO),
        ));
        assert_eq!(verdict.len(), 2);
        assert!(verdict.iter().all(|c| !c.ok), "{verdict:?}");
        // Too slow is as bad as never: the bound is 10 s.
        let slow = [
            sample(1.0, &[Some(9), Some(9), Some(9), None]),
            sample(14.0, &[Some(10), Some(10), Some(10), Some(10)]),
        ];
        let verdict = resume_checks(&inputs(
            &scenario,
            &applied,
            &slow,
            &layout,
            Ok(Duration::ZERO),
        ));
        assert!(verdict.iter().all(|c| !c.ok), "{verdict:?}");
        let quick = [
            sample(1.0, &[Some(9), Some(9), Some(9), None]),
            sample(3.0, &[Some(10), Some(10), Some(10), Some(10)]),
        ];
        let verdict = resume_checks(&inputs(
            &scenario,
            &applied,
            &quick,
            &layout,
            Ok(Duration::ZERO),
        ));
        assert!(verdict.iter().all(|c| c.ok), "{verdict:?}");
    }

    #[test]
    fn unsettled_or_missing_acknowledgements_are_violations() {
        let scenario: Scenario = toml::from_str("validators = 4\nduration_s = 10\n").unwrap();
        let layout = Layout::new(Path::new("/nonexistent"));
        let missing = Err("3 (node, transaction) pairs not in a block".to_string());
        let check = lost_check(&inputs(&scenario, &[], &[], &layout, missing));
        assert!(!check.ok && check.detail.contains("3 (node, transaction)"));
        // A run in which nothing was acknowledged proves nothing: not ok either.
        let check = lost_check(&inputs(&scenario, &[], &[], &layout, Ok(Duration::ZERO)));
        assert!(!check.ok);
    }

    #[test]
    fn evidence_on_disk_and_a_failed_audit_are_violations() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        let evidence = layout.home(1).join("evidence");
        std::fs::create_dir_all(&evidence).unwrap();
        std::fs::write(evidence.join("double-vote-round7-validator2.hex"), b"x").unwrap();
        let scenario: Scenario = toml::from_str("validators = 4\nduration_s = 10\n").unwrap();
        let mut inputs = inputs(&scenario, &[], &[], &layout, Ok(Duration::ZERO));
        inputs.cairn = Path::new("/bin/false");
        let verdict = disk_checks(&inputs);
        assert!(!verdict[0].ok && verdict[0].detail.contains("v1 keeps double-vote-round7"));
        assert_eq!(culprit("double-vote-round7-validator2.hex"), Some(2));
        // No data directory to copy, and an explorer that fails: the audit fails.
        assert!(!verdict[1].ok, "{:?}", verdict[1]);
    }

    #[test]
    fn resume_and_catch_up_times_come_from_the_samples() {
        let samples = [
            sample(1.0, &[Some(5), Some(5), None]),
            sample(2.0, &[Some(5), Some(5), Some(0)]),
            sample(3.5, &[Some(6), Some(6), Some(2)]),
            sample(4.0, &[Some(7), Some(7), Some(6)]),
        ];
        assert_eq!(resume_time(&samples, 1.5), Some(2.0));
        assert_eq!(catch_up_time(&samples, 2, 1.5), Some(2.5));
        assert_eq!(resume_time(&samples, 4.0), None);
    }
}
