//! Opening stores: creation, reopening, refusals with clear errors, the safety state,
//! and read-only access while a writer commits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cairn_crypto::Hash;
use cairn_storage::schema::{self, CF_META};
use cairn_storage::testing::ChainBuilder;
use cairn_storage::{StorageError, Store};
use cairn_types::ChainId;
use common::*;

#[test]
fn first_open_creates_and_reopen_keeps_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new/nested");
    let store = Store::open(&path, &chain()).unwrap();
    let head = store.head().unwrap();
    assert_eq!((head.height, head.id), (0, chain().0), "genesis head");
    let mut builder = ChainBuilder::new(2);
    let head = commit_blocks(&store, &mut builder, 3);
    drop(store);
    let store = Store::open(&path, &chain()).unwrap();
    assert_eq!(store.head().unwrap(), head);
}

#[test]
fn another_chains_directory_is_refused_naming_it() {
    let (dir, store) = fresh();
    drop(store);
    let other = ChainId(Hash::digest(b"other chain"));
    let err = Store::open(dir.path(), &other).unwrap_err();
    assert!(matches!(err, StorageError::WrongChain { found, .. } if found == chain()));
    let message = err.to_string();
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
    assert!(matches!(
        Store::open_read_only(dir.path(), &other),
        Err(StorageError::WrongChain { .. })
    ));
}

#[test]
fn another_schema_version_is_refused() {
    let (dir, store) = fresh();
    store
        .raw_put(CF_META, schema::META_SCHEMA_VERSION, &99u32.to_le_bytes())
        .unwrap();
    drop(store);
    let err = Store::open(dir.path(), &chain()).unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::SchemaVersion {
                found: 99,
                supported: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains(&dir.path().display().to_string()));
}

#[test]
fn a_locked_directory_gets_a_clear_error() {
    let (dir, _store) = fresh();
    let err = Store::open(dir.path(), &chain()).unwrap_err();
    assert!(matches!(err, StorageError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("another process"), "{err}");
    // A reader is still welcome.
    Store::open_read_only(dir.path(), &chain()).unwrap();
}

#[test]
fn bad_directories_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the directory should be, and a path beneath a file.
    let file = dir.path().join("file");
    std::fs::write(&file, b"not a directory").unwrap();
    for path in [file.clone(), file.join("sub")] {
        let err = Store::open(&path, &chain()).unwrap_err();
        assert!(matches!(err, StorageError::CreateDir { .. }), "{err}");
    }
    // A directory with someone else's files in it.
    let err = Store::open(dir.path(), &chain()).unwrap_err();
    assert!(matches!(err, StorageError::NotAStore { .. }), "{err}");
    // Read-only open of a directory that holds no store.
    let empty = tempfile::tempdir().unwrap();
    let err = Store::open_read_only(empty.path(), &chain()).unwrap_err();
    assert!(matches!(err, StorageError::NotAStore { .. }), "{err}");
    let err = Store::open_read_only(dir.path().join("missing"), &chain()).unwrap_err();
    assert!(matches!(err, StorageError::ReadDir { .. }), "{err}");
}

#[test]
fn safety_state_is_kept_across_reopen() {
    let (dir, store) = fresh();
    assert_eq!(store.safety_state().unwrap(), None);
    store.put_safety_state(b"round 7").unwrap();
    store.put_safety_state(b"round 8").unwrap();
    drop(store);
    let store = Store::open(dir.path(), &chain()).unwrap();
    assert_eq!(store.safety_state().unwrap(), Some(b"round 8".to_vec()));
}

#[test]
fn read_only_store_follows_a_writer_and_refuses_writes() {
    let (dir, writer) = fresh();
    let mut builder = ChainBuilder::new(2);
    commit_blocks(&writer, &mut builder, 2);
    let reader = Store::open_read_only(dir.path(), &chain()).unwrap();
    assert!(reader.is_read_only());
    assert_eq!(reader.head().unwrap().height, 2);

    // The writer keeps committing on another thread while the reader catches up.
    let done = std::thread::scope(|scope| {
        let writing = scope.spawn(|| commit_blocks(&writer, &mut builder, 30));
        let mut seen = 0;
        while !writing.is_finished() {
            reader.refresh().unwrap();
            let head = reader.head().unwrap();
            assert!(head.height >= seen, "head went back");
            seen = head.height;
            if head.height > 0 {
                assert!(reader.block_at(head.height).unwrap().is_some());
            }
        }
        writing.join().unwrap()
    });
    reader.refresh().unwrap();
    assert_eq!(reader.head().unwrap(), done);
    let report = reader
        .verify_chain(&validators(), &chain(), |_, _| {})
        .unwrap();
    assert_eq!(report.blocks, 32);
    let err = reader.put_safety_state(b"x").unwrap_err();
    assert!(matches!(err, StorageError::ReadOnly { .. }), "{err}");
    assert!(reader.commit(&builder.next_commit(1)).is_err());
}

#[test]
fn an_unwritable_directory_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let locked_down = dir.path().join("ro");
    std::fs::create_dir(&locked_down).unwrap();
    std::fs::set_permissions(&locked_down, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(locked_down.join("probe"), b"").is_ok() {
        eprintln!("skipped: running with privileges that ignore directory permissions");
        return;
    }
    let err = Store::open(locked_down.join("store"), &chain()).unwrap_err();
    assert!(matches!(err, StorageError::CreateDir { .. }), "{err}");
    // An existing but unwritable empty directory: RocksDB cannot create its files.
    let err = Store::open(&locked_down, &chain()).unwrap_err();
    assert!(matches!(err, StorageError::Open { .. }), "{err}");
}
