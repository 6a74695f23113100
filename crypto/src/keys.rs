//! Ed25519 key pairs: [`SecretKey`] (zeroized, never printed) and [`PublicKey`].

use ed25519_dalek::{SigningKey, VerifyingKey};
use zeroize::{ZeroizeOnDrop, Zeroizing};

use crate::bytes::hex_newtype;
use crate::key_cache;
use crate::{CryptoError, Domain, Signature};

/// An ed25519 public key: the canonical encoding of a curve point that is not of
/// small order.
///
/// Every way a key enters — [`PublicKey::try_from_bytes`], hex, serde and SCALE
/// decoding — refuses bytes that are not a curve point
/// ([`CryptoError::InvalidPublicKey`]), a non-canonical encoding of a point
/// ([`CryptoError::NonCanonicalPublicKey`]: one key has one byte string, so one
/// account has one name) and points of small order
/// ([`CryptoError::SmallOrderPublicKey`]: under the cofactored rule of
/// [`PublicKey::verify`], anyone can sign for them). Keys made by
/// [`SecretKey::public`] always pass.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey([u8; 32]);

hex_newtype!(PublicKey, 32, "public key");

impl PublicKey {
    /// Accepts 32 bytes only if they are a usable ed25519 public key (see the type).
    /// A key that passed lately is found in a bounded cache instead of being checked
    /// again (`key_cache`); the verdict is the same either way.
    pub fn try_from_bytes(bytes: [u8; 32]) -> crate::Result<Self> {
        if key_cache::get(&bytes).is_some() {
            return Ok(PublicKey(bytes));
        }
        let key = PublicKey::check(bytes)?;
        if let Ok(zebra) = ed25519_zebra::VerificationKey::try_from(bytes) {
            key_cache::insert(bytes, zebra);
        }
        Ok(key)
    }

    /// The full check of [`PublicKey::try_from_bytes`], without the cache.
    fn check(bytes: [u8; 32]) -> crate::Result<Self> {
        // Decoded by ed25519-dalek, as libp2p-identity decodes network keys, so every
        // PublicKey is also a key libp2p accepts.
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| CryptoError::InvalidPublicKey(hex::encode(bytes)))?;
        // The decoder reduces y modulo p and ignores the sign of x = 0; only the
        // canonical encoding re-encodes to the same bytes.
        if key.to_edwards().compress().to_bytes() != bytes {
            return Err(CryptoError::NonCanonicalPublicKey(hex::encode(bytes)));
        }
        // Small order: [8]A is the identity.
        if key.is_weak() {
            return Err(CryptoError::SmallOrderPublicKey(hex::encode(bytes)));
        }
        Ok(PublicKey(bytes))
    }

    /// The key in ed25519-zebra's form, for verification (from the cache when it is
    /// there). Decoding cannot fail (the bytes were checked on construction); if it
    /// ever did, the signature is refused.
    pub(crate) fn zebra_key(&self) -> crate::Result<ed25519_zebra::VerificationKey> {
        if let Some(key) = key_cache::get(&self.0) {
            return Ok(key);
        }
        let key = ed25519_zebra::VerificationKey::try_from(self.0)
            .map_err(|_| CryptoError::InvalidPublicKey(hex::encode(self.0)))?;
        // Only keys that pass the full check enter the cache, whatever way this value
        // was made (tests craft keys the decoders refuse).
        if PublicKey::check(self.0).is_ok() {
            key_cache::insert(self.0, key);
        }
        Ok(key)
    }

    /// Checks that `signature` is this key's signature over `domain`'s tag followed by
    /// `message`, under cairn's one rule (`docs/PROTOCOL.md` §3, ZIP-215): `R` any
    /// encoding of a curve point, `s` canonical (below ℓ), and the cofactored equation
    /// `[8][s]B = [8]R + [8][k]A` with `k = SHA-512(R || A || tag || message) mod ℓ`.
    /// [`crate::verify_batch`] applies exactly this rule, so a signature's verdict is
    /// the same alone and in any batch.
    pub fn verify(
        &self,
        domain: Domain,
        message: &[u8],
        signature: &Signature,
    ) -> crate::Result<()> {
        let bad = || CryptoError::BadSignature {
            domain,
            signer: *self,
        };
        let zebra_sig = ed25519_zebra::Signature::from_bytes(signature.as_bytes());
        self.zebra_key()
            .map_err(|_| bad())?
            .verify(&zebra_sig, &domain.signing_bytes(message))
            .map_err(|_| bad())
    }
}

/// An ed25519 secret key. Its bytes are zeroized when it is dropped, and `Debug`
/// shows only the public half.
pub struct SecretKey(SigningKey);

// The secret key type must wipe its memory on drop; this fails to compile if a change
// ever wraps it in something that does not.
const _: fn() = || {
    fn assert_zeroize_on_drop<T: ZeroizeOnDrop>() {}
    assert_zeroize_on_drop::<SigningKey>();
    assert_zeroize_on_drop::<SecretKey>();
};

impl ZeroizeOnDrop for SecretKey {}

impl SecretKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> SecretKey {
        SecretKey(SigningKey::generate(&mut rand::rng()))
    }

    /// The key whose 32-byte ed25519 seed is `seed` (RFC 8032 "secret key").
    pub fn from_seed(seed: &[u8; 32]) -> SecretKey {
        SecretKey(SigningKey::from_bytes(seed))
    }

    /// A copy of the 32-byte seed, wiped when the returned value is dropped.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `domain`'s tag followed by `message`.
    pub fn sign(&self, domain: Domain, message: &[u8]) -> Signature {
        use ed25519_dalek::Signer;
        Signature(self.0.sign(&domain.signing_bytes(message)).to_bytes())
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey(<redacted>, public {})", self.public())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let key = SecretKey::from_seed(&[7u8; 32]);
        let shown = format!("{key:?}");
        assert!(!shown.contains(&hex::encode([7u8; 32])), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn sign_and_verify_respect_the_domain() {
        let key = SecretKey::from_seed(&[1u8; 32]);
        let sig = key.sign(Domain::Vote, b"hello");
        key.public().verify(Domain::Vote, b"hello", &sig).unwrap();
        assert!(
            key.public()
                .verify(Domain::Timeout, b"hello", &sig)
                .is_err()
        );
        assert!(key.public().verify(Domain::Vote, b"hellp", &sig).is_err());
        let other = SecretKey::from_seed(&[2u8; 32]).public();
        assert!(other.verify(Domain::Vote, b"hello", &sig).is_err());
    }

    #[test]
    fn a_remembered_key_decodes_and_verifies_as_a_fresh_one() {
        let key = SecretKey::from_seed(&[77u8; 32]);
        let bytes = *key.public().as_bytes();
        let first = PublicKey::try_from_bytes(bytes).unwrap();
        assert!(
            key_cache::get(&bytes).is_some(),
            "a key that passed is remembered"
        );
        let again = PublicKey::try_from_bytes(bytes).unwrap();
        assert_eq!(first, again);
        let sig = key.sign(Domain::Tx, b"m");
        again.verify(Domain::Tx, b"m", &sig).unwrap();
        assert!(again.verify(Domain::Tx, b"n", &sig).is_err());
    }

    #[test]
    fn refused_keys_are_never_remembered_however_they_are_used() {
        for bytes in crate::testing::small_order_keys() {
            // A crafted value the decoders refuse, verifying (and failing) directly.
            let crafted = PublicKey(bytes);
            let _ = crafted.verify(Domain::Tx, b"m", &Signature([0; 64]));
            assert!(key_cache::get(&bytes).is_none(), "{}", hex::encode(bytes));
            assert!(PublicKey::try_from_bytes(bytes).is_err());
            assert!(key_cache::get(&bytes).is_none());
        }
    }

    #[test]
    fn the_key_cache_stays_within_two_generations() {
        for seed in 0..(2 * key_cache::GENERATION + 10) {
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&(seed as u64).to_le_bytes());
            bytes[31] = 0x42;
            let public = SecretKey::from_seed(&bytes).public();
            PublicKey::try_from_bytes(*public.as_bytes()).unwrap();
        }
        assert!(key_cache::len() <= 2 * key_cache::GENERATION);
    }

    #[test]
    fn small_order_public_keys_are_refused() {
        for bytes in crate::testing::small_order_keys() {
            assert!(
                matches!(
                    PublicKey::try_from_bytes(bytes),
                    Err(CryptoError::SmallOrderPublicKey(_))
                ),
                "{}",
                hex::encode(bytes)
            );
        }
        // Bytes that are not a curve point at all are refused too.
        let not_a_point = (0u8..=255)
            .map(|b| [b; 32])
            .find(|bytes| VerifyingKey::from_bytes(bytes).is_err())
            .expect("some constant byte pattern is not a curve point");
        assert!(PublicKey::try_from_bytes(not_a_point).is_err());
    }

    #[test]
    fn non_canonical_encodings_are_refused() {
        // y in [p, 2^255): a lax decoder reduces y modulo p, so those that decode name
        // a point that has another (canonical) encoding.
        for low in 0xedu8..=0xff {
            let mut bytes = [0xffu8; 32];
            bytes[0] = low;
            bytes[31] = 0x7f;
            let refused = PublicKey::try_from_bytes(bytes);
            if VerifyingKey::from_bytes(&bytes).is_ok() {
                assert!(
                    matches!(refused, Err(CryptoError::NonCanonicalPublicKey(_))),
                    "{low:#x}: {refused:?}"
                );
            } else {
                assert!(matches!(refused, Err(CryptoError::InvalidPublicKey(_))));
            }
        }
        // x = 0 with the sign bit set: the identity written as "-0".
        let mut negative_zero = crate::testing::IDENTITY;
        negative_zero[31] |= 0x80;
        assert!(matches!(
            PublicKey::try_from_bytes(negative_zero),
            Err(CryptoError::NonCanonicalPublicKey(_))
        ));
    }

    #[test]
    fn public_key_hex_round_trip() {
        let public = SecretKey::from_seed(&[3u8; 32]).public();
        assert_eq!(public.to_string().parse::<PublicKey>().unwrap(), public);
    }
}
