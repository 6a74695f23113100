//! The signature vectors of `docs/PROTOCOL.md` §3 ("#### Signature vector: NAME"),
//! checked against the code so the document cannot drift from the rule the node
//! applies. `cargo test -p cairn-crypto vector_tests -- --ignored --nocapture` prints
//! freshly computed blocks.

use crate::testing::{
    identity_r_signature, non_canonical_s, small_order_key_forgery, small_order_keys,
    torsion_r_signature,
};
use crate::{Domain, PublicKey, SecretKey, Signature};

/// The payload of vector `tx-put` (§10): Alice's `Put greeting = "hello, cairn"`.
const TX_PUT_PAYLOAD: &str = "d585d3a6d061f6922c62fbbc0b18f582b4d98a9eefd9e9404cc7f4603127186079b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664000000000000000000206772656574696e673068656c6c6f2c20636169726e";

const HEADING: &str = "#### Signature vector: ";

fn alice() -> SecretKey {
    SecretKey::from_seed(&std::array::from_fn(|i| 1 + i as u8))
}

struct Vector {
    name: &'static str,
    public_key: [u8; 32],
    signature: Signature,
    accepted: bool,
    libsodium_accepts: bool,
}

fn vectors() -> Vec<Vector> {
    let message = hex::decode(TX_PUT_PAYLOAD).unwrap();
    let alice = alice();
    let public = *alice.public().as_bytes();
    let honest = alice.sign(Domain::Tx, &message);
    vec![
        Vector {
            name: "sig-identity-r",
            public_key: public,
            signature: identity_r_signature(&alice, Domain::Tx, &message),
            accepted: true,
            libsodium_accepts: false,
        },
        Vector {
            name: "sig-torsion-r",
            public_key: public,
            signature: torsion_r_signature(&alice, Domain::Tx, &message, 1),
            accepted: true,
            libsodium_accepts: false,
        },
        Vector {
            name: "sig-s-plus-l",
            public_key: public,
            signature: non_canonical_s(&honest),
            accepted: false,
            libsodium_accepts: false,
        },
        Vector {
            name: "sig-small-order-key",
            public_key: small_order_keys()[1],
            signature: small_order_key_forgery(),
            accepted: false,
            libsodium_accepts: false,
        },
    ]
}

fn verdict(accepted: bool) -> &'static str {
    if accepted { "accept" } else { "refuse" }
}

fn fields(v: &Vector) -> Vec<(&'static str, String)> {
    vec![
        ("domain", "cairn/tx/v1".to_string()),
        ("public_key", hex::encode(v.public_key)),
        ("message", TX_PUT_PAYLOAD.to_string()),
        ("signature", v.signature.to_hex()),
        ("verdict", verdict(v.accepted).to_string()),
        ("libsodium", verdict(v.libsodium_accepts).to_string()),
    ]
}

/// The rule's verdict on a vector: the key must decode, then the signature verify.
fn judge(public_key: &[u8; 32], message: &[u8], signature: &Signature) -> bool {
    PublicKey::try_from_bytes(*public_key)
        .and_then(|key| key.verify(Domain::Tx, message, signature))
        .is_ok()
}

#[test]
fn every_vector_gets_its_documented_verdict() {
    for v in vectors() {
        let message = hex::decode(TX_PUT_PAYLOAD).unwrap();
        assert_eq!(
            judge(&v.public_key, &message, &v.signature),
            v.accepted,
            "{}",
            v.name
        );
    }
}

#[test]
fn protocol_doc_signature_vectors_match_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROTOCOL.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let parsed = crate::testing::doc_vectors(&doc, HEADING);
    let expected = vectors();
    assert_eq!(
        parsed.keys().cloned().collect::<Vec<_>>(),
        {
            let mut names: Vec<String> = expected.iter().map(|v| v.name.to_string()).collect();
            names.sort();
            names
        },
        "the document's signature vectors differ from the code's list"
    );
    for v in &expected {
        let documented = &parsed[v.name];
        let fields = fields(v);
        assert_eq!(
            documented.len(),
            fields.len(),
            "vector {}: field count",
            v.name
        );
        for (field, value) in fields {
            assert_eq!(
                documented.get(field),
                Some(&value),
                "vector {}, {field}",
                v.name
            );
        }
    }
}

#[test]
#[ignore = "prints the signature vectors for docs/PROTOCOL.md"]
fn print_vectors() {
    for v in vectors() {
        println!("{HEADING}{}\n\n```text", v.name);
        for (field, value) in fields(&v) {
            for chunk in value.as_bytes().chunks(96) {
                println!("{field:<10} = {}", std::str::from_utf8(chunk).unwrap());
            }
        }
        println!("```\n");
    }
}
