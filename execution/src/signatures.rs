//! The signatures of a block's transactions, judged all at once.

use cairn_crypto::{Domain, Hash, SignedItem, find_invalid};
use cairn_types::Transaction;
use parity_scale_codec::Encode;

/// For each of `txs` (whose hashes are `hashes`), whether its signature verifies.
/// Those `verified` names (already checked by the caller) are taken as valid; the
/// rest get one batch check when all are good (the honest case: mempools verified them
/// on admission); otherwise every signature is checked strictly, so each validator
/// reaches the same verdicts.
pub(crate) fn signature_verdicts(
    txs: &[Transaction],
    hashes: &[Hash],
    verified: &dyn Fn(&Hash) -> bool,
) -> Vec<bool> {
    let unchecked: Vec<(usize, &Transaction)> = txs
        .iter()
        .enumerate()
        .filter(|(i, _)| !hashes.get(*i).is_some_and(verified))
        .collect();
    let payloads: Vec<Vec<u8>> = unchecked
        .iter()
        .map(|(_, tx)| tx.payload.encode())
        .collect();
    let items: Vec<SignedItem<'_>> = unchecked
        .iter()
        .zip(&payloads)
        .map(|((_, tx), payload)| SignedItem {
            domain: Domain::Tx,
            message: payload,
            signer: &tx.payload.sender,
            signature: &tx.signature,
        })
        .collect();
    let mut valid = vec![true; txs.len()];
    for bad in find_invalid(&items) {
        if let Some(verdict) = unchecked.get(bad).and_then(|(i, _)| valid.get_mut(*i)) {
            *verdict = false;
        }
    }
    valid
}
