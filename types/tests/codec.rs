//! Property tests for the wire codec: every type round-trips, and no input, however
//! random or truncated, makes a decoder panic or accept trailing bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_types::arbitrary as arb;
use cairn_types::*;
use proptest::prelude::*;

/// Round trip, canonical re-encoding, truncation and trailing-byte checks for one value.
fn check_value<T: Wire + PartialEq + std::fmt::Debug>(value: &T) -> Result<(), TestCaseError> {
    let bytes = value.to_wire();
    let decoded = T::from_wire(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&decoded, value);
    prop_assert_eq!(decoded.to_wire(), bytes.clone());

    let mut longer = bytes.clone();
    longer.push(0);
    prop_assert!(
        T::from_wire(&longer).is_err(),
        "trailing byte accepted for {}",
        T::NAME
    );

    // Every strict prefix must fail (cheaply: at most 64 cut points per value).
    let step = (bytes.len() / 64).max(1);
    for cut in (0..bytes.len()).step_by(step) {
        prop_assert!(
            T::from_wire(&bytes[..cut]).is_err(),
            "{} prefix {} accepted",
            T::NAME,
            cut
        );
    }
    Ok(())
}

/// Random bytes: the decoder must return, and anything it accepts must re-encode to
/// exactly the same bytes (one encoding per value).
fn check_random<T: Wire>(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(value) = T::from_wire(bytes) {
        prop_assert_eq!(
            value.to_wire(),
            bytes.to_vec(),
            "{} accepted a non-canonical encoding",
            T::NAME
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn transaction_round_trips(v in arb::transaction()) { check_value(&v)?; }
    #[test]
    fn vote_round_trips(v in arb::vote()) { check_value(&v)?; }
    #[test]
    fn quorum_cert_round_trips(v in arb::quorum_cert()) { check_value(&v)?; }
    #[test]
    fn timeout_round_trips(v in arb::timeout()) { check_value(&v)?; }
    #[test]
    fn timeout_cert_round_trips(v in arb::timeout_cert()) { check_value(&v)?; }
    #[test]
    fn block_header_round_trips(v in arb::block_header()) { check_value(&v)?; }
    #[test]
    fn block_round_trips(v in arb::block()) { check_value(&v)?; }
    #[test]
    fn proposal_round_trips(v in arb::proposal()) { check_value(&v)?; }
    #[test]
    fn receipt_round_trips(v in arb::receipt()) { check_value(&v)?; }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check_random::<Transaction>(&bytes)?;
        check_random::<Vote>(&bytes)?;
        check_random::<QuorumCert>(&bytes)?;
        check_random::<Timeout>(&bytes)?;
        check_random::<TimeoutCert>(&bytes)?;
        check_random::<BlockHeader>(&bytes)?;
        check_random::<Block>(&bytes)?;
        check_random::<Proposal>(&bytes)?;
        check_random::<Receipt>(&bytes)?;
    }

    /// Random mutations of valid encodings reach much deeper into the decoders than
    /// uniformly random bytes.
    #[test]
    fn mutated_encodings_never_panic(
        tx in arb::transaction(),
        block in arb::block(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        for mut bytes in [tx.to_wire(), block.to_wire()] {
            for (at, value) in &flips {
                let i = at.index(bytes.len());
                bytes[i] = *value;
            }
            check_random::<Transaction>(&bytes)?;
            check_random::<Block>(&bytes)?;
            check_random::<Proposal>(&bytes)?;
        }
    }
}

#[test]
fn oversized_input_is_refused_before_decoding() {
    let bytes = vec![0u8; Transaction::MAX_BYTES + 1];
    let err = Transaction::from_wire(&bytes).unwrap_err().to_string();
    assert!(err.contains("exceeds the limit"), "{err}");
}

#[test]
fn over_long_key_is_refused() {
    use parity_scale_codec::Encode;
    // A Put whose key is one byte over the limit, encoded by hand as a plain Vec.
    let tx = proptest::strategy::ValueTree::current(
        &arb::transaction()
            .new_tree(&mut proptest::test_runner::TestRunner::deterministic())
            .unwrap(),
    );
    let mut bytes = tx.payload.chain_id.encode();
    bytes.extend(tx.payload.sender.encode());
    bytes.extend(0u64.encode());
    bytes.push(1); // Op::Delete
    bytes.extend(vec![7u8; limits::MAX_KEY_BYTES + 1].encode());
    bytes.extend([0u8; 64]);
    let err = Transaction::from_wire(&bytes).unwrap_err().to_string();
    assert!(err.contains("bound"), "{err}");
}

#[test]
fn unknown_enum_tag_is_refused() {
    let tx = proptest::strategy::ValueTree::current(
        &arb::transaction()
            .new_tree(&mut proptest::test_runner::TestRunner::deterministic())
            .unwrap(),
    );
    let mut bytes = tx.to_wire();
    // The op tag follows chain id (32), sender (32) and nonce (8).
    bytes[72] = 9;
    assert!(Transaction::from_wire(&bytes).is_err());
}
