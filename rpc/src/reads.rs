//! Store reads shared by several methods and the heads subscription.

use cairn_genesis::Genesis;
use cairn_storage::{StorageError, Store};
use cairn_types::{Block, Height, Outcome};

use crate::convert::head_info;
use crate::hex::HexHash;
use crate::types::HeadInfo;

/// The committed head at `height` (0: the implicit genesis block), or `None` if that
/// height is not committed.
pub(crate) fn head_at(
    store: &Store,
    genesis: &Genesis,
    height: Height,
) -> Result<Option<HeadInfo>, StorageError> {
    let state_root = store.state_root_at(height)?;
    if height == 0 {
        return Ok(Some(HeadInfo {
            height: 0,
            block_id: HexHash(store.chain_id().0),
            round: 0,
            timestamp_ms: genesis.genesis_time_unix_ms(),
            tx_count: 0,
            state_root: state_root.map(HexHash),
        }));
    }
    let Some(header) = store.header_at(height)? else {
        return Ok(None);
    };
    let tx_count = tx_count(store, height)?;
    Ok(Some(head_info(&header, tx_count, state_root)))
}

/// Number of transactions in the committed block at `height`, without reading them:
/// every transaction has a receipt at its position and the positions are contiguous
/// from 0, so the count is found by a binary search over receipt look-ups.
pub(crate) fn tx_count(store: &Store, height: Height) -> Result<u32, StorageError> {
    if store.receipt(height, 0)?.is_none() {
        return Ok(0);
    }
    // Invariant: a receipt exists at `low`, none at `high`.
    let mut low: u32 = 0;
    let mut high: u32 = cairn_types::limits::MAX_BLOCK_TXS as u32;
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if store.receipt(height, middle)?.is_some() {
            low = middle;
        } else {
            high = middle;
        }
    }
    Ok(low + 1)
}

/// The outcome of each transaction of a committed block, in order.
pub(crate) fn outcomes(store: &Store, block: &Block) -> Result<Vec<Outcome>, StorageError> {
    let height = block.header.height;
    (0..block.txs.len() as u32)
        .map(|index| {
            store
                .receipt(height, index)?
                .map(|receipt| receipt.outcome)
                .ok_or_else(|| StorageError::Corrupt {
                    what: "receipts",
                    key: format!("height {height} index {index}"),
                    problem: "a committed transaction has no receipt".into(),
                })
        })
        .collect()
}
