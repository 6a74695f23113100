//! [`TrustRoot`]: the only thing the explorer believes — the chain id and validator set
//! of the chain's genesis.

use std::path::Path;

use cairn_genesis::{Genesis, GenesisDoc};
use cairn_types::{ChainId, ValidatorSet};

use crate::replay::GenesisState;
use crate::{ExplorerError, Result};

/// What proofs and audits are checked against: the chain id (the genesis hash) and the
/// genesis validator set. Nothing a node says is trusted beyond what these verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustRoot {
    /// The chain every header and signature must name.
    pub chain: ChainId,
    /// The validators whose quorum certificates are accepted.
    pub validators: ValidatorSet,
    /// The genesis state, when known: `verify` then re-executes the chain from it
    /// (crate::replay). Without it (a trust root made of a chain id and a validator
    /// set alone) `verify` checks the chain's structure only.
    pub genesis_state: Option<GenesisState>,
}

impl TrustRoot {
    /// The trust root of a validated genesis.
    pub fn from_genesis(genesis: &Genesis) -> TrustRoot {
        let (changes, root) = cairn_execution::genesis_state(genesis);
        TrustRoot {
            genesis_state: Some(GenesisState { changes, root }),
            chain: genesis.chain_id(),
            validators: genesis.validators().clone(),
        }
    }
}

/// Reads and validates the genesis file at `path`.
pub fn load_genesis(path: &Path) -> Result<Genesis> {
    let fail = |source| ExplorerError::Genesis {
        path: path.to_path_buf(),
        source,
    };
    GenesisDoc::load(path)
        .map_err(fail)?
        .validate()
        .map_err(fail)
}
