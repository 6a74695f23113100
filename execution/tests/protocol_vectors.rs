//! Checks the execution test vectors in `docs/PROTOCOL.md` (section "Execution")
//! against the code, so another implementation can rely on them.
//!
//! Each vector is a heading `#### Execution vector: NAME` followed by a fenced `text`
//! block of `field = hex` lines. `cargo test -p cairn-execution --test
//! protocol_vectors -- --ignored --nocapture` prints freshly computed blocks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_crypto::{Hash, SecretKey};
use cairn_execution::{StateChange, encode_changes, execute_blocks, genesis_state_root};
use cairn_types::{
    AccountState, Block, BlockHeader, BoundedBytes, BoundedVec, ChainId, Op, QuorumCert, Role,
    Transaction, TxPayload, ValidatorId,
};
use parity_scale_codec::Encode;

type Fields = Vec<(&'static str, String)>;

/// The same keys and chain as the transaction vectors of `docs/PROTOCOL.md`.
fn seed(first: u8) -> [u8; 32] {
    std::array::from_fn(|i| first.wrapping_add(i as u8))
}

fn chain() -> ChainId {
    ChainId(Hash::digest(b"cairn protocol test vectors"))
}

fn alice() -> SecretKey {
    SecretKey::from_seed(&seed(0x01))
}

fn bob() -> SecretKey {
    SecretKey::from_seed(&seed(0x41))
}

fn alice_tx(nonce: u64, op: Op) -> Transaction {
    let payload = TxPayload {
        chain_id: chain(),
        sender: alice().public(),
        nonce,
        op,
    };
    Transaction::sign(payload, &alice())
}

fn block(height: u64, txs: Vec<Transaction>) -> Block {
    let header = BlockHeader {
        chain_id: chain(),
        height,
        round: height,
        parent: Hash::ZERO,
        payload_root: Block::payload_root_of(&txs),
        state_height: 0,
        state_root: Hash::ZERO,
        proposer: ValidatorId(0),
        timestamp_ms: 0,
        justify: QuorumCert::genesis(&chain()),
    };
    Block {
        header,
        txs: BoundedVec::new(txs).unwrap(),
    }
}

fn vectors() -> Vec<(&'static str, Fields)> {
    let genesis = vec![StateChange::Account {
        key: alice().public(),
        state: AccountState {
            role: Some(Role::Admin),
            balance: 5_000_000,
            nonce: 0,
        },
    }];
    let s0 = genesis_state_root(&chain(), &genesis);
    // Vectors tx-put and tx-transfer of section 10, then the transfer replayed.
    let put = alice_tx(
        0,
        Op::Put {
            key: BoundedBytes::new(b"greeting".to_vec()).unwrap(),
            value: BoundedBytes::new(b"hello, cairn".to_vec()).unwrap(),
        },
    );
    let transfer = alice_tx(
        1,
        Op::Transfer {
            to: bob().public(),
            amount: 1_000_000,
        },
    );
    let blocks = vec![
        block(1, vec![put, transfer.clone()]),
        block(2, vec![transfer]),
    ];
    let results = execute_blocks(&genesis_state(&genesis), &chain(), &blocks, &s0).unwrap();
    let mut fields: Fields = vec![
        ("chain_id", chain().0.to_hex()),
        ("genesis_e", hex::encode(encode_changes(&genesis))),
        ("s_0", s0.to_hex()),
    ];
    let names = [
        ("block_1_e", "block_1_receipts", "s_1"),
        ("block_2_e", "block_2_receipts", "s_2"),
    ];
    for (result, (e, receipts, root)) in results.iter().zip(names) {
        fields.push((e, hex::encode(encode_changes(&result.changes))));
        fields.push((receipts, hex::encode(result.receipts.encode())));
        fields.push((root, result.state_root.to_hex()));
    }
    vec![("state-hash-chain", fields)]
}

fn genesis_state(changes: &[StateChange]) -> cairn_execution::MemoryState {
    cairn_execution::MemoryState::from_changes(changes)
}

fn render(name: &str, fields: &Fields) -> String {
    let mut out = format!("#### Execution vector: {name}\n\n```text\n");
    for (field, value) in fields {
        for chunk in value.as_bytes().chunks(96) {
            out.push_str(&format!(
                "{field:<16} = {}\n",
                std::str::from_utf8(chunk).unwrap()
            ));
        }
    }
    out.push_str("```\n");
    out
}

#[test]
fn execution_vectors_in_the_protocol_doc_match_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROTOCOL.md");
    let doc = std::fs::read_to_string(path).expect("docs/PROTOCOL.md is readable");
    let parsed = cairn_crypto::testing::doc_vectors(&doc, "#### Execution vector: ");
    let expected = vectors();
    assert_eq!(
        parsed.keys().map(String::as_str).collect::<Vec<_>>(),
        expected.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        "the document's execution vectors differ from the code's list"
    );
    for (name, fields) in expected {
        let doc_fields = &parsed[name];
        assert_eq!(doc_fields.len(), fields.len(), "vector {name}: field count");
        for (field, value) in fields {
            assert_eq!(
                doc_fields.get(field),
                Some(&value),
                "vector {name}, field {field}"
            );
        }
    }
}

#[test]
#[ignore = "prints the execution vectors for docs/PROTOCOL.md"]
fn print_vectors() {
    for (name, fields) in vectors() {
        println!("{}", render(name, &fields));
    }
}
