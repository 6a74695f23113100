//! Binary values in JSON: `0x`-prefixed lowercase hex strings.
//!
//! [`Hex`] carries any byte string (state keys and values, SCALE encodings),
//! [`HexHash`] exactly 32 bytes (block ids, transaction hashes, chain ids), and
//! [`HexKey`] an ed25519 public key. Parsing refuses a missing `0x`, an odd number of
//! digits, non-hex characters and (for the fixed-size types) the wrong length, with a
//! message that says which; output is always lowercase.

use std::borrow::Cow;
use std::fmt;

use cairn_crypto::{Hash, PublicKey};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A byte string shown as `0x` followed by lowercase hex (`0x` alone is empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Hex(pub Vec<u8>);

/// A 32-byte hash shown as `0x` followed by 64 lowercase hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HexHash(pub Hash);

/// An ed25519 public key shown as `0x` followed by 64 lowercase hex digits. Parsing
/// also refuses 32 bytes that are not a usable key (not a curve point, small order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HexKey(pub PublicKey);

/// Decodes `0x`-prefixed hex, explaining exactly what is wrong with a bad string.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let Some(digits) = text.strip_prefix("0x") else {
        return Err(format!("{} must start with 0x", shorten(text)));
    };
    if digits.len() % 2 != 0 {
        return Err(format!(
            "{} has an odd number of hex digits ({}); every byte needs two",
            shorten(text),
            digits.len()
        ));
    }
    if let Some((position, bad)) = digits.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "{} has the non-hex character {bad:?} at position {}",
            shorten(text),
            position + 2
        ));
    }
    hex::decode(digits).map_err(|e| format!("{}: {e}", shorten(text)))
}

/// Decodes `0x`-prefixed hex of exactly 32 bytes.
pub fn parse_hex32(text: &str, what: &str) -> Result<[u8; 32], String> {
    let bytes = parse_hex(text)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        format!(
            "{what} must be 32 bytes (0x and 64 hex digits), got {} bytes",
            bytes.len()
        )
    })
}

/// `0x` followed by the lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// The start of an overlong input, for error messages.
fn shorten(text: &str) -> String {
    const SHOWN: usize = 24;
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{:?}…", &text[..end]),
        None => format!("{text:?}"),
    }
}

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_hex(&self.0))
    }
}

impl fmt::Display for HexHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_hex(self.0.as_bytes()))
    }
}

impl fmt::Display for HexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_hex(self.0.as_bytes()))
    }
}

impl std::str::FromStr for Hex {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_hex(s).map(Hex)
    }
}

impl std::str::FromStr for HexHash {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_hex32(s, "a hash").map(|bytes| HexHash(Hash(bytes)))
    }
}

impl std::str::FromStr for HexKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bytes = parse_hex32(s, "a public key")?;
        PublicKey::try_from_bytes(bytes)
            .map(HexKey)
            .map_err(|e| e.to_string())
    }
}

impl From<Vec<u8>> for Hex {
    fn from(bytes: Vec<u8>) -> Self {
        Hex(bytes)
    }
}

impl From<Hash> for HexHash {
    fn from(hash: Hash) -> Self {
        HexHash(hash)
    }
}

impl From<PublicKey> for HexKey {
    fn from(key: PublicKey) -> Self {
        HexKey(key)
    }
}

/// Serde and JSON Schema for a hex newtype that has `Display` and `FromStr`.
macro_rules! hex_serde {
    ($name:ident, $schema_name:literal, $pattern:literal, $description:literal) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed($schema_name)
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "pattern": $pattern,
                    "description": $description,
                })
            }
        }
    };
}

hex_serde!(
    Hex,
    "Hex",
    "^0x([0-9a-f]{2})*$",
    "Bytes as 0x followed by lowercase hex, two digits per byte."
);
hex_serde!(
    HexHash,
    "HexHash",
    "^0x[0-9a-f]{64}$",
    "A 32-byte blake3 hash as 0x followed by 64 lowercase hex digits."
);
hex_serde!(
    HexKey,
    "HexKey",
    "^0x[0-9a-f]{64}$",
    "An ed25519 public key as 0x followed by 64 lowercase hex digits."
);

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_crypto::SecretKey;

    #[test]
    fn round_trips_through_json() {
        let bytes = Hex(vec![0, 0xab, 0xff]);
        let json = serde_json::to_string(&bytes).unwrap();
        assert_eq!(json, "\"0x00abff\"");
        assert_eq!(serde_json::from_str::<Hex>(&json).unwrap(), bytes);
        assert_eq!(serde_json::from_str::<Hex>("\"0x\"").unwrap(), Hex(vec![]));

        let hash = HexHash(Hash::digest(b"x"));
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(json.len(), 2 + 2 + 64);
        assert_eq!(serde_json::from_str::<HexHash>(&json).unwrap(), hash);

        let key = HexKey(SecretKey::from_seed(&[7; 32]).public());
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(serde_json::from_str::<HexKey>(&json).unwrap(), key);
    }

    #[test]
    fn refuses_bad_hex_with_a_clear_message() {
        let err = |text: &str| parse_hex(text).unwrap_err();
        assert!(
            err("abcd").contains("must start with 0x"),
            "{}",
            err("abcd")
        );
        assert!(err("0xabc").contains("odd number"), "{}", err("0xabc"));
        assert!(
            err("0xzz").contains("non-hex character 'z'"),
            "{}",
            err("0xzz")
        );
        let long = format!("0x{}", "0".repeat(200));
        assert!(err(&format!("{long}q")).contains('…'));
    }

    #[test]
    fn fixed_size_types_check_the_length_and_the_key() {
        let short = serde_json::from_str::<HexHash>("\"0xabcd\"").unwrap_err();
        assert!(short.to_string().contains("got 2 bytes"), "{short}");
        let unprefixed = format!("\"{}\"", "00".repeat(32));
        let err = serde_json::from_str::<HexHash>(&unprefixed).unwrap_err();
        assert!(err.to_string().contains("0x"), "{err}");
        // The all-zero point is of small order: not a usable public key.
        let zero_key = format!("\"0x{}\"", "00".repeat(32));
        assert!(serde_json::from_str::<HexKey>(&zero_key).is_err());
    }

    #[test]
    fn uppercase_input_is_accepted_but_output_is_lowercase() {
        let parsed: Hex = serde_json::from_str("\"0xABcd\"").unwrap();
        assert_eq!(parsed.to_string(), "0xabcd");
    }
}
