//! Forging tools of the Byzantine validators: sibling blocks, fabricated votes and
//! timeouts, corrupted signatures and junk for flooding. Everything a Byzantine
//! validator signs is signed with its own key (it cannot forge others' signatures).

use cairn_crypto::{Hash, SecretKey, Signature};
use cairn_types::{
    Block, BlockHeader, BoundedVec, ChainId, Op, Proposal, QuorumCert, Round, Timeout, TimeoutCert,
    TimeoutEntry, Transaction, TxPayload, ValidatorId, ValidatorSet, Vote, VoteData,
};

use super::rng::Rng;
use crate::Message;

/// What a Byzantine validator knows when it forges.
pub(crate) struct Ctx<'a> {
    pub(crate) chain: &'a ChainId,
    pub(crate) validators: &'a ValidatorSet,
    pub(crate) me: ValidatorId,
    pub(crate) key: &'a SecretKey,
    /// Its core's current round.
    pub(crate) round: Round,
    /// Its core's highest QC.
    pub(crate) high_qc: &'a QuorumCert,
    /// The round window of the configuration.
    pub(crate) window: u64,
    /// The consensus configuration every validator runs (block limits included).
    pub(crate) config: &'a crate::Config,
}

impl<'a> Ctx<'a> {
    /// What validator `me` (key `key`, state machine `core`) knows when it misbehaves.
    pub(crate) fn of(
        chain: &'a ChainId,
        validators: &'a ValidatorSet,
        config: &'a crate::Config,
        me: ValidatorId,
        key: &'a SecretKey,
        core: &'a crate::Consensus,
    ) -> Ctx<'a> {
        Ctx {
            chain,
            validators,
            me,
            key,
            round: core.round(),
            high_qc: &core.safety().high_qc,
            window: config.round_window,
            config,
        }
    }
}

impl Ctx<'_> {
    /// Every validator but this one, in id order.
    pub(crate) fn others(&self) -> Vec<ValidatorId> {
        self.validators
            .iter()
            .map(|(id, _)| id)
            .filter(|id| *id != self.me)
            .collect()
    }

    /// Signs a vote for `data`.
    pub(crate) fn vote(&self, data: VoteData) -> Vote {
        Vote::sign(self.chain, data, self.me, self.key)
    }

    /// Signs a timeout for `round` carrying `high_qc` and `last_tc`.
    pub(crate) fn timeout(
        &self,
        round: Round,
        high_qc: QuorumCert,
        last_tc: Option<TimeoutCert>,
    ) -> Timeout {
        Timeout::sign(self.chain, round, high_qc, last_tc, self.me, self.key)
    }
}

/// What a vote for `block` says.
pub(crate) fn vote_data_of(block: &Block) -> VoteData {
    VoteData {
        block_id: block.id(),
        round: block.header.round,
        height: block.header.height,
        parent_id: block.header.parent,
        parent_round: block.header.justify.round(),
    }
}

/// A transaction no client sent, unique by `nonce`.
pub(crate) fn fabricated_tx(chain: &ChainId, nonce: u64) -> Transaction {
    let sender = SecretKey::from_seed(&[0xBA; 32]).public();
    Transaction {
        payload: TxPayload {
            chain_id: *chain,
            sender,
            nonce: u64::MAX - nonce,
            op: Op::Transfer {
                to: sender,
                amount: nonce,
            },
        },
        signature: Signature([0; 64]),
    }
}

/// A second, different, validly signed proposal for the same round and parent: the
/// same block with one fabricated transaction added.
pub(crate) fn sibling(ctx: &Ctx<'_>, p: &Proposal, nonce: u64) -> Proposal {
    let mut block = p.block.clone();
    let mut txs = block.txs.clone().into_inner();
    txs.push(fabricated_tx(ctx.chain, nonce));
    match BoundedVec::new(txs) {
        Ok(bounded) => {
            block.header.payload_root = Block::payload_root_of(&bounded);
            block.txs = bounded;
        }
        // A full block: change the timestamp instead.
        Err(_) => block.header.timestamp_ms += 1,
    }
    Proposal::sign(block, p.timeout_cert.clone(), ctx.key)
}

fn flip(signature: &mut Signature, rng: &mut Rng) {
    let i = rng.below(64) as usize;
    signature.0[i] ^= 1 << rng.below(8);
}

fn flip_qc(qc: &mut QuorumCert, rng: &mut Rng) {
    let mut entries = qc.signatures.clone().into_inner();
    if let Some(i) = rng.index(entries.len()) {
        flip(&mut entries[i].1, rng);
    }
    qc.signatures = BoundedVec::new(entries).unwrap_or_default();
}

/// A timeout certificate for `round` whose signatures are all garbage.
fn forged_tc(ctx: &Ctx<'_>, round: Round, rng: &mut Rng) -> TimeoutCert {
    let high_qc_round = ctx.high_qc.round().min(round.saturating_sub(1));
    let entries = ctx
        .validators
        .iter()
        .take(ctx.validators.quorum())
        .map(|(signer, _)| {
            let mut signature = Signature([0; 64]);
            signature.0[..32].copy_from_slice(&rng.bytes32());
            TimeoutEntry {
                signer,
                high_qc_round,
                signature,
            }
        })
        .collect();
    TimeoutCert {
        round,
        high_qc: Box::new(ctx.high_qc.clone()),
        entries: BoundedVec::new(entries).unwrap_or_default(),
    }
}

/// `message` as a liar sends it to `to`: a broken signature somewhere, or a claim to
/// be another validator (often the recipient itself).
pub(crate) fn corrupt(ctx: &Ctx<'_>, message: Message, to: ValidatorId, rng: &mut Rng) -> Message {
    let other = if rng.chance(0.5) {
        to
    } else {
        ValidatorId(rng.below(ctx.validators.len() as u64) as u16)
    };
    match message {
        Message::Proposal(mut p) => match rng.below(4) {
            0 => {
                flip(&mut p.signature, rng);
                Message::Proposal(p)
            }
            1 => {
                p.block.header.proposer = other;
                Message::Proposal(p)
            }
            2 if !p.block.header.justify.signatures.is_empty() => {
                flip_qc(&mut p.block.header.justify, rng);
                Message::Proposal(Proposal::sign(p.block, p.timeout_cert, ctx.key))
            }
            _ => {
                let round = p.block.header.round.saturating_sub(1);
                p.timeout_cert = Some(forged_tc(ctx, round, rng));
                Message::Proposal(p)
            }
        },
        Message::Vote(mut v) => {
            if rng.chance(0.5) {
                flip(&mut v.signature, rng);
            } else {
                v.voter = other;
            }
            Message::Vote(v)
        }
        Message::Timeout(mut t) => match rng.below(4) {
            0 => {
                flip(&mut t.signature, rng);
                Message::Timeout(t)
            }
            1 => {
                t.signer = other;
                Message::Timeout(t)
            }
            2 if !t.high_qc.signatures.is_empty() => {
                // The timeout's own signature stays valid: it covers only the rounds.
                flip_qc(&mut t.high_qc, rng);
                Message::Timeout(t)
            }
            _ => {
                // Claim a QC for the previous round that does not exist.
                let mut qc = t.high_qc.clone();
                qc.data.round = t.round.saturating_sub(1).max(1);
                qc.data.block_id = Hash(rng.bytes32());
                Message::Timeout(ctx.timeout(t.round, qc, t.last_tc))
            }
        },
        Message::QuorumCert(mut qc) => {
            flip_qc(&mut qc, rng);
            Message::QuorumCert(qc)
        }
        Message::TimeoutCert(tc) => Message::TimeoutCert(forged_tc(ctx, tc.round, rng)),
        Message::Status(mut status) => {
            if status.high_qc.signatures.is_empty() {
                status.high_tc = Some(forged_tc(ctx, status.high_qc.round() + 1, rng));
            } else {
                flip_qc(&mut status.high_qc, rng);
            }
            Message::Status(status)
        }
        Message::StatusRequest => Message::StatusRequest,
    }
}

/// A block this validator could propose in `round` on its highest QC, unjustified if
/// the round does not follow that QC.
fn unjustified_proposal(ctx: &Ctx<'_>, round: Round) -> Proposal {
    let justify = ctx.high_qc.clone();
    let header = BlockHeader {
        chain_id: *ctx.chain,
        height: justify.data.height + 1,
        round,
        parent: justify.block_id(),
        payload_root: Block::payload_root_of(&[]),
        state_height: 0,
        state_root: Hash::ZERO,
        proposer: ctx.me,
        timestamp_ms: 0,
        justify,
    };
    let block = Block {
        header,
        txs: BoundedVec::default(),
    };
    Proposal::sign(block, None, ctx.key)
}

/// One message of a flood: a replay from `history`, or a validly signed message for a
/// round far ahead, just ahead, or long past.
pub(crate) fn junk(ctx: &Ctx<'_>, history: &[Message], rng: &mut Rng) -> Message {
    let n = ctx.validators.len() as u64;
    let far = ctx.round + ctx.window + rng.range(1, 10_000);
    let near = ctx.round + rng.range(1, ctx.window.max(1));
    match rng.below(7) {
        0 | 1 if !history.is_empty() => {
            let i = rng.below(history.len() as u64) as usize;
            history[i].clone()
        }
        2 => Message::Timeout(ctx.timeout(far, ctx.high_qc.clone(), None)),
        3 => Message::Timeout(ctx.timeout(near, ctx.high_qc.clone(), None)),
        4 => Message::Vote(ctx.vote(VoteData {
            block_id: Hash(rng.bytes32()),
            round: if rng.chance(0.5) { far } else { near },
            height: rng.range(1, 1_000),
            parent_id: Hash(rng.bytes32()),
            parent_round: near.saturating_sub(1),
        })),
        5 => {
            // The next round this validator leads at or after `near` or `far`.
            let start = if rng.chance(0.5) { near } else { far } + 1;
            let offset = (u64::from(ctx.me.0) + n - start % n) % n;
            Message::Proposal(unjustified_proposal(ctx, start + offset))
        }
        _ => {
            let mut qc = ctx.high_qc.clone();
            qc.data.round = near;
            qc.data.block_id = Hash(rng.bytes32());
            flip_qc(&mut qc, rng);
            Message::QuorumCert(qc)
        }
    }
}
