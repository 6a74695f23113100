//! Crafted signatures for tests: the edge cases where ed25519 verifiers disagree.
//!
//! Compiled only for this crate's tests and with the `testing` feature (other crates'
//! test builds); the product never builds it. Each helper makes exactly one kind of
//! unusual signature, so a test can show that a signature gets the same verdict alone
//! and in every batch.

use std::collections::BTreeMap;

use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};

use crate::{Domain, SecretKey, Signature};

/// The encoding of the identity point (`y = 1`, `x = 0`): a point of order 1.
pub const IDENTITY: [u8; 32] = {
    let mut bytes = [0u8; 32];
    bytes[0] = 1;
    bytes
};

/// The identity point written non-canonically: `y = p + 1`, which a decoder reduces
/// to `y = 1`. ZIP-215 accepts it as `R` (and hashes these bytes into the challenge).
pub const NON_CANONICAL_IDENTITY: [u8; 32] = {
    let mut bytes = [0xffu8; 32];
    bytes[0] = 0xee;
    bytes[31] = 0x7f;
    bytes
};

/// The group order ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian
/// (RFC 8032 §5.1).
pub const GROUP_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

/// The secret scalar `a` of `key` (RFC 8032 §5.1.5: the clamped low half of
/// SHA-512(seed)), reduced modulo the group order ℓ.
fn secret_scalar(key: &SecretKey) -> Scalar {
    let digest = Sha512::digest(key.seed().as_slice());
    let mut low = [0u8; 32];
    low.copy_from_slice(&digest[..32]);
    low[0] &= 248;
    low[31] &= 127;
    low[31] |= 64;
    Scalar::from_bytes_mod_order(low)
}

/// The challenge `k = SHA-512(R || A || signing_bytes) mod ℓ`.
fn challenge(r: &[u8; 32], public: &[u8; 32], domain: Domain, message: &[u8]) -> Scalar {
    let digest = Sha512::new()
        .chain_update(r)
        .chain_update(public)
        .chain_update(domain.signing_bytes(message))
        .finalize();
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&digest);
    Scalar::from_bytes_mod_order_wide(&wide)
}

/// A signature by `key` whose `R` is the identity point and `s = k·a`. It satisfies
/// both the cofactorless (`[s]B = R + [k]A`) and the cofactored equation, but strict
/// verifiers that refuse small-order `R` (`verify_strict`, libsodium) refuse it.
pub fn identity_r_signature(key: &SecretKey, domain: Domain, message: &[u8]) -> Signature {
    small_order_r_signature(key, domain, message, IDENTITY)
}

/// A signature by `key` whose `R` is the given encoding (canonical or not) of a point of
/// small order, with `s = k·a`. It satisfies the cofactored equation, since `[8]R` is
/// the identity; the cofactorless one only when `R` is the identity.
pub fn small_order_r_signature(
    key: &SecretKey,
    domain: Domain,
    message: &[u8],
    r_encoding: [u8; 32],
) -> Signature {
    let public = key.public();
    let k = challenge(&r_encoding, public.as_bytes(), domain, message);
    let s = k * secret_scalar(key);
    signature_of(&r_encoding, &s)
}

/// A signature by `key` whose `R = [r]B + T` carries the torsion point
/// `T = EIGHT_TORSION[torsion % 8]`, with `s = r + k·a`: what a signer gets by adding
/// a small-order point to an honest nonce. Cofactored verification accepts it; the
/// cofactorless equation is off by `T`.
pub fn torsion_r_signature(
    key: &SecretKey,
    domain: Domain,
    message: &[u8],
    torsion: usize,
) -> Signature {
    let public = key.public();
    let nonce_digest = Sha512::new()
        .chain_update(b"cairn test nonce")
        .chain_update(key.seed().as_slice())
        .chain_update(message)
        .finalize();
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&nonce_digest);
    let r = Scalar::from_bytes_mod_order_wide(&wide);
    let point = EdwardsPoint::mul_base(&r) + EIGHT_TORSION[torsion % 8];
    let r_encoding = point.compress().to_bytes();
    let k = challenge(&r_encoding, public.as_bytes(), domain, message);
    signature_of(&r_encoding, &(r + k * secret_scalar(key)))
}

fn signature_of(r_encoding: &[u8; 32], s: &Scalar) -> Signature {
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(r_encoding);
    bytes[32..].copy_from_slice(s.as_bytes());
    Signature(bytes)
}

/// `signature` with `s` replaced by `s + ℓ` (the same residue, a non-canonical
/// encoding). Fits in 32 bytes because `s < ℓ < 2^253`.
pub fn non_canonical_s(signature: &Signature) -> Signature {
    let mut bytes = signature.0;
    let mut carry = 0u16;
    for (byte, add) in bytes[32..].iter_mut().zip(&GROUP_ORDER) {
        let sum = u16::from(*byte) + u16::from(*add) + carry;
        *byte = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    Signature(bytes)
}

/// The encodings of the eight points of small order (the torsion subgroup).
pub fn small_order_keys() -> [[u8; 32]; 8] {
    EIGHT_TORSION.map(|point| point.compress().to_bytes())
}

/// The signature `R = identity, s = 0`: under a cofactored equation it verifies for a
/// small-order key `A` and *every* message, because `[8][k]A = 0`.
pub fn small_order_key_forgery() -> Signature {
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(&IDENTITY);
    Signature(bytes)
}

/// The vectors of a protocol document: for each `<heading>NAME` line, the
/// `field = value` lines of the fenced block that follows it (a long value continues on
/// following lines as `field = more`, and the parts are joined). Shared by the vector
/// tests of every crate that checks docs/PROTOCOL.md.
pub fn doc_vectors(text: &str, heading: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut in_block = false;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix(heading) {
            current = Some(name.trim().to_string());
            out.insert(name.trim().to_string(), BTreeMap::new());
        } else if line.starts_with("```") {
            in_block = !in_block && current.is_some();
            if !in_block {
                current = None;
            }
        } else if in_block
            && let (Some(name), Some((field, value))) = (&current, line.split_once('='))
            && let Some(entry) = out.get_mut(name)
        {
            entry
                .entry(field.trim().to_string())
                .or_default()
                .push_str(value.trim());
        }
    }
    out
}
