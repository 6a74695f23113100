//! Command-line values: block references, transaction hashes, account keys. Hashes and
//! keys are 64 hex digits, with or without `0x`.

use cairn_crypto::{Hash, PublicKey};
use cairn_rpc::HexHash;
use cairn_rpc::types::BlockRef;

use crate::{ExplorerError, Result};

/// A block height (decimal) or block id (hex; 64 decimal digits are read as an id).
pub fn block_ref(text: &str) -> Result<BlockRef> {
    if !text.is_empty() && text.len() != 64 && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u64>()
            .map(BlockRef::Height)
            .map_err(|e| bad("block", text, e.to_string()));
    }
    text.parse::<Hash>()
        .map(|id| BlockRef::Id(HexHash(id)))
        .map_err(|e| {
            bad(
                "block",
                text,
                format!("neither a height nor a block id (64 hex digits): {e}"),
            )
        })
}

/// A transaction hash.
pub fn tx_hash(text: &str) -> Result<Hash> {
    text.parse::<Hash>()
        .map_err(|e| bad("transaction hash", text, e.to_string()))
}

/// An account's public key.
pub fn account_key(text: &str) -> Result<PublicKey> {
    text.parse::<PublicKey>()
        .map_err(|e| bad("account key", text, e.to_string()))
}

fn bad(what: &'static str, value: &str, problem: String) -> ExplorerError {
    ExplorerError::BadArgument {
        what,
        value: value.to_string(),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_heights_or_ids() {
        assert_eq!(block_ref("42").unwrap(), BlockRef::Height(42));
        let id = Hash::digest(b"block");
        assert_eq!(
            block_ref(&id.to_string()).unwrap(),
            BlockRef::Id(HexHash(id))
        );
        assert_eq!(
            block_ref(&format!("0x{id}")).unwrap(),
            BlockRef::Id(HexHash(id))
        );
        let err = block_ref("12x").unwrap_err().to_string();
        assert!(err.contains("neither a height nor a block id"), "{err}");
        assert!(block_ref("99999999999999999999999").is_err());
    }

    #[test]
    fn hashes_and_keys_are_checked() {
        assert!(tx_hash("0xabcd").is_err());
        let key = cairn_crypto::SecretKey::from_seed(&[5; 32]).public();
        assert_eq!(account_key(&format!("0x{key}")).unwrap(), key);
        let err = account_key(&"00".repeat(32)).unwrap_err().to_string();
        assert!(err.starts_with("account key"), "{err}");
    }
}
