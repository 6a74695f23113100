//! Batches in the driver: the I/O around the pure `cairn-batches` machine
//! (docs/DATAPATH.md, docs/PROTOCOL.md §14).
//!
//! This validator's client transactions leave its mempool in batches, each sent once
//! to every validator and stored durably before anyone vouches for it. A leader
//! proposes the proofs of certified batches (`KIND_BATCHED_PROPOSAL`) instead of their
//! transactions; a receiver assembles the block from the batches it holds, fetching
//! the missing ones from a proof's signers, and then checks it like any proposal.
//! Nothing downstream changes: the core, the store, block sync and the audit see
//! ordinary blocks.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use anyhow::Result;
use cairn_batches::{Action as BatchAction, Assembly, Batches, Event as BatchEvent, HeldBatch};
use cairn_consensus::Message;
use cairn_crypto::{Hash, PublicKey};
use cairn_network::{NetworkHandle, Offence, Responder};
use cairn_types::{
    Batch, BatchedProposal, Block, ChainId, ProofOfAvailability, Proposal, Round, Transaction,
    ValidatorId, Wire,
};
use tokio::sync::mpsc;

use super::verify::{BlockLimits, check_batch_contents, check_block_limits};
use super::{Driver, now_ms};
use crate::run::shared::Shared;
use crate::run::wire::{
    KIND_BATCH, KIND_BATCH_PROOF, KIND_BATCH_VOTE, KIND_BATCHED_PROPOSAL, REQUEST_BATCH,
};

/// Proposals kept while their batches are fetched; beyond it the oldest is dropped
/// (the round's timer recovers, as for any proposal not voted for).
const MAX_PARKED: usize = 8;
/// Uncommitted blocks whose batches are remembered; beyond it the lowest rounds go.
const MAX_BLOCKS: usize = 1_024;
/// How often the mempool is looked at for this validator's next batch.
pub const BATCH_TICK: std::time::Duration = std::time::Duration::from_millis(5);

/// One of this validator's batches not yet committed or expired.
struct OwnBatch {
    hashes: Arc<[Hash]>,
    senders: Vec<PublicKey>,
    certified: bool,
}

/// A fetched batch (or `None`: no signer served it), by digest.
pub type FetchedBatch = (Hash, Option<HeldBatch>);

/// The driver's batch state around the machine.
pub struct Batching {
    machine: Batches,
    /// The proofs of the block this leader is proposing: its round and them.
    proposing: Option<(Round, Vec<ProofOfAvailability>)>,
    /// The batches of uncommitted blocks assembled or proposed here, by block id, with
    /// the block's round.
    blocks: HashMap<Hash, (Round, Vec<HeldBatch>)>,
    /// Batched proposals waiting for fetched batches.
    parked: Vec<(ValidatorId, BatchedProposal)>,
    /// Batches being fetched.
    fetching: HashSet<Hash>,
    own: HashMap<Hash, OwnBatch>,
    /// The transactions in `own`: skipped when the next batch is chosen.
    batched: HashSet<Hash>,
    /// Senders with transactions in an own batch not yet certified, and how many such
    /// batches: their later transactions wait (see `Mempool::select_for_batch`).
    waiting: HashMap<PublicKey, usize>,
    fetched_tx: mpsc::Sender<FetchedBatch>,
    /// Stores batches and sends what vouches for them, in order.
    writer: super::batch_writer::BatchWriter,
    /// Fetched batches, for the driver's loop.
    pub fetched_rx: mpsc::Receiver<FetchedBatch>,
}

impl Batching {
    /// Around `machine`, with the batches found in the store held again.
    pub fn new(
        mut machine: Batches,
        stored: Vec<Batch>,
        writer: super::batch_writer::BatchWriter,
    ) -> Batching {
        for batch in stored {
            // Stored after the checks passed; one that no longer passes is left out.
            if let Ok(hashes) = batch.check_well_formed() {
                machine.handle(BatchEvent::Restored {
                    batch: HeldBatch::new(batch, hashes),
                });
            }
        }
        let (fetched_tx, fetched_rx) = mpsc::channel(256);
        Batching {
            machine,
            proposing: None,
            blocks: HashMap::new(),
            parked: Vec::new(),
            fetching: HashSet::new(),
            own: HashMap::new(),
            batched: HashSet::new(),
            waiting: HashMap::new(),
            fetched_tx,
            writer,
            fetched_rx,
        }
    }

    /// The consensus core is in `round` now.
    pub fn note_round(&mut self, round: Round) {
        self.machine.handle(BatchEvent::Round { round });
    }

    /// The hashes of the transactions of `blocks` that came in batches (their
    /// signatures were checked when the batch arrived).
    pub fn verified_txs(&self, blocks: &[Block]) -> HashSet<Hash> {
        blocks
            .iter()
            .filter_map(|block| self.blocks.get(&block.id()))
            .flat_map(|(_, batches)| batches.iter().flat_map(|b| b.hashes.iter().copied()))
            .collect()
    }

    /// The digests of the batches in block `id`, if it was assembled or proposed here.
    pub fn digests_of(&self, id: &Hash) -> Option<Vec<Hash>> {
        self.blocks
            .get(id)
            .map(|(_, batches)| batches.iter().map(HeldBatch::digest).collect())
    }

    fn remember_block(&mut self, id: Hash, round: Round, batches: Vec<HeldBatch>) {
        if batches.is_empty() {
            return;
        }
        while self.blocks.len() >= MAX_BLOCKS {
            let lowest = self
                .blocks
                .iter()
                .min_by_key(|(_, (r, _))| *r)
                .map(|(id, _)| *id);
            match lowest {
                Some(id) => self.blocks.remove(&id),
                None => break,
            };
        }
        self.blocks.insert(id, (round, batches));
    }

    fn note_own(&mut self, batch: &HeldBatch) {
        let mut senders: Vec<PublicKey> =
            batch.batch.txs.iter().map(|tx| tx.payload.sender).collect();
        senders.sort_unstable();
        senders.dedup();
        for sender in &senders {
            *self.waiting.entry(*sender).or_default() += 1;
        }
        self.batched.extend(batch.hashes.iter().copied());
        self.own.insert(
            batch.digest(),
            OwnBatch {
                hashes: batch.hashes.clone(),
                senders,
                certified: false,
            },
        );
    }

    fn own_certified(&mut self, digest: &Hash) {
        if let Some(own) = self.own.get_mut(digest)
            && !own.certified
        {
            own.certified = true;
            for sender in &own.senders {
                release(&mut self.waiting, sender);
            }
        }
    }

    fn own_gone(&mut self, digest: &Hash) {
        if let Some(own) = self.own.remove(digest) {
            for hash in own.hashes.iter() {
                self.batched.remove(hash);
            }
            if !own.certified {
                for sender in &own.senders {
                    release(&mut self.waiting, sender);
                }
            }
        }
    }
}

fn release(waiting: &mut HashMap<PublicKey, usize>, sender: &PublicKey) {
    if let Some(count) = waiting.get_mut(sender) {
        *count -= 1;
        if *count == 0 {
            waiting.remove(sender);
        }
    }
}

impl Driver {
    /// Moves ready client transactions from the mempool into the batch being filled,
    /// and seals it when due.
    pub(super) fn batch_tick(&mut self) {
        if self.batching.writer.backed_up() {
            return; // no new batch, and no resend, until the writer catches up
        }
        let now = now_ms();
        let mut actions = Vec::new();
        let (room_txs, room_bytes) = self.batching.machine.room();
        if self.batching.machine.accepting() && room_txs > 0 {
            let txs = {
                let pool = self.shared.mempool();
                let waiting = &self.batching.waiting;
                pool.select_for_batch(room_txs, room_bytes, &self.batching.batched, |sender| {
                    waiting.contains_key(sender)
                })
            };
            if !txs.is_empty() {
                self.batching.batched.extend(txs.iter().map(|(_, h)| *h));
                actions = self
                    .batching
                    .machine
                    .handle(BatchEvent::Submitted { txs, now_ms: now });
            }
        }
        actions.extend(
            self.batching
                .machine
                .handle(BatchEvent::Tick { now_ms: now }),
        );
        self.perform_batch_actions(actions);
    }

    /// Whether the batch clock must run: transactions wait in the mempool (pending
    /// or batched and not yet committed) or an own batch is not yet committed.
    pub(super) fn batching_active(&self) -> bool {
        self.shared.metrics.mempool_size.get() > 0 || !self.batching.own.is_empty()
    }

    /// A peer's checked batch: stored and voted for, unless the writer is backed up
    /// (then it is dropped; its author sends it again to those that did not vote).
    pub(super) fn on_peer_batch(&mut self, from: ValidatorId, batch: HeldBatch) {
        if self.batching.writer.backed_up() {
            self.shared.metrics.batches_refused.inc();
            tracing::debug!(
                from = from.0,
                "batch writer backed up; a peer's batch dropped"
            );
            return;
        }
        self.batch_event(BatchEvent::Received { from, batch });
    }

    /// Feeds one event to the batch machine and performs what it asks.
    pub(super) fn batch_event(&mut self, event: BatchEvent) {
        let actions = self.batching.machine.handle(event);
        self.perform_batch_actions(actions);
    }

    /// Performs the batch machine's actions. Batches are written in one synced write,
    /// and what vouches for them (this validator's batch going out, or its vote) is
    /// sent only once that write is done.
    fn perform_batch_actions(&mut self, actions: Vec<BatchAction>) {
        let mut to_store: Vec<Arc<Batch>> = Vec::new();
        let mut after_store: Vec<(Option<ValidatorId>, u8, Vec<u8>)> = Vec::new();
        let mut forget: Vec<Hash> = Vec::new();
        let mut certified = false;
        for action in actions {
            match action {
                BatchAction::Disseminate { batch } => {
                    self.batching.note_own(&batch);
                    self.shared.metrics.batches_made.inc();
                    after_store.push((None, KIND_BATCH, batch.batch.to_wire()));
                    to_store.push(batch.batch);
                }
                BatchAction::StoreAndVote { batch, vote } => {
                    after_store.push((Some(vote.info.author), KIND_BATCH_VOTE, vote.to_wire()));
                    to_store.push(batch.batch);
                }
                BatchAction::Store { batch } => to_store.push(batch.batch),
                BatchAction::Resend { batch, to } => {
                    self.shared.metrics.batches_resent.inc();
                    let bytes = batch.batch.to_wire();
                    after_store
                        .extend(to.into_iter().map(|v| (Some(v), KIND_BATCH, bytes.clone())));
                }
                BatchAction::BroadcastProof { proof } => {
                    self.batching.own_certified(&proof.info.digest);
                    self.shared.metrics.batches_certified.inc();
                    certified = true;
                    after_store.push((None, KIND_BATCH_PROOF, proof.to_wire()));
                }
                BatchAction::Fetch { digest, from } => self.fetch_batch(digest, from),
                BatchAction::Forget { digests } => {
                    for digest in &digests {
                        self.batching.own_gone(digest);
                    }
                    forget.extend(digests);
                }
                BatchAction::Expired { batch } => {
                    // Its transactions still pending are chosen again.
                    self.batching.own_gone(&batch.digest());
                    tracing::debug!(digest = %batch.digest(), "own batch expired uncommitted");
                }
                BatchAction::Refused { from, reason } => {
                    self.shared.metrics.batches_refused.inc();
                    tracing::debug!(from = from.0, %reason, "refused a batch");
                }
            }
        }
        self.write_then_send(to_store, after_store, forget);
        if certified {
            // A waiting leader may now have something to propose.
            self.shared.batch_ready.notify_one();
        }
    }

    /// Writes `batches` (synced) and deletes `forget`, then sends `messages`, off the
    /// driver's task and after everything submitted before (`batch_writer`).
    fn write_then_send(
        &self,
        batches: Vec<Arc<Batch>>,
        messages: Vec<(Option<ValidatorId>, u8, Vec<u8>)>,
        forget: Vec<Hash>,
    ) {
        self.batching.writer.submit(super::batch_writer::Job {
            store: batches,
            forget,
            messages,
        });
    }

    /// Asks the signers of a proof, in turn, for batch `digest`, unless it is being
    /// fetched already.
    fn fetch_batch(&mut self, digest: Hash, from: Vec<ValidatorId>) {
        if !self.batching.fetching.insert(digest) {
            return;
        }
        self.shared.metrics.batches_fetched.inc();
        let fetch = BatchFetch {
            net: self.net.clone(),
            chain: self.shared.genesis.chain_id(),
            limits: self.limits,
            wait: self.block_fetch,
            digest,
        };
        let done = self.batching.fetched_tx.clone();
        tokio::spawn(async move {
            let mut found = None;
            for peer in from {
                if let Some(batch) = fetch.ask(peer).await {
                    found = Some(batch);
                    break;
                }
            }
            let _ = done.send((digest, found)).await;
        });
    }

    /// A fetch finished: the batch is held (and stored), and parked proposals are
    /// tried again.
    pub(super) async fn on_fetched_batch(&mut self, (digest, batch): FetchedBatch) -> Result<()> {
        self.batching.fetching.remove(&digest);
        match batch {
            Some(batch) => {
                self.batch_event(BatchEvent::Fetched { batch });
                // A leader waiting for something to propose may have it now.
                self.shared.batch_ready.notify_one();
            }
            None => {
                // Usual for a node that lagged: the batch was committed (and forgotten)
                // before it asked. The proposals that needed it are dropped, not
                // retried (which would ask again at once); the round's timer and block
                // fetch recover, as for any proposal not voted for.
                tracing::debug!(%digest, "no signer of its proof served a batch");
                self.batching
                    .parked
                    .retain(|(_, p)| p.batches.iter().all(|b| b.info.digest != digest));
            }
        }
        let parked = std::mem::take(&mut self.batching.parked);
        for (from, proposal) in parked {
            self.on_batched_proposal(from, proposal).await?;
        }
        Ok(())
    }

    /// A checked batched proposal: assembled into the block it stands for if every
    /// batch is held, else parked while the missing ones are fetched.
    pub(super) async fn on_batched_proposal(
        &mut self,
        from: ValidatorId,
        proposal: BatchedProposal,
    ) -> Result<()> {
        let round = proposal.header.round;
        if round.saturating_add(1) < self.core.round() {
            return Ok(()); // its round is over
        }
        let assembly = self.batching.machine.assemble(round, &proposal.batches);
        let batches = match assembly {
            Err(e) => {
                self.refuse_proposal(from, round, &e.to_string());
                return Ok(());
            }
            Ok(Assembly::Missing(fetches)) => {
                if self.batching.parked.len() >= MAX_PARKED {
                    self.batching.parked.remove(0);
                }
                self.batching.parked.push((from, proposal));
                self.perform_batch_actions(fetches);
                return Ok(());
            }
            Ok(Assembly::Ready(batches)) => batches,
        };
        let txs: Vec<Transaction> = batches
            .iter()
            .flat_map(|b| b.batch.txs.iter().cloned())
            .collect();
        let proposal = match proposal.into_proposal(txs) {
            Ok(proposal) => proposal,
            Err(e) => {
                self.refuse_proposal(from, round, &e.to_string());
                return Ok(());
            }
        };
        if let Err(e) = check_block_limits(&proposal.block, self.limits) {
            self.refuse_proposal(from, round, &e);
            return Ok(());
        }
        self.batching
            .remember_block(proposal.block.id(), round, batches);
        self.on_message(from, Message::Proposal(proposal)).await
    }

    fn refuse_proposal(&self, from: ValidatorId, round: Round, error: &str) {
        self.shared.metrics.bad_signatures.inc();
        tracing::warn!(from = from.0, round, error, "refused a batched proposal");
        self.net.report(from, Offence::Invalid);
    }

    /// The proofs a block on `parent` for `round` may carry and their transactions,
    /// within the chain's limits; remembered so that the proposal goes out batched.
    pub(super) fn ready_batches(&mut self, round: Round, parent: &Hash) -> Vec<Transaction> {
        let exclude = self.batches_above_committed(parent);
        let pulled =
            self.batching
                .machine
                .pull(round, &exclude, self.max_block_txs, self.tx_budget);
        // A proof whose batch this node does not hold (lost on the way, or sent while
        // it was down) is fetched from its signers for a later block: a leader that
        // only skipped it would never propose that author's batches again, while it
        // stays the leader. The author's later proofs wait too: they may hold the same
        // senders' later nonces.
        let mut proofs = Vec::with_capacity(pulled.len());
        let mut txs = Vec::new();
        let mut missing = Vec::new();
        let mut stopped: HashSet<ValidatorId> = HashSet::new();
        for proof in pulled {
            match self.batching.machine.get(&proof.info.digest) {
                Some(batch) if !stopped.contains(&proof.info.author) => {
                    txs.extend(batch.batch.txs.iter().cloned());
                    proofs.push(proof);
                }
                Some(_) => {}
                None => {
                    stopped.insert(proof.info.author);
                    missing.push(proof);
                }
            }
        }
        if let Ok(Assembly::Missing(fetches)) = self.batching.machine.assemble(round, &missing) {
            self.perform_batch_actions(fetches);
        }
        self.batching.proposing = (!proofs.is_empty()).then_some((round, proofs));
        txs
    }

    /// Digests of the batches in `parent` and its uncommitted ancestors.
    fn batches_above_committed(&self, parent: &Hash) -> HashSet<Hash> {
        let mut exclude = HashSet::new();
        let mut cursor = *parent;
        while let Some(block) = self
            .core
            .block(&cursor)
            .or_else(|| self.recent.get(&cursor).map(|b| &**b))
        {
            if block.header.height <= self.executed {
                break;
            }
            if let Some(digests) = self.batching.digests_of(&cursor) {
                exclude.extend(digests);
            }
            cursor = block.header.parent;
        }
        exclude
    }

    /// The batched form of this leader's `proposal`, if its transactions are exactly
    /// the batches it pulled for that round.
    pub(super) fn batched_form(&mut self, proposal: &Proposal) -> Option<BatchedProposal> {
        let (round, proofs) = self.batching.proposing.take()?;
        if round != proposal.block.header.round {
            return None;
        }
        let batches: Vec<HeldBatch> = proofs
            .iter()
            .map(|p| self.batching.machine.get(&p.info.digest).cloned())
            .collect::<Option<_>>()?;
        let count: usize = batches.iter().map(|b| b.hashes.len()).sum();
        if count != proposal.block.txs.len() {
            return None;
        }
        let batched = BatchedProposal::new(proposal, proofs).ok()?;
        self.batching
            .remember_block(proposal.block.id(), round, batches);
        Some(batched)
    }

    /// Sends `proposal` in its batched form; false if it has none (then it goes whole).
    pub(super) async fn broadcast_batched(&mut self, proposal: &Proposal) -> bool {
        let Some(batched) = self.batched_form(proposal) else {
            return false;
        };
        self.shared.metrics.batched_proposals.inc();
        if let Err(e) = self
            .net
            .broadcast(KIND_BATCHED_PROPOSAL, batched.to_wire())
            .await
        {
            tracing::debug!(error = %e, "batched proposal broadcast failed");
        }
        true
    }

    /// Tells the batch machine that `blocks` (lowest first) are committed and stored.
    pub(super) fn batches_committed(
        &mut self,
        blocks: &[Block],
        receipts: &[cairn_types::Receipt],
    ) {
        let Some(round) = blocks.last().map(|b| b.header.round) else {
            return;
        };
        let mut digests = Vec::new();
        for block in blocks {
            if let Some((_, batches)) = self.batching.blocks.remove(&block.id()) {
                digests.extend(batches.iter().map(HeldBatch::digest));
            }
        }
        // Blocks below the commit that were never committed (a fork) are dropped too.
        self.batching.blocks.retain(|_, (r, _)| *r > round);
        let txs = receipts.iter().map(|r| r.tx_hash).collect();
        self.batch_event(BatchEvent::Committed {
            round,
            digests,
            txs,
        });
    }

    /// Answers a peer's request for a batch this node holds (empty if it does not).
    pub(super) fn answer_batch_request(
        &mut self,
        from: ValidatorId,
        payload: &[u8],
        responder: Responder,
    ) {
        let Ok(bytes) = <[u8; 32]>::try_from(payload) else {
            self.net.report(from, Offence::BadRequest);
            return;
        };
        if !self.block_requests.allow(from) {
            self.shared.metrics.block_requests_refused.inc();
            return;
        }
        let batch = self.batching.machine.get(&Hash::from(bytes)).cloned();
        tokio::spawn(async move {
            let bytes = tokio::task::spawn_blocking(move || {
                batch.map(|b| b.batch.to_wire()).unwrap_or_default()
            })
            .await
            .unwrap_or_default();
            responder.respond(bytes);
        });
    }
}

/// One batch being fetched.
struct BatchFetch {
    net: NetworkHandle,
    chain: ChainId,
    limits: BlockLimits,
    wait: std::time::Duration,
    digest: Hash,
}

impl BatchFetch {
    /// The batch from `peer`, checked; `None` if it has none or sends something else.
    async fn ask(&self, peer: ValidatorId) -> Option<HeldBatch> {
        let request = self
            .net
            .request(peer, REQUEST_BATCH, self.digest.as_bytes().to_vec());
        let bytes = tokio::time::timeout(self.wait, request).await.ok()?.ok()?;
        if bytes.is_empty() {
            return None;
        }
        let (chain, limits, digest) = (self.chain, self.limits, self.digest);
        let checked = tokio::task::spawn_blocking(move || {
            let batch = Batch::from_wire(&bytes).map_err(|e| e.to_string())?;
            if batch.info.digest != digest {
                return Err("another batch than the one asked for".to_string());
            }
            let hashes = check_batch_contents(&batch, &chain, limits)?;
            Ok(HeldBatch::new(batch, hashes))
        })
        .await
        .ok()?;
        match checked {
            Ok(batch) => Some(batch),
            Err(error) => {
                tracing::warn!(peer = peer.0, digest = %self.digest, error, "peer answered a batch request badly");
                self.net.report(peer, Offence::Invalid);
                None
            }
        }
    }
}

/// The batch machine's configuration for this validator.
pub fn machine_config(shared: &Shared, key: cairn_crypto::SecretKey) -> cairn_batches::Config {
    let mut config = cairn_batches::Config::new(
        shared.genesis.chain_id(),
        shared.me,
        key,
        shared.genesis.validators().clone(),
    );
    // Above every sequence used before a restart, as long as the clock does not run
    // backwards by more than the batches made since.
    config.first_sequence = now_ms().saturating_mul(1_000);
    config
}
