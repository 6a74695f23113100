//! The checks a commit must pass before anything is written.

use cairn_crypto::{Hash, MerkleTree};
use cairn_types::{Block, ChainId, Height, QuorumCert, Round, Transaction};

use crate::{Result, StorageError};

/// What a block's parent must look like, for the checks.
pub(crate) struct Parent {
    pub(crate) id: Hash,
    pub(crate) height: Height,
    pub(crate) round: Round,
}

/// Checks one block against its parent; returns its transaction hashes.
pub(crate) fn check_block(chain: &ChainId, block: &Block, parent: &Parent) -> Result<Vec<Hash>> {
    let header = &block.header;
    let height = header.height;
    if header.height != parent.height + 1 || header.parent != parent.id {
        return Err(StorageError::NotExtending {
            height,
            parent: header.parent,
            head_height: parent.height,
            head_id: parent.id,
        });
    }
    if header.chain_id != *chain {
        return Err(bad(
            height,
            format!("block is for chain {}", header.chain_id),
        ));
    }
    let justify = &header.justify.data;
    if justify.block_id != parent.id
        || justify.height != parent.height
        || justify.round != parent.round
    {
        return Err(bad(
            height,
            format!(
                "justify QC certifies block {} (height {}, round {}), not the parent \
                 {} (height {}, round {})",
                justify.block_id,
                justify.height,
                justify.round,
                parent.id,
                parent.height,
                parent.round
            ),
        ));
    }
    if header.round <= justify.round {
        return Err(bad(
            height,
            format!(
                "round {} is not above its parent's {}",
                header.round, justify.round
            ),
        ));
    }
    let hashes: Vec<Hash> = block.txs.iter().map(Transaction::hash).collect();
    let root = MerkleTree::root_of(&hashes);
    if root != header.payload_root {
        return Err(bad(
            height,
            format!(
                "payload root {} does not match the transactions' root {root}",
                header.payload_root
            ),
        ));
    }
    Ok(hashes)
}

/// The certificate must prove `last` committed under the 2-chain rule.
pub(crate) fn check_certificate(certificate: &QuorumCert, last: &Parent) -> Result<()> {
    let data = &certificate.data;
    if data.commits() != Some((last.id, last.round)) || data.height != last.height + 1 {
        return Err(bad(
            last.height,
            format!(
                "certificate (round {}, height {}, parent {} of round {}) does not prove \
                 block {} of round {} committed",
                data.round, data.height, data.parent_id, data.parent_round, last.id, last.round
            ),
        ));
    }
    Ok(())
}

/// A refused commit at `height`.
pub(crate) fn bad(height: Height, problem: impl Into<String>) -> StorageError {
    StorageError::BadCommit {
        height,
        problem: problem.into(),
    }
}
