//! The genesis document of a cairn chain.
//!
//! A chain starts from one JSON file that every validator holds a copy of. It names
//! the chain, fixes its start time and parameters, lists the validators (consensus
//! key, libp2p peer id, dial address) and the accounts that exist at the start (key,
//! role, balance). Its hash is the chain id that every signature commits to.
//!
//! * [`GenesisDoc`] is the document as written: [`GenesisDoc::load`] /
//!   [`GenesisDoc::from_json`] parse it strictly (unknown fields are errors that name
//!   the field's JSON path, line and column), [`GenesisDoc::save`] writes it atomically.
//! * [`GenesisDoc::validate`] checks every rule, reports every [`Problem`] at once, and
//!   returns a [`Genesis`]: the chain id, the [`cairn_types::ValidatorSet`] and the
//!   validators' peer ids. [`GenesisDoc::check_draft`] checks a document that is still
//!   being built up.
//! * [`network_peer_id`] turns an ed25519 network key into its libp2p peer id.
//!
//! The format, the rules and the exact bytes of the genesis hash are in
//! `docs/GENESIS.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod doc;
mod error;
mod genesis;
mod hash;
mod members;
mod peer;
mod validate;

pub use doc::{AccountEntry, GenesisDoc, Params, ValidatorEntry};
pub use error::{GenesisError, Problem, Result};
pub use genesis::Genesis;
pub use hash::GENESIS_HASH_DOMAIN;
pub use peer::network_peer_id;
pub use validate::{
    MAX_NAME_CHARS, MAX_TIMEOUT_MS, MIN_GENESIS_TIME_MS, MIN_ROUND_TIMEOUT_MS, MIN_TX_BYTES,
};

/// Largest genesis file accepted, in bytes (16 MiB). Larger files are refused before
/// they are read.
pub const MAX_GENESIS_BYTES: usize = 16 * 1024 * 1024;
