//! Committing blocks: one atomic, synced write per commit.

use cairn_crypto::{Hash, PublicKey};
use cairn_types::{
    AccountState, Block, BlockHeader, Height, Key, QuorumCert, Receipt, Transaction, Value, Wire,
};
use parity_scale_codec::Encode;
use rocksdb::WriteBatch;

use crate::check::{Parent, bad, check_block, check_certificate};
use crate::schema::*;
use crate::{Head, Result, StorageError, Store};

/// One change to the application state, produced by executing committed transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateChange {
    /// Sets `key` to `value`.
    Put {
        /// The key (at most 256 bytes).
        key: Key,
        /// The new value (at most 64 KiB).
        value: Value,
    },
    /// Removes `key`.
    Delete {
        /// The key.
        key: Key,
    },
    /// Replaces the state of account `key`.
    Account {
        /// The account's public key.
        key: PublicKey,
        /// Its new state.
        state: AccountState,
    },
}

/// Everything one commit writes, atomically.
#[derive(Clone, Debug)]
pub struct CommitBatch {
    /// Newly committed blocks, lowest height first, each the parent of the next; the
    /// first extends the current head.
    pub blocks: Vec<Block>,
    /// The commit evidence of the last block: a QC whose `data.parent_id` is the last
    /// block's id and whose round follows the last block's round (docs/PROTOCOL.md §7).
    pub certificate: QuorumCert,
    /// Commit certificates of earlier blocks of `blocks`, each stored at its block's
    /// height (block sync keeps those its source had; consensus leaves this empty).
    pub earlier_certificates: Vec<QuorumCert>,
    /// One receipt per transaction of `blocks`, in block and transaction order.
    pub receipts: Vec<Receipt>,
    /// The state changes of executing `blocks`, applied in order.
    pub changes: Vec<StateChange>,
    /// One state hash per block of `blocks`: the execution result after that block.
    pub state_roots: Vec<Hash>,
}

impl Store {
    /// Writes a commit: blocks, height and tx-hash indexes, receipts, state changes, the
    /// commit certificate and the new head, in one atomic, synced RocksDB write batch.
    /// When this returns `Ok` the commit is durable (it survives `kill -9` and power
    /// loss); when it returns an error nothing was written.
    ///
    /// Checks that the blocks extend the head (parent link, consecutive heights, the
    /// justify QC certifying the parent), that each payload root matches its
    /// transactions, that the certificate proves the last block committed, and that
    /// there is one matching receipt per transaction. It does **not** check signatures:
    /// consensus (or block sync) verified them, and [`Store::verify_chain`] audits them.
    pub fn commit(&self, commit: &CommitBatch) -> Result<Head> {
        // The lock guards no in-memory state (the head lives in the database), so a
        // panic in another commit leaves nothing to repair.
        let _guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let head = self.head()?;
        if commit.blocks.is_empty() {
            return Err(bad(head.height + 1, "no blocks"));
        }
        let mut parent = self.parent_of_next(head)?;
        let mut batch = WriteBatch::default();
        let mut earlier: std::collections::HashMap<Height, &QuorumCert> = commit
            .earlier_certificates
            .iter()
            .map(|c| (c.data.height.saturating_sub(1), c))
            .collect();
        let mut receipts = commit.receipts.iter();
        let mut state_roots = commit.state_roots.iter();
        for block in &commit.blocks {
            let hashes = check_block(&self.chain, block, &parent)?;
            let id = block.id();
            self.add_block(&mut batch, block, &id, &hashes, &mut receipts)?;
            let state_root = state_roots
                .next()
                .ok_or_else(|| bad(block.header.height, "no state root for this block"))?;
            batch.put_cf(
                self.cf(CF_RESULTS)?,
                height_key(block.header.height),
                state_root.as_bytes(),
            );
            parent = Parent {
                id,
                height: block.header.height,
                round: block.header.round,
            };
            if let Some(cert) = earlier.remove(&parent.height) {
                check_certificate(cert, &parent)?;
                batch.put_cf(
                    self.cf(CF_COMMITS)?,
                    height_key(parent.height),
                    cert.to_wire(),
                );
            }
        }
        if let Some(height) = earlier.keys().next() {
            return Err(bad(
                *height,
                "an earlier certificate for a height not in the commit",
            ));
        }
        if let Some(extra) = receipts.next() {
            return Err(bad(
                extra.height,
                format!("receipt for a transaction not in the commit: {extra:?}"),
            ));
        }
        if state_roots.next().is_some() {
            return Err(bad(parent.height, "more state roots than blocks"));
        }
        check_certificate(&commit.certificate, &parent)?;
        let certificate = commit.certificate.to_wire();
        batch.put_cf(self.cf(CF_COMMITS)?, height_key(parent.height), certificate);
        self.add_changes(&mut batch, &commit.changes)?;
        // Pending blocks at or below the new head are committed or on a dead branch.
        // Point deletes of the few keys there, not a range deletion: range tombstones
        // pile up one per commit and are replayed at every open (docs/STORAGE.md).
        self.delete_pending(&mut batch, head.height, parent.height)?;
        batch.put_cf(
            self.cf(CF_META)?,
            META_HEAD,
            encode_head(parent.height, &parent.id),
        );
        self.write(batch, "commit")?;
        Ok(Head {
            height: parent.height,
            id: parent.id,
        })
    }

    /// Writes the genesis application state (accounts and keys) and its state hash (the
    /// result at height 0). Allowed only before the first block is committed; writing the
    /// same changes again is harmless.
    pub fn write_genesis_state(&self, changes: &[StateChange], state_root: &Hash) -> Result<()> {
        // The lock guards no in-memory state (the head lives in the database), so a
        // panic in another commit leaves nothing to repair.
        let _guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let head = self.head()?;
        if head.height != 0 {
            return Err(StorageError::GenesisAfterCommit { head: head.height });
        }
        let mut batch = WriteBatch::default();
        self.add_changes(&mut batch, changes)?;
        batch.put_cf(self.cf(CF_RESULTS)?, height_key(0), state_root.as_bytes());
        self.write(batch, "genesis state write")
    }

    fn parent_of_next(&self, head: Head) -> Result<Parent> {
        if head.height == 0 {
            return Ok(Parent {
                id: head.id,
                height: 0,
                round: 0,
            });
        }
        let header = self.header(&head.id)?.ok_or_else(|| {
            StorageError::corrupt("headers", head.id.as_bytes(), "the head block is missing")
        })?;
        Ok(Parent {
            id: head.id,
            height: head.height,
            round: header.round,
        })
    }

    fn add_block<'a>(
        &self,
        batch: &mut WriteBatch,
        block: &Block,
        id: &Hash,
        hashes: &[Hash],
        receipts: &mut impl Iterator<Item = &'a Receipt>,
    ) -> Result<()> {
        let height = block.header.height;
        let header = encoded_within::<BlockHeader>(&block.header, height)?;
        batch.put_cf(self.cf(CF_HEADERS)?, id.as_bytes(), header);
        batch.put_cf(self.cf(CF_HEIGHTS)?, height_key(height), id.as_bytes());
        let (txs, index, receipts_cf) = (
            self.cf(CF_TXS)?,
            self.cf(CF_TX_INDEX)?,
            self.cf(CF_RECEIPTS)?,
        );
        for (i, (tx, hash)) in block.txs.iter().zip(hashes).enumerate() {
            let position = u32::try_from(i).map_err(|_| bad(height, "too many transactions"))?;
            let receipt = receipts
                .next()
                .ok_or_else(|| bad(height, format!("no receipt for transaction {position}")))?;
            if receipt.tx_hash != *hash || receipt.height != height || receipt.index != position {
                return Err(bad(
                    height,
                    format!(
                        "receipt (tx {}, height {}, index {}) does not match transaction \
                         {position} ({hash})",
                        receipt.tx_hash, receipt.height, receipt.index
                    ),
                ));
            }
            let key = position_key(height, position);
            batch.put_cf(txs, key, encoded_within::<Transaction>(tx, height)?);
            batch.put_cf(
                receipts_cf,
                key,
                encoded_within::<Receipt>(receipt, height)?,
            );
            batch.put_cf(index, tx_index_key(hash, height, position), []);
        }
        Ok(())
    }

    fn add_changes(&self, batch: &mut WriteBatch, changes: &[StateChange]) -> Result<()> {
        let (state, accounts) = (self.cf(CF_STATE)?, self.cf(CF_ACCOUNTS)?);
        for change in changes {
            match change {
                StateChange::Put { key, value } => {
                    batch.put_cf(state, key.as_bytes(), value.as_bytes())
                }
                StateChange::Delete { key } => batch.delete_cf(state, key.as_bytes()),
                StateChange::Account { key, state } => {
                    batch.put_cf(accounts, key.as_bytes(), state.encode())
                }
            }
        }
        Ok(())
    }
}

/// The encoding of `value`, refused if it would not decode again under its size limit.
fn encoded_within<T: Wire>(value: &T, height: Height) -> Result<Vec<u8>> {
    let bytes = value.to_wire();
    if bytes.len() > T::MAX_BYTES {
        return Err(bad(
            height,
            format!(
                "{} of {} bytes exceeds {} bytes",
                T::NAME,
                bytes.len(),
                T::MAX_BYTES
            ),
        ));
    }
    Ok(bytes)
}
