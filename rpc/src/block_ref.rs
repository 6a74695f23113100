//! [`BlockRef`]: a block named by height (a JSON number) or by id (a hex string).

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hex::HexHash;

/// A block named by height or by id: the `at` parameter of `chain_getBlock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockRef {
    /// The committed block at this height.
    Height(u64),
    /// The committed block with this id.
    Id(HexHash),
}

impl From<u64> for BlockRef {
    fn from(height: u64) -> Self {
        BlockRef::Height(height)
    }
}

impl From<HexHash> for BlockRef {
    fn from(id: HexHash) -> Self {
        BlockRef::Id(id)
    }
}

impl Serialize for BlockRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            BlockRef::Height(height) => serializer.serialize_u64(*height),
            BlockRef::Id(id) => id.serialize(serializer),
        }
    }
}

struct BlockRefVisitor;

impl Visitor<'_> for BlockRefVisitor {
    type Value = BlockRef;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a block height (non-negative integer) or a block id (0x and 64 hex digits)")
    }

    fn visit_u64<E: de::Error>(self, height: u64) -> Result<BlockRef, E> {
        Ok(BlockRef::Height(height))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<BlockRef, E> {
        u64::try_from(value)
            .map(BlockRef::Height)
            .map_err(|_| E::custom(format!("block height {value} is negative")))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<BlockRef, E> {
        text.parse::<HexHash>()
            .map(BlockRef::Id)
            .map_err(|e| E::custom(format!("block id: {e}")))
    }
}

impl<'de> Deserialize<'de> for BlockRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BlockRefVisitor)
    }
}

impl JsonSchema for BlockRef {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("BlockRef")
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let id = generator.subschema_for::<HexHash>();
        json_schema!({
            "description": "A block height or a block id.",
            "oneOf": [
                { "type": "integer", "minimum": 0, "description": "A block height." },
                id,
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_heights_and_ids_and_explains_failures() {
        assert_eq!(
            serde_json::from_str::<BlockRef>("7").unwrap(),
            BlockRef::Height(7)
        );
        let id = format!("\"0x{}\"", "ab".repeat(32));
        let parsed = serde_json::from_str::<BlockRef>(&id).unwrap();
        assert!(matches!(parsed, BlockRef::Id(_)));
        assert_eq!(serde_json::to_string(&parsed).unwrap(), id);

        let negative = serde_json::from_str::<BlockRef>("-1").unwrap_err();
        assert!(negative.to_string().contains("negative"), "{negative}");
        let short = serde_json::from_str::<BlockRef>("\"0xab\"").unwrap_err();
        assert!(short.to_string().contains("32 bytes"), "{short}");
        let wrong = serde_json::from_str::<BlockRef>("true").unwrap_err();
        assert!(wrong.to_string().contains("block height"), "{wrong}");
    }
}
