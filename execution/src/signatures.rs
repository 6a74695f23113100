//! The signatures of a block's transactions, judged all at once.

use cairn_crypto::{Domain, SignedItem, find_invalid};
use cairn_types::Transaction;
use parity_scale_codec::Encode;

/// For each of `txs`, whether its signature verifies. One batch check when all are
/// good (the honest case: mempools verified them on admission); otherwise every
/// signature is checked strictly, so each validator reaches the same verdicts.
pub(crate) fn signature_verdicts(txs: &[Transaction]) -> Vec<bool> {
    let payloads: Vec<Vec<u8>> = txs.iter().map(|tx| tx.payload.encode()).collect();
    let items: Vec<SignedItem<'_>> = txs
        .iter()
        .zip(&payloads)
        .map(|(tx, payload)| SignedItem {
            domain: Domain::Tx,
            message: payload,
            signer: &tx.payload.sender,
            signature: &tx.signature,
        })
        .collect();
    let mut valid = vec![true; txs.len()];
    for index in find_invalid(&items) {
        if let Some(verdict) = valid.get_mut(index) {
            *verdict = false;
        }
    }
    valid
}
