//! [`Genesis`]: a validated genesis document and what is derived from it.

use cairn_types::{ChainId, ValidatorSet};
use libp2p_identity::PeerId;

use crate::hash::{canonical_bytes, genesis_hash};
use crate::peer::{CheckedAddress, CheckedPeer};
use crate::validate::Parsed;
use crate::{GenesisDoc, GenesisError, Problem, Result};

/// A genesis document that passed [`GenesisDoc::validate`], with its chain id, its
/// validator set and the validators' peer ids.
#[derive(Clone, Debug)]
pub struct Genesis {
    doc: GenesisDoc,
    chain_id: ChainId,
    validators: ValidatorSet,
    peers: Vec<CheckedPeer>,
    genesis_time_unix_ms: u64,
    canonical: Vec<u8>,
}

impl Genesis {
    /// Builds the validated form from a document whose checks all passed.
    pub(crate) fn from_checked(doc: GenesisDoc, parsed: Parsed) -> Result<Genesis> {
        // Validation found no problem, so every value parsed; anything else is a bug
        // in this crate, reported as a problem rather than a panic.
        let internal = |what: &str| GenesisError::Invalid {
            problems: vec![Problem::new(
                what,
                "internal error: validation passed but the value did not parse",
            )],
        };
        let genesis_time_unix_ms = parsed.time_ms.ok_or_else(|| internal("genesis_time"))?;
        let peers: Vec<CheckedPeer> = parsed
            .peers
            .into_iter()
            .collect::<Option<_>>()
            .ok_or_else(|| internal("validators"))?;
        let addresses: Vec<CheckedAddress> = parsed
            .addresses
            .into_iter()
            .collect::<Option<_>>()
            .ok_or_else(|| internal("validators"))?;
        let validators = ValidatorSet::new(
            doc.validators.iter().map(|v| v.consensus_key).collect(),
        )
        .map_err(|e| GenesisError::Invalid {
            problems: vec![Problem::new("validators", e.to_string())],
        })?;
        let canonical = canonical_bytes(&doc, genesis_time_unix_ms, &peers, &addresses);
        Ok(Genesis {
            chain_id: ChainId(genesis_hash(&canonical)),
            doc,
            validators,
            peers,
            genesis_time_unix_ms,
            canonical,
        })
    }

    /// The document as written.
    pub fn doc(&self) -> &GenesisDoc {
        &self.doc
    }

    /// The chain id: the genesis hash (see `docs/GENESIS.md`).
    pub fn chain_id(&self) -> ChainId {
        self.chain_id
    }

    /// The validators' consensus keys in document order; `ValidatorId(i)` is entry `i`.
    pub fn validators(&self) -> &ValidatorSet {
        &self.validators
    }

    /// Number of validators, n.
    pub fn n(&self) -> usize {
        self.validators.len()
    }

    /// The most faulty validators the chain tolerates, f = ⌊(n − 1) / 3⌋.
    pub fn max_faulty(&self) -> usize {
        self.validators.max_faulty()
    }

    /// Signatures a certificate needs: 2f + 1 when n = 3f + 1.
    pub fn quorum(&self) -> usize {
        self.validators.quorum()
    }

    /// The validators' libp2p peer ids, in validator order: the network's allow-list.
    pub fn peer_ids(&self) -> Vec<PeerId> {
        self.peers.iter().map(|p| p.peer_id).collect()
    }

    /// The genesis time in milliseconds since the Unix epoch.
    pub fn genesis_time_unix_ms(&self) -> u64 {
        self.genesis_time_unix_ms
    }

    /// The canonical SCALE encoding the genesis hash is computed over (without the
    /// domain tag), for auditors and other implementations (`docs/GENESIS.md`).
    pub fn canonical_bytes(&self) -> &[u8] {
        &self.canonical
    }
}
