//! Choosing a block's payload.

use std::collections::{HashSet, btree_map};

use cairn_crypto::{Hash, PublicKey};
use cairn_types::Transaction;

use crate::Mempool;
use crate::sender::SenderState;

/// Where selection stands for one sender.
struct Cursor<'a> {
    /// The nonce that must come next.
    next: u64,
    /// The sender's pending transactions from its committed nonce on.
    queue: btree_map::Range<'a, u64, Hash>,
    done: bool,
}

impl Mempool {
    /// Up to `max_txs` transactions totalling at most `max_bytes` (encoded sizes) for a
    /// block, in the order they should appear in it.
    ///
    /// For each sender only consecutive nonces starting at its committed nonce are
    /// ready; transactions in `exclude` (already in uncommitted ancestor blocks) are
    /// skipped but count as present, so their successors stay ready. Senders take turns
    /// (round-robin, in order of arrival) so that one busy sender cannot fill a block;
    /// a sender's transactions keep nonce order. A transaction that does not fit the
    /// remaining bytes ends its sender's turn for this block, not the others'.
    pub fn select(
        &self,
        max_txs: usize,
        max_bytes: usize,
        exclude: &HashSet<Hash>,
    ) -> Vec<Transaction> {
        self.select_from(|_, _| true, max_txs, max_bytes, exclude)
            .into_iter()
            .map(|(tx, _)| tx)
            .collect()
    }

    /// Transactions for this validator's next batch (docs/DATAPATH.md): chosen like
    /// [`Mempool::select`], with `batched` (in this validator's batches not yet
    /// committed) skipped but counted as present, and the senders for which `waiting`
    /// is true left out entirely: their earlier transactions are in a batch not yet
    /// certified, and a later batch could be certified, and proposed, first. Each
    /// comes with its hash.
    pub fn select_for_batch(
        &self,
        max_txs: usize,
        max_bytes: usize,
        batched: &HashSet<Hash>,
        waiting: impl Fn(&PublicKey) -> bool,
    ) -> Vec<(Transaction, Hash)> {
        self.select_from(|key, _| !waiting(key), max_txs, max_bytes, batched)
    }

    /// [`Mempool::select`] over the active senders that `wanted` accepts.
    fn select_from(
        &self,
        wanted: impl Fn(&PublicKey, &SenderState) -> bool,
        max_txs: usize,
        max_bytes: usize,
        exclude: &HashSet<Hash>,
    ) -> Vec<(Transaction, Hash)> {
        let mut cursors: Vec<Cursor<'_>> = self
            .senders
            .active_in_arrival_order()
            .filter(|(key, sender)| wanted(key, sender))
            .map(|(_, sender)| Cursor {
                next: sender.committed_nonce,
                queue: sender.pending.range(sender.committed_nonce..),
                done: false,
            })
            .collect();
        let mut selected = Vec::new();
        let mut bytes = 0usize;
        let mut progressed = true;
        while progressed && selected.len() < max_txs {
            progressed = false;
            // Finished senders leave the rotation, so a round costs only the live ones.
            cursors.retain(|c| !c.done);
            for cursor in &mut cursors {
                if selected.len() >= max_txs {
                    break;
                }
                if let Some((hash, pending)) = self.next_ready(cursor, exclude) {
                    match bytes.checked_add(pending.size) {
                        Some(total) if total <= max_bytes => {
                            bytes = total;
                            selected.push((pending.tx.clone(), hash));
                            progressed = true;
                        }
                        _ => cursor.done = true,
                    }
                }
            }
        }
        selected
    }

    /// The sender's next ready transaction not in `exclude`, advancing the cursor past
    /// it; marks the cursor done when the sender has no further ready transaction.
    fn next_ready<'m>(
        &'m self,
        cursor: &mut Cursor<'_>,
        exclude: &HashSet<Hash>,
    ) -> Option<(Hash, &'m crate::pool::PendingTx)> {
        loop {
            let Some((&nonce, hash)) = cursor.queue.next() else {
                cursor.done = true;
                return None;
            };
            let pending = self.txs.get(hash);
            let (true, Some(pending)) = (nonce == cursor.next, pending) else {
                // A gap: later nonces cannot execute before this one.
                cursor.done = true;
                return None;
            };
            match cursor.next.checked_add(1) {
                Some(next) => cursor.next = next,
                None => cursor.done = true,
            }
            if !exclude.contains(hash) {
                return Some((*hash, pending));
            }
            if cursor.done {
                return None;
            }
        }
    }
}
