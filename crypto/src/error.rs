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
    /// 32 bytes that are not a usable ed25519 public key (not a curve point, or of small order).
    #[error("invalid public key {0}: not a valid ed25519 point of large order")]
    InvalidPublicKey(String),
    /// A signature did not verify for the given key, domain and message.
    #[error("invalid {domain} signature by {signer}")]
    BadSignature {
        /// Domain the signature was checked under.
        domain: Domain,
        /// The claimed signer.
        signer: PublicKey,
    },
    /// Batch verification was called with inputs of different lengths or found a bad signature.
    #[error("batch verification failed: {0}")]
    BatchFailed(String),
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
