//! Reading and writing genesis files: parse errors name the file, the field's JSON
//! path, the line and column; saving is atomic and round-trips.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use cairn_genesis::{GenesisDoc, GenesisError, MAX_GENESIS_BYTES};
use common::*;

fn pretty() -> String {
    serde_json::to_string_pretty(&valid_doc()).unwrap()
}

/// Parses `text`, expecting a parse error; returns (field, line, column, message).
fn parse_error(text: &str) -> (String, usize, usize, String) {
    match GenesisDoc::from_json(text) {
        Err(GenesisError::Parse {
            path: None,
            field,
            line,
            column,
            message,
        }) => (field, line, column, message),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn valid_document_parses() {
    assert_eq!(GenesisDoc::from_json(&pretty()).unwrap(), valid_doc());
}

#[test]
fn unknown_field_is_named_with_its_path() {
    let text = pretty().replacen("\"peer_id\"", "\"peerid\"", 1);
    let (field, line, _, message) = parse_error(&text);
    assert_eq!(field, "validators[0].peerid");
    assert_eq!(line, 16);
    assert!(message.contains("unknown field `peerid`"), "{message}");

    let text = pretty().replacen("\"heartbeat_ms\"", "\"heartbeat\"", 1);
    let (field, _, _, message) = parse_error(&text);
    assert_eq!(field, "params.heartbeat");
    assert!(message.contains("unknown field"), "{message}");

    let text = pretty().replacen('{', "{\"chain_id\": \"x\",", 1);
    let (field, line, column, _) = parse_error(&text);
    assert_eq!((field.as_str(), line, column), ("chain_id", 1, 11));
}

#[test]
fn malformed_key_hex_names_the_field() {
    let key = consensus_key(1).to_hex();
    let text = pretty().replacen(&key, &format!("zz{}", &key[2..]), 1);
    let (field, line, _, message) = parse_error(&text);
    assert_eq!(field, "validators[1].consensus_key");
    assert_eq!(line, 21);
    assert!(message.contains("public key"), "{message}");

    let text = pretty().replacen(&account_key(2).to_hex(), "abcd", 1);
    let (field, _, _, message) = parse_error(&text);
    assert_eq!(field, "accounts[2].public_key");
    assert!(message.contains("4 characters"), "{message}");
}

#[test]
fn wrong_types_and_values_are_named() {
    let text = pretty().replacen("\"balance\": 500", "\"balance\": \"500\"", 1);
    let (field, _, _, message) = parse_error(&text);
    assert_eq!(field, "accounts[1].balance");
    assert!(message.contains("invalid type"), "{message}");

    let text = pretty().replacen("\"balance\": 500", "\"balance\": -1", 1);
    assert_eq!(parse_error(&text).0, "accounts[1].balance");

    let text = pretty().replacen("\"role\": \"writer\"", "\"role\": \"owner\"", 1);
    let (field, _, _, message) = parse_error(&text);
    assert_eq!(field, "accounts[1].role");
    assert!(message.contains("unknown variant `owner`"), "{message}");

    let text = pretty().replacen("\"max_block_txs\": 2000", "\"max_block_txs\": 2000.5", 1);
    assert_eq!(parse_error(&text).0, "params.max_block_txs");
}

#[test]
fn missing_and_duplicate_fields() {
    let (_, _, _, message) = parse_error(r#"{"chain_name": "c"}"#);
    assert!(
        message.contains("missing field `genesis_time`"),
        "{message}"
    );
    let (_, _, _, message) =
        parse_error(r#"{"chain_name": "c", "chain_name": "d", "genesis_time": "x"}"#);
    assert!(
        message.contains("duplicate field `chain_name`"),
        "{message}"
    );
}

#[test]
fn truncated_json() {
    let full = pretty();
    let text = &full[..full.len() / 2];
    let (field, line, column, message) = parse_error(text);
    assert!(field.starts_with("validators["), "{field}");
    assert!(line > 1 && column > 0);
    assert!(message.contains("EOF"), "{message}");

    let (field, _, _, message) = parse_error("");
    assert_eq!(field, "(top level)");
    assert!(message.contains("EOF"), "{message}");
}

#[test]
fn trailing_text_is_refused() {
    let (field, _, _, message) = parse_error(&format!("{}\n{{}}", pretty()));
    assert_eq!(field, "(top level)");
    assert!(message.contains("trailing"), "{message}");
}

#[test]
fn oversized_text_is_refused() {
    let text = " ".repeat(MAX_GENESIS_BYTES + 1);
    assert!(matches!(
        GenesisDoc::from_json(&text),
        Err(GenesisError::TooLarge { path: None, .. })
    ));
}

#[test]
fn load_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("genesis.json");
    std::fs::write(
        &path,
        pretty().replacen("\"heartbeat_ms\"", "\"heartbeat\"", 1),
    )
    .unwrap();
    let err = GenesisDoc::load(&path).unwrap_err();
    match &err {
        GenesisError::Parse {
            path: Some(p),
            field,
            ..
        } => {
            assert_eq!(p, &path);
            assert_eq!(field, "params.heartbeat");
        }
        other => panic!("{other:?}"),
    }
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("{}:7:", path.display())),
        "{shown}"
    );
}

#[test]
fn load_missing_file_is_an_io_error_naming_it() {
    let path = PathBuf::from("/nonexistent/dir/genesis.json");
    let err = GenesisDoc::load(&path).unwrap_err();
    assert!(matches!(&err, GenesisError::Io { path: p, .. } if p == &path));
    assert!(err.to_string().contains("/nonexistent/dir/genesis.json"));
}

#[test]
fn load_refuses_huge_files_without_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(MAX_GENESIS_BYTES as u64 + 1).unwrap(); // sparse: nothing to read
    let err = GenesisDoc::load(&path).unwrap_err();
    assert!(
        matches!(&err, GenesisError::TooLarge { path: Some(p), size, .. }
            if p == &path && *size == MAX_GENESIS_BYTES as u64 + 1),
        "{err:?}"
    );
}

#[test]
fn load_refuses_non_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("genesis.json");
    std::fs::write(&path, b"{\"chain_name\": \"\xff\"}").unwrap();
    let err = GenesisDoc::load(&path).unwrap_err();
    assert!(err.to_string().contains("UTF-8"), "{err}");
}

#[test]
fn save_then_load_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("genesis.json");
    let doc = valid_doc();
    doc.save(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with("}\n"), "{text}");
    assert!(text.contains("\n  \"validators\": ["), "not pretty: {text}");
    let loaded = GenesisDoc::load(&path).unwrap();
    assert_eq!(loaded, doc);
    assert_eq!(
        loaded.validate().unwrap().chain_id(),
        doc.validate().unwrap().chain_id()
    );

    // Saving again replaces the file and leaves no temporary file behind.
    let mut changed = doc.clone();
    changed.chain_name = "cairn-other".into();
    changed.save(&path).unwrap();
    assert_eq!(GenesisDoc::load(&path).unwrap(), changed);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["genesis.json"]);
}

#[test]
fn save_into_missing_directory_fails_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("genesis.json");
    let err = valid_doc().save(&path).unwrap_err();
    assert!(
        matches!(&err, GenesisError::Io { path: p, .. } if p == &path),
        "{err:?}"
    );
}

#[test]
fn drafts_load_without_validators_or_accounts() {
    let doc =
        GenesisDoc::from_json(r#"{"chain_name": "c", "genesis_time": "2026-11-23T00:00:00Z"}"#)
            .unwrap();
    assert!(doc.validators.is_empty() && doc.accounts.is_empty());
    doc.check_draft().unwrap();
}
