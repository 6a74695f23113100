//! Batches in the simulated driver (scenarios built with [`super::Scenario::batched`]):
//! every instance runs the real [`cairn_batches::Batches`] machine, driven as the node
//! drives it (docs/DATAPATH.md).
//!
//! Each client transaction goes to one validator, which batches it, sends the batch
//! once to every validator and gathers `2f + 1` votes into a proof of availability.
//! Leaders propose proofs, not transactions; a receiver assembles the block from the
//! batches it holds, fetching a missing one from the proof's signers, and only then
//! hands the proposal to its core. Stored batches survive crashes (the node syncs a
//! batch before it vouches for it); everything else here is volatile.
//!
//! A Byzantine instance may take part in batches in two ways besides the honest one
//! ([`BatchConduct`]): mute (a silent validator), or as a certifier that never serves:
//! it votes for every batch without storing it, answers no fetch, and sends its own
//! batches to only as many validators as a proof needs, so the others must fetch.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use cairn_batches::{
    Action as BatchAction, Assembly, Batches, Config as BatchConfig, Event as BatchEvent, HeldBatch,
};
use cairn_crypto::Hash;
use cairn_types::{
    Batch, BatchVote, BatchedProposal, ProofOfAvailability, Proposal, Round, Transaction,
    ValidatorId,
};

use super::world::{Ev, World};
use crate::Message;

/// A batch is sealed this long after its first transaction arrived.
const LINGER_MS: u64 = 150;
/// Transactions per batch at most (a quarter of the simulator's block limit).
const BATCH_TXS: usize = 50;
/// Rounds a new batch may be proposed in: short, so runs see batches expire and
/// their transactions go into new batches.
const LIFETIME_ROUNDS: Round = 30;
/// An own batch short of a quorum this long is sent again to those that did not vote.
const RESEND_MS: u64 = 1_000;
/// Proposals kept while their batches are fetched; beyond it the oldest is dropped.
const MAX_PARKED: usize = 8;
/// How long a batch fetch may stay unanswered before the signers are asked again.
const FETCH_RETRY_MS: u64 = 500;
/// Times a batch fetch is asked again before the proposals needing it are dropped.
const FETCH_RETRIES: u32 = 10;

/// What travels between the batch machines of two instances.
#[derive(Debug)]
pub(crate) enum BatchMessage {
    /// A batch, from its author (checked by the receiver).
    Batch(Arc<Batch>),
    /// A vote for the receiver's batch.
    Vote(BatchVote),
    /// A proof of availability.
    Proof(ProofOfAvailability),
    /// A proposal carrying proofs instead of transactions.
    Proposal(Box<BatchedProposal>),
}

impl BatchMessage {
    fn kind(&self) -> &'static str {
        match self {
            BatchMessage::Batch(_) => "batch",
            BatchMessage::Vote(_) => "batch-vote",
            BatchMessage::Proof(_) => "batch-proof",
            BatchMessage::Proposal(_) => "batched-proposal",
        }
    }
}

/// How an instance takes part in batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BatchConduct {
    /// Follows the protocol.
    Honest,
    /// Sends nothing and serves nothing.
    Mute,
    /// Votes for batches it does not store, serves none, and sends its own batches to
    /// as few validators as a proof needs.
    Unserving,
}

/// Counters of the batch path, for the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Batches sealed (by any instance).
    pub made: u64,
    /// Proofs of availability formed.
    pub certified: u64,
    /// Proposals sent as proofs.
    pub batched_proposals: u64,
    /// Batched proposals assembled and handed to a core.
    pub assembled: u64,
    /// Batches fetched from a proof's signers, and of those, answered.
    pub fetches: u64,
    /// See `fetches`.
    pub fetched: u64,
    /// Batch fetches given up (the proposals needing them dropped).
    pub fetches_abandoned: u64,
    /// Batches refused by a receiver's rules (quota, expiry, sequence, author).
    pub refused: u64,
    /// Own batches that expired uncommitted (their transactions batched again).
    pub expired: u64,
}

/// One instance's batch state: the machine and the driver's bookkeeping around it.
pub(crate) struct NodeBatches {
    machine: Batches,
    round: Round,
    /// The batch digests of uncommitted blocks proposed or assembled here, by block id.
    blocks: BTreeMap<Hash, (Round, Vec<Hash>)>,
    /// The proofs of the block this leader is about to propose.
    proposing: Option<(Round, Vec<ProofOfAvailability>)>,
    /// Batched proposals waiting for fetched batches, with who sent them.
    parked: Vec<(ValidatorId, BatchedProposal)>,
    /// Batches being fetched: whom to ask, and how often they were asked again.
    fetching: BTreeMap<Hash, (Vec<ValidatorId>, u32)>,
    /// Client transactions waiting while this validator is over its own quota.
    waiting: Vec<(Transaction, Hash)>,
    /// Times of the ticks scheduled (one event per distinct time).
    ticks: BTreeSet<u64>,
}

impl NodeBatches {
    fn maker_busy(&self) -> bool {
        self.machine.room().0 < BATCH_TXS
    }
}

impl World {
    /// Builds instance `i`'s batch machine as it starts, its stored batches held again.
    pub(crate) fn start_batches(&mut self, i: usize) {
        if !self.scenario.batched {
            return;
        }
        let node = &mut self.nodes[i];
        let mut config =
            BatchConfig::new(self.chain, node.id, node.secret(), self.validators.clone());
        config.max_batch_txs = BATCH_TXS;
        config.linger_ms = LINGER_MS;
        config.resend_ms = RESEND_MS;
        config.lifetime_rounds = LIFETIME_ROUNDS;
        // Above every sequence used before a restart, as the node derives it.
        config.first_sequence = (self.now + 1) * 1_000;
        let mut machine = Batches::new(config);
        for batch in node.stored_batches.values() {
            machine.handle(BatchEvent::Restored {
                batch: batch.clone(),
            });
        }
        node.batching = Some(NodeBatches {
            machine,
            round: 0,
            blocks: BTreeMap::new(),
            proposing: None,
            parked: Vec::new(),
            fetching: BTreeMap::new(),
            waiting: Vec::new(),
            ticks: BTreeSet::new(),
        });
    }

    /// A client transaction goes to one validator, drawn at random (the next running
    /// one if that one is down), as a client picks the node it submits to.
    pub(crate) fn submit_to_validator(&mut self, tx: Transaction) {
        let count = self.nodes.len();
        let first = self.clients.below(count as u64) as usize;
        let Some(i) = (0..count)
            .map(|k| (first + k) % count)
            .find(|&i| self.nodes[i].batching.is_some())
        else {
            return;
        };
        let hash = tx.hash();
        if self.nodes[i].is_honest() {
            self.tx_watch.insert(hash, (i, self.now));
        }
        if let Some(b) = self.nodes[i].batching.as_mut() {
            b.waiting.push((tx, hash));
        }
        self.submit_waiting(i);
    }

    /// Hands instance `i`'s waiting transactions to its machine, if it accepts them.
    fn submit_waiting(&mut self, i: usize) {
        let now_ms = self.now;
        let Some(b) = self.nodes[i].batching.as_mut() else {
            return;
        };
        if b.waiting.is_empty() || !b.machine.accepting() {
            return;
        }
        let txs = std::mem::take(&mut b.waiting);
        self.batch_event(i, BatchEvent::Submitted { txs, now_ms });
        self.arm_batch_tick(i, LINGER_MS);
    }

    /// Schedules a tick of instance `i`'s machine `after_ms` from now.
    fn arm_batch_tick(&mut self, i: usize, after_ms: u64) {
        let at = self.now + after_ms;
        let node = &mut self.nodes[i];
        let inc = node.incarnation;
        if let Some(b) = node.batching.as_mut()
            && b.ticks.insert(at)
        {
            self.queue.push(at, Ev::BatchTick { to: i, inc });
        }
    }

    /// A scheduled tick: batches due are sealed, resends sent.
    pub(crate) fn batch_tick(&mut self, i: usize, inc: u32) {
        if !self.nodes[i].accepts(inc) {
            return;
        }
        let now_ms = self.now;
        if let Some(b) = self.nodes[i].batching.as_mut() {
            b.ticks.remove(&now_ms);
        }
        self.submit_waiting(i);
        self.batch_event(i, BatchEvent::Tick { now_ms });
        if self.nodes[i]
            .batching
            .as_ref()
            .is_some_and(NodeBatches::maker_busy)
        {
            self.arm_batch_tick(i, LINGER_MS);
        }
    }

    /// Tells instance `i`'s machine the round its core is in, if that changed.
    pub(crate) fn note_batch_round(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        let (Some(core), Some(b)) = (node.core.as_ref(), node.batching.as_mut()) else {
            return;
        };
        let round = core.round();
        if round > b.round {
            b.round = round;
            self.batch_event(i, BatchEvent::Round { round });
        }
    }

    /// Feeds one event to instance `i`'s machine and performs what it asks.
    fn batch_event(&mut self, i: usize, event: BatchEvent) {
        let Some(b) = self.nodes[i].batching.as_mut() else {
            return;
        };
        let actions = b.machine.handle(event);
        self.perform_batch_actions(i, actions);
    }

    /// Performs instance `i`'s batch actions, in order.
    fn perform_batch_actions(&mut self, i: usize, actions: Vec<BatchAction>) {
        let conduct = self.nodes[i].batch_conduct();
        for action in actions {
            match action {
                BatchAction::Disseminate { batch } => {
                    self.stats.batches.made += 1;
                    self.log(|| format!("#{i} batch {} sealed", short(&batch.digest())));
                    self.nodes[i]
                        .stored_batches
                        .insert(batch.digest(), batch.clone());
                    let message = Rc::new(BatchMessage::Batch(batch.batch.clone()));
                    for to in self.dissemination_targets(i, conduct) {
                        self.send_batch_message(i, to, message.clone());
                    }
                    self.arm_batch_tick(i, RESEND_MS);
                }
                BatchAction::Resend { batch, to } => {
                    let message = Rc::new(BatchMessage::Batch(batch.batch.clone()));
                    for v in to {
                        self.send_batch_to_validator(i, v, &message);
                    }
                    self.arm_batch_tick(i, RESEND_MS);
                }
                BatchAction::StoreAndVote { batch, vote } => {
                    if conduct != BatchConduct::Unserving {
                        self.nodes[i].stored_batches.insert(batch.digest(), batch);
                    }
                    let author = vote.info.author;
                    let message = Rc::new(BatchMessage::Vote(vote));
                    self.send_batch_to_validator(i, author, &message);
                }
                BatchAction::Store { batch } => {
                    self.nodes[i].stored_batches.insert(batch.digest(), batch);
                }
                BatchAction::BroadcastProof { proof } => {
                    self.stats.batches.certified += 1;
                    let message = Rc::new(BatchMessage::Proof(proof));
                    for to in self.other_instances(i) {
                        self.send_batch_message(i, to, message.clone());
                    }
                    self.proof_ready(i);
                }
                BatchAction::Fetch { digest, from } => self.fetch_batch(i, digest, from),
                BatchAction::Forget { digests } => {
                    for digest in &digests {
                        self.nodes[i].stored_batches.remove(digest);
                    }
                }
                BatchAction::Expired { batch } => self.own_batch_expired(i, &batch),
                BatchAction::Refused { from, reason } => {
                    self.stats.batches.refused += 1;
                    self.log(|| format!("#{i} refused a batch from {from}: {reason}"));
                }
            }
        }
    }

    /// An own batch expired uncommitted: its transactions not committed here are
    /// batched again.
    fn own_batch_expired(&mut self, i: usize, batch: &HeldBatch) {
        self.stats.batches.expired += 1;
        self.log(|| format!("#{i} own batch {} expired", short(&batch.digest())));
        let committed = &self.nodes[i].committed_txs;
        let again: Vec<(Transaction, Hash)> = batch
            .batch
            .txs
            .iter()
            .zip(batch.hashes.iter())
            .filter(|(_, hash)| !committed.contains(*hash))
            .map(|(tx, hash)| (tx.clone(), *hash))
            .collect();
        if let Some(b) = self.nodes[i].batching.as_mut() {
            b.waiting.extend(again);
        }
        self.submit_waiting(i);
    }

    /// The instances an own batch goes to: every other one, or for an unserving
    /// certifier just enough validators for a proof.
    fn dissemination_targets(&mut self, i: usize, conduct: BatchConduct) -> Vec<usize> {
        match conduct {
            BatchConduct::Honest => self.other_instances(i),
            BatchConduct::Mute => Vec::new(),
            BatchConduct::Unserving => {
                let me = self.nodes[i].id;
                let mut others: Vec<usize> = (0..self.validators.len())
                    .filter(|&v| v != usize::from(me.0))
                    .collect();
                self.batch_rng.shuffle(&mut others);
                others.truncate(self.validators.quorum().saturating_sub(1));
                others
                    .into_iter()
                    .flat_map(|v| self.by_id[v].clone())
                    .collect()
            }
        }
    }

    fn other_instances(&self, i: usize) -> Vec<usize> {
        let me = self.nodes[i].id;
        (0..self.nodes.len())
            .filter(|&j| self.nodes[j].id != me)
            .collect()
    }

    fn send_batch_to_validator(&mut self, i: usize, to: ValidatorId, message: &Rc<BatchMessage>) {
        let targets = self
            .by_id
            .get(usize::from(to.0))
            .cloned()
            .unwrap_or_default();
        for j in targets {
            self.send_batch_message(i, j, message.clone());
        }
    }

    /// Sends a batch message from instance `i` to instance `j` through the network
    /// (nothing, if `i` is mute).
    fn send_batch_message(&mut self, i: usize, j: usize, message: Rc<BatchMessage>) {
        if i == j || self.nodes[i].batch_conduct() == BatchConduct::Mute {
            return;
        }
        self.nodes[i].counters.sent += 1;
        let (from, inc) = (self.nodes[i].id, self.nodes[j].incarnation);
        for delay in self.net.route(i, j, self.now) {
            self.queue.push(
                self.now + delay,
                Ev::BatchDeliver {
                    to: j,
                    inc,
                    from,
                    message: message.clone(),
                },
            );
        }
    }

    /// A batch message arrives at instance `to`: checked as the node checks it, then
    /// fed to the machine.
    pub(crate) fn deliver_batch_message(
        &mut self,
        to: usize,
        inc: u32,
        from: ValidatorId,
        message: &BatchMessage,
    ) {
        if !self.nodes[to].accepts(inc) {
            self.stats.lost_to_crash += 1;
            return;
        }
        if self.nodes[to].batching.is_none() {
            return;
        }
        self.mix(((to as u64) << 40) ^ 0xBA7C ^ u64::from(from.0) << 48);
        self.log(|| format!("#{to} <- {from} {}", message.kind()));
        let (chain, validators) = (&self.chain, &self.validators);
        match message {
            BatchMessage::Batch(batch) => match batch.check_well_formed() {
                Ok(hashes) => {
                    let batch = HeldBatch {
                        batch: batch.clone(),
                        hashes: hashes.into(),
                    };
                    self.batch_event(to, BatchEvent::Received { from, batch });
                }
                Err(e) => self.log(|| format!("#{to} malformed batch from {from}: {e}")),
            },
            BatchMessage::Vote(vote) => {
                if vote.verify(chain, validators).is_ok() {
                    let vote = vote.clone();
                    self.batch_event(to, BatchEvent::Vote { vote });
                }
            }
            BatchMessage::Proof(proof) => {
                if proof.verify(chain, validators).is_ok() {
                    let proof = proof.clone();
                    self.batch_event(to, BatchEvent::Proof { proof });
                    self.proof_ready(to);
                }
            }
            BatchMessage::Proposal(proposal) => {
                if proposal.verify(chain, validators, |_| false).is_ok() {
                    self.on_batched_proposal(to, from, (**proposal).clone());
                }
            }
        }
    }

    /// A checked batched proposal: assembled and handed to the core if every batch is
    /// held, else parked while the missing ones are fetched.
    fn on_batched_proposal(&mut self, to: usize, from: ValidatorId, proposal: BatchedProposal) {
        let round = proposal.header.round;
        let node = &mut self.nodes[to];
        let core_round = node.core.as_ref().map_or(0, |c| c.round());
        let Some(b) = node.batching.as_mut() else {
            return;
        };
        if round.saturating_add(1) < core_round {
            return; // its round is over
        }
        match b.machine.assemble(round, &proposal.batches) {
            Err(e) => self.log(|| format!("#{to} refused batched proposal r{round}: {e}")),
            Ok(Assembly::Missing(fetches)) => {
                if b.parked.len() >= MAX_PARKED {
                    b.parked.remove(0);
                }
                b.parked.push((from, proposal));
                self.perform_batch_actions(to, fetches);
            }
            Ok(Assembly::Ready(batches)) => {
                let txs: Vec<Transaction> = batches
                    .iter()
                    .flat_map(|held| held.batch.txs.iter().cloned())
                    .collect();
                let digests = batches.iter().map(HeldBatch::digest).collect();
                let Ok(proposal) = proposal.into_proposal(txs) else {
                    self.log(|| format!("#{to} batched proposal r{round} over the block limit"));
                    return;
                };
                b.blocks.insert(proposal.block.id(), (round, digests));
                self.stats.batches.assembled += 1;
                let inc = self.nodes[to].incarnation;
                self.deliver(to, inc, from, Rc::new(Message::Proposal(proposal)));
            }
        }
    }

    /// Asks the signers of a proof for batch `digest`, unless it is being fetched.
    fn fetch_batch(&mut self, i: usize, digest: Hash, from: Vec<ValidatorId>) {
        let node = &mut self.nodes[i];
        let inc = node.incarnation;
        let Some(b) = node.batching.as_mut() else {
            return;
        };
        if b.fetching.contains_key(&digest) {
            return;
        }
        b.fetching.insert(digest, (from.clone(), 0));
        self.stats.batches.fetches += 1;
        self.log(|| format!("#{i} fetches batch {}", short(&digest)));
        self.ask_for_batch(i, &from, digest);
        self.queue.push(
            self.now + FETCH_RETRY_MS,
            Ev::BatchFetchRetry { to: i, inc, digest },
        );
    }

    fn ask_for_batch(&mut self, i: usize, from: &[ValidatorId], digest: Hash) {
        let requester_inc = self.nodes[i].incarnation;
        for &v in from {
            self.request_from(i, v, |to, inc| Ev::BatchAsk {
                to,
                inc,
                requester: i,
                requester_inc,
                digest,
            });
        }
    }

    /// Instance `to` answers a batch request, if it holds the batch and serves.
    pub(crate) fn serve_batch(
        &mut self,
        to: usize,
        inc: u32,
        requester: usize,
        requester_inc: u32,
        digest: Hash,
    ) {
        let node = &self.nodes[to];
        if !node.accepts(inc) || node.batch_conduct() != BatchConduct::Honest {
            return;
        }
        let Some(batch) = node
            .batching
            .as_ref()
            .and_then(|b| b.machine.get(&digest))
            .map(|held| held.batch.clone())
        else {
            return;
        };
        for delay in self.net.route(to, requester, self.now) {
            self.queue.push(
                self.now + delay,
                Ev::BatchAnswer {
                    to: requester,
                    inc: requester_inc,
                    digest,
                    batch: batch.clone(),
                },
            );
        }
    }

    /// A batch answer reaches the instance that asked: checked, held, and the parked
    /// proposals tried again.
    pub(crate) fn batch_answered(&mut self, to: usize, inc: u32, digest: Hash, batch: Arc<Batch>) {
        if !self.nodes[to].accepts(inc) {
            return;
        }
        let Some(b) = self.nodes[to].batching.as_mut() else {
            return;
        };
        if batch.info.digest != digest || !b.fetching.contains_key(&digest) {
            return;
        }
        let Ok(hashes) = batch.check_well_formed() else {
            return;
        };
        b.fetching.remove(&digest);
        self.stats.batches.fetched += 1;
        let batch = HeldBatch {
            batch,
            hashes: hashes.into(),
        };
        self.batch_event(to, BatchEvent::Fetched { batch });
        self.retry_parked(to);
        self.proof_ready(to);
    }

    fn retry_parked(&mut self, i: usize) {
        let Some(b) = self.nodes[i].batching.as_mut() else {
            return;
        };
        for (from, proposal) in std::mem::take(&mut b.parked) {
            self.on_batched_proposal(i, from, proposal);
        }
    }

    /// A batch fetch still unanswered: ask its signers again, or give up on it and on
    /// the proposals that need it (the round's timer recovers, as in the node).
    pub(crate) fn retry_batch_fetch(&mut self, to: usize, inc: u32, digest: Hash) {
        if !self.nodes[to].accepts(inc) {
            return;
        }
        let Some(b) = self.nodes[to].batching.as_mut() else {
            return;
        };
        let Some((from, tries)) = b.fetching.get_mut(&digest) else {
            return;
        };
        *tries += 1;
        if *tries > FETCH_RETRIES {
            b.fetching.remove(&digest);
            b.parked
                .retain(|(_, p)| p.batches.iter().all(|proof| proof.info.digest != digest));
            self.stats.batches.fetches_abandoned += 1;
            return;
        }
        let from = from.clone();
        self.ask_for_batch(to, &from, digest);
        self.queue.push(
            self.now + FETCH_RETRY_MS,
            Ev::BatchFetchRetry { to, inc, digest },
        );
    }

    /// The transactions of the certified batches a block of `round` on `parent` may
    /// carry; their proofs are remembered so the proposal goes out batched.
    pub(crate) fn ready_batches(
        &mut self,
        i: usize,
        round: Round,
        parent: Hash,
    ) -> Vec<Transaction> {
        let exclude = self.batches_above_committed(i, parent);
        let (max_txs, max_bytes) = (self.config.max_block_txs, self.config.max_block_bytes / 2);
        let Some(b) = self.nodes[i].batching.as_mut() else {
            return Vec::new();
        };
        let mut proofs = Vec::new();
        let mut txs = Vec::new();
        // A proof whose batch is not held here (lost on the way, or sent while this
        // validator was down) is fetched for a later block, and its author's later
        // proofs wait (they may hold the same senders' later nonces), as in the node.
        let mut missing = Vec::new();
        let mut stopped: BTreeSet<ValidatorId> = BTreeSet::new();
        for proof in b.machine.pull(round, &exclude, max_txs, max_bytes) {
            match b.machine.get(&proof.info.digest) {
                Some(held) if !stopped.contains(&proof.info.author) => {
                    txs.extend(held.batch.txs.iter().cloned());
                    proofs.push(proof);
                }
                Some(_) => {}
                None => {
                    stopped.insert(proof.info.author);
                    missing.push(proof);
                }
            }
        }
        let (held, certified) = (b.machine.held_count(), b.machine.certified_count());
        let chosen = proofs.len();
        b.proposing = (!proofs.is_empty()).then_some((round, proofs));
        self.log(|| {
            format!(
                "#{i} ready r{round}: {chosen} proofs ({} txs) of {certified} certified, {held} held, {} excluded, {} missing",
                txs.len(),
                exclude.len(),
                missing.len()
            )
        });
        if let Some(b) = self.nodes[i].batching.as_mut()
            && let Ok(Assembly::Missing(fetches)) = b.machine.assemble(round, &missing)
        {
            self.perform_batch_actions(i, fetches);
        }
        txs
    }

    /// The digests of the batches in `parent` and its uncommitted ancestors.
    fn batches_above_committed(&self, i: usize, parent: Hash) -> HashSet<Hash> {
        let node = &self.nodes[i];
        let mut exclude = HashSet::new();
        let (Some(core), Some(b)) = (node.core.as_ref(), node.batching.as_ref()) else {
            return exclude;
        };
        let mut cursor = parent;
        while let Some(block) = core.block(&cursor) {
            if block.header.height <= node.committed.height {
                break;
            }
            if let Some((_, digests)) = b.blocks.get(&cursor) {
                exclude.extend(digests.iter().copied());
            }
            cursor = block.header.parent;
        }
        exclude
    }

    /// The batched form of instance `i`'s `proposal`, if its transactions are exactly
    /// the batches it pulled for that round.
    pub(crate) fn batched_form(
        &mut self,
        i: usize,
        proposal: &Proposal,
    ) -> Option<BatchedProposal> {
        let b = self.nodes[i].batching.as_mut()?;
        let (round, proofs) = b.proposing.take()?;
        if round != proposal.block.header.round {
            return None;
        }
        let mut digests = Vec::with_capacity(proofs.len());
        let mut count = 0;
        for proof in &proofs {
            count += b.machine.get(&proof.info.digest)?.hashes.len();
            digests.push(proof.info.digest);
        }
        if count != proposal.block.txs.len() {
            return None;
        }
        let batched = BatchedProposal::new(proposal, proofs).ok()?;
        b.blocks.insert(proposal.block.id(), (round, digests));
        self.stats.batches.batched_proposals += 1;
        Some(batched)
    }

    /// Broadcasts instance `i`'s batched proposal to every other instance.
    pub(crate) fn broadcast_batched(&mut self, i: usize, proposal: BatchedProposal) {
        let message = Rc::new(BatchMessage::Proposal(Box::new(proposal)));
        for to in self.other_instances(i) {
            self.send_batch_message(i, to, message.clone());
        }
    }

    /// A proof, or a batch a proof needed, reached instance `i`: a leader waiting for
    /// something to propose gets it now.
    fn proof_ready(&mut self, i: usize) {
        if let Some((round, parent, _)) = self.nodes[i].payload_wait {
            let txs = self.ready_batches(i, round, parent);
            if !txs.is_empty() {
                self.nodes[i].payload_wait = None;
                self.give_payload(i, round, txs);
            }
        }
    }

    /// Instance `i` committed `blocks` (lowest first): its machine drops their batches.
    pub(crate) fn batches_committed(&mut self, i: usize, blocks: &[cairn_types::Block]) {
        if !self.scenario.batched {
            return;
        }
        let Some(round) = blocks.last().map(|b| b.header.round) else {
            return;
        };
        let txs: Vec<Hash> = blocks
            .iter()
            .flat_map(|block| block.txs.iter().map(Transaction::hash))
            .collect();
        let honest = self.nodes[i].is_honest();
        if honest {
            self.txs_committed.extend(txs.iter().copied());
        }
        let node = &mut self.nodes[i];
        node.committed_txs.extend(txs.iter().copied());
        let Some(b) = node.batching.as_mut() else {
            return;
        };
        let mut digests = Vec::new();
        for block in blocks {
            if let Some((_, d)) = b.blocks.remove(&block.id()) {
                digests.extend(d);
            }
        }
        // Blocks below the commit that were never committed (a fork) go too.
        b.blocks.retain(|_, (r, _)| *r > round);
        self.batch_event(
            i,
            BatchEvent::Committed {
                round,
                digests,
                txs,
            },
        );
    }

    /// At the end of a run: every transaction given to an honest validator that did
    /// not crash after it was committed, unless it arrived too late to be.
    pub(crate) fn check_every_tx(&mut self) {
        let Some(within) = self.scenario.every_tx_within_ms else {
            return;
        };
        let (stable, end) = (self.stats.stable_ms, self.now);
        let mut missing = 0;
        let mut first = None;
        for (hash, &(i, at)) in &self.tx_watch {
            let crashed_since = self.nodes[i].last_crash_ms.is_some_and(|c| c >= at);
            if crashed_since
                || at.max(stable).saturating_add(within) > end
                || self.txs_committed.contains(hash)
            {
                continue;
            }
            missing += 1;
            if first.is_none_or(|(_, t)| at < t) {
                first = Some((i, at));
            }
        }
        if let Some((instance, at_ms)) = first {
            self.checker
                .violations
                .push(super::Violation::TransactionsLost {
                    count: missing,
                    instance,
                    at_ms,
                    within_ms: within,
                });
        }
    }
}

fn short(hash: &Hash) -> String {
    super::violation::short(hash)
}
