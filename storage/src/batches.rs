//! Batches of transactions this node holds for consensus (its own and its peers'):
//! stored durably before this node vouches for one, so a restart still serves what it
//! vouched for; deleted once committed (the block then holds the transactions) or
//! expired.

use cairn_crypto::Hash;
use cairn_types::{Batch, Wire};
use rocksdb::WriteBatch;

use crate::schema::CF_BATCHES;
use crate::{Result, StorageError, Store};

impl Store {
    /// Stores `batches` durably: one synced write for all of them.
    pub fn put_batches<'a>(&self, batches: impl IntoIterator<Item = &'a Batch>) -> Result<()> {
        let cf = self.cf(CF_BATCHES)?;
        let mut write = WriteBatch::default();
        for batch in batches {
            write.put_cf(cf, batch.info.digest.as_bytes(), batch.to_wire());
        }
        if write.is_empty() {
            return Ok(());
        }
        self.write(write, "batch write")
    }

    /// Every stored batch (a node holds them again on start).
    pub fn batches(&self) -> Result<Vec<Batch>> {
        let mut batches = Vec::new();
        for item in self
            .db
            .iterator_cf(self.cf(CF_BATCHES)?, rocksdb::IteratorMode::Start)
        {
            let (key, value) = item.map_err(StorageError::db("read"))?;
            let batch = Batch::from_wire(&value).map_err(|e| {
                StorageError::corrupt("batches", &key, format!("undecodable batch: {e}"))
            })?;
            batches.push(batch);
        }
        Ok(batches)
    }

    /// Deletes the batches `digests` (absent ones are ignored).
    pub fn delete_batches(&self, digests: &[Hash]) -> Result<()> {
        let cf = self.cf(CF_BATCHES)?;
        let mut write = WriteBatch::default();
        for digest in digests {
            write.delete_cf(cf, digest.as_bytes());
        }
        if write.is_empty() {
            return Ok(());
        }
        self.write(write, "batch delete")
    }
}

#[cfg(test)]
mod tests {
    use cairn_crypto::SecretKey;
    use cairn_types::{BoundedBytes, ChainId, Op, Transaction, TxPayload, ValidatorId};

    use super::*;

    fn batch(sequence: u64) -> Batch {
        let key = SecretKey::from_seed(&[3; 32]);
        let tx = Transaction::sign(
            TxPayload {
                chain_id: ChainId(Hash::from([1; 32])),
                sender: key.public(),
                nonce: sequence,
                op: Op::Delete {
                    key: BoundedBytes::new(b"k".to_vec()).expect("key"),
                },
            },
            &key,
        );
        let hash = tx.hash();
        Batch::new(ValidatorId(1), sequence, 10, vec![tx], &[hash]).expect("batch")
    }

    #[test]
    fn batches_survive_a_reopen_until_deleted() {
        let dir = tempfile::tempdir().expect("dir");
        let chain = ChainId(Hash::from([1; 32]));
        let (a, b) = (batch(1), batch(2));
        {
            let store = Store::open(dir.path(), &chain).expect("open");
            store.put_batches([&a, &b]).expect("put");
        }
        let store = Store::open(dir.path(), &chain).expect("reopen");
        let mut held = store.batches().expect("read");
        held.sort_by_key(|b| b.info.sequence);
        assert_eq!(held, vec![a.clone(), b.clone()]);
        store.delete_batches(&[a.info.digest]).expect("delete");
        assert_eq!(store.batches().expect("read"), vec![b]);
    }
}
