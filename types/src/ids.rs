//! Small identifiers: chain, validator, round and height.

use cairn_crypto::Hash;
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// Identifies one chain: the genesis hash. Every signed body carries it, so a signature
/// made for one chain is never valid on another. The human-readable name of a chain
/// lives in its genesis document and is covered by this hash.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct ChainId(pub Hash);

impl std::fmt::Display for ChainId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Debug for ChainId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChainId({})", &self.0.to_hex()[..8])
    }
}

/// A validator's position in the genesis validator list, from 0. Certificates name
/// signers by this index.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct ValidatorId(pub u16);

impl std::fmt::Display for ValidatorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// A consensus round. Round 0 belongs to the genesis block alone.
pub type Round = u64;

/// A block height. Height 0 is the genesis block.
pub type Height = u64;
