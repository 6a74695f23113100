//! The batch state machine: events in, actions out.

use std::collections::{HashMap, HashSet};

use cairn_crypto::Hash;
use cairn_types::limits::{MAX_BATCH_BYTES, MAX_BATCH_TXS};
use cairn_types::{Batch, BatchVote, ProofOfAvailability, Round, Transaction, ValidatorId};

use crate::certified::Certified;
use crate::held::Held;
use crate::maker::{Maker, Sealed};
use crate::votes::Votes;
use crate::{Action, Assembly, BatchesError, Config, Event, HeldBatch, Refusal};

/// One validator's batches: the one it is filling, the ones it holds (its own and
/// its peers'), the votes for its own, and the certified ones a leader may propose.
pub struct Batches {
    config: Config,
    quorum: usize,
    maker: Maker,
    held: Held,
    certified: Certified,
    votes: Votes,
    /// This validator's batches not yet committed or expired.
    own: HashSet<Hash>,
    /// Batches asked for with [`Action::Fetch`], with their expiry round.
    requested: HashMap<Hash, Round>,
    round: Round,
    committed_round: Round,
    next_sequence: u64,
}

impl Batches {
    /// A machine holding nothing; restore stored batches with [`Event::Restored`].
    pub fn new(mut config: Config) -> Batches {
        config.max_batch_txs = config.max_batch_txs.clamp(1, MAX_BATCH_TXS);
        config.max_batch_bytes = config.max_batch_bytes.clamp(1, MAX_BATCH_BYTES);
        Batches {
            quorum: config.validators.quorum(),
            next_sequence: config.first_sequence,
            config,
            maker: Maker::default(),
            held: Held::default(),
            certified: Certified::default(),
            votes: Votes::default(),
            own: HashSet::new(),
            requested: HashMap::new(),
            round: 0,
            committed_round: 0,
        }
    }

    /// Handles one event; the driver performs the returned actions in order.
    pub fn handle(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::Submitted { txs, now_ms } => self.on_submitted(txs, now_ms),
            Event::Tick { now_ms } => {
                let mut actions = self.seal_if_due(now_ms);
                actions.extend(self.resend_due(now_ms));
                actions
            }
            Event::Round { round } => {
                self.round = self.round.max(round);
                Vec::new()
            }
            Event::Received { from, batch } => self.on_received(from, batch),
            Event::Vote { vote } => self.on_vote(vote),
            Event::Proof { proof } => {
                self.on_proof(proof);
                Vec::new()
            }
            Event::Fetched { batch } => self.on_fetched(batch),
            Event::Committed {
                round,
                mut digests,
                txs,
            } => {
                digests.extend(self.held.holding(&txs));
                self.on_committed(round, digests)
            }
            Event::Restored { batch } => {
                self.on_restored(batch);
                Vec::new()
            }
        }
    }

    /// Whether this validator may seal more batches: its own held batches are below
    /// the quota its peers hold it to. The driver stops submitting while not.
    pub fn accepting(&self) -> bool {
        let usage = self.held.usage(self.config.me);
        usage.batches < self.config.quota_batches && usage.bytes < self.config.quota_bytes
    }

    /// Transactions and bytes the batch being filled still takes. The driver submits
    /// no more than that at a time, so one submission never spills into a second
    /// batch: a sender's transactions must not be split between two batches that are
    /// certified, and proposed, in either order.
    pub fn room(&self) -> (usize, usize) {
        let (txs, bytes) = self.maker.filled();
        (
            self.config.max_batch_txs.saturating_sub(txs),
            self.config.max_batch_bytes.saturating_sub(bytes),
        )
    }

    /// The proofs a block of `round` may carry, oldest first: not expired by then, not
    /// in `exclude` (the batches of its uncommitted ancestors), within the limits.
    pub fn pull(
        &self,
        round: Round,
        exclude: &HashSet<Hash>,
        max_txs: usize,
        max_bytes: usize,
    ) -> Vec<ProofOfAvailability> {
        let max_batches = cairn_types::limits::MAX_BLOCK_BATCHES;
        self.certified
            .pull(round, exclude, max_txs, max_bytes, max_batches)
    }

    /// The batches of a block of `round` carrying `proofs` (their signatures checked
    /// by the driver), in order, or the fetches that get the missing ones.
    pub fn assemble(
        &mut self,
        round: Round,
        proofs: &[ProofOfAvailability],
    ) -> Result<Assembly, BatchesError> {
        let mut seen = HashSet::with_capacity(proofs.len());
        for proof in proofs {
            let info = &proof.info;
            if info.expires <= round {
                return Err(BatchesError::Expired {
                    digest: info.digest,
                    expires: info.expires,
                    round,
                });
            }
            if !seen.insert(info.digest) {
                return Err(BatchesError::Repeated {
                    digest: info.digest,
                });
            }
        }
        let mut ready = Vec::with_capacity(proofs.len());
        let mut fetches = Vec::new();
        for proof in proofs {
            match self.held.get(&proof.info.digest) {
                Some(batch) => ready.push(batch.clone()),
                None => {
                    self.requested.insert(proof.info.digest, proof.info.expires);
                    let from = proof.signers().filter(|id| *id != self.config.me).collect();
                    fetches.push(Action::Fetch {
                        digest: proof.info.digest,
                        from,
                    });
                }
            }
        }
        Ok(if fetches.is_empty() {
            Assembly::Ready(ready)
        } else {
            Assembly::Missing(fetches)
        })
    }

    /// The held batch `digest`, to serve a peer's fetch.
    pub fn get(&self, digest: &Hash) -> Option<&HeldBatch> {
        self.held.get(digest)
    }

    /// How many batches are held.
    pub fn held_count(&self) -> usize {
        self.held.len()
    }

    /// How many certified batches wait for a proposal.
    pub fn certified_count(&self) -> usize {
        self.certified.len()
    }

    fn on_submitted(&mut self, txs: Vec<(Transaction, Hash)>, now_ms: u64) -> Vec<Action> {
        let mut actions = Vec::new();
        let (max_txs, max_bytes) = (self.config.max_batch_txs, self.config.max_batch_bytes);
        for (tx, hash) in txs {
            if let Some(sealed) = self.maker.push(tx, hash, now_ms, max_txs, max_bytes) {
                self.seal(sealed, now_ms, &mut actions);
            }
        }
        actions.extend(self.seal_if_due(now_ms));
        actions
    }

    /// Own batches short of a quorum for a while go again to those that have not voted.
    fn resend_due(&mut self, now_ms: u64) -> Vec<Action> {
        let due = self.votes.due_again(now_ms, self.config.resend_ms);
        let mut actions = Vec::new();
        for (digest, voted) in due {
            let Some(batch) = self.held.get(&digest) else {
                continue;
            };
            let to: Vec<ValidatorId> = self
                .config
                .validators
                .iter()
                .map(|(id, _)| id)
                .filter(|id| *id != self.config.me && !voted.contains(id))
                .collect();
            if !to.is_empty() {
                actions.push(Action::Resend {
                    batch: batch.clone(),
                    to,
                });
            }
        }
        actions
    }

    fn seal_if_due(&mut self, now_ms: u64) -> Vec<Action> {
        let mut actions = Vec::new();
        if self
            .maker
            .due(now_ms, self.config.linger_ms, self.config.max_batch_txs)
        {
            let sealed = self.maker.take();
            self.seal(sealed, now_ms, &mut actions);
        }
        actions
    }

    fn seal(&mut self, (txs, hashes): Sealed, now_ms: u64, actions: &mut Vec<Action>) {
        if txs.is_empty() {
            return;
        }
        let expires = self.round.saturating_add(self.config.lifetime_rounds);
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        // Cannot fail: the maker keeps within the batch limits `new` clamped to.
        let Ok(batch) = Batch::new(self.config.me, sequence, expires, txs, &hashes) else {
            return;
        };
        let batch = HeldBatch::new(batch, hashes);
        let digest = batch.digest();
        self.held.insert(batch.clone());
        self.own.insert(digest);
        let vote = self.sign(batch.info());
        self.votes.open(batch.info(), now_ms);
        actions.push(Action::Disseminate { batch });
        self.count_vote(vote, actions);
    }

    fn on_received(&mut self, from: ValidatorId, batch: HeldBatch) -> Vec<Action> {
        // Sent again (the author lacks this validator's vote): vote again.
        if let Some(held) = self.held.get(&batch.digest())
            && held.info() == batch.info()
            && from == batch.info().author
        {
            let vote = self.sign(batch.info());
            return vec![Action::StoreAndVote {
                batch: held.clone(),
                vote,
            }];
        }
        if let Err(reason) = self.admit(from, &batch) {
            return vec![Action::Refused { from, reason }];
        }
        self.requested.remove(&batch.digest());
        let vote = self.sign(batch.info());
        self.held.insert(batch.clone());
        vec![Action::StoreAndVote { batch, vote }]
    }

    /// The rules a pushed batch must meet before it is stored and voted for.
    fn admit(&self, from: ValidatorId, batch: &HeldBatch) -> Result<(), Refusal> {
        let info = batch.info();
        if info.author != from || from == self.config.me {
            return Err(Refusal::NotFromAuthor);
        }
        if info.expires <= self.round.max(self.committed_round) {
            return Err(Refusal::Expired);
        }
        let horizon = self
            .round
            .saturating_add(self.config.lifetime_rounds.saturating_mul(2));
        if info.expires > horizon {
            return Err(Refusal::TooFarAhead);
        }
        if self.held.sequence_used(info.author, info.sequence) {
            return Err(Refusal::SequenceReused);
        }
        let usage = self.held.usage(info.author);
        if usage.batches >= self.config.quota_batches
            || usage.bytes + info.bytes as usize > self.config.quota_bytes
        {
            return Err(Refusal::OverQuota);
        }
        Ok(())
    }

    fn on_vote(&mut self, vote: BatchVote) -> Vec<Action> {
        let mut actions = Vec::new();
        if vote.info.author == self.config.me {
            self.count_vote(vote, &mut actions);
        }
        actions
    }

    fn count_vote(&mut self, vote: BatchVote, actions: &mut Vec<Action>) {
        if let Some(proof) = self.votes.add(vote, self.quorum) {
            self.on_proof(proof.clone());
            actions.push(Action::BroadcastProof { proof });
        }
    }

    fn on_proof(&mut self, proof: ProofOfAvailability) {
        if proof.info.expires > self.round.max(self.committed_round) {
            let max = self.config.quota_batches * self.config.validators.len();
            self.certified.push(proof, max);
        }
    }

    fn on_fetched(&mut self, batch: HeldBatch) -> Vec<Action> {
        if self.requested.remove(&batch.digest()).is_none() {
            return Vec::new();
        }
        self.held.insert(batch.clone());
        vec![Action::Store { batch }]
    }

    fn on_restored(&mut self, batch: HeldBatch) {
        let info = *batch.info();
        if info.author == self.config.me {
            self.own.insert(info.digest);
            self.next_sequence = self.next_sequence.max(info.sequence.saturating_add(1));
        }
        self.held.insert(batch);
    }

    fn on_committed(&mut self, round: Round, digests: Vec<Hash>) -> Vec<Action> {
        self.committed_round = self.committed_round.max(round);
        let committed: HashSet<Hash> = digests.into_iter().collect();
        self.certified.remove(&committed);
        self.certified.expire(self.committed_round);
        let mut forget = Vec::new();
        let mut actions = Vec::new();
        for digest in &committed {
            self.requested.remove(digest);
            if self.forget(digest).is_some() {
                forget.push(*digest);
            }
        }
        for digest in self.held.expired_by(self.committed_round) {
            if let Some((batch, own)) = self.forget(&digest) {
                forget.push(digest);
                if own {
                    actions.push(Action::Expired { batch });
                }
            }
        }
        let committed_round = self.committed_round;
        self.requested
            .retain(|_, expires| *expires > committed_round);
        if !forget.is_empty() {
            actions.push(Action::Forget { digests: forget });
        }
        actions
    }

    /// Drops batch `digest` everywhere; returns it and whether it was this
    /// validator's.
    fn forget(&mut self, digest: &Hash) -> Option<(HeldBatch, bool)> {
        self.votes.close(digest);
        let own = self.own.remove(digest);
        self.held.remove(digest).map(|batch| (batch, own))
    }

    fn sign(&self, info: &cairn_types::BatchInfo) -> BatchVote {
        BatchVote::sign(&self.config.chain, *info, self.config.me, &self.config.key)
    }
}
