//! Blocks persisted before they commit: consensus stores a block durably before voting
//! for it (`Action::PersistBlock`), so a certified block survives its voters' crashes.

use cairn_types::{Block, Height, Wire};
use rocksdb::{ReadOptions, WriteBatch};

use crate::schema::{CF_META, CF_PENDING, META_SAFETY, height_key, pending_key};
use crate::{Result, StorageError, Store};

/// A raw key and value.
type RawEntry = (Box<[u8]>, Box<[u8]>);

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
        for (key, value) in self.pending_entries(head.saturating_add(1), Height::MAX)? {
            let block = Block::from_wire(&value).map_err(|e| {
                StorageError::corrupt("pending", &key, format!("undecodable block: {e}"))
            })?;
            blocks.push(block);
        }
        Ok(blocks)
    }

    /// Adds to `batch` a point delete of every pending block of height `above + 1 ..=
    /// up_to`. Pending blocks of height ≤ `above` were deleted by earlier commits (and
    /// at open), so only this range is read: the cost of a commit does not grow with
    /// the number of commits before it.
    pub(crate) fn delete_pending(
        &self,
        batch: &mut WriteBatch,
        above: Height,
        up_to: Height,
    ) -> Result<()> {
        let cf = self.cf(CF_PENDING)?;
        for (key, _) in self.pending_entries(above.saturating_add(1), up_to)? {
            batch.delete_cf(cf, key);
        }
        Ok(())
    }

    /// Deletes pending blocks at or below the committed head left by a store written
    /// before commits deleted them one by one (or by a crash between writes of an
    /// older version); run once at open.
    pub(crate) fn purge_committed_pending(&self) -> Result<()> {
        let head = self.head()?.height;
        let mut batch = WriteBatch::default();
        self.delete_pending(&mut batch, 0, head)?;
        if batch.is_empty() {
            return Ok(());
        }
        self.write(batch, "stale pending-block clean-up")?;
        // Compact the range so that its tombstones are not replayed at later opens.
        let cf = self.cf(CF_PENDING)?;
        self.db
            .compact_range_cf(cf, None::<&[u8]>, Some(height_key(head.saturating_add(1))));
        Ok(())
    }

    /// The pending entries of heights `from ..= to`, read with iterator bounds so that
    /// deleted entries outside the range are never visited.
    fn pending_entries(&self, from: Height, to: Height) -> Result<Vec<RawEntry>> {
        if from > to {
            return Ok(Vec::new());
        }
        let mut options = ReadOptions::default();
        options.set_iterate_lower_bound(height_key(from).to_vec());
        if let Some(end) = to.checked_add(1) {
            options.set_iterate_upper_bound(height_key(end).to_vec());
        }
        self.db
            .iterator_cf_opt(self.cf(CF_PENDING)?, options, rocksdb::IteratorMode::Start)
            .map(|item| item.map_err(StorageError::db("read")))
            .collect()
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
