//! Proptest strategies for every wire type, shared by property tests and fuzz targets
//! (enable the `arbitrary` feature outside this crate's tests).
//!
//! Values are structurally valid (they encode and decode) but signatures are random,
//! so they do not verify.

use cairn_crypto::{Hash, PublicKey, SecretKey, Signature};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::*;

/// Any hash.
pub fn hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

/// A valid public key (from a random seed).
pub fn public_key() -> impl Strategy<Value = PublicKey> {
    any::<[u8; 32]>().prop_map(|seed| SecretKey::from_seed(&seed).public())
}

/// 64 random bytes as a signature.
pub fn signature() -> impl Strategy<Value = Signature> {
    (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(a, b)| {
        let mut bytes = [0u8; 64];
        bytes[..32].copy_from_slice(&a);
        bytes[32..].copy_from_slice(&b);
        Signature(bytes)
    })
}

/// Any chain id.
pub fn chain_id() -> impl Strategy<Value = ChainId> {
    hash().prop_map(ChainId)
}

/// A validator id below 16.
pub fn validator_id() -> impl Strategy<Value = ValidatorId> {
    (0u16..16).prop_map(ValidatorId)
}

/// A byte string of at most `max` bytes (and at most 300, to keep tests fast).
pub fn bytes<const N: usize>() -> impl Strategy<Value = BoundedBytes<N>> {
    vec(any::<u8>(), 0..=N.min(300)).prop_map(|b| BoundedBytes::new(b).unwrap_or_default())
}

/// Any role.
pub fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Reader), Just(Role::Writer), Just(Role::Admin)]
}

/// Any operation.
pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (bytes(), bytes()).prop_map(|(key, value)| Op::Put { key, value }),
        bytes().prop_map(|key| Op::Delete { key }),
        (public_key(), any::<u64>()).prop_map(|(to, amount)| Op::Transfer { to, amount }),
        (public_key(), role()).prop_map(|(account, role)| Op::GrantRole { account, role }),
        public_key().prop_map(|account| Op::RevokeRole { account }),
    ]
}

/// A transaction with a random (invalid) signature.
pub fn transaction() -> impl Strategy<Value = Transaction> {
    (chain_id(), public_key(), any::<u64>(), op(), signature()).prop_map(
        |(chain_id, sender, nonce, op, signature)| Transaction {
            payload: TxPayload {
                chain_id,
                sender,
                nonce,
                op,
            },
            signature,
        },
    )
}

/// Any vote data.
pub fn vote_data() -> impl Strategy<Value = VoteData> {
    (hash(), any::<u64>(), any::<u64>(), hash(), any::<u64>()).prop_map(
        |(block_id, round, height, parent_id, parent_round)| VoteData {
            block_id,
            round,
            height,
            parent_id,
            parent_round,
        },
    )
}

/// Any vote.
pub fn vote() -> impl Strategy<Value = Vote> {
    (vote_data(), validator_id(), signature()).prop_map(|(data, voter, signature)| Vote {
        data,
        voter,
        signature,
    })
}

/// A quorum certificate with up to 7 signers.
pub fn quorum_cert() -> impl Strategy<Value = QuorumCert> {
    (vote_data(), vec((validator_id(), signature()), 0..7)).prop_map(|(data, sigs)| QuorumCert {
        data,
        signatures: BoundedVec::new(sigs).unwrap_or_default(),
    })
}

/// A timeout certificate with up to 7 entries.
pub fn timeout_cert() -> impl Strategy<Value = TimeoutCert> {
    let entry = (validator_id(), any::<u64>(), signature()).prop_map(
        |(signer, high_qc_round, signature)| TimeoutEntry {
            signer,
            high_qc_round,
            signature,
        },
    );
    (any::<u64>(), quorum_cert(), vec(entry, 0..7)).prop_map(|(round, high_qc, entries)| {
        TimeoutCert {
            round,
            high_qc: Box::new(high_qc),
            entries: BoundedVec::new(entries).unwrap_or_default(),
        }
    })
}

/// Any timeout, with or without a timeout certificate.
pub fn timeout() -> impl Strategy<Value = Timeout> {
    (
        any::<u64>(),
        quorum_cert(),
        proptest::option::of(timeout_cert()),
        validator_id(),
        signature(),
    )
        .prop_map(|(round, high_qc, last_tc, signer, signature)| Timeout {
            round,
            high_qc,
            last_tc,
            signer,
            signature,
        })
}

/// Any block header.
pub fn block_header() -> impl Strategy<Value = BlockHeader> {
    (
        (chain_id(), any::<u64>(), any::<u64>(), hash(), hash()),
        (
            any::<u64>(),
            hash(),
            validator_id(),
            any::<u64>(),
            quorum_cert(),
        ),
    )
        .prop_map(
            |(
                (chain_id, height, round, parent, payload_root),
                (state_height, state_root, proposer, timestamp_ms, justify),
            )| {
                BlockHeader {
                    chain_id,
                    height,
                    round,
                    parent,
                    payload_root,
                    state_height,
                    state_root,
                    proposer,
                    timestamp_ms,
                    justify,
                }
            },
        )
}

/// A block with up to 4 transactions (its payload root is not made to match).
pub fn block() -> impl Strategy<Value = Block> {
    (block_header(), vec(transaction(), 0..4)).prop_map(|(header, txs)| Block {
        header,
        txs: BoundedVec::new(txs).unwrap_or_default(),
    })
}

/// Any proposal.
pub fn proposal() -> impl Strategy<Value = Proposal> {
    (block(), proptest::option::of(timeout_cert()), signature()).prop_map(
        |(block, timeout_cert, signature)| Proposal {
            block,
            timeout_cert,
            signature,
        },
    )
}

/// Any reason to reject a transaction.
pub fn reject_reason() -> impl Strategy<Value = RejectReason> {
    prop_oneof![
        Just(RejectReason::UnknownSender),
        (any::<u64>(), any::<u64>())
            .prop_map(|(expected, got)| RejectReason::BadNonce { expected, got }),
        (proptest::option::of(role()), role())
            .prop_map(|(has, needs)| RejectReason::NotPermitted { has, needs }),
        (any::<u64>(), any::<u64>())
            .prop_map(|(balance, amount)| RejectReason::InsufficientBalance { balance, amount }),
        Just(RejectReason::BalanceOverflow),
        Just(RejectReason::BadSignature),
        Just(RejectReason::WrongChain),
        Just(RejectReason::LastAdmin),
    ]
}

/// Any receipt.
pub fn receipt() -> impl Strategy<Value = Receipt> {
    let outcome = prop_oneof![
        Just(Outcome::Applied),
        reject_reason().prop_map(Outcome::Rejected),
    ];
    (hash(), any::<u64>(), any::<u32>(), outcome).prop_map(|(tx_hash, height, index, outcome)| {
        Receipt {
            tx_hash,
            height,
            index,
            outcome,
        }
    })
}
