//! One verification rule: a signature's verdict is the same alone and in any batch,
//! whatever else the batch holds and wherever the signature sits in it.

use parity_scale_codec::Decode;
use proptest::prelude::*;

use crate::testing::{
    IDENTITY, NON_CANONICAL_IDENTITY, identity_r_signature, non_canonical_s,
    small_order_key_forgery, small_order_keys, small_order_r_signature, torsion_r_signature,
};
use crate::{
    CryptoError, Domain, PublicKey, SecretKey, Signature, SignedItem, find_invalid, verify_batch,
};

fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32])
}

/// `n` honest signers, each signing its own message.
#[derive(Clone)]
struct Batch {
    publics: Vec<PublicKey>,
    messages: Vec<Vec<u8>>,
    signatures: Vec<Signature>,
}

impl Batch {
    fn honest(n: usize) -> Batch {
        let keys: Vec<SecretKey> = (0..n).map(|i| key(100 + (i % 100) as u8)).collect();
        let messages: Vec<Vec<u8>> = (0..n)
            .map(|i| format!("message {i}").into_bytes())
            .collect();
        let signatures = keys
            .iter()
            .zip(&messages)
            .map(|(k, m)| k.sign(Domain::Tx, m))
            .collect();
        Batch {
            publics: keys.iter().map(SecretKey::public).collect(),
            messages,
            signatures,
        }
    }

    /// Puts `signer`'s `signature` over `message` at `position`.
    fn with(mut self, position: usize, signer: PublicKey, message: &[u8], sig: Signature) -> Self {
        self.publics[position] = signer;
        self.messages[position] = message.to_vec();
        self.signatures[position] = sig;
        self
    }

    fn items(&self) -> Vec<SignedItem<'_>> {
        (0..self.publics.len())
            .map(|i| SignedItem {
                domain: Domain::Tx,
                message: &self.messages[i],
                signer: &self.publics[i],
                signature: &self.signatures[i],
            })
            .collect()
    }

    fn alone(&self, i: usize) -> bool {
        self.publics[i]
            .verify(Domain::Tx, &self.messages[i], &self.signatures[i])
            .is_ok()
    }
}

/// `signature` over `message` by `signer` gets `accepted` alone, in a batch of two (in
/// both orders) and in a batch of 64 at every position; `find_invalid` agrees.
fn same_verdict_everywhere(
    signer: &PublicKey,
    message: &[u8],
    signature: Signature,
    accepted: bool,
) {
    let alone = signer.verify(Domain::Tx, message, &signature).is_ok();
    assert_eq!(alone, accepted, "alone");
    for size in [2, 64] {
        let honest = Batch::honest(size);
        for position in 0..size {
            let batch = honest.clone().with(position, *signer, message, signature);
            let items = batch.items();
            assert_eq!(
                verify_batch(&items).is_ok(),
                accepted,
                "batch of {size}, position {position}"
            );
            let expected: Vec<usize> = if accepted { vec![] } else { vec![position] };
            assert_eq!(
                find_invalid(&items),
                expected,
                "batch of {size}, position {position}"
            );
        }
    }
}

/// Issue 11, item 1: before the fix this failed with "alone false, in a batch of two
/// true" (ed25519-dalek's cofactorless batch accepted what `verify_strict` refused).
#[test]
fn identity_r_signature_gets_the_same_verdict_alone_and_in_a_batch_of_two() {
    let crafted_key = key(1);
    let crafted_public = crafted_key.public();
    let crafted = identity_r_signature(&crafted_key, Domain::Tx, b"crafted");
    let honest_key = key(2);
    let honest_public = honest_key.public();
    let honest = honest_key.sign(Domain::Tx, b"honest");

    let alone = crafted_public
        .verify(Domain::Tx, b"crafted", &crafted)
        .is_ok();
    let batched = verify_batch(&[
        SignedItem {
            domain: Domain::Tx,
            message: b"crafted",
            signer: &crafted_public,
            signature: &crafted,
        },
        SignedItem {
            domain: Domain::Tx,
            message: b"honest",
            signer: &honest_public,
            signature: &honest,
        },
    ])
    .is_ok();
    assert_eq!(
        alone, batched,
        "identity-R signature: alone {alone}, in a batch of two {batched}"
    );
}

#[test]
fn identity_r_signature_made_with_the_secret_key_is_accepted_everywhere() {
    let signer = key(1);
    let signature = identity_r_signature(&signer, Domain::Tx, b"crafted");
    assert_eq!(&signature.0[..32], &IDENTITY);
    same_verdict_everywhere(&signer.public(), b"crafted", signature, true);
}

#[test]
fn small_order_r_in_any_encoding_is_accepted_everywhere() {
    let signer = key(3);
    // The identity written non-canonically, and the other small-order points as R.
    let mut encodings = vec![NON_CANONICAL_IDENTITY];
    encodings.extend(small_order_keys().into_iter().skip(1));
    for r in encodings {
        let signature = small_order_r_signature(&signer, Domain::Tx, b"crafted", r);
        same_verdict_everywhere(&signer.public(), b"crafted", signature, true);
    }
}

#[test]
fn r_with_a_torsion_component_is_accepted_everywhere() {
    let signer = key(4);
    for torsion in 1..8 {
        let signature = torsion_r_signature(&signer, Domain::Tx, b"mixed", torsion);
        same_verdict_everywhere(&signer.public(), b"mixed", signature, true);
    }
}

#[test]
fn non_canonical_s_is_refused_everywhere() {
    let signer = key(5);
    let honest = signer.sign(Domain::Tx, b"pay");
    same_verdict_everywhere(&signer.public(), b"pay", non_canonical_s(&honest), false);
    let crafted = identity_r_signature(&signer, Domain::Tx, b"pay");
    same_verdict_everywhere(&signer.public(), b"pay", non_canonical_s(&crafted), false);
}

#[test]
fn a_signature_by_a_small_order_key_is_refused() {
    let forgery = small_order_key_forgery();
    for bytes in small_order_keys() {
        // The bare cofactored rule would accept this forgery for any message ...
        let raw = ed25519_zebra::VerificationKey::try_from(bytes).unwrap();
        let zebra_sig = ed25519_zebra::Signature::from_bytes(forgery.as_bytes());
        assert!(raw.verify(&zebra_sig, b"anything at all").is_ok());
        // ... so such a key never becomes a PublicKey, by any route.
        assert!(matches!(
            PublicKey::try_from_bytes(bytes),
            Err(CryptoError::SmallOrderPublicKey(_))
        ));
        assert!(PublicKey::from_hex(&hex::encode(bytes)).is_err());
        assert!(PublicKey::decode(&mut &bytes[..]).is_err());
        assert!(serde_json::from_value::<PublicKey>(hex::encode(bytes).into()).is_err());
    }
}

/// How an item of a random batch is spoilt (or crafted).
#[derive(Clone, Debug)]
enum Change {
    None,
    FlipSignatureBit(usize),
    FlipMessageBit(usize),
    IdentityR,
    NonCanonicalIdentityR,
    TorsionR(usize),
    NonCanonicalS,
    CraftedNonCanonicalS,
    /// Take the signature of another item (by index, modulo the batch size).
    SwapWith(usize),
    /// Claim another signer.
    WrongKey,
    WrongDomain,
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        4 => Just(Change::None),
        2 => (0usize..512).prop_map(Change::FlipSignatureBit),
        1 => (0usize..64).prop_map(Change::FlipMessageBit),
        1 => Just(Change::IdentityR),
        1 => Just(Change::NonCanonicalIdentityR),
        1 => (1usize..8).prop_map(Change::TorsionR),
        1 => Just(Change::NonCanonicalS),
        1 => Just(Change::CraftedNonCanonicalS),
        1 => any::<usize>().prop_map(Change::SwapWith),
        1 => Just(Change::WrongKey),
        1 => Just(Change::WrongDomain),
    ]
}

/// A random batch: item `i` is signed by one of a few keys (so keys repeat, as
/// validators' do) over its own message, then changed.
struct RandomBatch {
    domains: Vec<Domain>,
    publics: Vec<PublicKey>,
    messages: Vec<Vec<u8>>,
    signatures: Vec<Signature>,
}

fn build(changes: &[(u8, Change)]) -> RandomBatch {
    let keys: Vec<SecretKey> = (0..changes.len()).map(|i| key(changes[i].0 % 6)).collect();
    let mut messages: Vec<Vec<u8>> = (0..changes.len())
        .map(|i| format!("item {i} of a random batch").into_bytes())
        .collect();
    let honest: Vec<Signature> = keys
        .iter()
        .zip(&messages)
        .map(|(k, m)| k.sign(Domain::Tx, m))
        .collect();
    let mut batch = RandomBatch {
        domains: vec![Domain::Tx; changes.len()],
        publics: keys.iter().map(SecretKey::public).collect(),
        messages: messages.clone(),
        signatures: honest.clone(),
    };
    for (i, (_, change)) in changes.iter().enumerate() {
        let (k, m) = (&keys[i], &messages[i]);
        match change {
            Change::None => {}
            Change::FlipSignatureBit(bit) => batch.signatures[i].0[bit / 8] ^= 1 << (bit % 8),
            Change::FlipMessageBit(bit) => {
                let byte = (bit / 8) % messages[i].len();
                messages[i][byte] ^= 1 << (bit % 8);
                batch.messages[i] = messages[i].clone();
            }
            Change::IdentityR => batch.signatures[i] = identity_r_signature(k, Domain::Tx, m),
            Change::NonCanonicalIdentityR => {
                batch.signatures[i] =
                    small_order_r_signature(k, Domain::Tx, m, NON_CANONICAL_IDENTITY);
            }
            Change::TorsionR(t) => batch.signatures[i] = torsion_r_signature(k, Domain::Tx, m, *t),
            Change::NonCanonicalS => batch.signatures[i] = non_canonical_s(&honest[i]),
            Change::CraftedNonCanonicalS => {
                batch.signatures[i] = non_canonical_s(&identity_r_signature(k, Domain::Tx, m));
            }
            Change::SwapWith(j) => batch.signatures[i] = honest[j % changes.len()],
            Change::WrongKey => batch.publics[i] = key(200).public(),
            Change::WrongDomain => batch.domains[i] = Domain::Vote,
        }
    }
    batch
}

impl RandomBatch {
    fn items(&self) -> Vec<SignedItem<'_>> {
        (0..self.publics.len())
            .map(|i| SignedItem {
                domain: self.domains[i],
                message: &self.messages[i],
                signer: &self.publics[i],
                signature: &self.signatures[i],
            })
            .collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The batch verdict is "every item verifies alone", and `find_invalid` names
    /// exactly the items that fail alone.
    #[test]
    fn batch_verdicts_equal_single_verdicts(changes in prop::collection::vec((any::<u8>(), change()), 0..40)) {
        let batch = build(&changes);
        let items = batch.items();
        let failing_alone: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, item)| item.signer.verify(item.domain, item.message, item.signature).is_err())
            .map(|(i, _)| i)
            .collect();
        prop_assert_eq!(verify_batch(&items).is_ok(), failing_alone.is_empty());
        prop_assert_eq!(find_invalid(&items), failing_alone.clone());
        // The crafted kinds made with the secret key are valid under the rule; s + ℓ
        // never is.
        for (i, (_, change)) in changes.iter().enumerate() {
            let valid = !failing_alone.contains(&i);
            match change {
                Change::None
                | Change::IdentityR
                | Change::NonCanonicalIdentityR
                | Change::TorsionR(_) => prop_assert!(valid, "item {} ({:?})", i, change),
                Change::NonCanonicalS
                | Change::CraftedNonCanonicalS
                | Change::WrongKey
                | Change::WrongDomain
                | Change::FlipMessageBit(_) => prop_assert!(!valid, "item {} ({:?})", i, change),
                Change::FlipSignatureBit(_) | Change::SwapWith(_) => {}
            }
        }
    }
}

#[test]
fn the_honest_fixture_batches_verify() {
    let batch = Batch::honest(64);
    assert!(verify_batch(&batch.items()).is_ok());
    assert!((0..64).all(|i| batch.alone(i)));
}
