//! Strict, bounded SCALE decoding.
//!
//! Bytes from the network or RPC are decoded only through [`Wire::from_wire`]: the
//! input must not exceed the type's size limit, every vector's length prefix is checked
//! against its bound before anything is allocated, and trailing bytes are an error.
//! SCALE itself refuses non-canonical compact integers, booleans other than 0/1 and
//! unknown enum tags, so every accepted input re-encodes to the same bytes.

use parity_scale_codec::{
    Compact, Decode, DecodeLimit, Encode, Error as ScaleError, Input, Output,
};

use crate::{Result, TypesError};

/// Nesting depth allowed while decoding; the types nest a few levels at most.
const MAX_DEPTH: u32 = 32;

/// Elements reserved up front when decoding a vector; the rest grow as input is read,
/// so a large length prefix on short input allocates nothing much.
const PREALLOC_LIMIT: usize = 1024;

/// A type that crosses the wire: SCALE-encoded, decoded strictly under a size limit.
pub trait Wire: Encode + Decode + Sized {
    /// Largest encoding accepted, in bytes.
    const MAX_BYTES: usize;
    /// Name used in error messages.
    const NAME: &'static str;

    /// The SCALE encoding.
    fn to_wire(&self) -> Vec<u8> {
        self.encode()
    }

    /// Decodes `bytes`, which must be exactly one value within the limits.
    fn from_wire(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > Self::MAX_BYTES {
            return Err(TypesError::TooLarge {
                what: Self::NAME,
                len: bytes.len(),
                max: Self::MAX_BYTES,
            });
        }
        let mut input = bytes;
        Self::decode_all_with_depth_limit(MAX_DEPTH, &mut input).map_err(|e| TypesError::Decode {
            what: Self::NAME,
            reason: e.to_string(),
        })
    }
}

/// A vector of at most `N` items, encoded exactly like `Vec<T>`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BoundedVec<T, const N: usize>(Vec<T>);

impl<T, const N: usize> BoundedVec<T, N> {
    /// Wraps `items`, or fails if there are more than `N`.
    pub fn new(items: Vec<T>) -> Result<Self> {
        if items.len() > N {
            return Err(TypesError::TooMany {
                len: items.len(),
                max: N,
            });
        }
        Ok(BoundedVec(items))
    }

    /// The items.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    /// Unwraps into the inner vector.
    pub fn into_inner(self) -> Vec<T> {
        self.0
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if there are no items.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates over the items.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }
}

impl<T, const N: usize> Default for BoundedVec<T, N> {
    fn default() -> Self {
        BoundedVec(Vec::new())
    }
}

impl<T, const N: usize> std::ops::Deref for BoundedVec<T, N> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: std::fmt::Debug, const N: usize> std::fmt::Debug for BoundedVec<T, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: Encode, const N: usize> Encode for BoundedVec<T, N> {
    fn size_hint(&self) -> usize {
        self.0.size_hint()
    }
    fn encode_to<W: Output + ?Sized>(&self, dest: &mut W) {
        self.0.encode_to(dest)
    }
}

impl<T: Decode, const N: usize> Decode for BoundedVec<T, N> {
    fn decode<I: Input>(input: &mut I) -> std::result::Result<Self, ScaleError> {
        let len = decode_len::<I, N>(input)?;
        let mut items = Vec::with_capacity(len.min(PREALLOC_LIMIT));
        for _ in 0..len {
            items.push(T::decode(input)?);
        }
        Ok(BoundedVec(items))
    }
}

/// A byte string of at most `N` bytes, encoded exactly like `Vec<u8>` (compact length,
/// then the bytes).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct BoundedBytes<const N: usize>(Vec<u8>);

impl<const N: usize> BoundedBytes<N> {
    /// Wraps `bytes`, or fails if there are more than `N`.
    pub fn new(bytes: Vec<u8>) -> Result<Self> {
        if bytes.len() > N {
            return Err(TypesError::TooMany {
                len: bytes.len(),
                max: N,
            });
        }
        Ok(BoundedBytes(bytes))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Unwraps into the inner vector.
    pub fn into_inner(self) -> Vec<u8> {
        self.0
    }
}

impl<const N: usize> std::fmt::Debug for BoundedBytes<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(text) if self.0.len() <= 64 => write!(f, "{text:?}"),
            _ => write!(f, "0x{}", hex::encode(&self.0[..self.0.len().min(32)])),
        }
    }
}

impl<const N: usize> Encode for BoundedBytes<N> {
    fn size_hint(&self) -> usize {
        self.0.size_hint()
    }
    fn encode_to<W: Output + ?Sized>(&self, dest: &mut W) {
        self.0.encode_to(dest)
    }
}

impl<const N: usize> Decode for BoundedBytes<N> {
    fn decode<I: Input>(input: &mut I) -> std::result::Result<Self, ScaleError> {
        let len = decode_len::<I, N>(input)?;
        if input
            .remaining_len()?
            .is_some_and(|remaining| remaining < len)
        {
            return Err("not enough input for the byte string's length".into());
        }
        let mut bytes = vec![0u8; len];
        input.read(&mut bytes)?;
        Ok(BoundedBytes(bytes))
    }
}

/// Reads a compact length prefix and checks it against the bound `N`.
fn decode_len<I: Input, const N: usize>(input: &mut I) -> std::result::Result<usize, ScaleError> {
    let len = Compact::<u32>::decode(input)?.0 as usize;
    if len > N {
        return Err("length prefix exceeds the bound for this field".into());
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_vec_encodes_like_vec() {
        let v = BoundedVec::<u32, 4>::new(vec![1, 2, 3]).unwrap();
        assert_eq!(v.encode(), vec![1u32, 2, 3].encode());
        let b = BoundedBytes::<4>::new(b"abc".to_vec()).unwrap();
        assert_eq!(b.encode(), b"abc".to_vec().encode());
    }

    #[test]
    fn bounds_are_enforced_both_ways() {
        assert!(BoundedVec::<u8, 2>::new(vec![1, 2, 3]).is_err());
        assert!(BoundedBytes::<2>::new(vec![1, 2, 3]).is_err());
        let too_long = vec![9u8; 3].encode();
        assert!(BoundedBytes::<2>::decode(&mut &too_long[..]).is_err());
        assert!(BoundedVec::<u8, 2>::decode(&mut &too_long[..]).is_err());
    }

    #[test]
    fn huge_length_prefix_on_short_input_fails_without_allocating() {
        // Compact u32 with four-byte mode: length 2^30 - 1, followed by nothing.
        let bytes = [0xfe, 0xff, 0xff, 0xff];
        assert!(BoundedBytes::<{ u32::MAX as usize }>::decode(&mut &bytes[..]).is_err());
        assert!(BoundedVec::<u64, { u32::MAX as usize }>::decode(&mut &bytes[..]).is_err());
    }
}
