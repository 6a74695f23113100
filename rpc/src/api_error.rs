//! The JSON-RPC error objects the server answers with (codes in [`crate::codes`]).

use std::fmt::Display;

use jsonrpsee::types::ErrorObjectOwned;
use serde_json::Value;

use crate::error::codes;
use crate::node_api::SubmitError;

/// An error object with structured `data`.
fn with_data(code: i32, message: impl Into<String>, data: Option<Value>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message, data)
}

/// Bad parameters: wrong type, missing, bad hex. The message names the problem.
pub(crate) fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    with_data(codes::INVALID_PARAMS, message, None)
}

/// The thing asked for does not exist.
pub(crate) fn not_found(message: impl Into<String>) -> ErrorObjectOwned {
    with_data(codes::NOT_FOUND, message, None)
}

/// A failure of the node itself (storage). The details go to the log, not the client.
pub(crate) fn internal(method: &str, error: impl Display) -> ErrorObjectOwned {
    tracing::error!(method, %error, "RPC request failed");
    with_data(
        codes::INTERNAL,
        "internal error: the node could not read its store; see the node's log",
        None,
    )
}

/// The transaction bytes do not decode.
pub(crate) fn tx_malformed(reason: impl Display) -> ErrorObjectOwned {
    with_data(
        codes::TX_MALFORMED,
        format!("malformed transaction: {reason}"),
        None,
    )
}

/// The mempool (or the size check in front of it) refused a transaction.
pub(crate) fn submit_refused(error: &SubmitError) -> ErrorObjectOwned {
    if let SubmitError::Internal(detail) = error {
        tracing::error!(%detail, "mempool failed to take a transaction");
        return with_data(
            codes::INTERNAL,
            "internal error: the mempool failed; see the node's log",
            None,
        );
    }
    with_data(error.code(), error.to_string(), error.data())
}
