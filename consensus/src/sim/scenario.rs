//! The scenario builder: who is faulty, what the network does, when nodes crash, and
//! what must hold. One scenario plus one seed determine a run completely.
//!
//! ```ignore
//! Scenario::n(4)
//!     .byzantine(0, Behaviour::EquivocatingLeader)
//!     .crash(2).at(5_000).restart_at(9_000)
//!     .partition(&[&[0, 1], &[2, 3]]).heal_at(20_000)
//!     .drops(0.05)
//!     .run_until(60_000)
//!     .expect_commits(10)
//!     .run(seed)
//!     .assert_ok();
//! ```

use std::collections::BTreeMap;

use super::byzantine::Behaviour;
use super::faults::{Crash, CrashBuilder, PartitionBuilder};
use super::network::{NetworkConfig, Partition};
use super::outcome::Outcome;
use super::workload::Workload;
use super::world::World;
use crate::Config;

/// The consensus parameters the simulator uses unless told otherwise: short rounds so
/// runs cover many of them, and a heartbeat long enough to see idle behaviour.
pub fn sim_config() -> Config {
    Config {
        round_timeout_ms: 1_000,
        max_round_timeout_ms: 8_000,
        heartbeat_ms: 2_000,
        round_window: 100,
        max_block_txs: 200,
        max_block_bytes: 256 * 1024,
    }
}

/// A run to simulate: built with the methods below, then [`Scenario::run`] per seed.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub(crate) name: Option<String>,
    pub(crate) n: usize,
    pub(crate) config: Config,
    pub(crate) network: NetworkConfig,
    pub(crate) byzantine: BTreeMap<usize, Behaviour>,
    pub(crate) twins: Vec<usize>,
    pub(crate) crashes: Vec<Crash>,
    pub(crate) partitions: Vec<Partition>,
    pub(crate) gst_ms: u64,
    pub(crate) workload: Workload,
    pub(crate) run_until_ms: u64,
    pub(crate) stop_at_height: Option<u64>,
    pub(crate) stop_once_live: bool,
    pub(crate) durable_blocks: bool,
    pub(crate) expect_commits: u64,
    pub(crate) liveness_ms: Option<u64>,
    pub(crate) trace_lines: usize,
    pub(crate) odd_signatures: Option<f64>,
    pub(crate) batched: bool,
    pub(crate) every_tx_within_ms: Option<u64>,
    #[cfg(feature = "unsafe-test-variants")]
    pub(crate) unsafe_variant: Option<crate::UnsafeVariant>,
}

impl Scenario {
    /// `n` honest validators, a calm network, bursty transactions, 60 s of virtual
    /// time, and progress required within 30 s of GST.
    pub fn n(n: usize) -> Scenario {
        assert!(
            (1..=256).contains(&n),
            "a scenario needs 1 to 256 validators, not {n}"
        );
        Scenario {
            name: None,
            n,
            config: sim_config(),
            network: NetworkConfig::default(),
            byzantine: BTreeMap::new(),
            twins: Vec::new(),
            crashes: Vec::new(),
            partitions: Vec::new(),
            gst_ms: 0,
            workload: Workload::bursty(),
            run_until_ms: 60_000,
            stop_at_height: None,
            stop_once_live: false,
            durable_blocks: false,
            expect_commits: 1,
            liveness_ms: Some(30_000),
            trace_lines: 0,
            odd_signatures: None,
            batched: false,
            every_tx_within_ms: None,
            #[cfg(feature = "unsafe-test-variants")]
            unsafe_variant: None,
        }
    }

    /// Client transactions go in batches, as in the node: each to one validator,
    /// which disseminates it in a batch that gets certified; leaders propose proofs,
    /// and receivers fetch the batches they lack from the proofs' signers.
    pub fn batched(mut self) -> Scenario {
        self.batched = true;
        self
    }

    /// Batched scenarios: every transaction given to an honest validator that does
    /// not crash afterwards is committed within `ms` of its arrival or of the time
    /// progress is required, whichever is later (checked at the end of a full run).
    pub fn expect_every_tx_within(mut self, ms: u64) -> Scenario {
        self.every_tx_within_ms = Some(ms);
        self
    }

    /// Names the scenario; a registered name (see [`super::scenarios`]) lets a failure
    /// print the command that replays it.
    pub fn named(mut self, name: &str) -> Scenario {
        self.name = Some(name.to_string());
        self
    }

    /// The scenario's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Number of validators.
    pub fn validators(&self) -> usize {
        self.n
    }

    /// Number of instances: the validators, then one per twin.
    pub fn instances(&self) -> usize {
        self.n + self.twins.len()
    }

    /// Uses these consensus parameters.
    pub fn config(mut self, config: Config) -> Scenario {
        self.config = config;
        self
    }

    /// Uses this network model.
    pub fn network(mut self, network: NetworkConfig) -> Scenario {
        self.network = network;
        self
    }

    /// Makes validator `id` Byzantine.
    pub fn byzantine(mut self, id: usize, behaviour: Behaviour) -> Scenario {
        self.byzantine.insert(id, behaviour);
        self
    }

    /// Adds a second instance of validator `id` with the same key (Twins). The new
    /// instance's index is `n`, `n + 1`, … in the order twins are added.
    pub fn twins(mut self, id: usize) -> Scenario {
        self.twins.push(id);
        self
    }

    /// Crashes instance `instance`: say when with [`CrashBuilder::at`] (or
    /// [`CrashBuilder::after_signing`]: right after its next vote or timeout), then
    /// [`super::CrashAt::restart_at`], [`super::CrashAt::restart_wiped_at`] (with an
    /// empty data directory) or [`super::CrashAt::forever`].
    pub fn crash(self, instance: usize) -> CrashBuilder {
        CrashBuilder {
            scenario: self,
            instance,
        }
    }

    /// Partitions the instances into `groups` (from time 0 unless
    /// [`PartitionBuilder::from`] says otherwise) until [`PartitionBuilder::heal_at`].
    pub fn partition(self, groups: &[&[usize]]) -> PartitionBuilder {
        PartitionBuilder {
            scenario: self,
            groups: groups.iter().map(|g| g.to_vec()).collect(),
            from_ms: 0,
        }
    }

    /// Global stabilization time, if later than every partition's healing.
    pub fn gst(mut self, at_ms: u64) -> Scenario {
        self.gst_ms = at_ms;
        self
    }

    /// The effective GST: the later of the one set and the last partition's healing.
    pub fn effective_gst(&self) -> u64 {
        self.partitions
            .iter()
            .map(|p| p.until_ms)
            .fold(self.gst_ms, u64::max)
    }

    /// Drops each message sent before GST with probability `p`.
    pub fn drops(mut self, p: f64) -> Scenario {
        self.network.drop = p;
        self
    }

    /// Duplicates each message with probability `p`.
    pub fn duplicates(mut self, p: f64) -> Scenario {
        self.network.duplicate = p;
        self
    }

    /// Message delays before GST, in milliseconds.
    pub fn delays(mut self, min_ms: u64, max_ms: u64) -> Scenario {
        self.network.min_delay_ms = min_ms;
        self.network.max_delay_ms = max_ms;
        self
    }

    /// Longest message delay from GST on, in milliseconds.
    pub fn stable_delay(mut self, max_ms: u64) -> Scenario {
        self.network.stable_max_delay_ms = max_ms;
        self
    }

    /// How client transactions arrive.
    pub fn workload(mut self, workload: Workload) -> Scenario {
        self.workload = workload;
        self
    }

    /// Virtual time at which the run ends.
    pub fn run_until(mut self, at_ms: u64) -> Scenario {
        self.run_until_ms = at_ms;
        self
    }

    /// Ends the run as soon as every honest running instance reached `height` (for
    /// benchmarks; progress is then not checked).
    pub fn stop_at_height(mut self, height: u64) -> Scenario {
        self.stop_at_height = Some(height);
        self
    }

    /// Ends the run as soon as progress after GST is shown: every honest running
    /// instance has committed a block proposed at or after GST (or the last restart).
    /// If that does not happen within the progress bound, the run fails as usual.
    /// Sweeps use this to spend their time on the faulty part of runs.
    pub fn stop_once_live(mut self) -> Scenario {
        self.stop_once_live = true;
        self
    }

    /// Whether a validator's driver keeps every block it received (in a proposal or a
    /// fetch) durably, as it keeps committed blocks: after a restart it can still
    /// serve them to peers and to its own state machine. Off by default, as the
    /// driver contract (`Action`) only asks for safety state and commits to persist.
    pub fn durable_blocks(mut self, durable: bool) -> Scenario {
        self.durable_blocks = durable;
        self
    }

    /// Every honest instance running at the end must have committed at least `height` blocks.
    pub fn expect_commits(mut self, height: u64) -> Scenario {
        self.expect_commits = height;
        self
    }

    /// From GST (or its restart) every honest running instance must commit with no
    /// silent stretch longer than `bound_ms`.
    pub fn liveness_within(mut self, bound_ms: u64) -> Scenario {
        self.liveness_ms = Some(bound_ms);
        self
    }

    /// Checks safety only (for scenarios beyond the fault budget).
    pub fn no_liveness_check(mut self) -> Scenario {
        self.liveness_ms = None;
        self.expect_commits = 0;
        self
    }

    /// A client whose transactions are really signed, `share` of them with odd
    /// signatures (small-order `R`, or `s + ℓ`); every honest validator then judges
    /// each committed block's signatures alone and in a batch, and all verdicts must
    /// agree (see the `signatures` module).
    pub fn odd_client_signatures(mut self, share: f64) -> Scenario {
        self.odd_signatures = Some(share);
        self
    }

    /// Keeps the last `lines` lines of an event trace, printed with a failure.
    pub fn trace(mut self, lines: usize) -> Scenario {
        self.trace_lines = lines;
        self
    }

    /// Runs every honest validator with a deliberately broken safety rule.
    #[cfg(feature = "unsafe-test-variants")]
    pub fn unsafe_variant(mut self, variant: crate::UnsafeVariant) -> Scenario {
        self.unsafe_variant = Some(variant);
        self
    }

    /// Simulates the scenario with `seed`. Panics if the scenario itself is invalid.
    pub fn run(&self, seed: u64) -> Outcome {
        self.validate();
        World::new(self, seed).run()
    }
}
