//! Checks `docs/GENESIS.md` against the code, so the document cannot drift from what
//! the node does: the format example validates, and the test vector (a heading
//! `#### Vector: NAME`, a fenced `json` block with the document, then a fenced `text`
//! block of `field = hex` lines, long values continued on lines with the same field)
//! gives the documented canonical bytes and genesis hash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use cairn_crypto::SecretKey;
use cairn_genesis::{GenesisDoc, network_peer_id};
use common::{documented_canonical_bytes, to_hex};

fn genesis_md() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/GENESIS.md");
    std::fs::read_to_string(path).expect("docs/GENESIS.md")
}

/// The fenced blocks of `text` as (info string, body), in order.
fn fenced_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        match (line.strip_prefix("```"), current.take()) {
            (Some(info), None) => current = Some((info.trim().to_string(), String::new())),
            (Some(_), Some(block)) => blocks.push(block),
            (None, Some((info, mut body))) => {
                body.push_str(line);
                body.push('\n');
                current = Some((info, body));
            }
            (None, None) => {}
        }
    }
    blocks
}

/// The JSON document and the fields of vector `name`.
fn vector(name: &str) -> (String, BTreeMap<String, String>) {
    let text = genesis_md();
    let heading = format!("#### Vector: {name}\n");
    let start = text.find(&heading).expect("vector heading") + heading.len();
    let blocks = fenced_blocks(&text[start..]);
    let (json_info, json) = blocks[0].clone();
    assert_eq!(json_info, "json");
    assert_eq!(blocks[1].0, "text");
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    for line in blocks[1].1.lines() {
        let (field, value) = line.split_once('=').expect("field = value");
        fields
            .entry(field.trim().to_string())
            .or_default()
            .push_str(value.trim());
    }
    (json, fields)
}

fn seed(hex: &str) -> SecretKey {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    SecretKey::from_seed(&bytes.try_into().unwrap())
}

#[test]
fn format_example_is_valid() {
    let text = genesis_md();
    let start = text.find("## 1. Format").unwrap();
    let (info, json) = fenced_blocks(&text[start..]).remove(0);
    assert_eq!(info, "json");
    let genesis = GenesisDoc::from_json(&json).unwrap().validate().unwrap();
    assert_eq!(genesis.doc().chain_name, "cairn-local");
}

#[test]
fn genesis_example_vector() {
    let (json, fields) = vector("genesis-example");
    let doc = GenesisDoc::from_json(&json).unwrap();
    let genesis = doc.validate().unwrap();

    // The keys are the ones the seeds give.
    let v0 = &doc.validators[0];
    assert_eq!(seed(&fields["consensus_seed"]).public(), v0.consensus_key);
    let network_key = seed(&fields["network_seed"]).public();
    assert_eq!(network_key.to_hex(), fields["network_key"]);
    assert_eq!(network_peer_id(&network_key).to_string(), v0.peer_id);
    assert_eq!(
        seed(&fields["account_seed"]).public(),
        doc.accounts[0].public_key
    );

    let computed = to_hex(genesis.canonical_bytes());
    assert_eq!(
        computed, fields["canonical"],
        "canonical bytes differ from the document"
    );
    assert_eq!(
        to_hex(documented_canonical_bytes(&doc)),
        fields["canonical"]
    );
    assert_eq!(genesis.chain_id().to_string(), fields["genesis_hash"]);

    // CHANGING THIS VALUE IS A CHAIN-BREAKING CHANGE: it pins the genesis hash
    // construction. Do not update it (or the document) to make a code change pass.
    assert_eq!(
        fields["genesis_hash"],
        "bc50d28d2d303ac8bdde20b384a656d5e6e22c9e0b5e8f1992fa8729421f3d75"
    );
}
