//! The on-disk layout: column families, key encodings and metadata keys.
//!
//! Heights are encoded big-endian so that RocksDB's byte order is height order, and
//! positions in a block as big-endian `u32`. Values are SCALE encodings of the
//! `cairn_types` structures. `docs/STORAGE.md` describes the same layout for readers
//! without the code.

use cairn_crypto::Hash;
use cairn_types::Height;

/// Version of this layout. A store written with another version is refused on open.
pub const SCHEMA_VERSION: u32 = 1;

/// `meta`: schema version, chain id, committed head, consensus safety state.
pub const CF_META: &str = "meta";
/// `headers`: block id (32 bytes) → `SCALE(BlockHeader)`.
pub const CF_HEADERS: &str = "headers";
/// `heights`: height (u64 BE) → block id (32 bytes).
pub const CF_HEIGHTS: &str = "heights";
/// `txs`: height (u64 BE) ‖ index (u32 BE) → `SCALE(Transaction)`.
pub const CF_TXS: &str = "txs";
/// `tx_index`: tx hash (32) ‖ height (u64 BE) ‖ index (u32 BE) → empty.
pub const CF_TX_INDEX: &str = "tx_index";
/// `receipts`: height (u64 BE) ‖ index (u32 BE) → `SCALE(Receipt)`.
pub const CF_RECEIPTS: &str = "receipts";
/// `commits`: height (u64 BE) → `SCALE(QuorumCert)` proving that height committed.
pub const CF_COMMITS: &str = "commits";
/// `state`: application key (≤ 256 bytes) → value (≤ 64 KiB), raw bytes.
pub const CF_STATE: &str = "state";
/// `accounts`: public key (32 bytes) → `SCALE(AccountState)`.
pub const CF_ACCOUNTS: &str = "accounts";

/// `results`: height (u64 BE) → the 32-byte state hash after executing that block
/// (height 0: the genesis state).
pub const CF_RESULTS: &str = "results";

/// `pending`: height (u64 BE) ‖ block id (32) → `SCALE(Block)`: blocks consensus
/// persisted before voting for them that are not committed yet.
pub const CF_PENDING: &str = "pending";

/// `admitted`: tx hash (32) → `SCALE(Transaction)`: transactions this node
/// acknowledged to a client (`tx_submit`) that were not yet seen to leave its mempool.
/// A restart admits them again, so an acknowledgement outlives a crash.
pub const CF_ADMITTED: &str = "admitted";

/// `batches`: batch digest (32) → `SCALE(Batch)`: batches of transactions this node
/// holds for consensus (its own and its peers'), until committed or expired.
pub const CF_BATCHES: &str = "batches";

/// Every column family, in the order they are opened.
pub const COLUMN_FAMILIES: [&str; 13] = [
    CF_META,
    CF_HEADERS,
    CF_HEIGHTS,
    CF_TXS,
    CF_TX_INDEX,
    CF_RECEIPTS,
    CF_COMMITS,
    CF_STATE,
    CF_ACCOUNTS,
    CF_RESULTS,
    CF_PENDING,
    CF_ADMITTED,
    CF_BATCHES,
];

/// Meta key of the schema version: `u32` LE.
pub const META_SCHEMA_VERSION: &[u8] = b"schema_version";
/// Meta key of the chain id (genesis hash): 32 bytes.
pub const META_CHAIN_ID: &[u8] = b"chain_id";
/// Meta key of the committed head: height (u64 LE) ‖ block id (32). Absent before the
/// first commit, when the head is the implicit genesis block.
pub const META_HEAD: &[u8] = b"head";
/// Meta key of the consensus safety state: opaque bytes owned by consensus.
pub const META_SAFETY: &[u8] = b"safety_state";

/// Key of a pending block: height (u64 BE) ‖ block id.
pub fn pending_key(height: Height, id: &Hash) -> [u8; 40] {
    let mut key = [0u8; 40];
    key[..8].copy_from_slice(&height.to_be_bytes());
    key[8..].copy_from_slice(id.as_bytes());
    key
}

/// Key of a height: 8 bytes big-endian.
pub fn height_key(height: Height) -> [u8; 8] {
    height.to_be_bytes()
}

/// Key of a transaction's position: height (BE) ‖ index (BE).
pub fn position_key(height: Height, index: u32) -> [u8; 12] {
    let mut key = [0u8; 12];
    key[..8].copy_from_slice(&height.to_be_bytes());
    key[8..].copy_from_slice(&index.to_be_bytes());
    key
}

/// Key of a tx-index entry: tx hash ‖ height (BE) ‖ index (BE). A transaction included
/// more than once (a replay, rejected by its nonce) has one entry per occurrence; the
/// earliest sorts first.
pub fn tx_index_key(hash: &Hash, height: Height, index: u32) -> [u8; 44] {
    let mut key = [0u8; 44];
    key[..32].copy_from_slice(hash.as_bytes());
    key[32..].copy_from_slice(&position_key(height, index));
    key
}

/// Splits a position key back into (height, index).
pub fn parse_position_key(key: &[u8]) -> Option<(Height, u32)> {
    let height = u64::from_be_bytes(key.get(..8)?.try_into().ok()?);
    let index = u32::from_be_bytes(key.get(8..12)?.try_into().ok()?);
    (key.len() == 12).then_some((height, index))
}

/// Parses an 8-byte height key.
pub fn parse_height_key(key: &[u8]) -> Option<Height> {
    Some(u64::from_be_bytes(key.try_into().ok()?))
}

/// A 32-byte hash from stored bytes.
pub fn parse_hash(bytes: &[u8]) -> Option<Hash> {
    Some(Hash(bytes.try_into().ok()?))
}

/// Encodes the head record.
pub fn encode_head(height: Height, id: &Hash) -> [u8; 40] {
    let mut value = [0u8; 40];
    value[..8].copy_from_slice(&height.to_le_bytes());
    value[8..].copy_from_slice(id.as_bytes());
    value
}

/// Decodes the head record.
pub fn decode_head(value: &[u8]) -> Option<(Height, Hash)> {
    if value.len() != 40 {
        return None;
    }
    let height = u64::from_le_bytes(value[..8].try_into().ok()?);
    Some((height, parse_hash(&value[8..])?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_height_then_index() {
        let keys = [
            position_key(1, 9),
            position_key(2, 0),
            position_key(2, 1),
            position_key(256, 0),
        ];
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        assert!(height_key(255) < height_key(256));
    }

    #[test]
    fn keys_round_trip() {
        assert_eq!(parse_position_key(&position_key(7, 3)), Some((7, 3)));
        assert_eq!(parse_position_key(&[0; 11]), None);
        assert_eq!(parse_height_key(&height_key(42)), Some(42));
        let id = Hash::digest(b"x");
        assert_eq!(decode_head(&encode_head(5, &id)), Some((5, id)));
        assert_eq!(decode_head(&[0; 39]), None);
        let key = tx_index_key(&id, 5, 2);
        assert_eq!(&key[..32], id.as_bytes());
        assert_eq!(parse_position_key(&key[32..]), Some((5, 2)));
    }
}
