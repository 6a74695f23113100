//! Transactions the node acknowledged to a client and has not yet seen leave its
//! mempool. An acknowledgement is a promise that the transaction reaches a block or is
//! reported evicted; kept here, it survives a crash of the node that made it.

use cairn_crypto::Hash;
use cairn_types::{Transaction, Wire};
use rocksdb::WriteBatch;

use crate::schema::CF_ADMITTED;
use crate::{Result, StorageError, Store};

impl Store {
    /// Records `txs` (each with its hash) durably: one synced write for all of them,
    /// so concurrent submissions share a disk sync. Recording one again is harmless.
    pub fn put_admitted(&self, txs: &[(Hash, &Transaction)]) -> Result<()> {
        if txs.is_empty() {
            return Ok(());
        }
        let cf = self.cf(CF_ADMITTED)?;
        let mut batch = WriteBatch::default();
        for (hash, tx) in txs {
            batch.put_cf(cf, hash.as_bytes(), tx.to_wire());
        }
        self.write(batch, "admitted-transaction write")
    }

    /// Every recorded transaction, in hash order (a node admits them again on start).
    pub fn admitted(&self) -> Result<Vec<Transaction>> {
        let mut txs = Vec::new();
        for item in self
            .db
            .iterator_cf(self.cf(CF_ADMITTED)?, rocksdb::IteratorMode::Start)
        {
            let (key, value) = item.map_err(StorageError::db("read"))?;
            let tx = Transaction::from_wire(&value).map_err(|e| {
                StorageError::corrupt("admitted", &key, format!("undecodable transaction: {e}"))
            })?;
            txs.push(tx);
        }
        Ok(txs)
    }

    /// Drops every recorded transaction for which `keep` is false (the node keeps the
    /// ones still in its mempool: the others were committed or evicted); how many went.
    pub fn forget_admitted(&self, keep: impl Fn(&Hash) -> bool) -> Result<usize> {
        let cf = self.cf(CF_ADMITTED)?;
        let mut batch = WriteBatch::default();
        let mut dropped = 0;
        for item in self.db.iterator_cf(cf, rocksdb::IteratorMode::Start) {
            let (key, _) = item.map_err(StorageError::db("read"))?;
            let keep_it = <[u8; 32]>::try_from(&key[..]).is_ok_and(|h| keep(&Hash::from(h)));
            if !keep_it {
                batch.delete_cf(cf, &key);
                dropped += 1;
            }
        }
        if dropped > 0 {
            self.write(batch, "admitted-transaction cleanup")?;
        }
        Ok(dropped)
    }
}

#[cfg(test)]
mod tests {
    use cairn_crypto::SecretKey;
    use cairn_types::{BoundedBytes, ChainId, Op, TxPayload};

    use super::*;

    fn tx(nonce: u64) -> Transaction {
        let key = SecretKey::from_seed(&[7; 32]);
        let payload = TxPayload {
            chain_id: ChainId(Hash::from([1; 32])),
            sender: key.public(),
            nonce,
            op: Op::Put {
                key: BoundedBytes::new(b"k".to_vec()).unwrap(),
                value: BoundedBytes::new(nonce.to_le_bytes().to_vec()).unwrap(),
            },
        };
        Transaction::sign(payload, &key)
    }

    #[test]
    fn recorded_transactions_survive_a_reopen_until_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let chain = ChainId(Hash::from([1; 32]));
        let (a, b) = (tx(0), tx(1));
        {
            let store = Store::open(dir.path(), &chain).unwrap();
            store
                .put_admitted(&[(a.hash(), &a), (b.hash(), &b)])
                .unwrap();
        }
        let store = Store::open(dir.path(), &chain).unwrap();
        let mut found = store.admitted().unwrap();
        found.sort_by_key(|t| t.payload.nonce);
        assert_eq!(found, vec![a.clone(), b.clone()]);
        let keep = a.hash();
        assert_eq!(store.forget_admitted(|h| *h == keep).unwrap(), 1);
        assert_eq!(store.admitted().unwrap(), vec![a]);
    }

    #[test]
    fn a_reader_opens_a_store_written_before_the_family_existed() {
        let dir = tempfile::tempdir().unwrap();
        let chain = ChainId(Hash::from([1; 32]));
        {
            let mut store = Store::open(dir.path(), &chain).unwrap();
            store.db.drop_cf(CF_ADMITTED).unwrap();
        }
        let reader = Store::open_read_only(dir.path(), &chain).unwrap();
        assert_eq!(reader.head().unwrap().height, 0);
        drop(reader);
        let store = Store::open(dir.path(), &chain).unwrap();
        assert!(store.admitted().unwrap().is_empty());
    }
}
