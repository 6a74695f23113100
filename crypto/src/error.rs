//! The error type of `cairn-crypto`.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T, E = CryptoError> = std::result::Result<T, E>;

/// Everything that can go wrong with keys, signatures, hashes and proofs.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A hex string did not decode to the expected number of bytes.
    #[error("invalid {what}: expected {expected} bytes as hex ({} characters), {problem}", expected * 2)]
    InvalidHex {
        /// What was being parsed ("public key", "hash", ...).
        what: &'static str,
        /// Expected length in bytes.
        expected: usize,
        /// What was wrong with the input.
        problem: String,
    },
    /// 32 bytes that do not encode an ed25519 curve point.
    #[error("invalid public key {0}: not an ed25519 curve point")]
    InvalidPublicKey(String),
    /// A curve point written in a non-canonical way (y not reduced below p, or x = 0
    /// with its sign bit set): every key must have exactly one encoding.
    #[error(
        "invalid public key {0}: a non-canonical encoding of a curve point; \
         use the key's canonical 32 bytes (as ed25519 libraries print them)"
    )]
    NonCanonicalPublicKey(String),
    /// A curve point of small order (one of the eight points of order 1, 2, 4 or 8).
    /// Under cairn's cofactored verification rule anyone could sign for such a key.
    #[error(
        "weak public key {0}: a point of small order, for which anyone can forge \
         signatures; use a key generated from a random seed"
    )]
    SmallOrderPublicKey(String),
    /// A signature did not verify for the given key, domain and message.
    #[error("invalid {domain} signature by {signer}")]
    BadSignature {
        /// Domain the signature was checked under.
        domain: Domain,
        /// The claimed signer.
        signer: PublicKey,
    },
    /// A batch of signatures did not verify: at least one of them is invalid.
    #[error(
        "batch verification failed: at least one of {size} signatures is invalid \
         (find_invalid names them)"
    )]
    BatchFailed {
        /// How many signatures the batch held.
        size: usize,
    },
    /// A key file could not be read or written.
    #[error("key file {path}: {source}")]
    KeyFileIo {
        /// The key file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A key file exists but its contents or permissions are unacceptable.
    #[error("key file {path}: {problem}")]
    KeyFileInvalid {
        /// The key file.
        path: PathBuf,
        /// What is wrong and what to do about it.
        problem: String,
    },
    /// A Merkle proof did not verify.
    #[error("merkle proof invalid: {0}")]
    BadProof(&'static str),
}

use crate::{Domain, PublicKey};
