//! Blocks persisted before they commit: consensus stores a block durably before voting
//! for it (`Action::PersistBlock`), so a certified block survives its voters' crashes.

use cairn_types::{Block, Wire};
use rocksdb::{IteratorMode, WriteBatch};

use crate::schema::{CF_META, CF_PENDING, META_SAFETY, pending_key};
use crate::{Result, StorageError, Store};

impl Store {
    /// Stores an uncommitted block durably (synced); returns only when it is on disk.
    /// Blocks at or below the committed head are dropped by the next commit.
    pub fn put_pending_block(&self, block: &Block) -> Result<()> {
        let mut batch = WriteBatch::default();
        let key = pending_key(block.header.height, &block.id());
        batch.put_cf(self.cf(CF_PENDING)?, key, block.to_wire());
        self.write(batch, "pending-block write")
    }

    /// Stores an uncommitted block and the consensus safety state in one synced write
    /// (both must be durable before the vote they protect leaves; one write is one
    /// disk sync instead of two).
    pub fn put_pending_block_and_safety(&self, block: &Block, safety: &[u8]) -> Result<()> {
        let mut batch = WriteBatch::default();
        let key = pending_key(block.header.height, &block.id());
        batch.put_cf(self.cf(CF_PENDING)?, key, block.to_wire());
        batch.put_cf(self.cf(CF_META)?, META_SAFETY, safety);
        self.write(batch, "pending-block and safety-state write")
    }

    /// Every stored uncommitted block above the committed head, lowest height first.
    pub fn pending_blocks(&self) -> Result<Vec<Block>> {
        let head = self.head()?.height;
        let mut blocks = Vec::new();
        for item in self
            .db
            .iterator_cf(self.cf(CF_PENDING)?, IteratorMode::Start)
        {
            let (key, value) = item.map_err(StorageError::db("read"))?;
            let block = Block::from_wire(&value).map_err(|e| {
                StorageError::corrupt("pending", &key, format!("undecodable block: {e}"))
            })?;
            if block.header.height > head {
                blocks.push(block);
            }
        }
        Ok(blocks)
    }

    /// The stored uncommitted block `id` of height `height`, if any: one point read.
    pub fn pending_block_at(
        &self,
        height: cairn_types::Height,
        id: &cairn_crypto::Hash,
    ) -> Result<Option<Block>> {
        let key = pending_key(height, id);
        let Some(value) = self
            .db
            .get_cf(self.cf(CF_PENDING)?, key)
            .map_err(StorageError::db("read"))?
        else {
            return Ok(None);
        };
        let block = Block::from_wire(&value).map_err(|e| {
            StorageError::corrupt("pending", &key, format!("undecodable block: {e}"))
        })?;
        Ok(Some(block))
    }

    /// The stored uncommitted block `id`, if any (a scan of the few pending blocks).
    pub fn pending_block(&self, id: &cairn_crypto::Hash) -> Result<Option<Block>> {
        Ok(self.pending_blocks()?.into_iter().find(|b| b.id() == *id))
    }
}
