//! The signatures of a block's transactions, judged all at once.
//!
//! A verdict is a function of the transaction alone: `cairn_crypto` has one rule
//! (`docs/PROTOCOL.md` §3), and its single check, its batch check and `find_invalid`
//! agree on every signature. So which transactions a node's mempool had already
//! verified — under that same rule — changes how much work is done here, never the
//! verdicts (`tests/signature_verdicts.rs`).

use cairn_crypto::Hash;
use cairn_types::Transaction;

/// For each of `txs` (whose hashes are `hashes`), whether its signature verifies.
/// Those `verified` names are taken as valid: the caller checked them with
/// `cairn_crypto`'s rule (a mempool admits only what its `find_invalid` passed), and a
/// transaction hash covers the signature bytes, so a hash names one signature. The
/// rest get one batch check; when it fails, `find_invalid` bisects it down to the bad
/// signatures, each confirmed alone, so every validator reaches the same verdicts.
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
    let to_check: Vec<&Transaction> = unchecked.iter().map(|(_, tx)| *tx).collect();
    let mut valid = vec![true; txs.len()];
    for bad in Transaction::invalid_signatures(&to_check) {
        if let Some(verdict) = unchecked.get(bad).and_then(|(i, _)| valid.get_mut(*i)) {
            *verdict = false;
        }
    }
    valid
}
