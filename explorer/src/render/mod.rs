//! Text and JSON output of every command: each result is a [`View`], printed as aligned
//! fields and tables for people or as one JSON document.

mod chain;
mod table;
mod tx;

use std::time::{Duration, UNIX_EPOCH};

use cairn_rpc::types::{OpInfo, OutcomeKind, ReceiptInfo};
use serde::Serialize;

pub use chain::{AccountView, ChainReport};
pub(crate) use chain::{watch_header, watch_row};
pub(crate) use table::{Fields, Table};
pub use tx::{ProofView, TxView};

/// A command's result, printable as text or JSON.
pub trait View: Serialize {
    /// The text for people, ending with a newline.
    fn text(&self) -> String;
}

/// The view as one pretty JSON document, or as text, ending with a newline.
pub fn render(view: &impl View, json: bool) -> String {
    if json {
        match serde_json::to_string_pretty(view) {
            Ok(text) => text + "\n",
            // Serialising plain data structures cannot fail; report it rather than panic.
            Err(e) => format!("{{\"error\": \"cannot serialise the result: {e}\"}}\n"),
        }
    } else {
        view.text()
    }
}

/// A millisecond Unix timestamp as RFC 3339 UTC.
pub(crate) fn time(ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// Bytes as `"text"` when they are short printable ASCII, else as 0x-hex (shortened
/// beyond 32 bytes, with the length).
pub(crate) fn bytes(data: &[u8]) -> String {
    let printable = |b: &u8| b.is_ascii_graphic() || *b == b' ';
    if !data.is_empty() && data.len() <= 64 && data.iter().all(printable) {
        return format!("{:?}", String::from_utf8_lossy(data));
    }
    if data.len() <= 32 {
        return format!("0x{}", hex_of(data));
    }
    format!("0x{}… ({} bytes)", hex_of(&data[..16]), data.len())
}

fn hex_of(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// An operation in one line.
pub(crate) fn op(op: &OpInfo) -> String {
    match op {
        OpInfo::Put { key, value } => format!("put {} = {}", bytes(&key.0), bytes(&value.0)),
        OpInfo::Delete { key } => format!("delete {}", bytes(&key.0)),
        OpInfo::Transfer { to, amount } => format!("transfer {amount} to {to}"),
        OpInfo::GrantRole { account, role } => {
            format!("grant {} to {account}", serde_name(role))
        }
        OpInfo::RevokeRole { account } => format!("revoke roles of {account}"),
    }
}

/// An outcome in one line.
pub(crate) fn outcome(receipt: &ReceiptInfo) -> String {
    match (receipt.outcome, &receipt.reason) {
        (OutcomeKind::Applied, _) => "applied".into(),
        (OutcomeKind::Rejected, Some(reason)) => format!("rejected: {reason}"),
        (OutcomeKind::Rejected, None) => "rejected".into(),
    }
}

/// The serde name of a unit enum value (`writer`, `committed`).
pub(crate) fn serde_name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(other) => other.to_string(),
        Err(_) => "?".into(),
    }
}

/// A list of validator ids as `v0 v1 v2`.
pub(crate) fn signers(ids: &[u16]) -> String {
    let names: Vec<String> = ids.iter().map(|id| format!("v{id}")).collect();
    names.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_shown_as_text_when_printable() {
        assert_eq!(bytes(b"key/1"), "\"key/1\"");
        assert_eq!(bytes(&[1, 0, 0]), "0x010000");
        assert_eq!(bytes(&[]), "0x");
        let long = bytes(&[0xab; 40]);
        assert!(
            long.starts_with("0xabab") && long.ends_with("(40 bytes)"),
            "{long}"
        );
    }

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(time(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
