//! Ed25519 key pairs: [`SecretKey`] (zeroized, never printed) and [`PublicKey`].

use ed25519_dalek::{SigningKey, VerifyingKey};
use zeroize::{ZeroizeOnDrop, Zeroizing};

use crate::bytes::hex_newtype;
use crate::{CryptoError, Domain, Signature};

/// An ed25519 public key that is a valid curve point of large order.
///
/// Keys of small order are refused when parsed or decoded: with such a key, many
/// messages share one signature, which would let a signer deny what it signed.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey([u8; 32]);

hex_newtype!(PublicKey, 32, "public key");

impl PublicKey {
    /// Accepts 32 bytes only if they are a usable ed25519 public key.
    pub fn try_from_bytes(bytes: [u8; 32]) -> crate::Result<Self> {
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| CryptoError::InvalidPublicKey(hex::encode(bytes)))?;
        if key.is_weak() {
            return Err(CryptoError::InvalidPublicKey(hex::encode(bytes)));
        }
        Ok(PublicKey(bytes))
    }

    /// The dalek key, for verification. Infallible: the bytes were checked on construction.
    pub(crate) fn verifying_key(&self) -> VerifyingKey {
        // The constructor checked these bytes, so decoding again cannot fail; fall back
        // to a key that verifies nothing rather than panicking.
        VerifyingKey::from_bytes(&self.0).unwrap_or_default()
    }

    /// Checks that `signature` is this key's signature over `domain`'s tag followed by
    /// `message`. Uses strict verification (no small-order points, canonical scalars).
    pub fn verify(
        &self,
        domain: Domain,
        message: &[u8],
        signature: &Signature,
    ) -> crate::Result<()> {
        let dalek_sig = ed25519_dalek::Signature::from_bytes(signature.as_bytes());
        self.verifying_key()
            .verify_strict(&domain.signing_bytes(message), &dalek_sig)
            .map_err(|_| CryptoError::BadSignature {
                domain,
                signer: *self,
            })
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
    fn small_order_public_keys_are_refused() {
        // The identity point (y = 1) has order 1.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(PublicKey::try_from_bytes(identity).is_err());
        // Bytes that are not a curve point at all are refused too.
        let not_a_point = (0u8..=255)
            .map(|b| [b; 32])
            .find(|bytes| VerifyingKey::from_bytes(bytes).is_err())
            .expect("some constant byte pattern is not a curve point");
        assert!(PublicKey::try_from_bytes(not_a_point).is_err());
    }

    #[test]
    fn public_key_hex_round_trip() {
        let public = SecretKey::from_seed(&[3u8; 32]).public();
        assert_eq!(public.to_string().parse::<PublicKey>().unwrap(), public);
    }
}
