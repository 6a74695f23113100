//! `verify_chain` on valid chains and on chains corrupted one way at a time: each
//! corruption is reported at its height, with what is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cairn_crypto::{Hash, SecretKey};
use cairn_storage::schema::{self, *};
use cairn_storage::testing::ChainBuilder;
use cairn_storage::{ChainFault, StorageError, Store};
use cairn_types::{BoundedVec, ChainId, Height, QuorumCert, ValidatorSet, Wire};
use common::*;

/// The fault `verify_chain` reports, with its height.
fn audit_fault(store: &Store) -> (Height, ChainFault) {
    match store.verify_chain(&validators(), &chain(), |_, _| {}) {
        Err(StorageError::InvalidChain { height, fault }) => (height, fault),
        other => panic!("expected an invalid chain, got {other:?}"),
    }
}

/// Stores `header` as the block at its height (under its new id).
fn replace_header(store: &Store, header: &cairn_types::BlockHeader) {
    let id = header.id();
    store
        .raw_put(CF_HEADERS, id.as_bytes(), &header.to_wire())
        .unwrap();
    store
        .raw_put(CF_HEIGHTS, &height_key(header.height), id.as_bytes())
        .unwrap();
}

#[test]
fn a_valid_chain_passes_with_progress() {
    let (_dir, store, _) = chain_of(12, 3);
    let mut seen = Vec::new();
    let report = store
        .verify_chain(&validators(), &chain(), |height, head| {
            seen.push((height, head))
        })
        .unwrap();
    assert_eq!(
        (report.blocks, report.transactions, report.certificates),
        (12, 36, 12)
    );
    assert_eq!(report.head, store.head().unwrap());
    assert_eq!(seen, (1..=12).map(|h| (h, 12)).collect::<Vec<_>>());
    // An empty store is a valid chain too.
    let (_dir, empty) = fresh();
    assert_eq!(
        empty
            .verify_chain(&validators(), &chain(), |_, _| {})
            .unwrap()
            .blocks,
        0
    );
}

#[test]
fn multi_block_commits_and_skipped_rounds_verify() {
    let (_dir, store) = fresh();
    let mut builder = ChainBuilder::new(2);
    for blocks in [1, 3, 2] {
        builder.skip_round();
        store.commit(&builder.next_commit(blocks)).unwrap();
    }
    let report = store
        .verify_chain(&validators(), &chain(), |_, _| {})
        .unwrap();
    assert_eq!((report.blocks, report.certificates), (6, 3));
}

#[test]
fn a_corrupt_stored_block_is_reported() {
    // A flipped byte in a header (its state root): the id no longer matches.
    let (_dir, store, _) = chain_of(5, 3);
    let id = store.block_id_at(3).unwrap().unwrap();
    let mut bytes = store.raw_get(CF_HEADERS, id.as_bytes()).unwrap().unwrap();
    bytes[120] ^= 0x01;
    store.raw_put(CF_HEADERS, id.as_bytes(), &bytes).unwrap();
    let (height, fault) = audit_fault(&store);
    assert_eq!(height, 3);
    assert!(
        matches!(fault, ChainFault::IdMismatch { indexed, .. } if indexed == id),
        "{fault}"
    );

    // A transaction swapped for another: the payload root no longer matches.
    let (_dir, store, _) = chain_of(5, 3);
    let other = store.block_at(4).unwrap().unwrap().txs[1].to_wire();
    store.raw_put(CF_TXS, &position_key(2, 1), &other).unwrap();
    let (height, fault) = audit_fault(&store);
    assert_eq!(height, 2);
    assert!(matches!(fault, ChainFault::PayloadRoot { .. }), "{fault}");

    // Garbage instead of a transaction, a missing one, and a missing index entry.
    let (_dir, store, _) = chain_of(5, 3);
    store
        .raw_put(CF_TXS, &position_key(4, 2), b"\x07junk")
        .unwrap();
    let (height, fault) = audit_fault(&store);
    assert_eq!(height, 4);
    assert!(
        matches!(&fault, ChainFault::Undecodable { what, .. } if what == "transaction 2"),
        "{fault}"
    );
    store.raw_delete(CF_TXS, &position_key(4, 1)).unwrap();
    let (height, fault) = audit_fault(&store);
    assert_eq!(
        (height, fault),
        (
            4,
            ChainFault::TxGap {
                expected: 1,
                found: Some((4, 2))
            }
        )
    );

    let (_dir, store, _) = chain_of(5, 3);
    let tx = store.block_at(5).unwrap().unwrap().txs[0].hash();
    store
        .raw_delete(CF_TX_INDEX, &tx_index_key(&tx, 5, 0))
        .unwrap();
    let (height, fault) = audit_fault(&store);
    assert_eq!(
        (height, fault),
        (
            5,
            ChainFault::TxIndexMissing {
                index: 0,
                tx_hash: tx
            }
        )
    );
}

#[test]
fn a_broken_link_is_reported() {
    // A block that names the wrong parent (stored consistently under its own id).
    let (_dir, store, _) = chain_of(5, 2);
    let below = store.block_id_at(2).unwrap().unwrap();
    let mut header = store.header_at(3).unwrap().unwrap();
    header.parent = Hash::digest(b"elsewhere");
    replace_header(&store, &header);
    let (height, fault) = audit_fault(&store);
    assert_eq!(height, 3);
    assert_eq!(
        fault,
        ChainFault::ParentLink {
            expected: below,
            found: Hash::digest(b"elsewhere")
        }
    );

    // The height index pointing at the wrong block.
    let (_dir, store, _) = chain_of(5, 2);
    let id2 = store.block_id_at(2).unwrap().unwrap();
    store
        .raw_put(CF_HEIGHTS, &height_key(4), id2.as_bytes())
        .unwrap();
    assert_eq!(
        audit_fault(&store),
        (4, ChainFault::WrongHeight { found: 2 })
    );

    // A justify QC with a forged signature.
    let (_dir, store, _) = chain_of(5, 2);
    let mut header = store.header_at(3).unwrap().unwrap();
    let mut signatures = header.justify.signatures.clone().into_inner();
    signatures[1].1.0[5] ^= 0x40;
    header.justify.signatures = BoundedVec::new(signatures).unwrap();
    replace_header(&store, &header);
    let (height, fault) = audit_fault(&store);
    assert_eq!(height, 3);
    assert!(
        matches!(fault, ChainFault::JustifyInvalid { .. }),
        "{fault}"
    );

    // A missing block.
    let (_dir, store, _) = chain_of(5, 2);
    store.raw_delete(CF_HEIGHTS, &height_key(2)).unwrap();
    assert_eq!(audit_fault(&store), (2, ChainFault::MissingBlock));
}

#[test]
fn a_bad_certificate_is_reported() {
    // A flipped signature byte, written by opening RocksDB directly (store closed).
    let (dir, store, _) = chain_of(5, 2);
    drop(store);
    {
        let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), dir.path(), COLUMN_FAMILIES)
            .unwrap();
        let cf = db.cf_handle(CF_COMMITS).unwrap();
        let mut cert =
            QuorumCert::from_wire(&db.get_cf(cf, height_key(2)).unwrap().unwrap()).unwrap();
        let mut signatures = cert.signatures.clone().into_inner();
        signatures[0].1.0[0] ^= 0x01;
        cert.signatures = BoundedVec::new(signatures).unwrap();
        db.put_cf(cf, height_key(2), cert.to_wire()).unwrap();
    }
    let store = Store::open(dir.path(), &chain()).unwrap();
    let (height, fault) = audit_fault(&store);
    assert_eq!(height, 2);
    assert!(
        matches!(fault, ChainFault::CertificateInvalid { .. }),
        "{fault}"
    );

    // A valid certificate of another block.
    let (_dir, store, _) = chain_of(5, 2);
    let other = store.raw_get(CF_COMMITS, &height_key(1)).unwrap().unwrap();
    store.raw_put(CF_COMMITS, &height_key(4), &other).unwrap();
    let (height, fault) = audit_fault(&store);
    assert_eq!(height, 4);
    assert!(
        matches!(fault, ChainFault::CertificateNotCommitting { .. }),
        "{fault}"
    );

    // No certificate for the head.
    let (_dir, store, _) = chain_of(5, 2);
    store.raw_delete(CF_COMMITS, &height_key(5)).unwrap();
    assert_eq!(audit_fault(&store), (5, ChainFault::HeadNotCertified));
}

#[test]
fn head_and_validator_mismatches_are_reported() {
    // A block above the recorded head.
    let (_dir, store, _) = chain_of(3, 1);
    store
        .raw_put(schema::CF_HEIGHTS, &height_key(4), &[7; 32])
        .unwrap();
    assert_eq!(
        audit_fault(&store),
        (4, ChainFault::AboveHead { id: Hash([7; 32]) })
    );

    // Another validator set: the first signed certificate (block 1's commit
    // certificate; block 1's justify is the unsigned genesis QC) fails.
    let (_dir, store, _) = chain_of(3, 1);
    let strangers: Vec<_> = (10..14u8)
        .map(|i| SecretKey::from_seed(&[i; 32]).public())
        .collect();
    let strangers = ValidatorSet::new(strangers).unwrap();
    match store.verify_chain(&strangers, &chain(), |_, _| {}) {
        Err(StorageError::InvalidChain {
            height: 1,
            fault: ChainFault::CertificateInvalid { .. },
        }) => {}
        other => panic!("{other:?}"),
    }
    // Another chain id.
    let other = ChainId(Hash::digest(b"other"));
    assert!(matches!(
        store.verify_chain(&validators(), &other, |_, _| {}),
        Err(StorageError::InvalidChain {
            height: 0,
            fault: ChainFault::WrongStore { .. }
        })
    ));
}
