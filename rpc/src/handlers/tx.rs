//! `tx_submit`, `tx_submitBatch`, `tx_get` and `tx_proof`.

use cairn_crypto::{Hash, MerkleTree};
use cairn_storage::TxRecord;
use cairn_types::{Outcome, Transaction, TypesError, Wire};
use jsonrpsee::types::ErrorObjectOwned;

use crate::api_error::{internal, invalid_params, not_found, submit_refused, tx_malformed};
use crate::hex::{Hex, HexHash};
use crate::methods::{MAX_SUBMIT_BATCH, TX_GET, TX_PROOF};
use crate::module::Handler;
use crate::node_api::{PendingStatus, SubmitError};
use crate::params::{HashParams, SubmitBatchParams, SubmitParams};
use crate::types::{TxInfo, TxProof, TxRefusal, TxStatus, TxSubmitResult, TxSubmitted};

/// `tx_submit`: size check, strict decode, then the mempool's verdict.
pub(crate) async fn submit(
    handler: &Handler,
    params: SubmitParams,
) -> Result<TxSubmitted, ErrorObjectOwned> {
    let (tx, hash) = decode(handler, &params.tx.0)?;
    admit(handler, tx, hash).await?;
    Ok(TxSubmitted {
        hash: HexHash(hash),
    })
}

/// `tx_submitBatch`: each transaction decoded as `tx_submit` would, then all handed to
/// the mempool at once, so their signatures are checked in one batch and their
/// acknowledgements written in one synced write. One result per transaction, in order.
pub(crate) async fn submit_batch(
    handler: &Handler,
    params: SubmitBatchParams,
) -> Result<Vec<TxSubmitResult>, ErrorObjectOwned> {
    if params.txs.len() > MAX_SUBMIT_BATCH {
        return Err(invalid_params(format!(
            "{} transactions in one call; at most {MAX_SUBMIT_BATCH}",
            params.txs.len()
        )));
    }
    let answers = params.txs.iter().map(|bytes| async move {
        let (tx, hash) = match decode(handler, &bytes.0) {
            Ok(decoded) => decoded,
            Err(error) => return refusal(None, error),
        };
        match admit(handler, tx, hash).await {
            Ok(()) => TxSubmitResult {
                hash: Some(HexHash(hash)),
                error: None,
            },
            Err(error) => refusal(Some(hash), error),
        }
    });
    Ok(futures::future::join_all(answers).await)
}

/// The size check and strict decode of a submitted transaction, with its hash.
fn decode(handler: &Handler, bytes: &[u8]) -> Result<(Transaction, Hash), ErrorObjectOwned> {
    if bytes.len() > handler.max_tx_bytes {
        return Err(submit_refused(&SubmitError::TooLarge {
            size: bytes.len(),
            max: handler.max_tx_bytes,
        }));
    }
    let tx = Transaction::from_wire(bytes).map_err(|error| match error {
        TypesError::TooLarge { len, max, .. } => {
            submit_refused(&SubmitError::TooLarge { size: len, max })
        }
        other => tx_malformed(other),
    })?;
    let hash = tx.hash();
    Ok((tx, hash))
}

/// The mempool's verdict on a decoded transaction.
async fn admit(handler: &Handler, tx: Transaction, hash: Hash) -> Result<(), ErrorObjectOwned> {
    handler
        .ctx
        .node
        .submit(tx)
        .await
        .map_err(|e| submit_refused(&e))?;
    tracing::debug!(%hash, "transaction accepted by the mempool");
    Ok(())
}

/// A batch entry's refusal, carrying the error `tx_submit` would have answered.
fn refusal(hash: Option<Hash>, error: ErrorObjectOwned) -> TxSubmitResult {
    let data = error
        .data()
        .and_then(|raw| serde_json::from_str(raw.get()).ok());
    TxSubmitResult {
        hash: hash.map(HexHash),
        error: Some(TxRefusal {
            code: error.code(),
            message: error.message().to_string(),
            data,
        }),
    }
}

/// `tx_get`. Reads the store, then the mempool, then the store again: a transaction
/// committed between the first two look-ups is found by the third rather than being
/// reported unknown.
pub(crate) fn get(handler: &Handler, params: HashParams) -> Result<TxInfo, ErrorObjectOwned> {
    let hash = params.hash.0;
    if let Some(record) = committed(handler, &hash)? {
        return Ok(committed_info(record));
    }
    let status = handler.ctx.node.pending_status(&hash);
    match status {
        PendingStatus::Pending => Ok(uncommitted_info(hash, TxStatus::Pending, None)),
        PendingStatus::Evicted { reason } => {
            Ok(uncommitted_info(hash, TxStatus::Evicted, Some(reason)))
        }
        PendingStatus::Unknown => match committed(handler, &hash)? {
            Some(record) => Ok(committed_info(record)),
            None => Ok(uncommitted_info(hash, TxStatus::Unknown, None)),
        },
    }
}

fn committed(handler: &Handler, hash: &Hash) -> Result<Option<TxRecord>, ErrorObjectOwned> {
    handler
        .ctx
        .store
        .transaction(hash)
        .map_err(|e| internal(TX_GET, e))
}

fn committed_info(record: TxRecord) -> TxInfo {
    let status = match record.receipt.outcome {
        Outcome::Applied => TxStatus::Committed,
        Outcome::Rejected(_) => TxStatus::Rejected,
    };
    TxInfo {
        hash: HexHash(record.receipt.tx_hash),
        status,
        height: Some(record.receipt.height),
        index: Some(record.receipt.index),
        block_id: Some(HexHash(record.block_id)),
        receipt: Some((&record.receipt.outcome).into()),
        reason: None,
    }
}

fn uncommitted_info(hash: Hash, status: TxStatus, reason: Option<String>) -> TxInfo {
    TxInfo {
        hash: HexHash(hash),
        status,
        height: None,
        index: None,
        block_id: None,
        receipt: None,
        reason,
    }
}

/// `tx_proof`: the Merkle path of the transaction in its block, the headers from its
/// block up to the nearest commit certificate, and that certificate.
pub(crate) fn proof(handler: &Handler, params: HashParams) -> Result<TxProof, ErrorObjectOwned> {
    let store = &handler.ctx.store;
    let fail = |e: &dyn std::fmt::Display| internal(TX_PROOF, e);
    let hash = params.hash.0;
    let record = store
        .transaction(&hash)
        .map_err(|e| fail(&e))?
        .ok_or_else(|| not_found(format!("transaction 0x{hash} is not in a committed block")))?;
    let height = record.receipt.height;
    let index = record.receipt.index;
    let block = store
        .block_at(height)
        .map_err(|e| fail(&e))?
        .ok_or_else(|| {
            fail(&format!(
                "block {height} of an indexed transaction is missing"
            ))
        })?;
    let hashes: Vec<Hash> = block.txs.iter().map(Transaction::hash).collect();
    let merkle = MerkleTree::new(&hashes)
        .proof(index as usize)
        .ok_or_else(|| fail(&format!("index {index} is outside block {height}")))?;
    let (certificate_height, certificate) = store
        .certificate_covering(height)
        .map_err(|e| fail(&e))?
        .ok_or_else(|| fail(&format!("no commit certificate covers height {height}")))?;
    let headers = store
        .headers(height..=certificate_height)
        .map_err(|e| fail(&e))?;
    if headers.len() as u64 != certificate_height - height + 1 {
        return Err(fail(&format!(
            "headers {height}..={certificate_height} are incomplete"
        )));
    }
    Ok(TxProof {
        tx: Hex(record.tx.to_wire()),
        tx_hash: HexHash(hash),
        height,
        index,
        leaf_count: merkle.leaf_count,
        siblings: merkle.siblings.into_iter().map(HexHash).collect(),
        headers: headers.iter().map(|h| Hex(h.to_wire())).collect(),
        certificate: Hex(certificate.to_wire()),
        certificate_height,
    })
}
