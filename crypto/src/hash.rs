//! `Hash`: a blake3-256 digest.

use crate::bytes::hex_newtype;

/// A blake3-256 digest. Shown and parsed as 64 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);

hex_newtype!(Hash, 32, "hash");

impl Hash {
    /// The all-zero value, used where "no hash" must still be 32 bytes.
    pub const ZERO: Hash = Hash([0u8; 32]);

    /// blake3 of `data`.
    pub fn digest(data: &[u8]) -> Hash {
        Hash(*blake3::hash(data).as_bytes())
    }

    /// blake3 of the concatenation of `parts`, without copying them together.
    pub fn digest_parts(parts: &[&[u8]]) -> Hash {
        let mut hasher = blake3::Hasher::new();
        for part in parts {
            hasher.update(part);
        }
        Hash(*hasher.finalize().as_bytes())
    }

    /// Every 32-byte value is a hash; this exists so the shared hex macro can call it.
    fn try_from_bytes(bytes: [u8; 32]) -> crate::Result<Self> {
        Ok(Hash(bytes))
    }
}

impl From<[u8; 32]> for Hash {
    fn from(bytes: [u8; 32]) -> Self {
        Hash(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_known_digest() {
        // blake3("") from the blake3 reference test vectors.
        let empty = Hash::digest(b"");
        assert_eq!(
            empty.to_string(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        let parsed: Hash = empty.to_string().parse().unwrap();
        assert_eq!(parsed, empty);
        let prefixed: Hash = format!("0x{empty}").parse().unwrap();
        assert_eq!(prefixed, empty);
    }

    #[test]
    fn rejects_bad_hex() {
        assert!("abcd".parse::<Hash>().is_err());
        assert!("zz".repeat(32).parse::<Hash>().is_err());
        let err = "00".repeat(33).parse::<Hash>().unwrap_err().to_string();
        assert!(err.contains("66 characters"), "{err}");
    }

    #[test]
    fn digest_parts_equals_digest_of_concatenation() {
        assert_eq!(Hash::digest_parts(&[b"ab", b"cd"]), Hash::digest(b"abcd"));
    }
}
