//! Domain-separated ed25519 signatures and batch verification.

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
}

impl Domain {
    /// Every domain, for tests and documentation.
    pub const ALL: [Domain; 4] = [Domain::Tx, Domain::Vote, Domain::Timeout, Domain::Proposal];

    /// The ASCII tag prepended to every message signed in this domain.
    pub const fn tag(self) -> &'static [u8] {
        match self {
            Domain::Tx => b"cairn/tx/v1",
            Domain::Vote => b"cairn/vote/v1",
            Domain::Timeout => b"cairn/timeout/v1",
            Domain::Proposal => b"cairn/proposal/v1",
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
/// large batches. The result is deterministic: the same batch gives the same answer on
/// every machine. On failure it does not say which item is bad; use [`find_invalid`].
pub fn verify_batch(items: &[SignedItem<'_>]) -> crate::Result<()> {
    match items {
        [] => Ok(()),
        [one] => one.signer.verify(one.domain, one.message, one.signature),
        _ => {
            let owned: Vec<Vec<u8>> = items
                .iter()
                .map(|item| item.domain.signing_bytes(item.message))
                .collect();
            let messages: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
            let signatures: Vec<ed25519_dalek::Signature> = items
                .iter()
                .map(|item| ed25519_dalek::Signature::from_bytes(item.signature.as_bytes()))
                .collect();
            let keys: Vec<ed25519_dalek::VerifyingKey> = items
                .iter()
                .map(|item| item.signer.verifying_key())
                .collect();
            ed25519_dalek::verify_batch(&messages, &signatures, &keys)
                .map_err(|e| CryptoError::BatchFailed(e.to_string()))
        }
    }
}

/// The indexes of the items whose signatures do not verify, in ascending order.
/// Tries the batch first, so a clean batch costs one batch check; otherwise checks
/// each item strictly.
pub fn find_invalid(items: &[SignedItem<'_>]) -> Vec<usize> {
    if verify_batch(items).is_ok() {
        return Vec::new();
    }
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| {
            item.signer
                .verify(item.domain, item.message, item.signature)
                .is_err()
        })
        .map(|(index, _)| index)
        .collect()
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

    fn signed(n: u8) -> (Vec<PublicKey>, Vec<Vec<u8>>, Vec<Signature>) {
        let keys: Vec<SecretKey> = (0..n).map(|i| SecretKey::from_seed(&[i; 32])).collect();
        let messages: Vec<Vec<u8>> = (0..n).map(|i| vec![i; 10]).collect();
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

    #[test]
    fn batch_respects_the_domain() {
        let (keys, messages, sigs) = signed(4);
        let mut batch = items(&keys, &messages, &sigs);
        batch[2].domain = Domain::Vote;
        assert_eq!(find_invalid(&batch), vec![2]);
    }
}
