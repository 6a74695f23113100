//! The state machine itself: its state, set-up, and the dispatch of events.
//! The handling of each kind of event lives in `handle/`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use cairn_crypto::{Hash, SecretKey};
use cairn_types::{ChainId, Proposal, QuorumCert, Round, TimeoutCert, ValidatorId, ValidatorSet};
use parity_scale_codec::Encode;

use crate::block_tree::BlockTree;
use crate::collect::{TimeoutCollector, VoteCollector};
use crate::leader::{self, History, LeaderRecord};
/// Verified certificates remembered before the cache is emptied.
const VERIFIED_CACHE_LIMIT: usize = 4096;
/// A recovering validator asks for status again on entering every round that is a
/// multiple of this.
const RECOVERY_ASK_EVERY_ROUNDS: Round = 16;
/// Leaders computed (one per certified block) remembered before the cache is emptied.
const LEADER_CACHE_LIMIT: usize = 4096;

use crate::{
    Action, BlockInfo, Config, ConsensusError, Event, Recovery, RecoveryReason, SafetyData,
};

/// Everything needed to start (or restart) a validator's state machine.
pub struct Setup {
    /// Timing and limits.
    pub config: Config,
    /// The chain (genesis hash).
    pub chain: ChainId,
    /// The validator set from the genesis.
    pub validators: ValidatorSet,
    /// This validator's id.
    pub me: ValidatorId,
    /// This validator's consensus key; must match `validators.key(me)`.
    pub key: SecretKey,
    /// The last persisted safety state ([`SafetyData::genesis`] on first start).
    pub safety: SafetyData,
    /// The last committed block ([`BlockInfo::genesis`] on first start).
    pub committed: BlockInfo,
    /// Blocks persisted by [`Action::PersistBlock`] that are not yet committed (empty
    /// on first start). Blocks at or below the committed height are ignored.
    pub blocks: Vec<cairn_types::Block>,
    /// The last committed blocks, oldest first, ending with the committed head (empty
    /// on first start): the leader rule reads them. [`crate::history_needed`] of them
    /// are enough; fewer (a young chain) are fine.
    pub history: Vec<LeaderRecord>,
}

/// A validator's view of its current round ([`Consensus::round_view`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoundView {
    /// The current round.
    pub round: Round,
    /// Its leader, if known yet (the leader rule may need a block still missing).
    pub leader: Option<ValidatorId>,
    /// The round of the highest QC held.
    pub high_qc_round: Round,
    /// Whether the round was entered by a timeout certificate.
    pub entered_by_timeout: bool,
    /// Rounds ended by timeout in a row.
    pub consecutive_timeouts: u32,
    /// Validators whose votes for this round's block this validator holds (it
    /// collects them only if it leads the next round).
    pub votes: Vec<ValidatorId>,
    /// Validators whose timeouts for this round this validator holds.
    pub timeouts: Vec<ValidatorId>,
    /// The highest round this validator voted or timed out in.
    pub highest_voted_round: Round,
    /// Whether it is recovering its safety state (and signs nothing).
    pub recovering: bool,
}

/// One validator's consensus state machine. Feed it [`Event`]s with
/// [`Consensus::handle`]; perform the returned [`Action`]s in order.
pub struct Consensus {
    pub(crate) config: Config,
    pub(crate) chain: ChainId,
    pub(crate) validators: ValidatorSet,
    pub(crate) me: ValidatorId,
    pub(crate) key: SecretKey,
    pub(crate) safety: SafetyData,
    /// The current round.
    pub(crate) round: Round,
    /// The TC that ended the previous round, if it ended by timeout.
    pub(crate) last_round_tc: Option<TimeoutCert>,
    /// Rounds ended by timeout in a row; drives the exponential backoff.
    pub(crate) consecutive_timeouts: u32,
    pub(crate) tree: BlockTree,
    /// The recent committed blocks, for the leader rule.
    pub(crate) history: History,
    /// The leader of the round after each block, once computed.
    pub(crate) leaders: HashMap<Hash, ValidatorId>,
    pub(crate) votes: VoteCollector,
    pub(crate) timeouts: TimeoutCollector,
    /// The first valid proposal seen per round, to detect a leader's equivocation.
    pub(crate) proposals: BTreeMap<Round, Proposal>,
    /// Rounds whose leader's double proposal was reported (once each).
    pub(crate) double_proposals: BTreeSet<Round>,
    /// The round of the last vote re-sent for a replayed proposal, and how often.
    pub(crate) vote_resends: (Round, u32),
    /// Validators sent the certificates of a round they lag in since this validator
    /// entered its round or its timer last fired: each is helped once per period, so
    /// a replayed stale timeout cannot make this validator send a stream.
    pub(crate) helped: BTreeSet<ValidatorId>,
    /// Validators sent this validator's status since it entered its round or its
    /// timer last fired: each `StatusRequest` asker is answered once per period.
    pub(crate) status_answered: BTreeSet<ValidatorId>,
    /// While recovering: the highest round certified by each distinct validator's
    /// answer to this validator's `StatusRequest`.
    pub(crate) status_replies: BTreeMap<ValidatorId, Round>,
    /// Proposals waiting for a missing ancestor, one per round.
    pub(crate) pending: BTreeMap<Round, (ValidatorId, Proposal)>,
    /// Blocks asked for and not yet received.
    pub(crate) fetching: BTreeSet<Hash>,
    /// A QC whose commit waits for missing blocks.
    pub(crate) pending_commit: Option<QuorumCert>,
    /// Hashes of certificates already verified, so each is checked once.
    pub(crate) verified: HashSet<Hash>,
    /// Whether the QC that opened the current round committed transactions: peers
    /// learn of that commit only from the next proposal, so it should not wait.
    pub(crate) announce_commit: bool,
    /// The round a payload was last asked for, so it is asked once per round.
    pub(crate) payload_asked: Option<Round>,
    /// Actions produced by the event being handled.
    pub(crate) out: Vec<Action>,
    #[cfg(feature = "unsafe-test-variants")]
    pub(crate) unsafe_variant: crate::UnsafeVariant,
}

impl Consensus {
    /// Builds the state machine from its setup. Fails if `me` is not a validator, the
    /// key is not `me`'s, or the safety state belongs to another chain.
    pub fn new(setup: Setup) -> Result<Consensus, ConsensusError> {
        let Setup {
            config,
            chain,
            validators,
            me,
            key,
            safety,
            committed,
            blocks,
            history: records,
        } = setup;
        let expected = validators.key(me).ok_or(ConsensusError::NotAValidator {
            id: me,
            n: validators.len(),
        })?;
        if *expected != key.public() {
            return Err(ConsensusError::WrongKey { id: me });
        }
        if safety.high_qc.round() == 0 && safety.high_qc != QuorumCert::genesis(&chain) {
            return Err(ConsensusError::ForeignSafetyState(
                "its genesis certificate names another chain".into(),
            ));
        }
        let round = safety.high_qc.round().saturating_add(1);
        let mut tree = BlockTree::new(committed);
        for block in blocks {
            tree.insert(block);
        }
        let mut history = History::new(leader::history_needed(validators.len()));
        for record in records {
            history.push(record);
        }
        Ok(Consensus {
            config,
            chain,
            validators,
            me,
            key,
            safety,
            round,
            last_round_tc: None,
            consecutive_timeouts: 0,
            tree,
            history,
            leaders: HashMap::new(),
            votes: VoteCollector::default(),
            timeouts: TimeoutCollector::default(),
            proposals: BTreeMap::new(),
            double_proposals: BTreeSet::new(),
            vote_resends: (0, 0),
            helped: BTreeSet::new(),
            status_answered: BTreeSet::new(),
            status_replies: BTreeMap::new(),
            pending: BTreeMap::new(),
            fetching: BTreeSet::new(),
            pending_commit: None,
            verified: HashSet::new(),
            announce_commit: false,
            payload_asked: None,
            out: Vec::new(),
            #[cfg(feature = "unsafe-test-variants")]
            unsafe_variant: crate::UnsafeVariant::default(),
        })
    }

    /// Handles one event and returns what the driver must do, in order.
    pub fn handle(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::Start => self.on_start(),
            Event::Message { from, message } => self.on_message(from, message),
            Event::LocalTimeout { round } => self.on_local_timeout(round),
            Event::Payload {
                round,
                txs,
                state_height,
                state_root,
                now_ms,
            } => self.on_payload(round, txs, (state_height, state_root), now_ms),
            Event::BlockFetched { block } => self.on_block_fetched(block),
        }
        std::mem::take(&mut self.out)
    }

    /// The current round.
    pub fn round(&self) -> Round {
        self.round
    }

    /// The last committed block.
    pub fn committed(&self) -> &BlockInfo {
        self.tree.root()
    }

    /// The safety state as last handed out for persistence (or as restored).
    pub fn safety(&self) -> &SafetyData {
        &self.safety
    }

    /// Whether this validator is recovering its safety state: it signs nothing until
    /// [`Consensus::recovery_quorum`] other validators have answered its
    /// `StatusRequest` (see [`SafetyData::recovering`]).
    pub fn is_recovering(&self) -> bool {
        self.safety.recovering
    }

    /// Answers from distinct other validators a recovering validator waits for:
    /// `n − quorum + f + 1` (`2f + 1` for `n = 3f + 1`). Among that many, one is an
    /// honest validator that signed the certificate this validator last relied on.
    pub fn recovery_quorum(&self) -> usize {
        let v = &self.validators;
        (v.len() + v.max_faulty() + 1).saturating_sub(v.quorum())
    }

    /// This validator's id.
    pub fn id(&self) -> ValidatorId {
        self.me
    }

    /// Number of uncommitted blocks held in memory.
    pub fn uncommitted_blocks(&self) -> usize {
        self.tree.len()
    }

    /// The uncommitted block `id`, if the core holds it (it accepted it).
    pub fn block(&self, id: &cairn_crypto::Hash) -> Option<&cairn_types::Block> {
        self.tree.get(id)
    }

    /// Whether the recovery rule is switched off (simulator self-test only).
    #[cfg(feature = "unsafe-test-variants")]
    pub(crate) fn skip_recovery(&self) -> bool {
        self.unsafe_variant.skip_recovery
    }

    #[cfg(not(feature = "unsafe-test-variants"))]
    pub(crate) fn skip_recovery(&self) -> bool {
        false
    }

    /// Breaks a safety rule on purpose, for the simulator's self-test.
    #[cfg(feature = "unsafe-test-variants")]
    pub fn set_unsafe_variant(&mut self, variant: crate::UnsafeVariant) {
        self.unsafe_variant = variant;
    }

    /// On start or restart: resume in the round the persisted certificates justify
    /// (after the high QC or the high TC), or in the highest round already voted or
    /// timed out in if that is later (a stored timeout for it is re-broadcast when its
    /// timer fires). The persisted TC that ended the previous round is used again, to
    /// propose and to help validators still in it. A recovering validator says so.
    /// Every validator then asks the others for their highest certificates: while it
    /// was down the network moved on, and without them a restarted leader learns that
    /// its turn has come only when the others' timers fire (the simulator's rolling
    /// kills stood the chain still for 7 s that way; `tests/sim_chaos.rs`).
    fn on_start(&mut self) {
        if self.skip_recovery() {
            self.safety.recovering = false;
        }
        if self.safety.recovering {
            let replies_needed = self.recovery_quorum();
            self.emit(Action::Recovery(Recovery::Started {
                reason: RecoveryReason::AtStart,
                replies_needed,
            }));
        }
        let resume = self
            .safety
            .highest_voted_round
            .max(self.safety.justified_round());
        self.last_round_tc = self
            .safety
            .high_tc
            .clone()
            .filter(|tc| tc.round.checked_add(1) == Some(resume));
        self.enter_round(resume);
        self.ask_for_status();
    }

    /// Enters `round`: forgets older bookkeeping, arms the timer and, if this
    /// validator leads the round, asks for a payload.
    pub(crate) fn enter_round(&mut self, round: Round) {
        self.round = round;
        let keep_from = round.saturating_sub(2);
        self.votes.prune_below(keep_from);
        self.timeouts.prune_below(keep_from);
        self.proposals = self.proposals.split_off(&keep_from);
        self.double_proposals = self.double_proposals.split_off(&keep_from);
        self.helped.clear();
        self.status_answered.clear();
        self.pending = self.pending.split_off(&round);
        let horizon = round.saturating_sub(self.config.round_window);
        let high = self.safety.high_qc.block_id();
        self.tree.prune_below(horizon, &high);

        let after_ms = self.round_timeout_ms(false);
        self.out.push(Action::ScheduleTimeout { round, after_ms });
        self.ask_for_payload_if_leading();
        // A recovering validator also asks while it follows a chain that makes progress
        // without it (its own turns are skipped, so its timer may never fire): the
        // answers to its first request may have been lost.
        if self.safety.recovering && round.is_multiple_of(RECOVERY_ASK_EVERY_ROUNDS) {
            self.ask_for_status();
        }
        if let Some((from, proposal)) = self.pending.remove(&round) {
            self.on_proposal(from, proposal);
        }
    }

    /// The timer for the current round: backed off after failed rounds; with nothing
    /// pending commit (and `busy` false), long enough for an idle leader's heartbeat.
    pub(crate) fn round_timeout_ms(&self, busy: bool) -> u64 {
        let base = self.config.backoff_ms(self.consecutive_timeouts);
        if !busy && !self.needs_progress() {
            base.saturating_add(self.config.heartbeat_ms)
        } else {
            base
        }
    }

    /// Whether the chain has work in flight: an uncommitted block with transactions on
    /// the highest certified branch, a just-made commit that peers learn of only from
    /// the next proposal, or a failed previous round (then the leader must not idle:
    /// the backed-off timers no longer include the heartbeat).
    pub(crate) fn needs_progress(&self) -> bool {
        self.announce_commit
            || self.last_round_tc.is_some()
            || self
                .tree
                .has_uncommitted_txs(&self.safety.high_qc.block_id())
    }

    /// What this validator knows of its current round, for a stall report.
    pub fn round_view(&mut self) -> RoundView {
        let round = self.round;
        RoundView {
            round,
            leader: self.current_leader(),
            high_qc_round: self.safety.high_qc.round(),
            entered_by_timeout: self.last_round_tc.is_some(),
            consecutive_timeouts: self.consecutive_timeouts,
            votes: self.votes.voters(round),
            timeouts: self.timeouts.signers(round),
            highest_voted_round: self.safety.highest_voted_round,
            recovering: self.safety.recovering,
        }
    }

    /// The leader of the current round, given this validator's high QC (see
    /// `leader.rs`); `None` while the block that QC certifies is not yet here.
    pub fn current_leader(&mut self) -> Option<ValidatorId> {
        let (block, round) = (self.safety.high_qc.block_id(), self.safety.high_qc.round());
        self.leader_of(self.round, &block, round)
    }

    /// The leader of `round` for a proposal that extends block `parent` of round
    /// `parent_round`: the reputation rule if `round` follows `parent_round`, else
    /// round-robin. `None` if the rule needs the block `parent` and it is not known.
    pub fn leader_of(
        &mut self,
        round: Round,
        parent: &Hash,
        parent_round: Round,
    ) -> Option<ValidatorId> {
        let n = self.validators.len();
        if parent_round.checked_add(1) != Some(round) || *parent == self.chain.0 {
            return Some(leader::round_robin(n, round));
        }
        if let Some(leader) = self.leaders.get(parent) {
            return Some(*leader);
        }
        let (chain, from_genesis) = self.chain_below(parent);
        if chain.is_empty() {
            return None;
        }
        let refs: Vec<&LeaderRecord> = chain.iter().collect();
        let leader = leader::reputation_leader(n, round, &refs, from_genesis);
        if self.leaders.len() >= LEADER_CACHE_LIMIT {
            self.leaders.clear();
        }
        self.leaders.insert(*parent, leader);
        Some(leader)
    }

    /// Records of `id` and its ancestors, newest first, as far as this validator holds
    /// them (uncommitted blocks, then the committed history), at most as many as the
    /// leader rule reads; and whether they reach down to the genesis.
    fn chain_below(&self, id: &Hash) -> (Vec<LeaderRecord>, bool) {
        let limit = leader::history_needed(self.validators.len());
        let mut chain = Vec::new();
        let mut cursor = *id;
        while chain.len() < limit && cursor != self.chain.0 {
            let record = match self.tree.get(&cursor) {
                Some(block) => LeaderRecord::of(block),
                None => match self.history.get(&cursor) {
                    Some(record) => record.clone(),
                    None => break,
                },
            };
            cursor = record.parent;
            chain.push(record);
        }
        (chain, cursor == self.chain.0)
    }

    /// Verifies a certificate once: later calls with the same bytes skip the check.
    pub(crate) fn verify_once(
        &mut self,
        cert: &impl Encode,
        verify: impl FnOnce(&ChainId, &ValidatorSet) -> cairn_types::Result<()>,
    ) -> bool {
        let hash = Hash::digest(&cert.encode());
        if self.verified.contains(&hash) {
            return true;
        }
        if verify(&self.chain, &self.validators).is_err() {
            return false;
        }
        if self.verified.len() >= VERIFIED_CACHE_LIMIT {
            self.verified.clear();
        }
        self.verified.insert(hash);
        true
    }

    /// Verifies a QC once (see [`Self::verify_once`]) and, if valid, checks whether it
    /// holds a signature of this validator that its safety state does not know of.
    pub(crate) fn verify_qc(&mut self, qc: &QuorumCert) -> bool {
        if !self.verify_once(qc, |c, v| qc.verify(c, v)) {
            return false;
        }
        self.notice_own_signature(qc.round(), qc.signatures.iter().map(|(id, _)| *id));
        true
    }

    /// Verifies a TC once and, if valid, checks it (and the QC it carries) for a
    /// signature of this validator that its safety state does not know of.
    pub(crate) fn verify_tc(&mut self, tc: &TimeoutCert) -> bool {
        if !self.verify_once(tc, |c, v| tc.verify(c, v)) {
            return false;
        }
        self.notice_own_signature(tc.round, tc.entries.iter().map(|e| e.signer));
        let qc = &tc.high_qc;
        self.notice_own_signature(qc.round(), qc.signatures.iter().map(|(id, _)| *id));
        true
    }

    /// Emits `action`.
    pub(crate) fn emit(&mut self, action: Action) {
        self.out.push(action);
    }
}
