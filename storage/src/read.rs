//! Reads: blocks, headers, transactions with receipts, state, accounts, certificates.
//!
//! Every stored value is decoded strictly (`Wire::from_wire`); an entry that does not
//! decode is reported as [`StorageError::Corrupt`], never a panic.

use std::ops::RangeInclusive;

use cairn_crypto::{Hash, PublicKey};
use cairn_types::{
    AccountState, Block, BlockHeader, Height, Payload, QuorumCert, Receipt, Transaction, Wire,
};
use rocksdb::{DB, DBIteratorWithThreadMode, Direction, IteratorMode, ReadOptions};

use crate::schema::*;
use crate::{Result, StorageError, Store};

/// A committed transaction with where it landed and what it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxRecord {
    /// The transaction.
    pub tx: Transaction,
    /// Its receipt (which also gives its height and index).
    pub receipt: Receipt,
    /// The id of the block that holds it.
    pub block_id: Hash,
}

impl Store {
    /// The id of the committed block at `height` (height 0 is the implicit genesis,
    /// whose id is the chain id).
    pub fn block_id_at(&self, height: Height) -> Result<Option<Hash>> {
        if height == 0 {
            return Ok(Some(self.chain.0));
        }
        let key = height_key(height);
        self.get(CF_HEIGHTS, &key)?
            .map(|bytes| {
                parse_hash(&bytes)
                    .ok_or_else(|| StorageError::corrupt("heights", &key, "id is not 32 bytes"))
            })
            .transpose()
    }

    /// The header of committed block `id`.
    pub fn header(&self, id: &Hash) -> Result<Option<BlockHeader>> {
        decode_opt(
            self.get(CF_HEADERS, id.as_bytes())?,
            "headers",
            id.as_bytes(),
        )
    }

    /// The header of the committed block at `height` (≥ 1).
    pub fn header_at(&self, height: Height) -> Result<Option<BlockHeader>> {
        match self.block_id_at(height)? {
            Some(id) if height > 0 => self.header(&id),
            _ => Ok(None),
        }
    }

    /// The headers of the committed blocks in `range` (heights ≥ 1), in height order,
    /// stopping at the first height not committed.
    pub fn headers(&self, range: RangeInclusive<Height>) -> Result<Vec<BlockHeader>> {
        let mut headers = Vec::new();
        for height in (*range.start()).max(1)..=*range.end() {
            match self.header_at(height)? {
                Some(header) => headers.push(header),
                None => break,
            }
        }
        Ok(headers)
    }

    /// The committed block at `height` (≥ 1), with its transactions.
    pub fn block_at(&self, height: Height) -> Result<Option<Block>> {
        let Some(header) = self.header_at(height)? else {
            return Ok(None);
        };
        let txs = self.block_txs(height)?;
        Ok(Some(Block { header, txs }))
    }

    /// The committed block with id `id`, with its transactions.
    pub fn block(&self, id: &Hash) -> Result<Option<Block>> {
        let Some(header) = self.header(id)? else {
            return Ok(None);
        };
        let txs = self.block_txs(header.height)?;
        Ok(Some(Block { header, txs }))
    }

    /// The raw `(position key, transaction)` entries stored for `height`, in position
    /// order (the reader checks the positions).
    pub(crate) fn tx_entries(&self, height: Height) -> Result<DBIteratorWithThreadMode<'_, DB>> {
        let mut options = ReadOptions::default();
        options.set_iterate_upper_bound(position_key(height.saturating_add(1), 0).to_vec());
        let start = position_key(height, 0);
        Ok(self.db.iterator_cf_opt(
            self.cf(CF_TXS)?,
            options,
            IteratorMode::From(&start, Direction::Forward),
        ))
    }

    /// The transactions stored for `height`, in order; a gap in their positions is
    /// corruption.
    pub(crate) fn block_txs(&self, height: Height) -> Result<Payload> {
        let iter = self.tx_entries(height)?;
        let mut txs = Vec::new();
        for item in iter {
            let (key, value) = item.map_err(StorageError::db("read"))?;
            if parse_position_key(&key) != Some((height, txs.len() as u32)) {
                return Err(StorageError::corrupt(
                    "txs",
                    &key,
                    format!("expected transaction {} of height {height}", txs.len()),
                ));
            }
            txs.push(decode(&value, "txs", &key)?);
        }
        Payload::new(txs).map_err(|e| StorageError::corrupt("txs", &position_key(height, 0), e))
    }

    /// The committed transaction with hash `hash`, with its receipt and block id. A
    /// transaction committed more than once (a replay, rejected by its nonce) is
    /// returned at its first position.
    pub fn transaction(&self, hash: &Hash) -> Result<Option<TxRecord>> {
        let Some((height, index)) = self.tx_position(hash)? else {
            return Ok(None);
        };
        let key = position_key(height, index);
        let tx = self
            .get(CF_TXS, &key)?
            .ok_or_else(|| StorageError::corrupt("txs", &key, "indexed but missing"))?;
        let tx: Transaction = decode(&tx, "txs", &key)?;
        let receipt = self
            .receipt(height, index)?
            .ok_or_else(|| StorageError::corrupt("receipts", &key, "missing"))?;
        let block_id = self
            .block_id_at(height)?
            .ok_or_else(|| StorageError::corrupt("heights", &height_key(height), "missing"))?;
        Ok(Some(TxRecord {
            tx,
            receipt,
            block_id,
        }))
    }

    /// Height and index of the first occurrence of transaction `hash`.
    pub fn tx_position(&self, hash: &Hash) -> Result<Option<(Height, u32)>> {
        let mut options = ReadOptions::default();
        options.set_prefix_same_as_start(true);
        let mut iter = self.db.raw_iterator_cf_opt(self.cf(CF_TX_INDEX)?, options);
        iter.seek(hash.as_bytes());
        match iter.key() {
            Some(key) if key.starts_with(hash.as_bytes()) => parse_position_key(&key[32..])
                .map(Some)
                .ok_or_else(|| StorageError::corrupt("tx_index", key, "not 44 bytes")),
            _ => iter
                .status()
                .map(|()| None)
                .map_err(StorageError::db("read")),
        }
    }

    /// The receipt of the transaction at `index` in the block at `height`.
    pub fn receipt(&self, height: Height, index: u32) -> Result<Option<Receipt>> {
        let key = position_key(height, index);
        decode_opt(self.get(CF_RECEIPTS, &key)?, "receipts", &key)
    }

    /// The state hash after executing the block at `height` (height 0: the genesis
    /// state), as this node computed it when it committed that block.
    pub fn state_root_at(&self, height: Height) -> Result<Option<Hash>> {
        let key = height_key(height);
        match self.get(CF_RESULTS, &key)? {
            None => Ok(None),
            Some(bytes) => parse_hash(&bytes)
                .map(Some)
                .ok_or_else(|| StorageError::corrupt("results", &key, "not a 32-byte hash")),
        }
    }

    /// The application value under `key`.
    pub fn state(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get(CF_STATE, key)
    }

    /// The state of account `key`.
    pub fn account(&self, key: &PublicKey) -> Result<Option<AccountState>> {
        decode_opt(
            self.get(CF_ACCOUNTS, key.as_bytes())?,
            "accounts",
            key.as_bytes(),
        )
    }

    /// The commit certificate stored for `height`, if that height was the last block
    /// of a commit.
    pub fn commit_certificate(&self, height: Height) -> Result<Option<QuorumCert>> {
        let key = height_key(height);
        decode_opt(self.get(CF_COMMITS, &key)?, "commits", &key)
    }

    /// The certificate that proves `height` committed: the one stored at the lowest
    /// height ≥ `height` (it commits that block and, through parent links, `height`).
    pub fn certificate_covering(&self, height: Height) -> Result<Option<(Height, QuorumCert)>> {
        let start = height_key(height);
        let mut iter = self.db.raw_iterator_cf(self.cf(CF_COMMITS)?);
        iter.seek(start);
        let (Some(key), Some(value)) = (iter.key(), iter.value()) else {
            return iter
                .status()
                .map(|()| None)
                .map_err(StorageError::db("read"));
        };
        let at = parse_height_key(key)
            .ok_or_else(|| StorageError::corrupt("commits", key, "key is not 8 bytes"))?;
        Ok(Some((at, decode(value, "commits", key)?)))
    }
}

/// Strictly decodes a stored value.
pub(crate) fn decode<T: Wire>(bytes: &[u8], what: &'static str, key: &[u8]) -> Result<T> {
    T::from_wire(bytes).map_err(|e| StorageError::corrupt(what, key, e))
}

fn decode_opt<T: Wire>(
    bytes: Option<Vec<u8>>,
    what: &'static str,
    key: &[u8],
) -> Result<Option<T>> {
    bytes.map(|b| decode(&b, what, key)).transpose()
}
