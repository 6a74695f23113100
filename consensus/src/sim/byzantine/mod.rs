//! Byzantine validators: an honest core whose outputs are mutated on the way out.
//!
//! Each behaviour runs the real state machine (so it keeps up with the protocol and
//! its attacks land in live rounds) and rewrites, multiplies or withholds what that
//! machine sends, re-signing with its own key where the attack needs valid signatures.
//! Twins (two instances sharing one key) need no rewriting and live in the scenario.

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use cairn_crypto::Hash;
use cairn_types::{Block, QuorumCert, Round, Timeout, ValidatorId, VoteData};

use super::batching::BatchConduct;
use super::craft::{self, Ctx};
use super::rng::Rng;
use crate::{Action, Message};

mod inflate;
mod malformed;
mod replay;

use inflate::Inflater;
use malformed::Malformer;
use replay::Replayer;

/// What a Byzantine validator does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Behaviour {
    /// Sends nothing and answers no block request (a crashed node that never returns).
    Silent,
    /// As leader, sends one proposal to some validators and a different one, for the
    /// same round and parent, to the others.
    EquivocatingLeader,
    /// As leader, sends both proposals to every validator, in a random order per
    /// validator, the second up to 1.5 s after the first, and both again 1.5–4 s later
    /// (so validators that restarted in between see them).
    EquivocatingLeaderToAll,
    /// Votes for every proposal it sees in a round plus a fabricated block, and signs
    /// two timeouts per round with different QCs, split between validators.
    DoubleVoter,
    /// Breaks a signature in everything it sends (its own, or one inside a certificate),
    /// or claims to be another validator, often the recipient; tampers with the
    /// blocks it serves.
    InvalidSignatures,
    /// Behaves, and also floods: replays old messages and sends validly signed
    /// messages for rounds far ahead, just ahead and long past.
    Flooder,
    /// Signs its timeouts with a high QC round it does not have (the round before the
    /// timeout's), withholds its own proposals, and sends everyone a timeout
    /// certificate holding its inflated entry as soon as it knows a quorum less one of
    /// honest timeouts for a round.
    InflatedHighQc,
    /// Takes part honestly and floods valid replays of everything it has seen (its own
    /// and others' proposals, votes, timeouts and certificates, old and current): two
    /// for every message it receives and six with every batch it sends.
    Replayer,
    /// As leader, sends each validator a differently broken proposal: bytes that do
    /// not decode (truncated, trailing garbage, unknown tag, a length prefix beyond its
    /// bound, more bytes than a message may have) or well-signed blocks beyond the
    /// limits or breaking a rule (payload root, parent, height, chain, timestamp);
    /// sometimes the real one.
    MalformedProposals,
    /// Batched scenarios: takes part honestly in consensus, but votes for every batch
    /// without storing it and serves no batch and no block, so its signature on a
    /// proof of availability vouches for nothing; sends its own batches to only as
    /// many validators as a proof needs, so the others must fetch them.
    UnservingCertifier,
}

impl Behaviour {
    /// The behaviours `mix_n4` and `mix_n7` draw from. Kept as it is so that a seed
    /// of those mixes always builds the same scenario (and old reports replay).
    pub const CLASSIC: [Behaviour; 6] = [
        Behaviour::Silent,
        Behaviour::EquivocatingLeader,
        Behaviour::EquivocatingLeaderToAll,
        Behaviour::DoubleVoter,
        Behaviour::InvalidSignatures,
        Behaviour::Flooder,
    ];

    /// Every behaviour of the consensus messages, for the `mix_*_attacks` mixes.
    pub const ALL: [Behaviour; 9] = [
        Behaviour::Silent,
        Behaviour::EquivocatingLeader,
        Behaviour::EquivocatingLeaderToAll,
        Behaviour::DoubleVoter,
        Behaviour::InvalidSignatures,
        Behaviour::Flooder,
        Behaviour::InflatedHighQc,
        Behaviour::Replayer,
        Behaviour::MalformedProposals,
    ];

    /// Every behaviour, the attack on batches included, for the batched mixes.
    pub const BATCHED: [Behaviour; 10] = {
        let mut all = [Behaviour::UnservingCertifier; 10];
        let mut i = 0;
        while i < Behaviour::ALL.len() {
            all[i] = Behaviour::ALL[i];
            i += 1;
        }
        all
    };
}

/// What a Byzantine validator does instead of an action: the action itself, or a
/// message sent after an extra delay.
pub(crate) enum Out {
    Act(Action),
    Later {
        to: ValidatorId,
        message: Message,
        after_ms: u64,
    },
    /// Raw bytes for `to`, which its driver decodes as a message (or drops).
    Bytes {
        to: ValidatorId,
        bytes: Rc<Vec<u8>>,
    },
}

/// Messages a flooder remembers for replay.
const HISTORY: usize = 64;
/// Junk messages a flooder adds to each batch it sends.
const FLOOD_PER_BATCH: usize = 3;
/// Proposals per round a double voter remembers.
const SEEN_PER_ROUND: usize = 4;

/// The state of one Byzantine validator.
pub(crate) struct Byzantine {
    pub(crate) behaviour: Behaviour,
    rng: Rng,
    /// Proposals seen per round (double voter).
    seen: BTreeMap<Round, Vec<VoteData>>,
    /// Rounds voted in, with the blocks voted for (double voter).
    voted: BTreeMap<Round, Vec<Hash>>,
    /// The second timeout signed per round (double voter).
    second_timeouts: BTreeMap<Round, Timeout>,
    history: VecDeque<Message>,
    forged: u64,
    inflater: Inflater,
    replayer: Replayer,
    malformer: Malformer,
}

impl Byzantine {
    pub(crate) fn new(behaviour: Behaviour, rng: Rng) -> Byzantine {
        Byzantine {
            behaviour,
            rng,
            seen: BTreeMap::new(),
            voted: BTreeMap::new(),
            second_timeouts: BTreeMap::new(),
            history: VecDeque::new(),
            forged: 0,
            inflater: Inflater::default(),
            replayer: Replayer::default(),
            malformer: Malformer::default(),
        }
    }

    /// Whether it answers block requests at all.
    pub(crate) fn serves_blocks(&self) -> bool {
        !matches!(
            self.behaviour,
            Behaviour::Silent | Behaviour::UnservingCertifier
        )
    }

    /// How it takes part in batches.
    pub(crate) fn batch_conduct(&self) -> BatchConduct {
        match self.behaviour {
            Behaviour::Silent => BatchConduct::Mute,
            Behaviour::UnservingCertifier => BatchConduct::Unserving,
            _ => BatchConduct::Honest,
        }
    }

    /// The block it serves when asked for `block`.
    pub(crate) fn serve(&mut self, mut block: Block) -> Block {
        if self.behaviour == Behaviour::InvalidSignatures {
            block.header.timestamp_ms ^= 1 + self.rng.below(1_000);
        }
        block
    }

    /// Sees an incoming message before its core does; may answer at once.
    pub(crate) fn observe(&mut self, ctx: &Ctx<'_>, message: &Message) -> Vec<Out> {
        let keep_from = ctx.round.saturating_sub(4);
        match self.behaviour {
            Behaviour::Flooder => {
                if self.history.len() >= HISTORY {
                    self.history.pop_front();
                }
                self.history.push_back(message.clone());
                Vec::new()
            }
            Behaviour::DoubleVoter => {
                self.seen = self.seen.split_off(&keep_from);
                self.voted = self.voted.split_off(&keep_from);
                self.second_timeouts = self.second_timeouts.split_off(&keep_from);
                let Message::Proposal(p) = message else {
                    return Vec::new();
                };
                let data = craft::vote_data_of(&p.block);
                if data.round < keep_from || data.round > ctx.round + ctx.window {
                    return Vec::new();
                }
                let seen = self.seen.entry(data.round).or_default();
                if seen.len() < SEEN_PER_ROUND && !seen.iter().any(|d| d.block_id == data.block_id)
                {
                    seen.push(data);
                }
                // Already voted in this round for something else: vote for this one too.
                match self.voted.get_mut(&data.round) {
                    Some(ids) if !ids.contains(&data.block_id) => {
                        ids.push(data.block_id);
                        let to = ctx.validators.leader(data.round + 1);
                        vec![send(to, Message::Vote(ctx.vote(data)))]
                    }
                    _ => Vec::new(),
                }
            }
            Behaviour::InflatedHighQc => self.inflater.observe(ctx, message, &mut self.rng),
            Behaviour::Replayer => self.replayer.observe(ctx, message, &mut self.rng),
            _ => Vec::new(),
        }
    }

    /// Rewrites what its core asked to do.
    pub(crate) fn transform(&mut self, ctx: &Ctx<'_>, actions: Vec<Action>) -> Vec<Out> {
        let mut out = Vec::with_capacity(actions.len());
        let mut sent = false;
        for action in actions {
            if self.behaviour == Behaviour::UnservingCertifier {
                // Its attack is on batches (see `super::batching`); its proposals
                // still go out batched, carrying proofs of batches it serves to no one.
                out.push(Out::Act(action));
                continue;
            }
            let (targets, message) = match action {
                Action::Send { to, message } => (vec![to], message),
                Action::Broadcast { message } => (ctx.others(), message),
                other => {
                    out.push(Out::Act(other));
                    continue;
                }
            };
            sent = true;
            match self.behaviour {
                // Handled above: its consensus messages go out unchanged.
                Behaviour::UnservingCertifier => {}
                Behaviour::Silent => {}
                Behaviour::EquivocatingLeader | Behaviour::EquivocatingLeaderToAll => {
                    self.equivocate(ctx, targets, message, &mut out)
                }
                Behaviour::DoubleVoter => self.double_sign(ctx, targets, message, &mut out),
                Behaviour::InvalidSignatures => {
                    for to in targets {
                        let bad = craft::corrupt(ctx, message.clone(), to, &mut self.rng);
                        out.push(send(to, bad));
                    }
                }
                Behaviour::Flooder => {
                    self.history.push_back(message.clone());
                    out.extend(targets.into_iter().map(|to| send(to, message.clone())));
                }
                Behaviour::InflatedHighQc => {
                    self.inflater
                        .transform(ctx, targets, message, &mut self.rng, &mut out)
                }
                Behaviour::Replayer => {
                    self.replayer
                        .transform(ctx, targets, message, &mut self.rng, &mut out)
                }
                Behaviour::MalformedProposals => {
                    self.malformer
                        .transform(ctx, targets, message, &mut self.rng, &mut out)
                }
            }
        }
        if sent && self.behaviour == Behaviour::Flooder {
            let history: Vec<Message> = self.history.iter().cloned().collect();
            let others = ctx.others();
            for _ in 0..FLOOD_PER_BATCH {
                let to = others[self.rng.below(others.len() as u64) as usize];
                out.push(send(to, craft::junk(ctx, &history, &mut self.rng)));
            }
            while self.history.len() > HISTORY {
                self.history.pop_front();
            }
        }
        out
    }

    /// Its own proposals go out as two different blocks.
    fn equivocate(
        &mut self,
        ctx: &Ctx<'_>,
        targets: Vec<ValidatorId>,
        message: Message,
        out: &mut Vec<Out>,
    ) {
        let Message::Proposal(p) = &message else {
            out.extend(targets.into_iter().map(|to| send(to, message.clone())));
            return;
        };
        self.forged += 1;
        let a = Message::Proposal(p.clone());
        let b = Message::Proposal(craft::sibling(ctx, p, self.forged));
        let to_all = self.behaviour == Behaviour::EquivocatingLeaderToAll;
        for to in targets {
            let (first, second) = if self.rng.chance(0.5) {
                (a.clone(), b.clone())
            } else {
                (b.clone(), a.clone())
            };
            out.push(send(to, first.clone()));
            if to_all {
                let late = self.rng.range(0, 1_500);
                let again = self.rng.range(1_500, 4_000);
                for (message, after_ms) in
                    [(second.clone(), late), (first, again), (second, again + 10)]
                {
                    out.push(Out::Later {
                        to,
                        message,
                        after_ms,
                    });
                }
            }
        }
    }

    /// Its votes and timeouts are doubled.
    fn double_sign(
        &mut self,
        ctx: &Ctx<'_>,
        targets: Vec<ValidatorId>,
        message: Message,
        out: &mut Vec<Out>,
    ) {
        match &message {
            Message::Vote(v) if v.voter == ctx.me => {
                let round = v.data.round;
                let mut extra: Vec<VoteData> = self
                    .seen
                    .get(&round)
                    .map(|seen| {
                        seen.iter()
                            .filter(|d| d.block_id != v.data.block_id)
                            .copied()
                            .collect()
                    })
                    .unwrap_or_default();
                extra.push(VoteData {
                    block_id: Hash(self.rng.bytes32()),
                    ..v.data
                });
                let voted = self.voted.entry(round).or_default();
                voted.push(v.data.block_id);
                voted.extend(extra.iter().map(|d| d.block_id));
                for to in targets {
                    out.push(send(to, message.clone()));
                    for data in &extra {
                        out.push(send(to, Message::Vote(ctx.vote(*data))));
                    }
                }
            }
            Message::Timeout(t) if t.signer == ctx.me && t.high_qc.round() > 0 => {
                let second = self
                    .second_timeouts
                    .entry(t.round)
                    .or_insert_with(|| {
                        // Justified only by the TC the first one carries, if any.
                        ctx.timeout(t.round, QuorumCert::genesis(ctx.chain), t.last_tc.clone())
                    })
                    .clone();
                for to in targets {
                    let pick = if self.rng.chance(0.5) {
                        message.clone()
                    } else {
                        Message::Timeout(second.clone())
                    };
                    out.push(send(to, pick));
                }
            }
            _ => out.extend(targets.into_iter().map(|to| send(to, message.clone()))),
        }
    }
}

fn send(to: ValidatorId, message: Message) -> Out {
    Out::Act(Action::Send { to, message })
}
