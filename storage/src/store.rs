//! Opening a store: the writer (the node) and read-only secondaries (the explorer).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cairn_crypto::Hash;
use cairn_types::{ChainId, Height};
use rocksdb::{ColumnFamily, DB, WriteBatch, WriteOptions};

use crate::options::{
    column_families, db_options, descriptors, existing_column_families, has_database, open_error,
};
use crate::schema::{self, CF_META, META_CHAIN_ID, META_SCHEMA_VERSION};
use crate::secondary::SecondaryDir;
use crate::{Result, StorageError};

/// The committed head: the highest committed block. Before the first commit it is the
/// implicit genesis block (height 0, id = chain id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// Its height.
    pub height: Height,
    /// Its id.
    pub id: Hash,
}

/// A cairn store: the committed chain, its indexes, receipts, application state and
/// the consensus safety state, in one RocksDB database.
///
/// Open it with [`Store::open`] (the node: one writer per directory) or
/// [`Store::open_read_only`] (any number of readers, also while the node runs).
/// All methods take `&self`; a `Store` can be shared between threads.
pub struct Store {
    // Field order matters: the database closes before its secondary directory is removed.
    pub(crate) db: DB,
    pub(crate) path: PathBuf,
    pub(crate) chain: ChainId,
    /// Serialises commits, so the head read at the start of one is still the head
    /// when its batch is written.
    pub(crate) write_lock: Mutex<()>,
    pub(crate) secondary: Option<SecondaryDir>,
}

impl Store {
    /// Opens (creating on first use) the store in `dir` for chain `chain`, as its only
    /// writer.
    ///
    /// Refuses a directory that belongs to another chain or schema version, a non-empty
    /// directory that is not a store, and a store another process has open
    /// ([`StorageError::Locked`]).
    pub fn open(dir: impl AsRef<Path>, chain: &ChainId) -> Result<Store> {
        let path = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&path).map_err(|source| StorageError::CreateDir {
            path: path.clone(),
            source,
        })?;
        let existing = has_database(&path)?;
        let mut opts = db_options();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        let names = column_families(&opts, &path, existing);
        let db = DB::open_cf_descriptors(&opts, &path, descriptors(&names))
            .map_err(|e| open_error(&path, e))?;
        let store = Store {
            db,
            path,
            chain: *chain,
            write_lock: Mutex::new(()),
            secondary: None,
        };
        match store.recorded_chain()? {
            Some(found) => store.check_chain(found)?,
            None => store.initialise()?,
        }
        store.purge_committed_pending()?;
        Ok(store)
    }

    /// Opens the store in `dir` read-only, as a RocksDB secondary instance: works while
    /// a node has the store open for writing. It sees commits made up to the moment of
    /// opening; call [`Store::refresh`] to catch up with later ones.
    pub fn open_read_only(dir: impl AsRef<Path>, chain: &ChainId) -> Result<Store> {
        let path = dir.as_ref().to_path_buf();
        if !has_database(&path)? {
            return Err(StorageError::NotAStore { path });
        }
        let secondary = SecondaryDir::create()?;
        let mut opts = db_options();
        // A secondary keeps every table file open, so that files the writer deletes
        // after a compaction stay readable until the next catch-up.
        opts.set_max_open_files(-1);
        let names = existing_column_families(&opts, &path);
        let db = DB::open_cf_descriptors_as_secondary(
            &opts,
            &path,
            &secondary.path().to_path_buf(),
            descriptors(&names),
        )
        .map_err(|e| open_error(&path, e))?;
        let store = Store {
            db,
            path,
            chain: *chain,
            write_lock: Mutex::new(()),
            secondary: Some(secondary),
        };
        store.refresh()?;
        match store.recorded_chain()? {
            Some(found) => store.check_chain(found)?,
            None => {
                return Err(StorageError::Uninitialised {
                    path: store.path.clone(),
                });
            }
        }
        Ok(store)
    }

    /// For a read-only store, catches up with everything the writer has committed since
    /// (a no-op for the writer itself).
    pub fn refresh(&self) -> Result<()> {
        if self.secondary.is_some() {
            self.db
                .try_catch_up_with_primary()
                .map_err(StorageError::db("catch-up with the writer"))?;
        }
        Ok(())
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The chain this store belongs to.
    pub fn chain_id(&self) -> ChainId {
        self.chain
    }

    /// True if opened with [`Store::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        self.secondary.is_some()
    }

    /// The committed head.
    pub fn head(&self) -> Result<Head> {
        match self.get(CF_META, schema::META_HEAD)? {
            None => Ok(Head {
                height: 0,
                id: self.chain.0,
            }),
            Some(bytes) => schema::decode_head(&bytes)
                .map(|(height, id)| Head { height, id })
                .ok_or_else(|| {
                    StorageError::corrupt("meta", schema::META_HEAD, "head is not 40 bytes")
                }),
        }
    }

    /// Writes the consensus safety state durably: returns only after the bytes are
    /// synced to disk. **The caller must not send the vote or timeout that this state
    /// protects until this returns `Ok`**; on error, it must not send it at all.
    pub fn put_safety_state(&self, bytes: &[u8]) -> Result<()> {
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(CF_META)?, schema::META_SAFETY, bytes);
        self.write(batch, "safety-state write")
    }

    /// The last safety state written with [`Store::put_safety_state`], if any.
    pub fn safety_state(&self) -> Result<Option<Vec<u8>>> {
        self.get(CF_META, schema::META_SAFETY)
    }

    /// The handle of column family `name`.
    pub(crate) fn cf(&self, name: &'static str) -> Result<&ColumnFamily> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| StorageError::corrupt("column family", name.as_bytes(), "missing"))
    }

    /// One value, copied out.
    pub(crate) fn get(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let value = self
            .db
            .get_pinned_cf(self.cf(cf)?, key)
            .map_err(StorageError::db("read"))?;
        Ok(value.map(|v| v.to_vec()))
    }

    /// Writes `batch` atomically with a synced write-ahead log: once this returns, the
    /// batch survives a crash or power loss.
    pub(crate) fn write(&self, batch: WriteBatch, op: &'static str) -> Result<()> {
        if self.is_read_only() {
            return Err(StorageError::ReadOnly { op });
        }
        #[cfg(feature = "slow-sync")]
        crate::slow_sync::wait();
        let mut options = WriteOptions::default();
        options.set_sync(true);
        self.db
            .write_opt(batch, &options)
            .map_err(StorageError::db(op))
    }

    fn recorded_chain(&self) -> Result<Option<ChainId>> {
        let Some(version) = self.get(CF_META, META_SCHEMA_VERSION)? else {
            return Ok(None);
        };
        let found = <[u8; 4]>::try_from(version.as_slice())
            .map(u32::from_le_bytes)
            .map_err(|_| StorageError::corrupt("meta", META_SCHEMA_VERSION, "not 4 bytes"))?;
        if found != schema::SCHEMA_VERSION {
            return Err(StorageError::SchemaVersion {
                path: self.path.clone(),
                found,
                supported: schema::SCHEMA_VERSION,
            });
        }
        let chain = self
            .get(CF_META, META_CHAIN_ID)?
            .ok_or_else(|| StorageError::corrupt("meta", META_CHAIN_ID, "missing"))?;
        let hash = schema::parse_hash(&chain)
            .ok_or_else(|| StorageError::corrupt("meta", META_CHAIN_ID, "not 32 bytes"))?;
        Ok(Some(ChainId(hash)))
    }

    fn check_chain(&self, found: ChainId) -> Result<()> {
        if found != self.chain {
            return Err(StorageError::WrongChain {
                path: self.path.clone(),
                expected: self.chain,
                found,
            });
        }
        Ok(())
    }

    fn initialise(&self) -> Result<()> {
        let meta = self.cf(CF_META)?;
        let mut batch = WriteBatch::default();
        batch.put_cf(
            meta,
            META_SCHEMA_VERSION,
            schema::SCHEMA_VERSION.to_le_bytes(),
        );
        batch.put_cf(meta, META_CHAIN_ID, self.chain.0.as_bytes());
        self.write(batch, "store initialisation")
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("chain", &self.chain)
            .field("read_only", &self.is_read_only())
            .finish()
    }
}
