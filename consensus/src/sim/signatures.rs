//! Client signatures where ed25519 verifiers disagree, and the check that every honest
//! validator judges them alike.
//!
//! The consensus core never looks at transaction signatures: execution judges them at
//! commit, and a transaction with a bad one gets a "rejected" receipt. That is safe
//! only if every validator reaches the same verdict on every signature, alone or in
//! whatever batch its node happened to check it in. With
//! [`super::Scenario::odd_client_signatures`], every client transaction is really
//! signed and a share of them carry an odd signature: `R` one of the encodings of the
//! eight small-order points (canonical or not) with an arbitrary `s`, or an honest
//! signature with `s + ℓ` (the same residue, non-canonical). At every commit each honest
//! validator judges the block's signatures one by one and as a batch (in an order of
//! its own, so batches differ between validators), through `cairn-crypto`'s public
//! API; the verdicts must agree within the validator and across validators.
//!
//! What this cannot make without the signer's secret scalar and SHA-512 is an odd
//! signature that some rule *accepts* (`R` small-order with `s = k·a`): those are
//! `cairn-crypto`'s own tests. Here the rule's verdict is whatever `cairn-crypto`
//! says; the simulator checks only that it is the same everywhere.

use cairn_crypto::{Domain, PublicKey, Signature, SignedItem, find_invalid};
use cairn_types::{Block, Transaction};
use parity_scale_codec::Encode;

use super::rng::Rng;

/// Encodings of points of small order: the eight torsion points (order 1, 2, 4, 8)
/// and the non-canonical encodings `p`, `p + 1` of two of them (libsodium's list).
const SMALL_ORDER: [[u8; 32]; 9] = [
    // identity (order 1)
    le(&[0x01]),
    // y = 0 (order 4), both signs of x
    le(&[0x00]),
    with_sign(le(&[0x00])),
    // y = -1 (order 2)
    minus(0x01),
    // order 8
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    with_sign([
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ]),
    // y = p (= 0) and y = p + 1 (= 1), non-canonical
    minus(0x00),
    plus_one_past_p(),
];

/// 32 little-endian bytes holding `low` in the first bytes.
const fn le(low: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < low.len() {
        out[i] = low[i];
        i += 1;
    }
    out
}

/// Sets the sign bit of `x` (the top bit of the last byte).
const fn with_sign(mut bytes: [u8; 32]) -> [u8; 32] {
    bytes[31] |= 0x80;
    bytes
}

/// `p - k` for the field prime `p = 2^255 - 19` and a small `k`.
const fn minus(k: u8) -> [u8; 32] {
    let mut out = [0xffu8; 32];
    out[0] = 0xed - k;
    out[31] = 0x7f;
    out
}

/// `p + 1`.
const fn plus_one_past_p() -> [u8; 32] {
    let mut out = [0xffu8; 32];
    out[0] = 0xee;
    out[31] = 0x7f;
    out
}

/// The group order ℓ, little-endian.
const GROUP_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

/// `signature` made odd: a small-order `R` with a small `s` (zero or random below
/// 2^252), or the same `R` with `s + ℓ`.
pub(crate) fn oddify(signature: Signature, rng: &mut Rng) -> Signature {
    let mut bytes = signature.0;
    match rng.below(3) {
        0 | 1 => {
            let r = SMALL_ORDER[rng.below(SMALL_ORDER.len() as u64) as usize];
            bytes[..32].copy_from_slice(&r);
            let mut s = if rng.chance(0.5) {
                [0; 32]
            } else {
                rng.bytes32()
            };
            s[31] &= 0x0f;
            bytes[32..].copy_from_slice(&s);
        }
        _ => {
            let mut carry = 0u16;
            for (byte, add) in bytes[32..].iter_mut().zip(&GROUP_ORDER) {
                let sum = u16::from(*byte) + u16::from(*add) + carry;
                *byte = (sum & 0xff) as u8;
                carry = sum >> 8;
            }
        }
    }
    Signature(bytes)
}

/// Whether `tx`'s signature is one [`oddify`] made (its `R` is of small order, or its
/// `s` is not below ℓ).
pub(crate) fn is_odd(tx: &Transaction) -> bool {
    let r: &[u8] = &tx.signature.0[..32];
    let s = &tx.signature.0[32..];
    SMALL_ORDER.iter().any(|p| p.as_slice() == r) || !below_group_order(s)
}

fn below_group_order(s: &[u8]) -> bool {
    for (a, b) in s.iter().rev().zip(GROUP_ORDER.iter().rev()) {
        if a != b {
            return a < b;
        }
    }
    false
}

/// A validator's verdicts on `block`'s transaction signatures (true: valid), checked one
/// by one and as one batch in an order rotated by `rotation`. `Err` says how the two
/// disagree.
pub(crate) fn verdicts(block: &Block, rotation: usize) -> Result<Vec<bool>, String> {
    let txs = &block.txs;
    let payloads: Vec<Vec<u8>> = txs.iter().map(|tx| tx.payload.encode()).collect();
    let single: Vec<bool> = txs.iter().map(|tx| tx.verify_signature().is_ok()).collect();
    let n = txs.len();
    let order: Vec<usize> = (0..n).map(|i| (i + rotation) % n.max(1)).collect();
    let items: Vec<SignedItem<'_>> = order
        .iter()
        .map(|&i| item(&txs[i].payload.sender, &payloads[i], &txs[i].signature))
        .collect();
    let mut batch = vec![true; n];
    for bad in find_invalid(&items) {
        batch[order[bad]] = false;
    }
    match (0..n).find(|&i| single[i] != batch[i]) {
        None => Ok(single),
        Some(i) => Err(format!(
            "transaction {i}: alone {}, in a batch of {n} {}",
            verdict(single[i]),
            verdict(batch[i])
        )),
    }
}

fn item<'a>(signer: &'a PublicKey, message: &'a [u8], signature: &'a Signature) -> SignedItem<'a> {
    SignedItem {
        domain: Domain::Tx,
        message,
        signer,
        signature,
    }
}

fn verdict(valid: bool) -> &'static str {
    if valid { "valid" } else { "invalid" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_signatures_are_recognised_and_honest_ones_are_not() {
        let key = cairn_crypto::SecretKey::from_seed(&[3; 32]);
        let mut rng = Rng::new(9);
        for i in 0..64u8 {
            let honest = key.sign(Domain::Tx, &[i]);
            assert!(below_group_order(&honest.0[32..]));
            assert!(is_odd(&Transaction {
                payload: cairn_types::TxPayload {
                    chain_id: cairn_types::ChainId(cairn_crypto::Hash::ZERO),
                    sender: key.public(),
                    nonce: 0,
                    op: cairn_types::Op::Transfer {
                        to: key.public(),
                        amount: 1,
                    },
                },
                signature: oddify(honest, &mut rng),
            }));
        }
        assert!(!below_group_order(&GROUP_ORDER));
    }

    #[test]
    fn honest_signatures_pass_and_odd_ones_get_one_verdict_everywhere() {
        let chain = cairn_types::ChainId(cairn_crypto::Hash::ZERO);
        let mut pool = super::super::workload::Mempool::new(
            super::super::Workload::Steady { per_sec: 10 },
            chain,
            Rng::new(4),
        )
        .odd_signatures(Some(0.5));
        for _ in 0..40 {
            pool.arrive();
        }
        let txs = pool.take(usize::MAX);
        let odd: Vec<bool> = txs.iter().map(is_odd).collect();
        assert!(odd.iter().any(|&o| o) && odd.iter().any(|&o| !o));
        let block = Block {
            header: cairn_types::BlockHeader {
                chain_id: chain,
                height: 1,
                round: 1,
                parent: chain.0,
                payload_root: Block::payload_root_of(&txs),
                state_height: 0,
                state_root: cairn_crypto::Hash::ZERO,
                proposer: cairn_types::ValidatorId(0),
                timestamp_ms: 0,
                justify: cairn_types::QuorumCert::genesis(&chain),
            },
            txs: cairn_types::BoundedVec::new(txs).unwrap(),
        };
        let first = verdicts(&block, 0).unwrap();
        for rotation in 1..7 {
            assert_eq!(verdicts(&block, rotation).unwrap(), first);
        }
        // Honest signatures are valid; these odd ones (no secret scalar behind them)
        // are not, under any rule.
        let expected: Vec<bool> = odd.iter().map(|o| !o).collect();
        assert_eq!(first, expected);
    }
}
