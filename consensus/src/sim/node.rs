//! One simulated validator instance: its state machine (while up), what it persisted,
//! and the driver-side bookkeeping (timer, payload request, block fetches).

use std::collections::{BTreeMap, BTreeSet};

use cairn_crypto::{Hash, SecretKey};
use cairn_types::{Block, ChainId, Round, ValidatorId, ValidatorSet};

use cairn_batches::HeldBatch;

use super::batching::{BatchConduct, NodeBatches};
use super::byzantine::Byzantine;
use crate::{BlockInfo, Config, Consensus, SafetyData, Setup};

/// How an instance behaves.
pub(crate) enum Role {
    /// Follows the protocol; every invariant is checked on it.
    Honest,
    /// An honest core with mutated outputs.
    Byzantine(Box<Byzantine>),
    /// One of two instances sharing a validator's key; both count as Byzantine.
    Twin,
}

/// What an instance did, for the report.
#[derive(Clone, Debug, Default)]
pub(crate) struct NodeCounters {
    pub(crate) commit_times: Vec<u64>,
    pub(crate) txs_committed: u64,
    pub(crate) evidence: u64,
    pub(crate) crashes: u32,
    /// Restarts with a wiped data directory.
    pub(crate) wipes: u32,
    /// Recoveries of its safety state it finished.
    pub(crate) recoveries: u32,
    /// Message copies it handed to the network (a broadcast counts once per peer).
    pub(crate) sent: u64,
}

/// One instance of a validator.
pub(crate) struct Node {
    pub(crate) id: ValidatorId,
    pub(crate) role: Role,
    /// The running state machine; `None` while crashed.
    pub(crate) core: Option<Consensus>,
    seed: [u8; 32],
    /// Its key, for Byzantine forging.
    pub(crate) key: SecretKey,
    /// Bumped on every crash and restart: events addressed to an older incarnation
    /// (timers, messages in flight) are dropped.
    pub(crate) incarnation: u32,
    // Durable: survives crashes.
    pub(crate) safety: SafetyData,
    pub(crate) committed: BlockInfo,
    pub(crate) committed_ids: BTreeSet<Hash>,
    /// The last committed blocks, for the leader rule of a restarted core.
    pub(crate) history: std::collections::VecDeque<crate::LeaderRecord>,
    /// Blocks stored by `Action::PersistBlock` (the blocks it voted for).
    pub(crate) persisted_blocks: BTreeSet<Hash>,
    // Volatile: lost on crash.
    pub(crate) known: BTreeSet<Hash>,
    pub(crate) timer_token: u64,
    /// A payload request waiting for transactions: (round, parent, token).
    pub(crate) payload_wait: Option<(Round, Hash, u64)>,
    pub(crate) payload_token: u64,
    /// Blocks being fetched, with the number of retries so far.
    pub(crate) fetching: BTreeMap<Hash, u32>,
    /// Whether it committed a block proposed after progress became required.
    pub(crate) fresh: bool,
    /// Whether it crashes right after it next sends a vote or timeout.
    pub(crate) crash_armed: bool,
    pub(crate) counters: NodeCounters,
    /// Batched scenarios: the batch machine and its driver state (volatile).
    pub(crate) batching: Option<NodeBatches>,
    /// Batched scenarios, durable: the batches it stored, by digest.
    pub(crate) stored_batches: BTreeMap<Hash, HeldBatch>,
    /// Batched scenarios, durable: the transactions it committed.
    pub(crate) committed_txs: BTreeSet<Hash>,
    /// When it last crashed.
    pub(crate) last_crash_ms: Option<u64>,
}

impl Node {
    pub(crate) fn new(id: ValidatorId, role: Role, seed: [u8; 32], chain: &ChainId) -> Node {
        Node {
            id,
            role,
            core: None,
            seed,
            key: SecretKey::from_seed(&seed),
            incarnation: 0,
            safety: SafetyData::genesis(chain),
            committed: BlockInfo::genesis(chain),
            committed_ids: BTreeSet::new(),
            history: std::collections::VecDeque::new(),
            persisted_blocks: BTreeSet::new(),
            known: BTreeSet::new(),
            timer_token: 0,
            payload_wait: None,
            payload_token: 0,
            fetching: BTreeMap::new(),
            fresh: false,
            crash_armed: false,
            counters: NodeCounters::default(),
            batching: None,
            stored_batches: BTreeMap::new(),
            committed_txs: BTreeSet::new(),
            last_crash_ms: None,
        }
    }

    /// Whether every invariant applies to it.
    pub(crate) fn is_honest(&self) -> bool {
        matches!(self.role, Role::Honest)
    }

    /// How it takes part in batches.
    pub(crate) fn batch_conduct(&self) -> BatchConduct {
        match &self.role {
            Role::Byzantine(b) => b.batch_conduct(),
            _ => BatchConduct::Honest,
        }
    }

    /// Its consensus key.
    pub(crate) fn secret(&self) -> SecretKey {
        SecretKey::from_seed(&self.seed)
    }

    /// Whether it is running.
    pub(crate) fn is_up(&self) -> bool {
        self.core.is_some()
    }

    /// Whether an event for incarnation `inc` still reaches it.
    pub(crate) fn accepts(&self, inc: u32) -> bool {
        self.core.is_some() && self.incarnation == inc
    }

    /// Whether it can serve block `id` to a peer.
    pub(crate) fn knows(&self, id: &Hash) -> bool {
        self.known.contains(id) || self.committed_ids.contains(id)
    }

    /// Builds a fresh state machine from what it persisted.
    pub(crate) fn boot(
        &mut self,
        config: &Config,
        chain: ChainId,
        validators: &ValidatorSet,
        blocks: Vec<Block>,
    ) -> &mut Consensus {
        let setup = Setup {
            config: config.clone(),
            chain,
            validators: validators.clone(),
            me: self.id,
            key: self.secret(),
            safety: self.safety.clone(),
            committed: self.committed,
            blocks,
            history: self.history.iter().cloned().collect(),
        };
        self.incarnation += 1;
        self.core.insert(
            Consensus::new(setup).expect("the simulator builds a valid setup from persisted state"),
        )
    }

    /// Loses everything it persisted too, as with an empty data directory: it will
    /// start from [`SafetyData::recovering`] with no blocks and no committed chain.
    pub(crate) fn wipe(&mut self, chain: &ChainId) {
        self.safety = SafetyData::recovering(chain);
        self.committed = BlockInfo::genesis(chain);
        self.committed_ids.clear();
        self.history.clear();
        self.persisted_blocks.clear();
        self.known.clear();
        self.stored_batches.clear();
        self.committed_txs.clear();
        self.counters.wipes += 1;
    }

    /// Whether its state machine is recovering its safety state.
    pub(crate) fn is_recovering(&self) -> bool {
        self.core.as_ref().is_some_and(Consensus::is_recovering)
    }

    /// Loses everything not persisted (blocks received too, unless `durable_blocks`).
    pub(crate) fn crash(&mut self, durable_blocks: bool) {
        self.core = None;
        self.incarnation += 1;
        if !durable_blocks {
            // Only what it persisted survives: the blocks it voted for (and committed).
            let persisted = &self.persisted_blocks;
            self.known.retain(|id| persisted.contains(id));
        }
        self.payload_wait = None;
        self.fetching.clear();
        self.batching = None;
        self.counters.crashes += 1;
    }
}
