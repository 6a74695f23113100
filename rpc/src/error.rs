//! The crate's error type and the stable JSON-RPC error codes.

use std::net::SocketAddr;

use jsonrpsee::core::ClientError;

/// Result alias for this crate.
pub type Result<T, E = RpcError> = std::result::Result<T, E>;

/// The JSON-RPC error codes cairn returns. They are stable: clients may match on
/// them. The negative codes are JSON-RPC's own (produced by jsonrpsee); each code is
/// described in `docs/RPC.md`.
pub mod codes {
    /// The request is not valid JSON.
    pub const PARSE_ERROR: i32 = -32700;
    /// The JSON is not a valid JSON-RPC request.
    pub const INVALID_REQUEST: i32 = -32600;
    /// No method of that name.
    pub const METHOD_NOT_FOUND: i32 = -32601;
    /// The parameters are missing, of the wrong type, or badly encoded (bad hex).
    pub const INVALID_PARAMS: i32 = -32602;
    /// Too many subscriptions on one connection (jsonrpsee).
    pub const TOO_MANY_SUBSCRIPTIONS: i32 = -32006;
    /// The request body exceeds the server's limit (jsonrpsee).
    pub const OVERSIZED_REQUEST: i32 = -32007;
    /// The response would exceed the server's limit (jsonrpsee).
    pub const OVERSIZED_RESPONSE: i32 = -32008;
    /// The batch has more entries than the server allows (jsonrpsee).
    pub const TOO_BIG_BATCH: i32 = -32010;

    /// The transaction bytes are not a valid SCALE-encoded transaction.
    pub const TX_MALFORMED: i32 = 1001;
    /// The transaction is larger than the chain allows.
    pub const TX_TOO_LARGE: i32 = 1002;
    /// The transaction is signed for another chain.
    pub const TX_WRONG_CHAIN: i32 = 1003;
    /// The signature does not verify.
    pub const TX_BAD_SIGNATURE: i32 = 1004;
    /// The sender is not an account of this chain.
    pub const TX_UNKNOWN_SENDER: i32 = 1005;
    /// The sender's role does not allow the operation.
    pub const TX_NOT_PERMITTED: i32 = 1006;
    /// The nonce was already used.
    pub const TX_STALE_NONCE: i32 = 1007;
    /// The nonce is too far ahead of the sender's next nonce.
    pub const TX_NONCE_TOO_FAR: i32 = 1008;
    /// Another pending transaction of the sender has this nonce.
    pub const TX_NONCE_IN_USE: i32 = 1009;
    /// The sender's balance is below the amount.
    pub const TX_INSUFFICIENT_BALANCE: i32 = 1010;
    /// The mempool is full: retry later.
    pub const MEMPOOL_FULL: i32 = 1011;
    /// The node is shutting down.
    pub const SHUTTING_DOWN: i32 = 1012;
    /// The connection sent more requests than its rate limit allows: slow down.
    pub const RATE_LIMITED: i32 = 1013;
    /// The transaction, block, height or certificate asked for does not exist.
    pub const NOT_FOUND: i32 = 2001;
    /// A subscriber did not read its notifications fast enough; it was closed.
    pub const SUBSCRIBER_TOO_SLOW: i32 = 2002;
    /// `consensus_status` on a node that runs no consensus (a full node).
    pub const NO_CONSENSUS: i32 = 2003;
    /// The node could not serve the request (a storage error; details in its log).
    pub const INTERNAL: i32 = 3001;
}

/// Why starting the server or a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The server could not listen on its address.
    #[error("cannot listen for JSON-RPC on {addr}: {source} (is another process using the port?)")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The server's method table is inconsistent (a bug in this crate).
    #[error("cannot register JSON-RPC method: {0}")]
    Register(String),
    /// A client URL is neither `http(s)://` nor `ws(s)://`.
    #[error("unsupported RPC URL {url:?}: use http://, https://, ws:// or wss://")]
    UnsupportedUrl {
        /// The URL given.
        url: String,
    },
    /// A client could not connect to the server.
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The server answered the call with a JSON-RPC error.
    #[error("RPC error {code}: {message}")]
    Call {
        /// The error code (see [`codes`]).
        code: i32,
        /// The server's message.
        message: String,
        /// Structured details, if any (e.g. `{"expected": 5, "got": 3}`).
        data: Option<serde_json::Value>,
    },
    /// The request or its answer did not travel (connection lost, timeout, HTTP error).
    #[error("RPC transport error: {0}")]
    Transport(String),
    /// The server's answer does not have the expected shape.
    #[error("unexpected RPC answer: {0}")]
    Decode(String),
}

impl RpcError {
    /// The JSON-RPC error code, when the server answered with an error.
    pub fn code(&self) -> Option<i32> {
        match self {
            RpcError::Call { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The structured error data, when the server sent any.
    pub fn data(&self) -> Option<&serde_json::Value> {
        match self {
            RpcError::Call { data, .. } => data.as_ref(),
            _ => None,
        }
    }
}

impl From<ClientError> for RpcError {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::Call(object) => RpcError::Call {
                code: object.code(),
                message: object.message().to_string(),
                data: object
                    .data()
                    .and_then(|raw| serde_json::from_str(raw.get()).ok()),
            },
            ClientError::ParseError(e) => RpcError::Decode(e.to_string()),
            other => RpcError::Transport(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonrpsee::types::ErrorObjectOwned;

    #[test]
    fn call_errors_keep_code_message_and_data() {
        let object = ErrorObjectOwned::owned(
            codes::TX_STALE_NONCE,
            "stale",
            Some(serde_json::json!({"expected": 5, "got": 3})),
        );
        let error = RpcError::from(ClientError::Call(object));
        assert_eq!(error.code(), Some(1007));
        assert_eq!(error.data().unwrap()["expected"], 5);
        assert!(error.to_string().contains("stale"));
        assert_eq!(RpcError::Transport("x".into()).code(), None);
    }
}
