//! The genesis document as it appears in JSON, and reading and writing it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cairn_crypto::PublicKey;
use cairn_types::{Role, limits};
use serde::{Deserialize, Serialize};

use crate::{GenesisError, MAX_GENESIS_BYTES, Result};

/// A genesis document exactly as written in JSON. Parsing checks types and key
/// encodings only; [`GenesisDoc::validate`] checks everything else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisDoc {
    /// Human-readable chain name: 1–64 characters from `a-z 0-9 . _ -`.
    pub chain_name: String,
    /// When the chain starts, RFC 3339 in UTC (`2026-11-23T00:00:00Z`), at most
    /// millisecond precision.
    pub genesis_time: String,
    /// Consensus and block parameters; every field has a default.
    #[serde(default)]
    pub params: Params,
    /// The validators, in order: `ValidatorId(i)` is the `i`-th entry.
    #[serde(default)]
    pub validators: Vec<ValidatorEntry>,
    /// The accounts that exist at genesis, with their roles and balances.
    #[serde(default)]
    pub accounts: Vec<AccountEntry>,
}

/// Consensus and block parameters, fixed for the life of the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Time a validator waits in a round before timing out, in milliseconds (≥ 10).
    #[serde(default = "default_round_timeout_ms")]
    pub round_timeout_ms: u64,
    /// Cap on the round timeout as it backs off after failed rounds, in milliseconds
    /// (≥ `round_timeout_ms`).
    #[serde(default = "default_max_round_timeout_ms")]
    pub max_round_timeout_ms: u64,
    /// Longest an idle leader waits for transactions before proposing anyway, in
    /// milliseconds (≥ 1).
    #[serde(default = "default_heartbeat_ms")]
    pub heartbeat_ms: u64,
    /// Most transactions in one block (1 ..= `limits::MAX_BLOCK_TXS`).
    #[serde(default = "default_max_block_txs")]
    pub max_block_txs: u64,
    /// Largest encoded block, in bytes (`max_tx_bytes` ..= `limits::MAX_BLOCK_BYTES`).
    #[serde(default = "default_max_block_bytes")]
    pub max_block_bytes: u64,
    /// Largest encoded transaction, in bytes (200 ..= `limits::MAX_TX_BYTES`).
    #[serde(default = "default_max_tx_bytes")]
    pub max_tx_bytes: u64,
}

fn default_round_timeout_ms() -> u64 {
    1_000
}
fn default_max_round_timeout_ms() -> u64 {
    30_000
}
fn default_heartbeat_ms() -> u64 {
    5_000
}
fn default_max_block_txs() -> u64 {
    2_000
}
fn default_max_block_bytes() -> u64 {
    4 * 1024 * 1024
}
fn default_max_tx_bytes() -> u64 {
    limits::MAX_TX_BYTES as u64
}

impl Default for Params {
    fn default() -> Self {
        Params {
            round_timeout_ms: default_round_timeout_ms(),
            max_round_timeout_ms: default_max_round_timeout_ms(),
            heartbeat_ms: default_heartbeat_ms(),
            max_block_txs: default_max_block_txs(),
            max_block_bytes: default_max_block_bytes(),
            max_tx_bytes: default_max_tx_bytes(),
        }
    }
}

/// One validator: its consensus key, and the network identity and address other
/// validators dial.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorEntry {
    /// Operator-chosen name, unique in the document (`v0`, `acme-1`).
    pub name: String,
    /// The ed25519 key that signs votes, timeouts and proposals (64 hex characters).
    pub consensus_key: PublicKey,
    /// The libp2p peer id of the validator's ed25519 network key (`12D3KooW…`). Kept as
    /// text so that a bad value is reported by validation with its field name.
    pub peer_id: String,
    /// The multiaddr other validators dial (`/ip4/10.0.0.1/tcp/30400`), optionally
    /// ending in `/p2p/<peer_id>`.
    pub address: String,
}

/// One account that exists at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountEntry {
    /// Optional label, unique in the document when present. Not used by the ledger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The ed25519 key that signs this account's transactions (64 hex characters).
    pub public_key: PublicKey,
    /// What the account may do.
    pub role: Role,
    /// Opening balance in the ledger's smallest unit.
    pub balance: u64,
}

impl GenesisDoc {
    /// A document for chain `chain_name` starting at `genesis_time` (kept to the
    /// millisecond), with default parameters and no validators or accounts.
    pub fn new(chain_name: &str, genesis_time: SystemTime) -> GenesisDoc {
        GenesisDoc {
            chain_name: chain_name.to_string(),
            genesis_time: format_genesis_time(genesis_time),
            params: Params::default(),
            validators: Vec::new(),
            accounts: Vec::new(),
        }
    }

    /// Parses a document from JSON text. Errors name the JSON path of the offending
    /// field, its line and column, and the problem.
    pub fn from_json(text: &str) -> Result<GenesisDoc> {
        parse(text, None)
    }

    /// Reads and parses the document at `path`. Files larger than
    /// [`MAX_GENESIS_BYTES`] are refused before they are read.
    pub fn load(path: &Path) -> Result<GenesisDoc> {
        let io_err = |source| GenesisError::Io {
            path: path.to_path_buf(),
            source,
        };
        let too_large = |size| GenesisError::TooLarge {
            path: Some(path.to_path_buf()),
            size,
            max: MAX_GENESIS_BYTES as u64,
        };
        let file = std::fs::File::open(path).map_err(io_err)?;
        let size = file.metadata().map_err(io_err)?.len();
        if size > MAX_GENESIS_BYTES as u64 {
            return Err(too_large(size));
        }
        // The file may grow after the size check, or be a pipe that reports size 0:
        // read one byte past the limit at most.
        let mut bytes = Vec::with_capacity(size as usize);
        file.take(MAX_GENESIS_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io_err)?;
        if bytes.len() > MAX_GENESIS_BYTES {
            return Err(too_large(bytes.len() as u64));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            io_err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "not UTF-8 text (invalid byte at offset {}); a genesis file is JSON",
                    e.utf8_error().valid_up_to()
                ),
            ))
        })?;
        parse(&text, Some(path))
    }

    /// Writes the document to `path` as pretty JSON with a trailing newline,
    /// atomically: a temporary file in the same directory is written, synced and
    /// renamed over `path`, so readers see the old file or the new one, never a mix.
    pub fn save(&self, path: &Path) -> Result<()> {
        let io_err = |source| GenesisError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| io_err(e.into()))?;
        json.push(b'\n');
        write_atomically(path, &json).map_err(io_err)
    }
}

/// Parses `text`, naming `path` in errors.
fn parse(text: &str, path: Option<&Path>) -> Result<GenesisDoc> {
    if text.len() > MAX_GENESIS_BYTES {
        return Err(GenesisError::TooLarge {
            path: path.map(Path::to_path_buf),
            size: text.len() as u64,
            max: MAX_GENESIS_BYTES as u64,
        });
    }
    let parse_error = |field: String, err: serde_json::Error| {
        let (line, column) = (err.line(), err.column());
        let full = err.to_string();
        // serde_json appends the position; it is reported in its own fields.
        let suffix = format!(" at line {line} column {column}");
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
        GenesisError::Parse {
            path: path.map(Path::to_path_buf),
            field,
            line,
            column,
            message,
        }
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let doc: GenesisDoc = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let field = field_name(&err.path().to_string());
        parse_error(field, err.into_inner())
    })?;
    // Anything after the document (a second object, stray text) is an error too.
    de.end()
        .map_err(|err| parse_error("(top level)".to_string(), err))?;
    Ok(doc)
}

/// serde_path_to_error shows the document root as `.`.
fn field_name(path: &str) -> String {
    if path.is_empty() || path == "." {
        "(top level)".to_string()
    } else {
        path.to_string()
    }
}

/// RFC 3339 UTC text for `time`, truncated to the millisecond and clamped to the
/// range humantime can show (1970 to 9999).
pub(crate) fn format_genesis_time(time: SystemTime) -> String {
    // Last millisecond of 9999-12-31.
    const MAX_MS: u128 = 253_402_300_799_999;
    let ms = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
        .min(MAX_MS) as u64;
    let time = UNIX_EPOCH + Duration::from_millis(ms);
    if ms.is_multiple_of(1000) {
        humantime::format_rfc3339_seconds(time).to_string()
    } else {
        humantime::format_rfc3339_millis(time).to_string()
    }
}

/// Writes `bytes` to a new temporary file next to `path`, syncs it, renames it over
/// `path` and syncs the directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let file_name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path does not name a file",
        )
    })?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".{}.{nanos}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);

    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    // Make the rename itself durable. Directories cannot be opened this way on every
    // platform; only Unix needs it.
    #[cfg(unix)]
    std::fs::File::open(&dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_keeps_milliseconds_and_omits_zero_fraction() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_392_000_000);
        assert_eq!(GenesisDoc::new("x", t).genesis_time, "2026-11-23T00:00:00Z");
        let t = t + Duration::from_nanos(123_456_789);
        assert_eq!(
            GenesisDoc::new("x", t).genesis_time,
            "2026-11-23T00:00:00.123Z"
        );
    }

    #[test]
    fn new_never_panics_on_out_of_range_times() {
        let before = UNIX_EPOCH - Duration::from_secs(10);
        assert_eq!(
            GenesisDoc::new("x", before).genesis_time,
            "1970-01-01T00:00:00Z"
        );
        let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert_eq!(
            GenesisDoc::new("x", far).genesis_time,
            "9999-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn params_default_when_absent() {
        let doc =
            GenesisDoc::from_json(r#"{"chain_name":"c","genesis_time":"2026-11-23T00:00:00Z"}"#)
                .unwrap();
        assert_eq!(doc.params, Params::default());
        assert_eq!(doc.params.max_tx_bytes, limits::MAX_TX_BYTES as u64);
        let doc = GenesisDoc::from_json(
            r#"{"chain_name":"c","genesis_time":"2026-11-23T00:00:00Z","params":{"heartbeat_ms":7}}"#,
        )
        .unwrap();
        assert_eq!(doc.params.heartbeat_ms, 7);
        assert_eq!(doc.params.round_timeout_ms, 1_000);
    }
}
