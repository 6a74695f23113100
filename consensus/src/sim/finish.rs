//! The end of a run: progress checks and the outcome report.

use super::node::Role;
use super::outcome::{NodeReport, Outcome};
use super::scenarios;
use super::violation::Violation;
use super::world::World;

impl World {
    /// Whether every honest running instance committed a block proposed after
    /// progress became required, and signs (none is still recovering its safety
    /// state).
    pub(crate) fn all_fresh(&self) -> bool {
        self.now >= self.stats.stable_ms
            && self
                .nodes
                .iter()
                .filter(|n| n.is_honest() && n.is_up())
                .all(|n| n.fresh && !n.is_recovering())
    }

    pub(crate) fn min_honest_height(&self) -> u64 {
        self.nodes
            .iter()
            .filter(|n| n.is_honest() && n.is_up())
            .map(|n| n.committed.height)
            .min()
            .unwrap_or(0)
    }

    /// Progress (if `gaps`: no silent stretch beyond the bound) and expected height of
    /// every honest instance running at the end.
    pub(crate) fn check_progress(&mut self, gaps: bool) {
        let from = self.stats.stable_ms;
        let until = self.now;
        for i in 0..self.nodes.len() {
            let node = &self.nodes[i];
            if !node.is_honest() || !node.is_up() {
                continue;
            }
            let height = node.committed.height;
            if let Some(bound) = self.scenario.liveness_ms.filter(|_| gaps) {
                let times = node.counters.commit_times.clone();
                self.checker
                    .check_progress(i, &times, (from, until), bound, height);
            }
            if self.scenario.liveness_ms.is_some() && node.is_recovering() {
                self.checker.violations.push(Violation::StillRecovering {
                    instance: i,
                    height,
                });
            }
            if height < self.scenario.expect_commits {
                let expected = self.scenario.expect_commits;
                self.checker.violations.push(Violation::TooFewCommits {
                    instance: i,
                    height,
                    expected,
                });
            }
        }
    }

    /// See [`super::RunStats::longest_commit_gap_ms`]: (its length, its start).
    fn longest_commit_gap(&self) -> (u64, u64) {
        let mut times: Vec<u64> = self
            .nodes
            .iter()
            .filter(|n| n.is_honest())
            .flat_map(|n| n.counters.commit_times.iter().copied())
            .collect();
        times.sort_unstable();
        if times.is_empty() {
            return (self.now, 0);
        }
        times.push(self.now);
        times
            .windows(2)
            .map(|w| (w[1] - w[0], w[0]))
            .fold(
                (0, 0),
                |worst, gap| if gap.0 > worst.0 { gap } else { worst },
            )
    }

    pub(crate) fn outcome(mut self) -> Outcome {
        let nodes: Vec<NodeReport> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(instance, n)| NodeReport {
                instance,
                id: n.id,
                role: match &n.role {
                    Role::Honest => "honest".into(),
                    Role::Twin => "twin".into(),
                    Role::Byzantine(b) => format!("{:?}", b.behaviour),
                },
                up: n.is_up(),
                round: n.core.as_ref().map_or(0, |c| c.round()),
                height: n.committed.height,
                commits: n.counters.commit_times.len(),
                txs_committed: n.counters.txs_committed,
                signed: if n.is_honest() {
                    self.checker.signed_counts(n.id)
                } else {
                    (0, 0, 0)
                },
                evidence: n.counters.evidence,
                crashes: n.counters.crashes,
                wipes: n.counters.wipes,
                recoveries: n.counters.recoveries,
                recovering: n.is_recovering(),
                sent: n.counters.sent,
            })
            .collect();
        let honest: Vec<&NodeReport> = nodes.iter().filter(|n| n.role == "honest").collect();
        self.stats.honest_min_height = honest
            .iter()
            .filter(|n| n.up)
            .map(|n| n.height)
            .min()
            .unwrap_or(0);
        self.stats.honest_max_height = honest.iter().map(|n| n.height).max().unwrap_or(0);
        (
            self.stats.longest_commit_gap_ms,
            self.stats.longest_commit_gap_from_ms,
        ) = self.longest_commit_gap();
        self.stats.virtual_ms = self.now;
        self.stats.network = self.net.stats;
        self.stats.txs_arrived = self.mempool.arrived;
        self.stats.odd_txs = self.mempool.odd;
        let name = self.scenario.name.clone();
        Outcome {
            scenario: name.clone().unwrap_or_else(|| "unnamed".into()),
            seed: self.seed,
            violations: std::mem::take(&mut self.checker.violations),
            nodes,
            stats: self.stats,
            trace: self.trace.into_iter().collect(),
            replay: name.and_then(|n| scenarios::replay_command(&n, self.seed)),
        }
    }
}
