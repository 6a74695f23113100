//! The behaviours themselves (builds with the `byzantine` feature only).

use std::collections::VecDeque;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use cairn_consensus::Message;
use cairn_crypto::{Hash, SecretKey, Signature};
use cairn_types::{
    Batch, BoundedBytes, Op, Proposal, QuorumCert, Timeout, Transaction, TxPayload, ValidatorId,
    Vote,
};
use parity_scale_codec::Encode;

use super::{BEHAVIOURS, Context, DORMANT_ENV, ENV, Frame, Outgoing};
use crate::run::wire::{KIND_BATCH, KIND_CONSENSUS};

/// Messages `replay-flood` remembers and resends.
const REPLAYED: usize = 16;
/// Transactions in one `crafted-batches` batch.
const CRAFTED_BATCH: usize = 256;
/// How far ahead `inflated-timeouts` claims to be, in rounds.
const INFLATION: u64 = 1_000;

/// Whether the behaviour is on: from the start, or (with [`DORMANT_ENV`]) from the
/// first SIGUSR1. Process-wide, so a driver restarted after block sync keeps it.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static ARMED: Once = Once::new();

/// Decides, once per process, whether the behaviour starts on or waits for SIGUSR1
/// (then installs the handler: without one, SIGUSR1 would end the process). Call it
/// early, inside the runtime.
pub fn arm() {
    ARMED.call_once(|| {
        if std::env::var_os(ENV).is_none() {
            return;
        }
        if std::env::var_os(DORMANT_ENV).is_none() {
            ACTIVE.store(true, Ordering::Relaxed);
            return;
        }
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::user_defined1()) {
            Ok(mut usr1) => {
                tracing::warn!("BYZANTINE: dormant (honest) until SIGUSR1");
                tokio::spawn(async move {
                    usr1.recv().await;
                    ACTIVE.store(true, Ordering::Relaxed);
                    tracing::warn!("BYZANTINE: SIGUSR1; misbehaving from now on");
                });
            }
            Err(e) => {
                tracing::error!(error = %e, "BYZANTINE: no SIGUSR1 handler; misbehaving at once");
                ACTIVE.store(true, Ordering::Relaxed);
            }
        }
    });
}

/// One behaviour, with the key it signs its forgeries with.
pub struct Byzantine {
    behaviour: Behaviour,
    key: SecretKey,
    context: Context,
    /// Its own last messages (`replay-flood`).
    sent: VecDeque<Message>,
    /// Its last known high QC (`inflated-timeouts`).
    high_qc: Option<QuorumCert>,
    /// Messages rewritten so far.
    count: u64,
    /// The network, for `stop-reading` (set by [`Byzantine::on_start`]).
    net: Option<cairn_network::NetworkHandle>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    Silent,
    Equivocate,
    BadSignatures,
    DoubleVote,
    InflatedTimeouts,
    ReplayFlood,
    BadFrames,
    StopReading,
    CraftedBatches,
}

impl Behaviour {
    fn named(name: &str) -> Option<Behaviour> {
        Some(match name {
            "silent" => Behaviour::Silent,
            "equivocate" => Behaviour::Equivocate,
            "bad-signatures" => Behaviour::BadSignatures,
            "double-vote" => Behaviour::DoubleVote,
            "inflated-timeouts" => Behaviour::InflatedTimeouts,
            "replay-flood" => Behaviour::ReplayFlood,
            "bad-frames" => Behaviour::BadFrames,
            "stop-reading" => Behaviour::StopReading,
            "crafted-batches" => Behaviour::CraftedBatches,
            _ => return None,
        })
    }
}

impl Byzantine {
    /// The behaviour [`ENV`] names, if set; an error names the known ones.
    pub fn from_env(key: &SecretKey, context: Context) -> Result<Option<Byzantine>> {
        Byzantine::from_name(std::env::var(ENV).ok(), key, context)
    }

    /// As [`Byzantine::from_env`], for the value `name` of the variable.
    pub fn from_name(
        name: Option<String>,
        key: &SecretKey,
        context: Context,
    ) -> Result<Option<Byzantine>> {
        let Some(name) = name else {
            return Ok(None);
        };
        let Some(behaviour) = Behaviour::named(&name) else {
            anyhow::bail!(
                "{ENV}={name}: unknown behaviour; use one of {}",
                BEHAVIOURS.join(", ")
            );
        };
        tracing::warn!(
            ?behaviour,
            "BYZANTINE: this validator misbehaves on purpose"
        );
        Ok(Some(Byzantine {
            behaviour,
            key: SecretKey::from_seed(&key.seed()),
            context,
            sent: VecDeque::with_capacity(REPLAYED),
            high_qc: None,
            count: 0,
            net: None,
        }))
    }

    /// Called once the driver starts, with its network.
    pub fn on_start(&mut self, net: &cairn_network::NetworkHandle) {
        self.net = Some(net.clone());
    }

    /// What to send instead of `message` to `to`.
    pub fn rewrite(&mut self, to: &[ValidatorId], message: &Message) -> Outgoing {
        let honest = || -> Outgoing {
            to.iter()
                .map(|v| Frame::Message(*v, Box::new(message.clone())))
                .collect()
        };
        if !ACTIVE.load(Ordering::Relaxed) {
            return honest();
        }
        self.count = self.count.wrapping_add(1);
        if self.behaviour == Behaviour::StopReading
            && let Some(net) = self.net.take()
        {
            net.stop_reading();
        }
        match self.behaviour {
            Behaviour::Silent => Vec::new(),
            Behaviour::StopReading => honest(),
            Behaviour::BadSignatures => {
                let broken = break_signature(message.clone());
                to.iter()
                    .map(|v| Frame::Message(*v, Box::new(broken.clone())))
                    .collect()
            }
            Behaviour::Equivocate => match message {
                Message::Proposal(proposal) => self.both_proposals(to, proposal),
                _ => honest(),
            },
            Behaviour::DoubleVote => match message {
                Message::Vote(vote) => self.both_votes(to, vote),
                _ => honest(),
            },
            Behaviour::InflatedTimeouts => {
                let mut out = honest();
                out.extend(self.inflated(to, message));
                out
            }
            Behaviour::ReplayFlood => {
                let mut out = honest();
                for old in &self.sent {
                    out.extend(to.iter().map(|v| Frame::Message(*v, Box::new(old.clone()))));
                }
                if self.sent.len() == REPLAYED {
                    self.sent.pop_front();
                }
                self.sent.push_back(message.clone());
                out
            }
            Behaviour::BadFrames => {
                let mut out = honest();
                out.extend(to.iter().flat_map(|v| self.bad_frames(*v)));
                out
            }
            Behaviour::CraftedBatches => {
                let mut out = honest();
                if let Some(batch) = self.crafted_batch(message.round()) {
                    let batch = batch.encode();
                    out.extend(
                        to.iter()
                            .map(|v| Frame::Payload(*v, KIND_BATCH, batch.clone())),
                    );
                }
                out
            }
        }
    }

    /// The proposal and a sibling, to everyone, in alternating order.
    fn both_proposals(&self, to: &[ValidatorId], proposal: &Proposal) -> Outgoing {
        let mut block = proposal.block.clone();
        block.header.timestamp_ms = block.header.timestamp_ms.saturating_add(1);
        let sibling = Proposal::sign(block, proposal.timeout_cert.clone(), &self.key);
        alternate(
            to,
            Message::Proposal(proposal.clone()),
            Message::Proposal(sibling),
        )
    }

    /// The vote and a vote for another block of the round, in alternating order.
    fn both_votes(&self, to: &[ValidatorId], vote: &Vote) -> Outgoing {
        let mut data = vote.data;
        let mut id = *data.block_id.as_bytes();
        id[0] ^= 1;
        data.block_id = Hash::from(id);
        let other = Vote::sign(&self.context.chain, data, vote.voter, &self.key);
        alternate(to, Message::Vote(vote.clone()), Message::Vote(other))
    }

    /// Timeouts claiming a high QC far ahead (the QC forged) and a round far ahead.
    fn inflated(&mut self, to: &[ValidatorId], message: &Message) -> Outgoing {
        let (round, signer) = match message {
            Message::Proposal(p) => {
                self.high_qc = Some(p.block.header.justify.clone());
                (p.block.header.round, p.block.header.proposer)
            }
            Message::Timeout(t) => {
                self.high_qc = Some(t.high_qc.clone());
                (t.round, t.signer)
            }
            Message::Vote(v) => (v.data.round, v.voter),
            _ => return Vec::new(),
        };
        let Some(high_qc) = self.high_qc.clone() else {
            return Vec::new();
        };
        let chain = &self.context.chain;
        let far = Timeout::sign(
            chain,
            round.saturating_add(INFLATION),
            high_qc.clone(),
            None,
            signer,
            &self.key,
        );
        let mut forged_qc = high_qc;
        forged_qc.data.round = round.saturating_add(INFLATION);
        let claim = Timeout::sign(
            chain,
            round.saturating_add(INFLATION + 1),
            forged_qc,
            None,
            signer,
            &self.key,
        );
        let mut out = Vec::with_capacity(2 * to.len());
        for v in to {
            out.push(Frame::Message(*v, Box::new(Message::Timeout(far.clone()))));
            out.push(Frame::Message(
                *v,
                Box::new(Message::Timeout(claim.clone())),
            ));
        }
        out
    }

    /// Junk for one peer.
    fn bad_frames(&self, to: ValidatorId) -> Outgoing {
        let junk: Vec<u8> = (0..96u8).map(|b| b.wrapping_mul(37) ^ 0xa5).collect();
        let mut out = vec![
            Frame::Payload(to, KIND_CONSENSUS, junk.clone()),
            Frame::Payload(to, 0xee, junk.clone()),
            Frame::Raw(to, junk),
        ];
        if self.count.is_multiple_of(8) {
            let over = self.context.max_message_bytes.saturating_add(128 * 1024);
            out.push(Frame::Raw(to, vec![0u8; over]));
        }
        out
    }

    /// Transactions of genesis accounts, well formed, with forged signatures.
    /// A batch of this validator's, well formed, expiring within every receiver's
    /// window, whose transactions' signatures are forged.
    fn crafted_batch(&self, round: u64) -> Option<Batch> {
        let txs = self.crafted_txs();
        let hashes: Vec<cairn_crypto::Hash> = txs.iter().map(Transaction::hash).collect();
        Batch::new(
            self.context.me,
            self.count,
            round.saturating_add(10),
            txs,
            &hashes,
        )
        .ok()
    }

    fn crafted_txs(&self) -> Vec<Transaction> {
        let senders = &self.context.senders;
        if senders.is_empty() {
            return Vec::new();
        }
        (0..CRAFTED_BATCH as u64)
            .map(|i| {
                let n = self
                    .count
                    .wrapping_mul(CRAFTED_BATCH as u64)
                    .wrapping_add(i);
                let sender = senders[(n % senders.len() as u64) as usize];
                let payload = TxPayload {
                    chain_id: self.context.chain,
                    sender,
                    nonce: n % 64,
                    op: Op::Put {
                        key: BoundedBytes::new(b"byzantine".to_vec()).unwrap_or_default(),
                        value: BoundedBytes::new(n.to_le_bytes().to_vec()).unwrap_or_default(),
                    },
                };
                let mut signature = [0u8; 64];
                signature[..8].copy_from_slice(&n.to_le_bytes());
                Transaction {
                    payload,
                    signature: Signature(signature),
                }
            })
            .collect()
    }
}

/// `a` then `b` to even recipients, `b` then `a` to odd ones.
fn alternate(to: &[ValidatorId], a: Message, b: Message) -> Outgoing {
    let mut out = Vec::with_capacity(2 * to.len());
    for (k, v) in to.iter().enumerate() {
        let (first, second) = if k % 2 == 0 { (&a, &b) } else { (&b, &a) };
        out.push(Frame::Message(*v, Box::new(first.clone())));
        out.push(Frame::Message(*v, Box::new(second.clone())));
    }
    out
}

fn break_signature(message: Message) -> Message {
    match message {
        Message::Proposal(mut p) => {
            p.signature.0[0] ^= 1;
            Message::Proposal(p)
        }
        Message::Vote(mut v) => {
            v.signature.0[0] ^= 1;
            Message::Vote(v)
        }
        Message::Timeout(mut t) => {
            t.signature.0[0] ^= 1;
            Message::Timeout(t)
        }
        other => other,
    }
}
