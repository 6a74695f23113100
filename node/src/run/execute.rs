//! Executing committed blocks and storing them with their results: one atomic,
//! synced write. Consensus commits and block sync both go through here, so a block
//! gets the same receipts and state hash however the node learned it.

use anyhow::{Context, Result};
use cairn_crypto::Hash;
use cairn_storage::{CommitBatch, Head, Store};
use cairn_types::{Block, ChainId, QuorumCert};

/// Executes `blocks` (lowest first, extending the store's head, whose state hash is
/// `parent_root`) and writes them with `certificate`, which commits the last.
/// `earlier` are commit certificates of earlier blocks of the run (block sync keeps
/// those its source stored). `verified` names transactions whose signatures this node
/// already checked.
pub fn execute_and_store(
    store: &Store,
    chain: &ChainId,
    blocks: Vec<Block>,
    certificate: QuorumCert,
    earlier: Vec<QuorumCert>,
    parent_root: &Hash,
    verified: &dyn Fn(&Hash) -> bool,
) -> Result<(CommitBatch, Head)> {
    let results =
        cairn_execution::execute_blocks_verified(store, chain, &blocks, parent_root, verified)
            .context("cannot execute committed blocks")?;
    let mut batch = CommitBatch {
        blocks,
        certificate,
        earlier_certificates: earlier,
        receipts: Vec::new(),
        changes: Vec::new(),
        state_roots: Vec::new(),
    };
    for result in results {
        batch.receipts.extend(result.receipts);
        batch.changes.extend(result.changes);
        batch.state_roots.push(result.state_root);
    }
    let head = store.commit(&batch).context("cannot write a commit")?;
    Ok((batch, head))
}
