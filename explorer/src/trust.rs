//! [`TrustRoot`]: the only thing the explorer believes — the chain id and validator set
//! of the chain's genesis.

use std::path::Path;

use cairn_genesis::{Genesis, GenesisDoc};
use cairn_types::{ChainId, ValidatorSet};

use crate::{ExplorerError, Result};

/// What proofs and audits are checked against: the chain id (the genesis hash) and the
/// genesis validator set. Nothing a node says is trusted beyond what these verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustRoot {
    /// The chain every header and signature must name.
    pub chain: ChainId,
    /// The validators whose quorum certificates are accepted.
    pub validators: ValidatorSet,
}

impl TrustRoot {
    /// The trust root of a validated genesis.
    pub fn from_genesis(genesis: &Genesis) -> TrustRoot {
        TrustRoot {
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
