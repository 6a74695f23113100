//! Cryptographic building blocks for cairn.
//!
//! * [`SecretKey`] / [`PublicKey`]: ed25519 keys. Secret material is zeroized on drop,
//!   never shown by `Debug`, and stored in key files created with mode 0600
//!   ([`keyfile`]).
//! * [`Domain`] and [`Signature`]: every signature covers `domain tag || message`, with
//!   one tag per message kind, so a signature made for one role is never valid in another.
//!   One rule decides every signature (ZIP-215: cofactored, `s` canonical, small-order
//!   public keys refused when decoded), so [`PublicKey::verify`], [`verify_batch`] and
//!   [`find_invalid`] give each signature the same verdict alone and in any batch.
//! * `testing` (tests only, feature `testing`): crafted edge-case signatures.
//! * [`Hash`](struct@Hash): blake3-256, shown and parsed as lowercase hex.
//! * [`merkle`]: a binary Merkle tree over hashes with inclusion proofs that verify
//!   without the tree.
//!
//! The exact bytes of every construction are pinned in `docs/PROTOCOL.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod bytes;
mod error;
mod hash;
mod key_cache;
pub mod keyfile;
mod keys;
pub mod merkle;
#[cfg(test)]
mod rule_tests;
mod signature;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod vector_tests;

pub use error::{CryptoError, Result};
pub use hash::Hash;
pub use keyfile::{KeyFile, KeyKind};
pub use keys::{PublicKey, SecretKey};
pub use merkle::{MerkleProof, MerkleTree};
pub use signature::{Domain, Signature, SignedItem, find_invalid, verify_batch};
