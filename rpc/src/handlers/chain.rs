//! `chain_head`, `chain_getBlock`, `chain_getOutcomes` and `chain_getCommit`.

use cairn_types::Wire;
use jsonrpsee::types::ErrorObjectOwned;

use crate::api_error::{internal, not_found};
use crate::block_ref::BlockRef;
use crate::convert::{block_info, signers};
use crate::hex::{Hex, HexHash};
use crate::methods::{CHAIN_GET_BLOCK, CHAIN_GET_COMMIT, CHAIN_GET_OUTCOMES, CHAIN_HEAD};
use crate::module::Handler;
use crate::params::{BlockParams, HeightParams, NoParams};
use crate::reads::{head_at, outcomes};
use crate::types::{BlockInfo, BlockOutcomes, CommitInfo, HeadInfo, TxOutcome};

/// `chain_head`.
pub(crate) fn head(handler: &Handler, _: NoParams) -> Result<HeadInfo, ErrorObjectOwned> {
    let store = &handler.ctx.store;
    let fail = |e: &dyn std::fmt::Display| internal(CHAIN_HEAD, e);
    let head = store.head().map_err(|e| fail(&e))?;
    head_at(store, &handler.ctx.genesis, head.height)
        .map_err(|e| fail(&e))?
        .ok_or_else(|| fail(&format!("head block {} is missing", head.height)))
}

/// `chain_getBlock`.
pub(crate) fn get_block(
    handler: &Handler,
    params: BlockParams,
) -> Result<BlockInfo, ErrorObjectOwned> {
    let store = &handler.ctx.store;
    let fail = |e: &dyn std::fmt::Display| internal(CHAIN_GET_BLOCK, e);
    let block = committed_block(handler, params.at, CHAIN_GET_BLOCK)?;
    let outcomes = outcomes(store, &block).map_err(|e| fail(&e))?;
    let result = store
        .state_root_at(block.header.height)
        .map_err(|e| fail(&e))?;
    Ok(block_info(&block, &outcomes, result))
}

/// `chain_getOutcomes`: the hashes come from the receipts, so nothing is hashed or
/// hex-encoded but the hashes themselves.
pub(crate) fn get_outcomes(
    handler: &Handler,
    params: BlockParams,
) -> Result<BlockOutcomes, ErrorObjectOwned> {
    let store = &handler.ctx.store;
    let fail = |e: &dyn std::fmt::Display| internal(CHAIN_GET_OUTCOMES, e);
    let block = committed_block(handler, params.at, CHAIN_GET_OUTCOMES)?;
    let height = block.header.height;
    let txs = (0..block.txs.len() as u32)
        .map(|index| match store.receipt(height, index) {
            Ok(Some(receipt)) => Ok(TxOutcome {
                hash: HexHash(receipt.tx_hash),
                outcome: (&receipt.outcome).into(),
            }),
            Ok(None) => Err(fail(&format!(
                "a committed transaction has no receipt (height {height} index {index})"
            ))),
            Err(e) => Err(fail(&e)),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BlockOutcomes {
        id: HexHash(block.id()),
        height,
        txs,
    })
}

/// The committed block `at` names, or `NOT_FOUND`.
fn committed_block(
    handler: &Handler,
    at: BlockRef,
    method: &str,
) -> Result<cairn_types::Block, ErrorObjectOwned> {
    let store = &handler.ctx.store;
    let fail = |e: &dyn std::fmt::Display| internal(method, e);
    let block = match at {
        BlockRef::Height(0) => {
            return Err(not_found(
                "height 0 is the implicit genesis block: it has no header or transactions \
                 (see chain_head and validators_list)",
            ));
        }
        BlockRef::Height(height) => store
            .block_at(height)
            .map_err(|e| fail(&e))?
            .ok_or_else(|| not_found(format!("no committed block at height {height}")))?,
        BlockRef::Id(HexHash(id)) => store
            .block(&id)
            .map_err(|e| fail(&e))?
            .ok_or_else(|| not_found(format!("no committed block with id 0x{id}")))?,
    };
    Ok(block)
}

/// `chain_getCommit`: the certificate stored at the lowest height ≥ `height`.
pub(crate) fn get_commit(
    handler: &Handler,
    params: HeightParams,
) -> Result<CommitInfo, ErrorObjectOwned> {
    let store = &handler.ctx.store;
    let fail = |e: &dyn std::fmt::Display| internal(CHAIN_GET_COMMIT, e);
    let height = params.height;
    let missing = || not_found(format!("no committed block at height {height}"));
    if height == 0 {
        return Err(not_found(
            "height 0 is the implicit genesis block: it has no commit certificate",
        ));
    }
    let header = store
        .header_at(height)
        .map_err(|e| fail(&e))?
        .ok_or_else(missing)?;
    let (certificate_height, certificate) = store
        .certificate_covering(height)
        .map_err(|e| fail(&e))?
        .ok_or_else(|| fail(&format!("no commit certificate covers height {height}")))?;
    Ok(CommitInfo {
        height,
        block_id: HexHash(header.id()),
        round: header.round,
        certificate_height,
        certified_block_id: HexHash(certificate.block_id()),
        certified_round: certificate.round(),
        signers: signers(&certificate),
        certificate: Hex(certificate.to_wire()),
    })
}
