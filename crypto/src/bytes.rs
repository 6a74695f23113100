//! A macro for fixed-size byte newtypes shown as hex (hashes, keys, signatures).

/// Implements hex `Display`/`Debug`/`FromStr`, serde as a hex string, and SCALE as raw
/// bytes for a `struct Name([u8; N])` newtype.
macro_rules! hex_newtype {
    ($name:ident, $len:expr, $what:literal) => {
        impl $name {
            /// Length of the value in bytes.
            pub const LEN: usize = $len;

            /// Parses the value from hex (64 or 128 characters, optional `0x` prefix).
            pub fn from_hex(s: &str) -> $crate::Result<Self> {
                let bytes = $crate::bytes::decode_hex::<$len>(s, $what)?;
                Self::try_from_bytes(bytes)
            }

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Lowercase hex of the raw bytes, without prefix.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // Short form: enough to recognise a value in logs.
                write!(f, "{}({}…)", stringify!($name), &hex::encode(&self.0[..4]))
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::CryptoError;
            fn from_str(s: &str) -> $crate::Result<Self> {
                Self::from_hex(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&hex::encode(self.0))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::from_hex(&s).map_err(serde::de::Error::custom)
            }
        }

        impl parity_scale_codec::Encode for $name {
            fn size_hint(&self) -> usize {
                $len
            }
            fn encode_to<W: parity_scale_codec::Output + ?Sized>(&self, dest: &mut W) {
                dest.write(&self.0)
            }
        }

        impl parity_scale_codec::Decode for $name {
            fn decode<I: parity_scale_codec::Input>(
                input: &mut I,
            ) -> Result<Self, parity_scale_codec::Error> {
                let mut bytes = [0u8; $len];
                input.read(&mut bytes)?;
                Self::try_from_bytes(bytes).map_err(|_| concat!("invalid ", $what).into())
            }
        }
    };
}

pub(crate) use hex_newtype;

/// Decodes exactly `N` bytes of hex, accepting an optional `0x` prefix.
pub(crate) fn decode_hex<const N: usize>(s: &str, what: &'static str) -> crate::Result<[u8; N]> {
    let digits = s.trim().strip_prefix("0x").unwrap_or(s.trim());
    let invalid = |problem: String| crate::CryptoError::InvalidHex {
        what,
        expected: N,
        problem,
    };
    if digits.len() != N * 2 {
        return Err(invalid(format!("got {} characters", digits.len())));
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out).map_err(|e| invalid(e.to_string()))?;
    Ok(out)
}
