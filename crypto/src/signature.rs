//! Domain-separated ed25519 signatures and batch verification.
//!
//! One rule decides every signature, alone or in a batch: ZIP-215 (cofactored
//! verification), implemented by `ed25519-zebra`, whose single check and batch check
//! agree by construction. `docs/PROTOCOL.md` §3 states the rule byte by byte.

use crate::bytes::hex_newtype;
use crate::{CryptoError, PublicKey};

/// What a signature is for. Each kind signs `tag || message`, and no tag is a prefix
/// of another, so a signature made in one role never verifies in another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Domain {
    /// A client transaction (`cairn/tx/v1`).
    Tx,
    /// A consensus vote for a block (`cairn/vote/v1`).
    Vote,
    /// A consensus timeout for a round (`cairn/timeout/v1`).
    Timeout,
    /// A leader's block proposal (`cairn/proposal/v1`).
    Proposal,
    /// A validator's statement that it stored a batch of transactions
    /// (`cairn/batch/v1`).
    Batch,
}

impl Domain {
    /// Every domain, for tests and documentation.
    pub const ALL: [Domain; 5] = [
        Domain::Tx,
        Domain::Vote,
        Domain::Timeout,
        Domain::Proposal,
        Domain::Batch,
    ];

    /// The ASCII tag prepended to every message signed in this domain.
    pub const fn tag(self) -> &'static [u8] {
        match self {
            Domain::Tx => b"cairn/tx/v1",
            Domain::Vote => b"cairn/vote/v1",
            Domain::Timeout => b"cairn/timeout/v1",
            Domain::Proposal => b"cairn/proposal/v1",
            Domain::Batch => b"cairn/batch/v1",
        }
    }

    /// The exact bytes that are signed: `tag || message`.
    pub fn signing_bytes(self, message: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.tag().len() + message.len());
        bytes.extend_from_slice(self.tag());
        bytes.extend_from_slice(message);
        bytes
    }
}

impl std::fmt::Display for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tags are ASCII by construction.
        f.write_str(std::str::from_utf8(self.tag()).unwrap_or("cairn/?"))
    }
}

/// A 64-byte ed25519 signature (`R || s`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

hex_newtype!(Signature, 64, "signature");

impl Signature {
    /// Any 64 bytes parse; whether they verify is decided by [`PublicKey::verify`].
    fn try_from_bytes(bytes: [u8; 64]) -> crate::Result<Self> {
        Ok(Signature(bytes))
    }
}

/// One signature to check in a batch: who signed what, in which domain.
#[derive(Clone, Copy, Debug)]
pub struct SignedItem<'a> {
    /// Domain the message was signed in.
    pub domain: Domain,
    /// The message without the domain tag.
    pub message: &'a [u8],
    /// The claimed signer.
    pub signer: &'a PublicKey,
    /// The signature.
    pub signature: &'a Signature,
}

/// Checks all `items` at once; about 2.5x cheaper per signature than one by one for
/// large batches.
///
/// `Ok` exactly when every item verifies alone ([`PublicKey::verify`]): both apply the
/// same cofactored rule, and the batch equation is a random linear combination of the
/// items' equations (128-bit coefficients from the thread's CSPRNG), so a batch of
/// valid signatures always passes and a batch holding an invalid one fails except
/// with probability below 2^-128. On failure it does not say which item is bad; use
/// [`find_invalid`].
pub fn verify_batch(items: &[SignedItem<'_>]) -> crate::Result<()> {
    match items {
        [] => Ok(()),
        [one] => one.signer.verify(one.domain, one.message, one.signature),
        _ => {
            let mut batch = ed25519_zebra::batch::Verifier::new();
            for item in items {
                let key = ed25519_zebra::VerificationKeyBytes::from(*item.signer.as_bytes());
                let signature = ed25519_zebra::Signature::from_bytes(item.signature.as_bytes());
                // The challenge is hashed here, so the signing bytes need not outlive this.
                let signing_bytes = item.domain.signing_bytes(item.message);
                batch.queue((key, signature, signing_bytes.as_slice()));
            }
            batch
                .verify(rand::rng())
                .map_err(|_| CryptoError::BatchFailed { size: items.len() })
        }
    }
}

/// The indexes of the items whose signatures do not verify alone, in ascending order.
///
/// A clean batch costs one batch check. A failing one is bisected: split in halves,
/// check the left half, and look further only into halves that hold a bad signature
/// (when the left half passes, the right one must hold it, so it is not checked as a
/// whole). `k` bad signatures among `n` cost at most `1 + 2·k·⌈log2 n⌉` checks, each
/// smaller than the last, instead of `n` single checks. Every index returned failed a
/// check of that item alone, so the result is exactly the items [`PublicKey::verify`]
/// refuses.
pub fn find_invalid(items: &[SignedItem<'_>]) -> Vec<usize> {
    find_invalid_with(items, &mut |batch| verify_batch(batch).is_ok())
}

/// [`find_invalid`] over any batch check `passes` (tests count the checks).
pub(crate) fn find_invalid_with(
    items: &[SignedItem<'_>],
    passes: &mut dyn FnMut(&[SignedItem<'_>]) -> bool,
) -> Vec<usize> {
    let mut invalid = Vec::new();
    if !passes(items) {
        bisect(items, 0, true, passes, &mut invalid);
    }
    invalid
}

/// Finds the bad items of `items`, which holds at least one (`checked`: `items` itself
/// failed a check; otherwise that was inferred from its parent and its sibling).
/// `offset` is the position of `items[0]` in the whole batch.
fn bisect(
    items: &[SignedItem<'_>],
    offset: usize,
    checked: bool,
    passes: &mut dyn FnMut(&[SignedItem<'_>]) -> bool,
    invalid: &mut Vec<usize>,
) {
    if items.len() <= 1 {
        // A lone item is reported only after failing a check of itself alone.
        if !items.is_empty() && (checked || !passes(items)) {
            invalid.push(offset);
        }
        return;
    }
    let (left, right) = items.split_at(items.len() / 2);
    let left_passes = passes(left);
    if !left_passes {
        bisect(left, offset, true, passes, invalid);
    }
    let right_offset = offset + left.len();
    if left_passes {
        bisect(right, right_offset, false, passes, invalid);
    } else if !passes(right) {
        bisect(right, right_offset, true, passes, invalid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    #[test]
    fn no_tag_is_a_prefix_of_another() {
        for a in Domain::ALL {
            for b in Domain::ALL {
                if a != b {
                    assert!(!b.tag().starts_with(a.tag()), "{a} is a prefix of {b}");
                }
            }
        }
    }

    fn signed(n: usize) -> (Vec<PublicKey>, Vec<Vec<u8>>, Vec<Signature>) {
        let keys: Vec<SecretKey> = (0..n)
            .map(|i| SecretKey::from_seed(&[(i % 256) as u8; 32]))
            .collect();
        let messages: Vec<Vec<u8>> = (0..n).map(|i| i.to_le_bytes().to_vec()).collect();
        let sigs = keys
            .iter()
            .zip(&messages)
            .map(|(k, m)| k.sign(Domain::Tx, m))
            .collect();
        (keys.iter().map(SecretKey::public).collect(), messages, sigs)
    }

    fn items<'a>(
        keys: &'a [PublicKey],
        messages: &'a [Vec<u8>],
        sigs: &'a [Signature],
    ) -> Vec<SignedItem<'a>> {
        (0..keys.len())
            .map(|i| SignedItem {
                domain: Domain::Tx,
                message: &messages[i],
                signer: &keys[i],
                signature: &sigs[i],
            })
            .collect()
    }

    #[test]
    fn batch_accepts_good_and_finds_every_bad_signature() {
        let (keys, messages, mut sigs) = signed(16);
        assert!(verify_batch(&items(&keys, &messages, &sigs)).is_ok());
        assert!(find_invalid(&items(&keys, &messages, &sigs)).is_empty());
        sigs[3].0[0] ^= 1;
        sigs[11] = sigs[12];
        assert!(verify_batch(&items(&keys, &messages, &sigs)).is_err());
        assert_eq!(find_invalid(&items(&keys, &messages, &sigs)), vec![3, 11]);
    }

    /// Runs [`find_invalid_with`] over the real batch check, counting the checks.
    fn counted(batch: &[SignedItem<'_>]) -> (Vec<usize>, usize) {
        let mut checks = 0;
        let found = find_invalid_with(batch, &mut |part| {
            checks += 1;
            verify_batch(part).is_ok()
        });
        (found, checks)
    }

    #[test]
    fn bisection_finds_every_bad_index() {
        let (keys, messages, honest) = signed(64);
        let patterns: [&[usize]; 8] = [
            &[],
            &[0],
            &[63],
            &[31, 32],
            &[0, 1, 2, 3],
            &[5, 17, 40, 41, 62],
            &[1, 3, 5, 7, 9, 11, 13, 15, 17, 19],
            &[10, 20, 30, 40, 50, 60],
        ];
        for bad in patterns {
            let mut sigs = honest.clone();
            for &i in bad {
                sigs[i].0[40] ^= 0x10;
            }
            assert_eq!(find_invalid(&items(&keys, &messages, &sigs)), bad.to_vec());
        }
        // Every item bad.
        let mut sigs = honest.clone();
        sigs.iter_mut().for_each(|s| s.0[0] ^= 1);
        assert_eq!(
            find_invalid(&items(&keys, &messages, &sigs)),
            (0..64).collect::<Vec<_>>()
        );
    }

    #[test]
    fn one_bad_signature_in_256_costs_a_few_batch_checks_not_256() {
        let (keys, messages, honest) = signed(256);
        let clean = counted(&items(&keys, &messages, &honest));
        assert_eq!(clean, (vec![], 1), "a clean batch is one check");
        for bad in [0, 1, 100, 127, 128, 200, 255] {
            let mut sigs = honest.clone();
            sigs[bad].0[33] ^= 4;
            let (found, checks) = counted(&items(&keys, &messages, &sigs));
            assert_eq!(found, vec![bad]);
            // The whole batch, then at most two checks per level of log2(256) = 8.
            println!("one bad signature at {bad} of 256: {checks} checks");
            assert!(checks <= 1 + 2 * 8, "bad index {bad}: {checks} checks");
        }
    }

    #[test]
    fn k_bad_signatures_cost_order_k_log_n_checks() {
        let (keys, messages, honest) = signed(256);
        for k in [2usize, 4, 8] {
            let mut sigs = honest.clone();
            let bad: Vec<usize> = (0..k).map(|i| i * 256 / k + 3).collect();
            for &i in &bad {
                sigs[i].0[50] ^= 1;
            }
            let (found, checks) = counted(&items(&keys, &messages, &sigs));
            assert_eq!(found, bad);
            println!("{k} bad signatures of 256: {checks} checks");
            assert!(checks <= 1 + 2 * k * 8, "{k} bad: {checks} checks");
        }
    }

    #[test]
    fn batch_respects_the_domain() {
        let (keys, messages, sigs) = signed(4);
        let mut batch = items(&keys, &messages, &sigs);
        batch[2].domain = Domain::Vote;
        assert_eq!(find_invalid(&batch), vec![2]);
    }
}
