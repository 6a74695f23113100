//! The OpenRPC 1.2.6 document served by `rpc.discover`, generated from the method
//! table ([`crate::methods::METHODS`]) and the JSON Schemas of [`crate::types`].

use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::error::codes;
use crate::methods::{METHODS, MethodSpec};

/// The OpenRPC version of the document.
pub const OPENRPC_VERSION: &str = "1.2.6";

/// The short meaning of each cairn error code, as listed in the document.
pub fn error_message(code: i32) -> &'static str {
    match code {
        codes::TX_MALFORMED => "malformed transaction: the bytes do not decode",
        codes::TX_TOO_LARGE => "transaction too large",
        codes::TX_WRONG_CHAIN => "transaction is for another chain",
        codes::TX_BAD_SIGNATURE => "signature does not verify",
        codes::TX_UNKNOWN_SENDER => "sender is not an account of this chain",
        codes::TX_NOT_PERMITTED => "sender's role does not allow the operation",
        codes::TX_STALE_NONCE => "nonce already used",
        codes::TX_NONCE_TOO_FAR => "nonce too far ahead",
        codes::TX_NONCE_IN_USE => "another pending transaction has this nonce",
        codes::TX_INSUFFICIENT_BALANCE => "balance below the amount",
        codes::MEMPOOL_FULL => "busy: the mempool is full, retry later",
        codes::SHUTTING_DOWN => "the node is shutting down",
        codes::RATE_LIMITED => "rate limited: slow down",
        codes::NOT_FOUND => "not found",
        codes::SUBSCRIBER_TOO_SLOW => "subscriber too slow: subscription closed",
        codes::INTERNAL => "internal error (see the node's log)",
        _ => "error",
    }
}

/// The whole document. Shared schemas live under `components.schemas` and methods
/// refer to them with `$ref`.
pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|settings| settings.definitions_path = "/components/schemas".into())
        .into_generator();
    let methods: Vec<Value> = METHODS
        .iter()
        .map(|method| describe(method, &mut generator))
        .collect();
    let schemas = generator.take_definitions(true);
    json!({
        "openrpc": OPENRPC_VERSION,
        "info": {
            "title": "cairn JSON-RPC API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Submit transactions to a cairn node and audit its chain. \
                Binary values are 0x-prefixed lowercase hex; see docs/RPC.md.",
        },
        "methods": methods,
        "components": { "schemas": schemas },
    })
}

/// One method's entry.
fn describe(method: &MethodSpec, generator: &mut schemars::SchemaGenerator) -> Value {
    let params: Vec<Value> = method
        .params
        .iter()
        .map(|param| {
            json!({
                "name": param.name,
                "description": param.description,
                "required": param.required,
                "schema": (param.schema)(generator),
            })
        })
        .collect();
    let mut entry = json!({
        "name": method.name,
        "summary": method.summary,
        "paramStructure": "either",
        "params": params,
        "result": { "name": method.result_name, "schema": (method.result)(generator) },
    });
    if !method.errors.is_empty() {
        entry["errors"] = method
            .errors
            .iter()
            .map(|&code| json!({ "code": code, "message": error_message(code) }))
            .collect();
    }
    if let Some(subscription) = method.subscription {
        entry["x-subscription"] = json!({
            "unsubscribe": subscription.unsubscribe,
            "notification": subscription.notification,
        });
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_resolves_to_a_component() {
        let doc = document();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for name in ["TxInfo", "BlockInfo", "HexHash", "HeadInfo", "BlockRef"] {
            assert!(schemas.contains_key(name), "{name} missing");
        }
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = &reference[..reference.find('"').unwrap()];
            assert!(schemas.contains_key(name), "dangling $ref to {name}");
        }
        assert_eq!(doc["openrpc"], "1.2.6");
    }
}
