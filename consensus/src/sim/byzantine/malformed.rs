//! The malformed-proposal attack: a leader that sends each validator a different broken
//! version of its proposal — bytes that do not decode (truncated, trailing garbage, an
//! unknown message tag, a length prefix far beyond its bound, more bytes than any
//! message may have) and well-signed blocks that decode but break a rule (too many
//! transactions, too many bytes, a wrong payload root, parent, height or chain, a
//! timestamp before its parent's) — and now and then the real one.
//!
//! Drivers drop what does not decode; the core must refuse the rest. The checker
//! reports any honest vote for a block that is malformed or beyond the limits.

use std::rc::Rc;

use cairn_crypto::Hash;
use cairn_types::{
    Block, BoundedBytes, BoundedVec, ChainId, Op, Proposal, Transaction, Wire, limits,
};
use parity_scale_codec::Encode;

use super::super::craft::{self, Ctx};
use super::super::rng::Rng;
use super::{Out, send};
use crate::Message;

/// The ways a proposal is broken, one chosen per recipient.
const KINDS: u64 = 13;

/// What the attacker keeps between proposals.
#[derive(Default)]
pub(crate) struct Malformer {
    /// One byte string longer than any message may be, shared by every send.
    oversized: Option<Rc<Vec<u8>>>,
    forged: u64,
}

impl Malformer {
    /// Its own proposals go out broken (a different way per recipient); everything
    /// else goes out unchanged.
    pub(crate) fn transform(
        &mut self,
        ctx: &Ctx<'_>,
        targets: Vec<cairn_types::ValidatorId>,
        message: Message,
        rng: &mut Rng,
        out: &mut Vec<Out>,
    ) {
        let Message::Proposal(p) = &message else {
            out.extend(targets.into_iter().map(|to| send(to, message.clone())));
            return;
        };
        if p.block.header.proposer != ctx.me {
            out.extend(targets.into_iter().map(|to| send(to, message.clone())));
            return;
        }
        for to in targets {
            let kind = rng.below(KINDS);
            out.push(match self.broken(ctx, p, kind, rng) {
                Broken::Bytes(bytes) => Out::Bytes { to, bytes },
                Broken::Proposal(p) => send(to, Message::Proposal(*p)),
            });
        }
    }

    fn broken(&mut self, ctx: &Ctx<'_>, p: &Proposal, kind: u64, rng: &mut Rng) -> Broken {
        let wire = || Message::Proposal(p.clone()).encode();
        let resign = |block: Block| {
            Broken::Proposal(Box::new(Proposal::sign(
                block,
                p.timeout_cert.clone(),
                ctx.key,
            )))
        };
        let mut block = p.block.clone();
        match kind {
            0 => {
                let mut bytes = wire();
                let keep = rng.range(1, bytes.len() as u64 - 1) as usize;
                bytes.truncate(keep);
                Broken::Bytes(Rc::new(bytes))
            }
            1 => {
                let mut bytes = wire();
                bytes.push(rng.below(256) as u8);
                Broken::Bytes(Rc::new(bytes))
            }
            2 => {
                let mut bytes = wire();
                bytes[0] = 0xff;
                Broken::Bytes(Rc::new(bytes))
            }
            3 => {
                // The transaction count right after the header, claimed as 2^30 - 1.
                let mut bytes = wire();
                let at = 1 + p.block.header.encoded_size();
                let end = (at + compact_len(p.block.txs.len())).min(bytes.len());
                let huge = (((1u32 << 30) - 1) << 2 | 0b10).to_le_bytes();
                bytes.splice(at..end, huge);
                Broken::Bytes(Rc::new(bytes))
            }
            4 => Broken::Bytes(
                self.oversized
                    .get_or_insert_with(|| Rc::new(vec![0; Message::MAX_BYTES + 1]))
                    .clone(),
            ),
            5 => {
                // One transaction more than the limit.
                let max = ctx.config.max_block_txs.min(limits::MAX_BLOCK_TXS);
                let mut txs = block.txs.clone().into_inner();
                while txs.len() <= max {
                    self.forged += 1;
                    txs.push(craft::fabricated_tx(ctx.chain, self.forged));
                }
                set_txs(&mut block, txs);
                resign(block)
            }
            6 => {
                // Large values, just over the byte limit.
                let mut txs = block.txs.clone().into_inner();
                let mut size = block.encoded_size();
                while size <= ctx.config.max_block_bytes && txs.len() < limits::MAX_BLOCK_TXS {
                    self.forged += 1;
                    let tx = big_tx(ctx.chain, self.forged);
                    size += tx.encoded_size();
                    txs.push(tx);
                }
                set_txs(&mut block, txs);
                resign(block)
            }
            7 => {
                block.header.payload_root = Hash(rng.bytes32());
                resign(block)
            }
            8 => {
                block.header.parent = Hash(rng.bytes32());
                resign(block)
            }
            9 => {
                block.header.height += 1;
                resign(block)
            }
            10 => {
                block.header.chain_id = ChainId(Hash(rng.bytes32()));
                resign(block)
            }
            11 if block.header.timestamp_ms > 0 => {
                block.header.timestamp_ms = 0;
                resign(block)
            }
            _ => Broken::Proposal(Box::new(p.clone())),
        }
    }
}

/// A broken proposal: bytes for the recipient's decoder, or a decodable message.
enum Broken {
    Bytes(Rc<Vec<u8>>),
    Proposal(Box<Proposal>),
}

/// Bytes of the SCALE compact encoding of `n`.
fn compact_len(n: usize) -> usize {
    match n {
        0..=63 => 1,
        64..=16_383 => 2,
        _ => 4,
    }
}

fn set_txs(block: &mut Block, txs: Vec<Transaction>) {
    if let Ok(bounded) = BoundedVec::new(txs) {
        block.header.payload_root = Block::payload_root_of(&bounded);
        block.txs = bounded;
    }
}

/// A fabricated transaction with a 60 KiB value.
fn big_tx(chain: &ChainId, nonce: u64) -> Transaction {
    let mut tx = craft::fabricated_tx(chain, nonce);
    if let (Ok(key), Ok(value)) = (
        BoundedBytes::new(b"flood".to_vec()),
        BoundedBytes::new(vec![0xAB; 60 * 1024]),
    ) {
        tx.payload.op = Op::Put { key, value };
    }
    tx
}
