//! The private directory a RocksDB secondary instance keeps its own logs in.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Result, StorageError};

/// A fresh directory under the system temporary directory, removed on drop.
#[derive(Debug)]
pub(crate) struct SecondaryDir(PathBuf);

impl SecondaryDir {
    /// Creates `cairn-secondary-<pid>-<n>-<nanos>` under the temporary directory.
    pub(crate) fn create() -> Result<SecondaryDir> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!(
            "cairn-secondary-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).map_err(|source| StorageError::CreateDir {
            path: path.clone(),
            source,
        })?;
        Ok(SecondaryDir(path))
    }

    /// Its path.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SecondaryDir {
    fn drop(&mut self) {
        // Best effort: a leftover directory holds only RocksDB's info log.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
