//! A committed block's signature verdicts are a function of the block alone: whatever
//! subset of its transactions this node's mempool had already verified (under the same
//! rule), the receipts and the state hash are the same.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;

use cairn_crypto::testing::{
    NON_CANONICAL_IDENTITY, identity_r_signature, non_canonical_s, small_order_keys,
    small_order_r_signature, torsion_r_signature,
};
use cairn_crypto::{Domain, Hash, SecretKey, SignedItem, find_invalid};
use cairn_execution::{BlockResult, execute_blocks, execute_blocks_verified};
use cairn_types::{Block, Outcome, RejectReason, Transaction, TxPayload};
use common::*;
use parity_scale_codec::{Decode, Encode};
use proptest::prelude::*;

/// How a transaction of the block is signed.
#[derive(Clone, Copy, Debug)]
enum Signing {
    Honest,
    /// `R` = the identity point, `s = k·a`: valid under the rule, refused by strict
    /// cofactorless verifiers.
    IdentityR,
    /// The same with `R` written non-canonically (`y = p + 1`).
    NonCanonicalIdentityR,
    /// `R = [r]B + T` with a torsion point `T`: valid under the cofactored rule.
    TorsionR(usize),
    /// An honest signature with `s + ℓ`: refused.
    NonCanonicalS,
    /// The identity-R signature with `s + ℓ`: refused.
    CraftedNonCanonicalS,
    /// Signed by the writer, but the payload names the admin as sender: refused.
    WrongKey,
    /// One bit of `s` flipped: refused.
    FlippedBit,
}

impl Signing {
    fn valid(self) -> bool {
        matches!(
            self,
            Signing::Honest
                | Signing::IdentityR
                | Signing::NonCanonicalIdentityR
                | Signing::TorsionR(_)
        )
    }
}

fn signing() -> impl Strategy<Value = Signing> {
    prop_oneof![
        3 => Just(Signing::Honest),
        1 => Just(Signing::IdentityR),
        1 => Just(Signing::NonCanonicalIdentityR),
        1 => (1usize..8).prop_map(Signing::TorsionR),
        1 => Just(Signing::NonCanonicalS),
        1 => Just(Signing::CraftedNonCanonicalS),
        1 => Just(Signing::WrongKey),
        1 => Just(Signing::FlippedBit),
    ]
}

/// One block: transaction `i` is a `Put` by the writer or the admin (`by_admin`),
/// signed as `how`. Nonces count only the valid transactions before it, so every valid
/// one applies and a wrongly accepted one would change the state.
fn block_of(txs: &[(bool, Signing)]) -> Block {
    let mut next_nonce = [0u64; 2];
    let built = txs
        .iter()
        .enumerate()
        .map(|(i, &(by_admin, how))| {
            let signer: SecretKey = if by_admin { admin() } else { writer() };
            let sender = if matches!(how, Signing::WrongKey) {
                if by_admin { writer() } else { admin() }.public()
            } else {
                signer.public()
            };
            let slot = usize::from(sender == admin().public());
            let payload = TxPayload {
                chain_id: chain(),
                sender,
                nonce: next_nonce[slot],
                op: put(&format!("key {i}"), &format!("{how:?}")),
            };
            if how.valid() {
                next_nonce[slot] += 1;
            }
            let message = payload.encode();
            let signature = match how {
                Signing::Honest | Signing::WrongKey => signer.sign(Domain::Tx, &message),
                Signing::IdentityR => identity_r_signature(&signer, Domain::Tx, &message),
                Signing::NonCanonicalIdentityR => {
                    small_order_r_signature(&signer, Domain::Tx, &message, NON_CANONICAL_IDENTITY)
                }
                Signing::TorsionR(t) => torsion_r_signature(&signer, Domain::Tx, &message, t),
                Signing::NonCanonicalS => non_canonical_s(&signer.sign(Domain::Tx, &message)),
                Signing::CraftedNonCanonicalS => {
                    non_canonical_s(&identity_r_signature(&signer, Domain::Tx, &message))
                }
                Signing::FlippedBit => {
                    let mut sig = signer.sign(Domain::Tx, &message);
                    sig.0[40] ^= 0x08;
                    sig
                }
            };
            Transaction { payload, signature }
        })
        .collect();
    block(1, built)
}

/// What a mempool admits: it runs `find_invalid` over what it receives (here, the
/// whole block at once) and keeps the rest. The same rule as `verify_signature`.
fn mempool_admits(block: &Block) -> Vec<Hash> {
    let payloads: Vec<Vec<u8>> = block.txs.iter().map(|tx| tx.payload.encode()).collect();
    let items: Vec<SignedItem<'_>> = block
        .txs
        .iter()
        .zip(&payloads)
        .map(|(tx, payload)| SignedItem {
            domain: Domain::Tx,
            message: payload,
            signer: &tx.payload.sender,
            signature: &tx.signature,
        })
        .collect();
    let invalid = find_invalid(&items);
    block
        .txs
        .iter()
        .enumerate()
        .filter(|(i, tx)| {
            assert_eq!(
                invalid.contains(i),
                tx.verify_signature().is_err(),
                "tx {i}"
            );
            !invalid.contains(i)
        })
        .map(|(_, tx)| tx.hash())
        .collect()
}

fn run_with(block: &Block, vouched: &HashSet<Hash>) -> Vec<BlockResult> {
    execute_blocks_verified(
        &genesis(),
        &chain(),
        std::slice::from_ref(block),
        &genesis_root(),
        &|h| vouched.contains(h),
    )
    .unwrap()
}

/// The results with nothing vouched for, checked against the expected verdicts.
fn reference(block: &Block, txs: &[(bool, Signing)]) -> Vec<BlockResult> {
    let plain = execute_blocks(
        &genesis(),
        &chain(),
        std::slice::from_ref(block),
        &genesis_root(),
    )
    .unwrap();
    for (receipt, (_, how)) in plain[0].receipts.iter().zip(txs) {
        if how.valid() {
            assert_eq!(receipt.outcome, Outcome::Applied, "{how:?}");
        } else {
            assert_eq!(
                receipt.outcome,
                Outcome::Rejected(RejectReason::BadSignature),
                "{how:?}"
            );
        }
    }
    plain
}

#[test]
fn every_subset_of_mempool_verified_transactions_gives_the_same_results() {
    let txs = [
        (false, Signing::Honest),
        (false, Signing::IdentityR),
        (true, Signing::NonCanonicalS),
        (true, Signing::NonCanonicalIdentityR),
        (false, Signing::WrongKey),
        (false, Signing::TorsionR(3)),
        (true, Signing::CraftedNonCanonicalS),
        (true, Signing::IdentityR),
        (false, Signing::FlippedBit),
        (true, Signing::TorsionR(6)),
    ];
    let block = block_of(&txs);
    let plain = reference(&block, &txs);
    let admitted = mempool_admits(&block);
    assert_eq!(
        admitted.len(),
        txs.iter().filter(|(_, h)| h.valid()).count()
    );
    for mask in 0u32..(1 << admitted.len()) {
        let vouched: HashSet<Hash> = admitted
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, h)| *h)
            .collect();
        assert_eq!(run_with(&block, &vouched), plain, "mask {mask:#b}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn verdicts_do_not_depend_on_what_the_mempool_verified(
        txs in prop::collection::vec((any::<bool>(), signing()), 1..24),
        mask in any::<u32>(),
    ) {
        let block = block_of(&txs);
        let plain = reference(&block, &txs);
        let vouched: HashSet<Hash> = mempool_admits(&block)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << (i % 32)) != 0)
            .map(|(_, h)| h)
            .collect();
        let results = run_with(&block, &vouched);
        prop_assert_eq!(&results[0].receipts, &plain[0].receipts);
        prop_assert_eq!(results[0].state_root, plain[0].state_root);
        prop_assert_eq!(results, plain);
    }
}

#[test]
fn a_transaction_from_a_small_order_key_cannot_even_be_decoded() {
    let good = tx(&writer(), 0, put("k", "v")).encode();
    // The sender sits at bytes 32..64 (docs/PROTOCOL.md §4).
    for key in small_order_keys() {
        let mut bytes = good.clone();
        bytes[32..64].copy_from_slice(&key);
        assert!(Transaction::decode(&mut bytes.as_slice()).is_err());
    }
}
