//! Checking consensus messages before they reach the core, off the driver's task:
//! decoded with strict bounds, proposals held to the chain's limits, then signatures
//! and certificates verified — all on the blocking pool. Only messages that pass are
//! handed to the driver; undecodable or invalid ones count against their sender (the
//! network's strikes and bans).
//!
//! Each peer has its own budget — messages and bytes in verification or waiting for
//! the driver — so a flooding peer has its own excess dropped (counted) without
//! slowing the driver or crowding out the other validators. Messages already verified
//! byte for byte (a replay) skip the signature work: a bounded cache of their digests
//! is consulted first. A sender's replay of what it sent moments ago is dropped on
//! arrival, before any of that (super::replay).

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use cairn_batches::HeldBatch;
use cairn_consensus::Message;
use cairn_crypto::Hash;
use cairn_network::{NetworkHandle, Offence};
use cairn_types::{
    Batch, BatchVote, BatchedProposal, BlockHeader, ChainId, ProofOfAvailability, Round,
    Transaction, ValidatorId, ValidatorSet, Wire,
};
use parity_scale_codec::{Decode, Encode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use super::rates::{PeerRates, SIGNATURES_PER_SEC};
use super::replay::{self, ReplayFilter};
use crate::run::shared::Shared;
use crate::run::wire::{KIND_BATCH, KIND_BATCH_PROOF, KIND_BATCH_VOTE, KIND_BATCHED_PROPOSAL};

/// Messages in verification or waiting for the driver, per peer; more are dropped.
const MESSAGES_PER_PEER: usize = 32;
/// Bytes in verification or waiting for the driver, per peer (raised to twice the
/// largest message if that is more); more are dropped.
pub const VERIFY_BYTES_PER_PEER: usize = 16 * 1024 * 1024;
/// Digests of verified messages remembered, per generation (two generations are
/// kept: about 2 × 32 Ki × 48 bytes ≈ 3 MiB).
pub const VERIFIED_CACHE_ENTRIES: usize = 32 * 1024;
/// Messages up to this size are hashed for the replay filter on arrival, on the
/// driver's task (votes and timeouts: well under a microsecond each); larger ones on
/// the blocking pool.
const HASHED_ON_ARRIVAL: usize = 16 * 1024;
/// Byte budgets are counted in units of this many bytes (semaphore permits).
const BUDGET_UNIT: usize = 1024;
/// Proposals fully decoded per round and proposer: the leader's, and one more to
/// prove its equivocation. Further proposals are dropped after a look at the header,
/// before their transactions are decoded. (Who leads a round depends on the chain the
/// proposal extends, which the core checks; counting per proposer keeps another
/// validator from using up the leader's slots.)
pub const PROPOSALS_PER_ROUND: u8 = 2;
/// Proposals fully decoded per peer per second (and burst), counting only proposals
/// for rounds away from this validator's own ([`RATE_FREE_ROUNDS`]): far below what
/// would keep the blocking pool busy. A leader's proposals for the rounds at hand are
/// not charged: they come at the chain's own speed, which one leader alone may carry
/// at hundreds of blocks a second (when reputation leaves it the only candidate), and
/// the per-round cap already bounds them.
pub const PROPOSALS_PER_SEC: (u32, u32) = (50, 100);
/// A proposal for a round from one below this validator's round to this many above it
/// is for the rounds at hand: not charged to its proposer's rate.
pub const RATE_FREE_ROUNDS: u64 = 2;
/// (Round, proposer) pairs whose proposal count is remembered; beyond it the lowest
/// rounds are forgotten.
const GATE_ROUNDS: usize = 4_096;

/// A message whose signatures checked out, holding its sender's budget until the
/// driver is done with it.
pub struct Verified {
    /// The validator it came from.
    pub from: ValidatorId,
    /// What it is.
    pub item: Checked,
    _budget: (OwnedSemaphorePermit, OwnedSemaphorePermit),
}

/// The kinds of checked message the driver receives.
#[allow(clippy::large_enum_variant)]
pub enum Checked {
    /// A consensus message.
    Message(Message),
    /// A proposal in its batched form: certificates and proofs checked, transactions
    /// still to assemble.
    Batched(BatchedProposal),
    /// A peer's batch: well formed, from its author, every transaction for this
    /// chain, within the size limit, and its signature valid.
    Batch(HeldBatch),
    /// A vote for a batch.
    BatchVote(BatchVote),
    /// A batch's proof of availability.
    Proof(ProofOfAvailability),
}

/// The chain's block limits (genesis parameters).
#[derive(Clone, Copy)]
pub struct BlockLimits {
    /// Most transactions in a block.
    pub max_txs: usize,
    /// Largest encoded block.
    pub max_bytes: usize,
    /// Largest encoded transaction.
    pub max_tx_bytes: usize,
}

/// One peer's budget: messages and byte units.
struct PeerBudget {
    messages: Arc<Semaphore>,
    units: Arc<Semaphore>,
    max_units: u32,
}

/// Digests of messages verified lately, in two generations: when the current one is
/// full it becomes the previous one, and the oldest are forgotten. Bounded, O(1).
#[derive(Default)]
pub struct VerifiedCache {
    current: HashSet<Hash>,
    previous: HashSet<Hash>,
}

impl VerifiedCache {
    /// Whether `digest` was verified lately.
    pub fn contains(&self, digest: &Hash) -> bool {
        self.current.contains(digest) || self.previous.contains(digest)
    }

    /// Remembers `digest` as verified.
    pub fn insert(&mut self, digest: Hash) {
        if self.current.len() >= VERIFIED_CACHE_ENTRIES {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(digest);
    }

    /// Digests remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}

/// What may be decoded of a proposal, decided from its header alone (decoding a
/// block's transactions is the expensive part): only its proposer sends it, each
/// proposer's proposals for a round are decoded at most [`PROPOSALS_PER_ROUND`] times,
/// and each peer's at most [`PROPOSALS_PER_SEC`].
pub struct ProposalGate {
    decoded: BTreeMap<(Round, ValidatorId), u8>,
    rates: PeerRates,
}

/// Why the gate let a proposal through or not.
#[derive(Debug, PartialEq, Eq)]
pub enum GateVerdict {
    /// Decode and verify it.
    Open,
    /// Not sent by its proposer (proposals are never relayed), or naming a proposer
    /// that is not a validator: invalid, counts against the sender.
    NotItsProposer,
    /// Enough proposals for this round were decoded, or the peer is over its rate:
    /// dropped without a verdict.
    Full,
}

impl ProposalGate {
    /// A gate for `n` validators.
    pub fn new(n: usize) -> ProposalGate {
        ProposalGate {
            decoded: BTreeMap::new(),
            rates: PeerRates::new(n, PROPOSALS_PER_SEC),
        }
    }

    /// Whether the proposal with `header`, sent by `from`, may be decoded by a
    /// validator in round `current`.
    pub fn admit(
        &mut self,
        from: ValidatorId,
        header: &BlockHeader,
        validators: &ValidatorSet,
        current: Round,
    ) -> GateVerdict {
        // Checked before anything is counted, so a peer forging headers in another's
        // name cannot use up the real leader's slots for the round.
        if from != header.proposer || validators.key(from).is_none() {
            return GateVerdict::NotItsProposer;
        }
        let key = (header.round, from);
        let count = self.decoded.get(&key).copied().unwrap_or(0);
        let at_hand = header.round.saturating_add(1) >= current
            && header.round <= current.saturating_add(RATE_FREE_ROUNDS);
        if count >= PROPOSALS_PER_ROUND || (!at_hand && !self.rates.allow(from)) {
            return GateVerdict::Full;
        }
        self.decoded.insert(key, count + 1);
        while self.decoded.len() > GATE_ROUNDS {
            self.decoded.pop_first();
        }
        GateVerdict::Open
    }
}

/// The header of a proposal, read from the front of its encoding without decoding
/// the transactions; `None` if `payload` is not a proposal or the header is bad.
fn proposal_header(kind: u8, payload: &[u8]) -> Option<BlockHeader> {
    let mut rest = match kind {
        KIND_BATCHED_PROPOSAL => payload,
        _ => {
            let (&tag, rest) = payload.split_first()?;
            if tag != PROPOSAL_TAG {
                return None;
            }
            rest
        }
    };
    BlockHeader::decode(&mut rest).ok()
}

/// The SCALE index of [`Message::Proposal`].
const PROPOSAL_TAG: u8 = 0;

/// Verifies messages on the blocking pool and delivers the good ones in `verified`.
pub struct MessageVerifier {
    chain: ChainId,
    validators: Arc<ValidatorSet>,
    limits: BlockLimits,
    budgets: Vec<PeerBudget>,
    cache: Arc<Mutex<VerifiedCache>>,
    replays: Arc<Mutex<ReplayFilter>>,
    gate: Arc<Mutex<ProposalGate>>,
    signatures: Arc<Mutex<PeerRates>>,
    txs: Arc<Mutex<PeerRates>>,
    verified: mpsc::UnboundedSender<Verified>,
    shared: Arc<Shared>,
    net: NetworkHandle,
}

impl MessageVerifier {
    /// A verifier for the genesis chain and validator set; returns the receiving end
    /// (unbounded in count, bounded in bytes by the per-peer budgets its items hold).
    pub fn new(
        shared: Arc<Shared>,
        net: NetworkHandle,
        limits: BlockLimits,
        max_message_bytes: usize,
    ) -> (MessageVerifier, mpsc::UnboundedReceiver<Verified>) {
        let n = shared.genesis.n();
        let (verified, rx) = mpsc::unbounded_channel();
        let bytes = VERIFY_BYTES_PER_PEER.max(max_message_bytes.saturating_mul(2));
        let max_units = u32::try_from(bytes.div_ceil(BUDGET_UNIT)).unwrap_or(u32::MAX);
        let window = replay::window_for(shared.genesis.doc().params.round_timeout_ms);
        let verifier = MessageVerifier {
            chain: shared.genesis.chain_id(),
            validators: Arc::new(shared.genesis.validators().clone()),
            limits,
            budgets: (0..n)
                .map(|_| PeerBudget {
                    messages: Arc::new(Semaphore::new(MESSAGES_PER_PEER)),
                    units: Arc::new(Semaphore::new(max_units as usize)),
                    max_units,
                })
                .collect(),
            cache: Arc::new(Mutex::new(VerifiedCache::default())),
            replays: Arc::new(Mutex::new(ReplayFilter::new(n, window))),
            gate: Arc::new(Mutex::new(ProposalGate::new(n))),
            signatures: Arc::new(Mutex::new(PeerRates::new(n, SIGNATURES_PER_SEC))),
            txs: Arc::new(Mutex::new(PeerRates::new(
                n,
                super::rates::PEER_TXS_PER_SEC,
            ))),
            verified,
            shared,
            net,
        };
        (verifier, rx)
    }

    /// Starts decoding and verifying the consensus message `payload` from `from`, or
    /// drops it if it is a replay of what `from` sent moments ago or that peer's
    /// budget is used up. Never waits.
    pub fn submit(&self, from: ValidatorId, kind: u8, payload: Vec<u8>) {
        let digest = (payload.len() <= HASHED_ON_ARRIVAL).then(|| Hash::digest(&payload));
        if let Some(digest) = digest
            && !first_sight(&self.replays, from, digest)
        {
            self.shared.metrics.replays_dropped.inc();
            return;
        }
        let Some(budget) = self.take_budget(from, payload.len()) else {
            if let Some(digest) = &digest {
                forget(&self.replays, from, digest);
            }
            self.shared.metrics.dropped_messages.inc();
            tracing::debug!(
                from = from.0,
                bytes = payload.len(),
                "peer's verification budget is used up; dropped a message"
            );
            return;
        };
        let job = Job {
            from,
            kind,
            chain: self.chain,
            validators: self.validators.clone(),
            limits: self.limits,
            digest,
            cache: self.cache.clone(),
            replays: self.replays.clone(),
            gate: self.gate.clone(),
            signatures: self.signatures.clone(),
            txs: self.txs.clone(),
            round: self.shared.round.load(Ordering::Relaxed),
        };
        let (verified, shared, net) =
            (self.verified.clone(), self.shared.clone(), self.net.clone());
        tokio::spawn(async move {
            match tokio::task::spawn_blocking(move || job.run(&payload)).await {
                Ok(Ok(Outcome::Dropped)) => {
                    shared.metrics.dropped_messages.inc();
                }
                Ok(Ok(Outcome::Replay)) => {
                    shared.metrics.replays_dropped.inc();
                }
                Ok(Ok(Outcome::Delivered(item, replay))) => {
                    if replay {
                        shared.metrics.replays_skipped.inc();
                    }
                    let _ = verified.send(Verified {
                        from,
                        item,
                        _budget: budget,
                    });
                }
                Ok(Err(rejected)) => rejected.report(from, &shared, &net),
                Err(e) => tracing::error!(error = %e, "message verification task failed"),
            }
        });
    }

    fn take_budget(
        &self,
        from: ValidatorId,
        len: usize,
    ) -> Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)> {
        let budget = self.budgets.get(usize::from(from.0))?;
        let units = u32::try_from(len.div_ceil(BUDGET_UNIT).max(1))
            .unwrap_or(u32::MAX)
            .min(budget.max_units);
        let message = budget.messages.clone().try_acquire_owned().ok()?;
        let bytes = budget.units.clone().try_acquire_many_owned(units).ok()?;
        Some((message, bytes))
    }
}

/// Records that `from` sent `digest` now; false if it did within the replay window.
fn first_sight(replays: &Mutex<ReplayFilter>, from: ValidatorId, digest: Hash) -> bool {
    replays
        .lock()
        .map_or(true, |mut f| f.first_sight(from, digest, Instant::now()))
}

/// Forgets that `from` sent `digest` (it was dropped unread, so a re-send must pass).
fn forget(replays: &Mutex<ReplayFilter>, from: ValidatorId, digest: &Hash) {
    if let Ok(mut f) = replays.lock() {
        f.forget(from, digest);
    }
}

/// What became of a message that was not refused. (Moved once, from the blocking
/// pool to the driver, so the message is not boxed.)
#[allow(clippy::large_enum_variant)]
enum Outcome {
    /// Checked (or a replay of one verified before: true) and handed on.
    Delivered(Checked, bool),
    /// Dropped unread: the proposal gate or the sender's signature budget.
    Dropped,
    /// The sender sent these bytes moments ago: dropped (a large message, hashed
    /// only here).
    Replay,
}

/// Why a message was refused.
enum Rejected {
    Undecodable(String),
    Invalid {
        kind: &'static str,
        round: u64,
        error: String,
    },
}

impl Rejected {
    /// Counts the refusal and reports it against the sender.
    fn report(self, from: ValidatorId, shared: &Shared, net: &NetworkHandle) {
        match self {
            Rejected::Undecodable(error) => {
                shared.metrics.bad_messages.inc();
                shared
                    .stall
                    .note_peer_error(from, &format!("undecodable consensus message: {error}"));
                tracing::debug!(from = from.0, %error, "undecodable consensus message");
                net.report(from, Offence::Undecodable);
            }
            Rejected::Invalid { kind, round, error } => {
                shared.metrics.bad_signatures.inc();
                shared
                    .stall
                    .note_peer_error(from, &format!("invalid {kind} of round {round}: {error}"));
                tracing::warn!(from = from.0, kind, round, %error,
                    "dropped a consensus message that failed verification");
                net.report(from, Offence::Invalid);
            }
        }
    }
}

/// What one verification needs, moved to the blocking pool.
struct Job {
    from: ValidatorId,
    /// The message kind (`crate::run::wire`).
    kind: u8,
    chain: ChainId,
    validators: Arc<ValidatorSet>,
    limits: BlockLimits,
    /// The payload's digest, if it was hashed (and filtered) on arrival.
    digest: Option<Hash>,
    cache: Arc<Mutex<VerifiedCache>>,
    replays: Arc<Mutex<ReplayFilter>>,
    gate: Arc<Mutex<ProposalGate>>,
    signatures: Arc<Mutex<PeerRates>>,
    txs: Arc<Mutex<PeerRates>>,
    /// This validator's round when the message arrived (for the proposal gate).
    round: Round,
}

impl Job {
    /// Decodes and checks `payload`. A message dropped unread is forgotten by the
    /// replay filter, so its sender may send it again.
    fn run(self, payload: &[u8]) -> Result<Outcome, Rejected> {
        let digest = match self.digest {
            Some(digest) => digest,
            None => {
                let digest = Hash::digest(payload);
                if !first_sight(&self.replays, self.from, digest) {
                    return Ok(Outcome::Replay);
                }
                digest
            }
        };
        let outcome = self.decode_and_check(payload, digest);
        if let Ok(Outcome::Dropped) = outcome {
            forget(&self.replays, self.from, &digest);
        }
        outcome
    }

    fn decode_and_check(&self, payload: &[u8], digest: Hash) -> Result<Outcome, Rejected> {
        // Replayed proposals pass the gate too: decoding a big block is the expensive
        // part, whether or not its signatures were checked before.
        if !self.through_gate(payload)? {
            return Ok(Outcome::Dropped);
        }
        let replay = self.cached(&digest);
        let checked = match self.kind {
            KIND_BATCHED_PROPOSAL => self.check_batched(payload, replay)?,
            KIND_BATCH => self.check_batch(payload)?,
            KIND_BATCH_VOTE => self.check_batch_vote(payload, replay)?,
            KIND_BATCH_PROOF => self.check_proof(payload, replay)?,
            _ => self.check_message(payload, replay)?,
        };
        let Some(checked) = checked else {
            return Ok(Outcome::Dropped);
        };
        if !replay && let Ok(mut cache) = self.cache.lock() {
            cache.insert(digest);
        }
        Ok(Outcome::Delivered(checked, replay))
    }

    /// A consensus message; `None` if the sender is out of signature budget.
    fn check_message(&self, payload: &[u8], replay: bool) -> Result<Option<Checked>, Rejected> {
        let message =
            Message::from_wire(payload).map_err(|e| Rejected::Undecodable(e.to_string()))?;
        if replay {
            return Ok(Some(Checked::Message(message)));
        }
        if !self.signature_budget(signature_count(&message)) {
            return Ok(None);
        }
        check(&message, &self.chain, &self.validators, self.limits).map_err(|error| {
            Rejected::Invalid {
                kind: message.kind(),
                round: message.round(),
                error,
            }
        })?;
        Ok(Some(Checked::Message(message)))
    }

    /// A batched proposal: its signatures, certificates and proofs (those not verified
    /// before, byte for byte).
    fn check_batched(&self, payload: &[u8], replay: bool) -> Result<Option<Checked>, Rejected> {
        let proposal = BatchedProposal::from_wire(payload)
            .map_err(|e| Rejected::Undecodable(e.to_string()))?;
        if replay {
            return Ok(Some(Checked::Batched(proposal)));
        }
        let count = u32::try_from(proposal.signature_count()).unwrap_or(u32::MAX);
        if !self.signature_budget(count) {
            return Ok(None);
        }
        let known = |proof: &ProofOfAvailability| self.cached(&Hash::digest(&proof.encode()));
        proposal
            .verify(&self.chain, &self.validators, known)
            .map_err(|e| Rejected::Invalid {
                kind: "batched proposal",
                round: proposal.header.round,
                error: e.to_string(),
            })?;
        Ok(Some(Checked::Batched(proposal)))
    }

    /// A batch pushed by its author: well formed, every transaction for this chain,
    /// within the size limit, and signed. Its transactions count against the sender's
    /// transaction rate before their signatures are checked.
    fn check_batch(&self, payload: &[u8]) -> Result<Option<Checked>, Rejected> {
        let batch = Batch::from_wire(payload).map_err(|e| Rejected::Undecodable(e.to_string()))?;
        let invalid = |error: String| Rejected::Invalid {
            kind: "batch",
            round: batch.info.expires,
            error,
        };
        if batch.info.author != self.from {
            return Err(invalid(format!(
                "batch of validator {} pushed by validator {}",
                batch.info.author.0, self.from.0
            )));
        }
        let count = u32::try_from(batch.txs.len()).unwrap_or(u32::MAX);
        if !self.tx_budget(count) {
            return Ok(None);
        }
        let hashes = check_batch_contents(&batch, &self.chain, self.limits).map_err(invalid)?;
        Ok(Some(Checked::Batch(HeldBatch::new(batch, hashes))))
    }

    fn check_batch_vote(&self, payload: &[u8], replay: bool) -> Result<Option<Checked>, Rejected> {
        let vote =
            BatchVote::from_wire(payload).map_err(|e| Rejected::Undecodable(e.to_string()))?;
        if !replay {
            if !self.signature_budget(1) {
                return Ok(None);
            }
            vote.verify(&self.chain, &self.validators)
                .map_err(|e| Rejected::Invalid {
                    kind: "batch vote",
                    round: vote.info.expires,
                    error: e.to_string(),
                })?;
        }
        Ok(Some(Checked::BatchVote(vote)))
    }

    fn check_proof(&self, payload: &[u8], replay: bool) -> Result<Option<Checked>, Rejected> {
        let proof = ProofOfAvailability::from_wire(payload)
            .map_err(|e| Rejected::Undecodable(e.to_string()))?;
        if !replay {
            let count = u32::try_from(proof.signatures.len()).unwrap_or(u32::MAX);
            if !self.signature_budget(count) {
                return Ok(None);
            }
            proof
                .verify(&self.chain, &self.validators)
                .map_err(|e| Rejected::Invalid {
                    kind: "proof of availability",
                    round: proof.info.expires,
                    error: e.to_string(),
                })?;
            // Remembered by its encoding, which a proposal carrying it repeats: the
            // proposal's check then skips it.
            if let Ok(mut cache) = self.cache.lock() {
                cache.insert(Hash::digest(&proof.encode()));
            }
        }
        Ok(Some(Checked::Proof(proof)))
    }

    /// Takes `count` signatures from the sender's budget; false (drop the message) if
    /// the sender has used its share for now.
    fn signature_budget(&self, count: u32) -> bool {
        self.signatures
            .lock()
            .map_or(true, |mut rates| rates.allow_n(self.from, count))
    }

    /// Takes `count` client transactions from the sender's transaction rate.
    fn tx_budget(&self, count: u32) -> bool {
        self.txs
            .lock()
            .map_or(true, |mut rates| rates.allow_n(self.from, count))
    }

    /// For a proposal: whether the gate lets it be decoded (a header that does not
    /// decode is left to the full decode, which refuses it).
    fn through_gate(&self, payload: &[u8]) -> Result<bool, Rejected> {
        if !matches!(self.kind, KIND_BATCHED_PROPOSAL)
            && self.kind != crate::run::wire::KIND_CONSENSUS
        {
            return Ok(true);
        }
        let Some(header) = proposal_header(self.kind, payload) else {
            return Ok(true);
        };
        let verdict = match self.gate.lock() {
            Ok(mut gate) => gate.admit(self.from, &header, &self.validators, self.round),
            Err(_) => GateVerdict::Open,
        };
        match verdict {
            GateVerdict::Open => Ok(true),
            GateVerdict::Full => Ok(false),
            GateVerdict::NotItsProposer => Err(Rejected::Invalid {
                kind: "proposal",
                round: header.round,
                error: format!(
                    "proposal of round {} names proposer {}, but validator {} sent it",
                    header.round, header.proposer.0, self.from.0,
                ),
            }),
        }
    }

    fn cached(&self, digest: &Hash) -> bool {
        self.cache.lock().is_ok_and(|cache| cache.contains(digest))
    }
}

/// Signatures a check of `message` verifies (its own and its certificates').
fn signature_count(message: &Message) -> u32 {
    let tc = |tc: &cairn_types::TimeoutCert| tc.entries.len() + tc.high_qc.signatures.len();
    let entries = match message {
        Message::Proposal(p) => {
            1 + p.block.header.justify.signatures.len() + p.timeout_cert.as_ref().map_or(0, tc)
        }
        Message::Vote(_) => 1,
        Message::Timeout(t) => 1 + t.high_qc.signatures.len() + t.last_tc.as_ref().map_or(0, tc),
        Message::QuorumCert(qc) => qc.signatures.len(),
        Message::TimeoutCert(cert) => tc(cert),
        Message::StatusRequest => 0,
        Message::Status(s) => s.high_qc.signatures.len() + s.high_tc.as_ref().map_or(0, tc),
    };
    u32::try_from(entries).unwrap_or(u32::MAX)
}

/// The limit, signature and certificate checks of one message (docs/PROTOCOL.md §7).
pub fn check(
    message: &Message,
    chain: &ChainId,
    validators: &ValidatorSet,
    limits: BlockLimits,
) -> Result<(), String> {
    let checked = match message {
        Message::Proposal(p) => {
            check_block_limits(&p.block, limits)?;
            p.verify(chain, validators)
        }
        Message::Vote(v) => v.verify(chain, validators),
        Message::Timeout(t) => t.verify(chain, validators),
        Message::QuorumCert(qc) => qc.verify(chain, validators),
        Message::TimeoutCert(tc) => tc.verify(chain, validators),
        Message::StatusRequest => Ok(()),
        Message::Status(s) => s.high_qc.verify(chain, validators).and_then(|()| {
            s.high_tc
                .as_ref()
                .map_or(Ok(()), |tc| tc.verify(chain, validators))
        }),
    };
    checked.map_err(|e| e.to_string())
}

/// A batch's transactions: for this chain, each within the size limit, every
/// signature valid (one batch check); returns their hashes, computed once.
pub fn check_batch_contents(
    batch: &Batch,
    chain: &ChainId,
    limits: BlockLimits,
) -> Result<Vec<Hash>, String> {
    let hashes = batch.check_well_formed().map_err(|e| e.to_string())?;
    for (index, tx) in batch.txs.iter().enumerate() {
        if tx.payload.chain_id != *chain {
            return Err(format!("transaction {index} is for another chain"));
        }
        let size = tx.encoded_size();
        if size > limits.max_tx_bytes {
            return Err(format!(
                "transaction {index} is {size} bytes; the chain allows {}",
                limits.max_tx_bytes
            ));
        }
    }
    let txs: Vec<&Transaction> = batch.txs.iter().collect();
    if let Some(bad) = Transaction::invalid_signatures(&txs).first() {
        return Err(format!("transaction {bad} has an invalid signature"));
    }
    Ok(hashes)
}

/// The chain's limits on a block: transactions, bytes, and each transaction's bytes.
pub fn check_block_limits(block: &cairn_types::Block, limits: BlockLimits) -> Result<(), String> {
    let txs = block.txs.len();
    if txs > limits.max_txs {
        return Err(format!(
            "block has {txs} transactions; the chain allows {}",
            limits.max_txs
        ));
    }
    if let Some((index, size)) = block
        .txs
        .iter()
        .map(Encode::encoded_size)
        .enumerate()
        .find(|(_, size)| *size > limits.max_tx_bytes)
    {
        return Err(format!(
            "transaction {index} is {size} bytes; the chain allows {}",
            limits.max_tx_bytes
        ));
    }
    let bytes = block.encoded_size();
    if bytes > limits.max_bytes {
        return Err(format!(
            "block is {bytes} bytes; the chain allows {}",
            limits.max_bytes
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::run::wire::KIND_CONSENSUS;
    use cairn_crypto::SecretKey;
    use cairn_types::{Block, BoundedBytes, BoundedVec, Op, QuorumCert, TxPayload};

    /// A block of `txs` puts whose values are `value_bytes` long.
    pub fn block_of(txs: usize, value_bytes: usize, height: u64) -> Block {
        let chain = ChainId(Hash::digest(b"test chain"));
        let key = SecretKey::from_seed(&[7; 32]);
        let txs: Vec<Transaction> = (0..txs)
            .map(|i| {
                let payload = TxPayload {
                    chain_id: chain,
                    sender: key.public(),
                    nonce: i as u64,
                    op: Op::Put {
                        key: BoundedBytes::new(b"k".to_vec()).unwrap(),
                        value: BoundedBytes::new(vec![1; value_bytes]).unwrap(),
                    },
                };
                Transaction::sign(payload, &key)
            })
            .collect();
        let header = BlockHeader {
            chain_id: chain,
            height,
            round: height,
            parent: Hash::ZERO,
            payload_root: Block::payload_root_of(&txs),
            state_height: 0,
            state_root: Hash::ZERO,
            proposer: ValidatorId(0),
            timestamp_ms: 0,
            justify: QuorumCert::genesis(&chain),
        };
        Block {
            header,
            txs: BoundedVec::new(txs).unwrap(),
        }
    }

    fn limits(max_tx_bytes: usize) -> BlockLimits {
        BlockLimits {
            max_txs: 100,
            max_bytes: 1 << 20,
            max_tx_bytes,
        }
    }

    #[test]
    fn a_block_with_a_transaction_over_max_tx_bytes_is_refused() {
        let block = block_of(3, 300, 1);
        let size = block
            .txs
            .iter()
            .map(Encode::encoded_size)
            .max()
            .unwrap_or(0);
        assert!(check_block_limits(&block, limits(size)).is_ok());
        let refused = check_block_limits(&block, limits(size - 1));
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("transaction 0")),
            "{refused:?}"
        );
    }

    #[test]
    fn block_count_and_size_limits_still_hold() {
        let block = block_of(3, 10, 1);
        let few = BlockLimits {
            max_txs: 2,
            ..limits(1 << 20)
        };
        assert!(check_block_limits(&block, few).is_err());
        let small = BlockLimits {
            max_bytes: 100,
            ..limits(1 << 20)
        };
        assert!(check_block_limits(&block, small).is_err());
    }

    /// Four validators, a fresh gate for them and a proposal header to vary.
    fn four_validators_and_a_gate() -> (ValidatorSet, ProposalGate, BlockHeader) {
        let keys: Vec<SecretKey> = (0..4u8)
            .map(|i| SecretKey::from_seed(&[i + 1; 32]))
            .collect();
        let set = ValidatorSet::new(keys.iter().map(SecretKey::public).collect()).unwrap();
        (set, ProposalGate::new(4), block_of(1, 10, 5).header)
    }

    #[test]
    fn the_gate_decodes_only_proposals_their_proposer_sent_and_few_per_round() {
        let (set, mut gate, mut header) = four_validators_and_a_gate();
        header.round = 5;
        header.proposer = ValidatorId(1);
        let from = header.proposer;
        assert_eq!(gate.admit(from, &header, &set, 5), GateVerdict::Open);
        assert_eq!(gate.admit(from, &header, &set, 5), GateVerdict::Open);
        assert_eq!(
            gate.admit(from, &header, &set, 5),
            GateVerdict::Full,
            "third from validator 1 for round 5"
        );
        assert_eq!(
            gate.admit(ValidatorId(3), &header, &set, 5),
            GateVerdict::NotItsProposer,
            "relayed or forged in validator 1's name"
        );
        header.proposer = ValidatorId(9);
        assert_eq!(
            gate.admit(ValidatorId(9), &header, &set, 5),
            GateVerdict::NotItsProposer,
            "not a validator"
        );
        // Another proposer's slots for the same round are its own.
        header.proposer = ValidatorId(2);
        assert_eq!(
            gate.admit(ValidatorId(2), &header, &set, 5),
            GateVerdict::Open
        );
        // One peer's rate: far more proposals than its share of the rounds, for
        // rounds away from the receiver's (round 5).
        let mut opened = 0;
        for round in 100..10_000u64 {
            header.round = round;
            opened +=
                usize::from(gate.admit(ValidatorId(2), &header, &set, 5) == GateVerdict::Open);
        }
        assert!(
            opened <= PROPOSALS_PER_SEC.1 as usize + 5,
            "{opened} opened"
        );
        assert!(gate.decoded.len() <= GATE_ROUNDS);
    }

    #[test]
    fn a_leader_proposing_every_round_at_hand_is_never_rate_limited() {
        // With the other leaders failed, one validator may lead every round: its
        // proposals come as fast as the chain moves, far above the rate for rounds
        // away from the receiver's.
        let (set, mut gate, mut header) = four_validators_and_a_gate();
        header.proposer = ValidatorId(0);
        let rounds = 10 * u64::from(PROPOSALS_PER_SEC.1);
        for round in 1..=rounds {
            header.round = round;
            assert_eq!(
                gate.admit(ValidatorId(0), &header, &set, round),
                GateVerdict::Open,
                "round {round}, the receiver's own"
            );
            header.round = round + RATE_FREE_ROUNDS;
            assert_eq!(
                gate.admit(ValidatorId(0), &header, &set, round),
                GateVerdict::Open,
                "round {}, just ahead",
                round + RATE_FREE_ROUNDS
            );
        }
    }

    #[test]
    fn a_proposal_header_is_read_without_the_transactions() {
        let key = SecretKey::from_seed(&[1; 32]);
        let block = block_of(20, 100, 3);
        let wire =
            Message::Proposal(cairn_types::Proposal::sign(block.clone(), None, &key)).to_wire();
        assert_eq!(proposal_header(KIND_CONSENSUS, &wire), Some(block.header));
        assert_eq!(
            proposal_header(KIND_CONSENSUS, &wire[..40]),
            None,
            "cut short"
        );
        let vote_like = [1u8; 100];
        assert_eq!(proposal_header(KIND_CONSENSUS, &vote_like), None);
    }

    #[test]
    fn verified_cache_is_bounded_and_keeps_the_newest() {
        let mut cache = VerifiedCache::default();
        let digest = |i: u32| Hash::digest(&i.to_le_bytes());
        let total = u32::try_from(VERIFIED_CACHE_ENTRIES * 3).unwrap_or(u32::MAX);
        for i in 0..total {
            cache.insert(digest(i));
        }
        assert!(cache.len() <= 2 * VERIFIED_CACHE_ENTRIES);
        assert!(cache.contains(&digest(total - 1)));
        assert!(!cache.contains(&digest(0)));
    }
}
