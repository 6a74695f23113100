//! What a run produced: violations, per-instance summaries, counters, and the command
//! that replays it.

use std::fmt;

use cairn_types::{Height, Round, ValidatorId};

use super::network::NetworkStats;
use super::violation::Violation;

/// One instance at the end of a run.
#[derive(Clone, Debug)]
pub struct NodeReport {
    /// Instance index.
    pub instance: usize,
    /// Its validator id.
    pub id: ValidatorId,
    /// "honest", "twin" or the Byzantine behaviour.
    pub role: String,
    /// Whether it was running at the end.
    pub up: bool,
    /// Its round at the end (0 if down).
    pub round: Round,
    /// Its committed height.
    pub height: Height,
    /// Number of commit actions it performed.
    pub commits: usize,
    /// Transactions in the blocks it committed.
    pub txs_committed: u64,
    /// Rounds in which it proposed, voted and timed out (honest instances only).
    pub signed: (usize, usize, usize),
    /// Evidence actions it emitted.
    pub evidence: u64,
    /// Times it crashed.
    pub crashes: u32,
    /// Times it restarted with a wiped data directory.
    pub wipes: u32,
    /// Recoveries of its safety state it finished.
    pub recoveries: u32,
    /// Whether it was still recovering its safety state at the end.
    pub recovering: bool,
    /// Message copies it sent (a broadcast counts once per recipient).
    pub sent: u64,
}

/// Counters of a whole run.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    /// Events processed.
    pub events: u64,
    /// Virtual time reached, in milliseconds.
    pub virtual_ms: u64,
    /// The effective GST.
    pub gst_ms: u64,
    /// When progress started to be required (GST or the last restart).
    pub stable_ms: u64,
    /// When every honest running instance had committed a block proposed after
    /// `stable_ms` (progress shown), if it happened.
    pub live_ms: Option<u64>,
    /// What the network did.
    pub network: NetworkStats,
    /// Messages that reached a crashed instance (or an older incarnation).
    pub lost_to_crash: u64,
    /// Byte strings a driver could not decode as a message (and dropped).
    pub undecodable: u64,
    /// Odd client signatures made, and transactions carrying one that honest
    /// validators committed (counted once per validator).
    pub odd_txs: u64,
    /// See `odd_txs`.
    pub odd_txs_committed: u64,
    /// Of those, how many the signature rule found valid.
    pub odd_txs_valid: u64,
    /// Client transactions that arrived.
    pub txs_arrived: u64,
    /// The batch path (batched scenarios).
    pub batches: super::BatchStats,
    /// Lowest committed height among honest instances running at the end.
    pub honest_min_height: Height,
    /// The longest stretch of virtual time, from the first commit of the run to its
    /// end, in which no honest instance committed anything: how long the chain as a
    /// whole stood still (crashed instances' downtime alone does not count).
    pub longest_commit_gap_ms: u64,
    /// When that stretch began (virtual ms).
    pub longest_commit_gap_from_ms: u64,
    /// Highest committed height among honest instances.
    pub honest_max_height: Height,
    /// A fingerprint of the whole run: equal for equal runs.
    pub digest: u64,
}

/// The result of simulating one scenario with one seed.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The scenario's name (or "unnamed").
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// Every invariant broken (the run stops at the first safety violation).
    pub violations: Vec<Violation>,
    /// Each instance at the end.
    pub nodes: Vec<NodeReport>,
    /// Counters.
    pub stats: RunStats,
    /// The last lines of the event trace, if the scenario kept one.
    pub trace: Vec<String>,
    /// The shell command that replays this run, if the scenario is registered.
    pub replay: Option<String>,
}

impl Outcome {
    /// Whether every invariant held.
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }

    /// Whether agreement or no-equivocation was broken.
    pub fn safety_violated(&self) -> bool {
        self.violations.iter().any(Violation::is_safety)
    }

    /// Panics with the full report if any invariant was broken.
    #[track_caller]
    pub fn assert_ok(&self) {
        assert!(self.is_ok(), "\n{self}");
    }

    /// One line: scenario, seed, verdict, heights and size of the run.
    pub fn summary(&self) -> String {
        let verdict = match self.violations.first() {
            None => "ok".to_string(),
            Some(v) => format!("FAILED: {v}"),
        };
        format!(
            "{} seed {}: {verdict} | honest heights {}..={} | {} events, {} ms virtual, {} msgs ({} dropped, {} partitioned)",
            self.scenario,
            self.seed,
            self.stats.honest_min_height,
            self.stats.honest_max_height,
            self.stats.events,
            self.stats.virtual_ms,
            self.stats.network.sent,
            self.stats.network.dropped,
            self.stats.network.partitioned,
        )
    }

    /// How to replay this run: the command, or what to call in code.
    pub fn replay_hint(&self) -> String {
        match &self.replay {
            Some(command) => command.clone(),
            None => format!(
                "(unregistered scenario) call .trace(400).run({}) on it",
                self.seed
            ),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary())?;
        for v in &self.violations {
            writeln!(f, "  violation: {v}")?;
        }
        writeln!(
            f,
            "  GST {} ms, progress required from {} ms, shown at {}; {} txs arrived ({} with odd signatures; committed {}, of them valid {}); {} msgs lost to crashes; {} undecodable",
            self.stats.gst_ms,
            self.stats.stable_ms,
            self.stats
                .live_ms
                .map_or("never".into(), |t| format!("{t} ms")),
            self.stats.txs_arrived,
            self.stats.odd_txs,
            self.stats.odd_txs_committed,
            self.stats.odd_txs_valid,
            self.stats.lost_to_crash,
            self.stats.undecodable
        )?;
        let b = &self.stats.batches;
        if b.made > 0 {
            writeln!(
                f,
                "  batches: {} made, {} certified, {} proposals by proof, {} assembled, {} fetches ({} answered, {} given up), {} refused, {} expired",
                b.made,
                b.certified,
                b.batched_proposals,
                b.assembled,
                b.fetches,
                b.fetched,
                b.fetches_abandoned,
                b.refused,
                b.expired
            )?;
        }
        for n in &self.nodes {
            writeln!(
                f,
                "  #{:<2} {:<4} {:<24} {:<4} round {:>5} height {:>5} commits {:>4} txs {:>6} signed p/v/t {}/{}/{} evidence {} crashes {} wipes {} recoveries {}{} sent {}",
                n.instance,
                n.id.to_string(),
                n.role,
                if n.up { "up" } else { "down" },
                n.round,
                n.height,
                n.commits,
                n.txs_committed,
                n.signed.0,
                n.signed.1,
                n.signed.2,
                n.evidence,
                n.crashes,
                n.wipes,
                n.recoveries,
                if n.recovering { " (recovering)" } else { "" },
                n.sent
            )?;
        }
        if !self.trace.is_empty() {
            writeln!(f, "  last {} trace lines:", self.trace.len())?;
            for line in &self.trace {
                writeln!(f, "    {line}")?;
            }
        }
        write!(f, "  replay: {}", self.replay_hint())
    }
}
