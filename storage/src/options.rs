//! RocksDB options and the directory checks made before opening.

use std::path::Path;

use rocksdb::{
    BlockBasedOptions, ColumnFamilyDescriptor, DB, DBCompressionType, Options, SliceTransform,
};

use crate::schema::{self, COLUMN_FAMILIES};
use crate::{Result, StorageError};

/// Whether `path` holds a RocksDB database; refuses a non-empty directory without one.
pub(crate) fn has_database(path: &Path) -> Result<bool> {
    let mut entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(source) => {
            return Err(StorageError::ReadDir {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if path.join("CURRENT").is_file() {
        return Ok(true);
    }
    if entries.next().is_some() {
        return Err(StorageError::NotAStore {
            path: path.to_path_buf(),
        });
    }
    Ok(false)
}

/// The column families an existing database has (a reader opens exactly these: one
/// written by an older version may lack a family added since, which only the writer
/// creates).
pub(crate) fn existing_column_families(opts: &Options, path: &Path) -> Vec<String> {
    match DB::list_cf(opts, path) {
        Ok(names) => names.into_iter().filter(|n| n != "default").collect(),
        Err(_) => column_families(opts, path, true),
    }
}

/// Our column families plus any others found in an existing database (RocksDB refuses
/// to open a database without naming all of them).
pub(crate) fn column_families(opts: &Options, path: &Path, existing: bool) -> Vec<String> {
    let mut names: Vec<String> = COLUMN_FAMILIES.iter().map(|s| s.to_string()).collect();
    if existing {
        for name in DB::list_cf(opts, path).unwrap_or_default() {
            if !names.contains(&name) && name != "default" {
                names.push(name);
            }
        }
    }
    names
}

/// One descriptor per column family, each with its options.
pub(crate) fn descriptors(names: &[String]) -> Vec<ColumnFamilyDescriptor> {
    names
        .iter()
        .map(|name| ColumnFamilyDescriptor::new(name, cf_options(name)))
        .collect()
}

/// Write-ahead log kept before the column families holding the oldest log are flushed.
pub(crate) const MAX_TOTAL_WAL_BYTES: u64 = 64 * 1024 * 1024;

/// Database-wide options shared by the writer and readers.
pub(crate) fn db_options() -> Options {
    let mut opts = Options::default();
    opts.set_compression_type(DBCompressionType::Lz4);
    opts.set_keep_log_file_num(4);
    // Column families written a little per commit (meta, pending, commits) would
    // otherwise keep every write-ahead log alive until RocksDB's default cap (four
    // times the sum of all write buffers, about 2.8 GB here), and an open replays all
    // of it. With this cap the oldest logs' column families are flushed instead, so
    // the log an open replays stays within it, whatever the uptime.
    opts.set_max_total_wal_size(MAX_TOTAL_WAL_BYTES);
    opts
}

/// Per-column-family options: LZ4, a bloom filter, and a 32-byte prefix filter for the
/// tx-hash index.
pub(crate) fn cf_options(name: &str) -> Options {
    let mut opts = Options::default();
    opts.set_compression_type(DBCompressionType::Lz4);
    let mut table = BlockBasedOptions::default();
    table.set_bloom_filter(10.0, false);
    if name == schema::CF_TX_INDEX {
        // Lookups seek to a tx hash: a 32-byte prefix bloom filter skips files without it.
        opts.set_prefix_extractor(SliceTransform::create_fixed_prefix(32));
        opts.set_memtable_prefix_bloom_ratio(0.1);
        table.set_whole_key_filtering(false);
    }
    opts.set_block_based_table_factory(&table);
    opts
}

/// Tells a lock held by another process apart from other failures to open.
pub(crate) fn open_error(path: &Path, source: rocksdb::Error) -> StorageError {
    let message = source.to_string();
    if message.contains("/LOCK") || message.contains("lock hold") {
        StorageError::Locked {
            path: path.to_path_buf(),
        }
    } else {
        StorageError::Open {
            path: path.to_path_buf(),
            source,
        }
    }
}
