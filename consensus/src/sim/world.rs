//! The simulated world: every instance, the network, the mempool, the event queue and
//! the invariant checker, advanced one event at a time in virtual time.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use cairn_crypto::{Hash, SecretKey};
use cairn_types::{Block, ChainId, ValidatorId, ValidatorSet};

use super::byzantine::Byzantine;
pub(crate) use super::events::Ev;
use super::invariants::Checker;
use super::network::Network;
use super::node::{Node, Role};
use super::outcome::{Outcome, RunStats};
use super::queue::Queue;
use super::rng::Rng;
use super::scenario::Scenario;
use super::violation::Violation;
use super::workload::Mempool;
use crate::Config;

/// Events per validator per virtual second beyond which a run counts as a message
/// storm (a healthy run stays far below: tens per validator-second).
const EVENTS_PER_VALIDATOR_SECOND: u64 = 2_000;
/// Events waiting beyond which a run counts as a message storm.
const MAX_QUEUED: usize = 200_000;

/// How a run ended.
enum End {
    /// At `run_until`: every final check applies.
    Completed,
    /// Early, once progress after GST was shown (`stop_once_live`).
    Live,
    /// Early, on a safety violation, a message storm or `stop_at_height`.
    Aborted,
}

/// One run in progress.
pub(crate) struct World {
    pub(crate) now: u64,
    pub(crate) queue: Queue<Ev>,
    pub(crate) nodes: Vec<Node>,
    /// The instances of each validator id (two for a twin).
    pub(crate) by_id: Vec<Vec<usize>>,
    pub(crate) net: Network,
    pub(crate) mempool: Mempool,
    pub(crate) checker: Checker,
    /// Every block ever proposed or committed, by id; what an instance may serve from
    /// it is decided by what it knows.
    pub(crate) blocks: BTreeMap<Hash, Block>,
    pub(crate) chain: ChainId,
    pub(crate) validators: ValidatorSet,
    pub(crate) config: Config,
    pub(crate) stats: RunStats,
    pub(crate) trace: VecDeque<String>,
    trace_lines: usize,
    /// Set when an honest instance commits its first block proposed after `stable_ms`.
    pub(crate) progress_changed: bool,
    pub(crate) scenario: Scenario,
    pub(crate) seed: u64,
    /// Batched scenarios: which validator each client transaction goes to.
    pub(crate) clients: Rng,
    /// Batched scenarios: the choices of Byzantine batch authors.
    pub(crate) batch_rng: Rng,
    /// Batched scenarios: transactions given to honest instances, with the instance
    /// and the time.
    pub(crate) tx_watch: BTreeMap<Hash, (usize, u64)>,
    /// Batched scenarios: transactions some honest instance committed.
    pub(crate) txs_committed: BTreeSet<Hash>,
}

/// Key seed of validator `i`: fixed, so every run of every seed uses the same keys.
fn key_seed(i: usize) -> [u8; 32] {
    let mut seed = [0x5Au8; 32];
    seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
    seed
}

impl World {
    pub(crate) fn new(scenario: &Scenario, seed: u64) -> World {
        let chain = ChainId(Hash::digest(b"cairn simulator chain"));
        let keys: Vec<_> = (0..scenario.n)
            .map(|i| SecretKey::from_seed(&key_seed(i)).public())
            .collect();
        let validators = ValidatorSet::new(keys).expect("distinct simulator keys make a valid set");
        let mut nodes = Vec::new();
        let ids = (0..scenario.n).chain(scenario.twins.iter().copied());
        for (instance, i) in ids.enumerate() {
            let role = if scenario.twins.contains(&i) {
                Role::Twin
            } else if let Some(&b) = scenario.byzantine.get(&i) {
                Role::Byzantine(Box::new(Byzantine::new(
                    b,
                    Rng::stream(seed, 100 + instance as u64),
                )))
            } else {
                Role::Honest
            };
            nodes.push(Node::new(ValidatorId(i as u16), role, key_seed(i), &chain));
        }
        let mut by_id = vec![Vec::new(); scenario.n];
        for (instance, node) in nodes.iter().enumerate() {
            by_id[usize::from(node.id.0)].push(instance);
        }
        let gst = scenario.effective_gst();
        let net = Network::new(
            scenario.network.clone(),
            scenario.partitions.clone(),
            gst,
            Rng::stream(seed, 1),
        );
        let mut world = World {
            now: 0,
            queue: Queue::new(),
            nodes,
            by_id,
            net,
            mempool: Mempool::new(scenario.workload.clone(), chain, Rng::stream(seed, 2))
                .odd_signatures(scenario.odd_signatures),
            checker: Checker::default(),
            blocks: BTreeMap::new(),
            chain,
            validators,
            config: scenario.config.clone(),
            stats: RunStats::default(),
            trace: VecDeque::new(),
            trace_lines: scenario.trace_lines,
            progress_changed: false,
            scenario: scenario.clone(),
            seed,
            clients: Rng::stream(seed, 3),
            batch_rng: Rng::stream(seed, 4),
            tx_watch: BTreeMap::new(),
            txs_committed: BTreeSet::new(),
        };
        world.stats.gst_ms = gst;
        world.stats.stable_ms = scenario
            .crashes
            .iter()
            .filter_map(|c| c.restart_ms)
            .fold(gst, u64::max);
        for instance in 0..world.nodes.len() {
            world.queue.push(0, Ev::Start(instance));
        }
        for c in &scenario.crashes {
            let crash = if c.after_signing {
                Ev::ArmCrash(c.instance)
            } else {
                Ev::Crash(c.instance)
            };
            world.queue.push(c.at_ms, crash);
            if let Some(at) = c.restart_ms {
                world.queue.push(at, Ev::Restart(c.instance, c.wiped));
            }
        }
        if let Some(at) = world.mempool.next_arrival(0) {
            world.queue.push(at, Ev::Tx);
        }
        world
    }

    /// Adds a line to the trace, if one is kept.
    pub(crate) fn log(&mut self, line: impl FnOnce() -> String) {
        if self.trace_lines == 0 {
            return;
        }
        if self.trace.len() >= self.trace_lines {
            self.trace.pop_front();
        }
        let text = line();
        self.trace.push_back(format!("{:>7} {text}", self.now));
    }

    /// Folds `value` into the run's fingerprint.
    pub(crate) fn mix(&mut self, value: u64) {
        self.stats.digest = (self.stats.digest ^ value)
            .wrapping_mul(0x0100_0000_01B3)
            .rotate_left(17);
    }

    /// Runs to the end and checks the final invariants.
    pub(crate) fn run(mut self) -> Outcome {
        let until = self.scenario.run_until_ms;
        let mut end = End::Completed;
        while let Some((time, event)) = self.queue.pop() {
            if time > until {
                break;
            }
            self.now = time;
            self.stats.events += 1;
            self.dispatch(event);
            if self.checker.violations.iter().any(|v| v.is_safety()) {
                end = End::Aborted;
                break;
            }
            if self.stats.events.is_multiple_of(1_024) && self.runaway() {
                end = End::Aborted;
                break;
            }
            if self
                .scenario
                .stop_at_height
                .is_some_and(|h| self.min_honest_height() >= h)
            {
                end = End::Aborted;
                break;
            }
            if std::mem::take(&mut self.progress_changed) && self.all_fresh() {
                self.stats.live_ms.get_or_insert(time);
                if self.scenario.stop_once_live {
                    end = End::Live;
                    break;
                }
            }
        }
        match end {
            End::Completed => {
                self.now = until;
                self.check_progress(true);
                self.check_every_tx();
            }
            End::Live => self.check_progress(false),
            End::Aborted => {}
        }
        self.outcome()
    }

    /// Whether the run has left any sane bound on events (a message storm); if so,
    /// records it.
    fn runaway(&mut self) -> bool {
        let budget = EVENTS_PER_VALIDATOR_SECOND
            * self.validators.len() as u64
            * (self.scenario.run_until_ms / 1_000 + 1);
        let queued = self.queue.len();
        if self.stats.events <= budget && queued <= MAX_QUEUED {
            return false;
        }
        let (events, at_ms) = (self.stats.events, self.now);
        self.checker.violations.push(Violation::Runaway {
            events,
            queued,
            at_ms,
        });
        true
    }
}
