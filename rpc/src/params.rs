//! Method parameters: accepted by position (`[…]`) or by name (`{…}`), checked
//! strictly (unknown names and extra positions are errors).

use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::api_error::invalid_params;
use crate::block_ref::BlockRef;
use crate::hex::{Hex, HexHash, HexKey};
use crate::methods::MethodSpec;

/// No parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoParams {}

/// `tx_submit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubmitParams {
    pub tx: Hex,
}

/// `tx_submitBatch`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubmitBatchParams {
    pub txs: Vec<Hex>,
}

/// `tx_get`, `tx_proof`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HashParams {
    pub hash: HexHash,
}

/// `chain_getBlock`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BlockParams {
    pub at: BlockRef,
}

/// `chain_getCommit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HeightParams {
    pub height: u64,
}

/// `chain_subscribeHeads`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubscribeParams {
    #[serde(default)]
    pub from: Option<u64>,
}

/// `state_get`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyParams {
    pub key: Hex,
}

/// `account_get`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountParams {
    pub key: HexKey,
}

/// Parses `params` of `method` into `T`, naming positional parameters from the method
/// table so both forms go through the same strict checks.
pub(crate) fn parse<T: DeserializeOwned>(
    method: &MethodSpec,
    params: &Params<'_>,
) -> Result<T, ErrorObjectOwned> {
    let value: Value = match params.as_str() {
        None => Value::Null,
        Some(raw) => serde_json::from_str(raw)
            .map_err(|e| invalid_params(format!("{}: params are not JSON: {e}", method.name)))?,
    };
    let named = match value {
        Value::Null => Map::new(),
        Value::Object(map) => map,
        Value::Array(items) => name_positions(method, items)?,
        other => {
            return Err(invalid_params(format!(
                "{}: params must be an array or an object, not {other}",
                method.name
            )));
        }
    };
    serde_json::from_value(Value::Object(named))
        .map_err(|e| invalid_params(format!("{}: invalid params: {e}", method.name)))
}

/// Turns positional parameters into named ones.
fn name_positions(
    method: &MethodSpec,
    items: Vec<Value>,
) -> Result<Map<String, Value>, ErrorObjectOwned> {
    if items.len() > method.params.len() {
        let names: Vec<&str> = method.params.iter().map(|p| p.name).collect();
        return Err(invalid_params(format!(
            "{}: takes at most {} parameter(s) ({}), got {}",
            method.name,
            names.len(),
            names.join(", "),
            items.len()
        )));
    }
    Ok(method
        .params
        .iter()
        .zip(items)
        .filter(|(_, value)| !value.is_null())
        .map(|(param, value)| (param.name.to_string(), value))
        .collect())
}
