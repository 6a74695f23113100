//! Executing committed blocks.

use cairn_crypto::Hash;
use cairn_storage::StateChange;
use cairn_types::{Block, ChainId, Height, Outcome, Receipt, Transaction};
use tracing::{debug, warn};

use crate::apply::execute_tx;
use crate::signatures::signature_verdicts;
use crate::state_hash::block_state_root;
use crate::{ExecError, PendingState, Result, StateView};

/// The result of executing one block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockResult {
    /// One receipt per transaction, in block order.
    pub receipts: Vec<Receipt>,
    /// The state changes, in execution order: what storage applies, in this order.
    pub changes: Vec<StateChange>,
    /// The state hash `S_h` after this block (see [`crate::state_hash`]).
    pub state_root: Hash,
}

/// Executes `block`'s transactions on top of `view` (the state after the parent) whose
/// state hash is `parent_state_root`. Nothing is written: the caller commits
/// `changes` and `receipts` together with the block.
///
/// Every transaction gets a receipt; one that breaks a ledger rule is rejected with a
/// reason, never an error. Errors mean the state could not be read.
pub fn execute_block(
    view: &impl StateView,
    chain: &ChainId,
    block: &Block,
    parent_state_root: &Hash,
) -> Result<BlockResult> {
    let mut state = PendingState::new(view);
    execute_on(&mut state, chain, block, parent_state_root, &|_| false)
}

/// Executes several consecutive blocks (one commit), lowest height first, on top of
/// `view` (the state after the first block's parent) whose state hash is
/// `parent_state_root`. Each block sees the changes of those before it. Returns one
/// [`BlockResult`] per block; applying their changes in order gives the final state.
pub fn execute_blocks(
    view: &impl StateView,
    chain: &ChainId,
    blocks: &[Block],
    parent_state_root: &Hash,
) -> Result<Vec<BlockResult>> {
    execute_blocks_verified(view, chain, blocks, parent_state_root, &|_| false)
}

/// [`execute_blocks`] for a caller that already verified some transactions' signatures
/// (a node's mempool verifies every transaction it admits): `verified(hash)` is true
/// for those, and their signatures are not checked again.
///
/// The caller's duty: `verified` may name only transactions whose signature passed
/// `cairn_crypto`'s one rule — [`cairn_crypto::PublicKey::verify`],
/// [`cairn_crypto::verify_batch`] or [`cairn_crypto::find_invalid`], which agree on
/// every signature (`docs/PROTOCOL.md` §3); never a verdict of another ed25519
/// library. The transaction hash covers the signature, so a hash names exactly one
/// signed transaction. Under that duty the results are the same as
/// [`execute_blocks`]'s for every subset `verified` names, so they depend on the
/// blocks alone, not on what this node's mempool held.
pub fn execute_blocks_verified(
    view: &impl StateView,
    chain: &ChainId,
    blocks: &[Block],
    parent_state_root: &Hash,
    verified: &dyn Fn(&Hash) -> bool,
) -> Result<Vec<BlockResult>> {
    let mut state = PendingState::new(view);
    let mut parent = *parent_state_root;
    let mut results: Vec<BlockResult> = Vec::with_capacity(blocks.len());
    let mut previous_height: Option<Height> = None;
    for block in blocks {
        let height = block.header.height;
        if let Some(previous) = previous_height
            && previous.checked_add(1) != Some(height)
        {
            return Err(ExecError::NotConsecutive {
                expected: previous.saturating_add(1),
                got: height,
            });
        }
        previous_height = Some(height);
        let result = execute_on(&mut state, chain, block, &parent, verified)?;
        parent = result.state_root;
        results.push(result);
    }
    Ok(results)
}

/// Executes `block` on `state`, which keeps its changes for the blocks that follow.
fn execute_on<V: StateView + ?Sized>(
    state: &mut PendingState<'_, V>,
    chain: &ChainId,
    block: &Block,
    parent_state_root: &Hash,
    verified: &dyn Fn(&Hash) -> bool,
) -> Result<BlockResult> {
    let height = block.header.height;
    let too_many = || ExecError::TooManyTransactions {
        height,
        count: block.txs.len(),
    };
    let hashes: Vec<Hash> = block.txs.iter().map(Transaction::hash).collect();
    let verdicts = signature_verdicts(&block.txs, &hashes, verified);
    let bad_signatures = verdicts.iter().filter(|valid| !**valid).count();
    if bad_signatures > 0 {
        warn!(
            height,
            proposer = %block.header.proposer,
            bad_signatures,
            "committed block carries transactions with invalid signatures; they are rejected"
        );
    }
    let mut receipts = Vec::with_capacity(block.txs.len());
    for (position, ((tx, signature_valid), hash)) in
        block.txs.iter().zip(verdicts).zip(hashes).enumerate()
    {
        let index = u32::try_from(position).map_err(|_| too_many())?;
        let outcome = execute_tx(state, chain, tx, signature_valid)?;
        receipts.push(Receipt {
            tx_hash: hash,
            height,
            index,
            outcome,
        });
    }
    let changes = state.take_changes();
    let state_root = block_state_root(parent_state_root, height, &changes, &receipts);
    let applied = receipts
        .iter()
        .filter(|r| r.outcome == Outcome::Applied)
        .count();
    debug!(
        height,
        txs = receipts.len(),
        applied,
        changes = changes.len(),
        %state_root,
        "executed block"
    );
    Ok(BlockResult {
        receipts,
        changes,
        state_root,
    })
}
