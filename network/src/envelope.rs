//! The frame every message and request travels in: SCALE `Envelope`.

use parity_scale_codec::{Decode, Encode};

/// The only envelope version this build speaks.
pub const ENVELOPE_VERSION: u8 = 1;

/// A framed message: `version` (always [`ENVELOPE_VERSION`]), the node's message
/// `kind`, and the opaque payload the node SCALE-encoded.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Envelope {
    /// Format version; anything but [`ENVELOPE_VERSION`] is dropped.
    pub version: u8,
    /// The node's message kind (proposal, vote, …); opaque to the network.
    pub kind: u8,
    /// The node's payload bytes.
    pub payload: Vec<u8>,
}

/// Why received bytes were not a usable envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvelopeError {
    /// The bytes are not one SCALE `Envelope`.
    Malformed,
    /// The version byte is not [`ENVELOPE_VERSION`].
    UnknownVersion(u8),
}

impl Envelope {
    /// Frames `payload` as a current-version envelope of `kind`.
    pub fn new(kind: u8, payload: Vec<u8>) -> Envelope {
        Envelope {
            version: ENVELOPE_VERSION,
            kind,
            payload,
        }
    }

    /// Decodes exactly one envelope from `bytes` (trailing bytes are an error) and
    /// checks its version. Never panics; the frame size is capped before this runs.
    pub fn decode_checked(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
        let mut input = bytes;
        let env = Envelope::decode(&mut input).map_err(|_| EnvelopeError::Malformed)?;
        if !input.is_empty() {
            return Err(EnvelopeError::Malformed);
        }
        if env.version != ENVELOPE_VERSION {
            return Err(EnvelopeError::UnknownVersion(env.version));
        }
        Ok(env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let env = Envelope::new(7, vec![1, 2, 3]);
        assert_eq!(Envelope::decode_checked(&env.encode()), Ok(env));
    }

    #[test]
    fn unknown_version_rejected() {
        let mut env = Envelope::new(7, vec![1]);
        env.version = 2;
        assert_eq!(
            Envelope::decode_checked(&env.encode()),
            Err(EnvelopeError::UnknownVersion(2))
        );
    }

    #[test]
    fn garbage_and_trailing_bytes_rejected() {
        assert_eq!(Envelope::decode_checked(&[]), Err(EnvelopeError::Malformed));
        assert_eq!(
            Envelope::decode_checked(&[1, 0, 0xff, 0xff, 0xff, 0xff]),
            Err(EnvelopeError::Malformed)
        );
        let mut bytes = Envelope::new(1, vec![]).encode();
        bytes.push(0);
        assert_eq!(
            Envelope::decode_checked(&bytes),
            Err(EnvelopeError::Malformed)
        );
    }

    #[test]
    fn every_short_input_is_handled() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let _ = Envelope::decode_checked(&[1, a, b]);
                let _ = Envelope::decode_checked(&[a, b]);
            }
        }
    }
}
