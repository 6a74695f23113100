//! The genesis hash, which is the chain id.
//!
//! `genesis hash = blake3( "cairn/genesis/v1" || SCALE(canonical) )`, where `canonical`
//! holds the document's content in document order, independent of how the JSON was
//! formatted. The exact bytes are written out in `docs/GENESIS.md`; changing anything
//! here changes every chain id and is a chain-breaking change.

use cairn_crypto::Hash;
use cairn_types::Role;
use parity_scale_codec::Encode;

use crate::GenesisDoc;
use crate::peer::{CheckedAddress, CheckedPeer};

/// Domain tag hashed in front of the canonical encoding.
pub const GENESIS_HASH_DOMAIN: &[u8] = b"cairn/genesis/v1";

/// The content the genesis hash covers, in document order.
#[derive(Encode)]
struct Canonical {
    chain_name: String,
    genesis_time_unix_ms: u64,
    params: CanonicalParams,
    validators: Vec<CanonicalValidator>,
    accounts: Vec<CanonicalAccount>,
}

#[derive(Encode)]
struct CanonicalParams {
    round_timeout_ms: u64,
    max_round_timeout_ms: u64,
    heartbeat_ms: u64,
    max_block_txs: u64,
    max_block_bytes: u64,
    max_tx_bytes: u64,
}

#[derive(Encode)]
struct CanonicalValidator {
    name: String,
    consensus_key: [u8; 32],
    /// The peer id's multihash bytes.
    peer_id: Vec<u8>,
    /// The multiaddr in canonical text form.
    address: String,
}

#[derive(Encode)]
struct CanonicalAccount {
    name: Option<String>,
    public_key: [u8; 32],
    role: u8,
    balance: u64,
}

/// The byte of a role in the canonical encoding (equal to `Role`'s SCALE encoding,
/// written out so that the genesis hash cannot change with that type).
fn role_byte(role: Role) -> u8 {
    match role {
        Role::Reader => 0,
        Role::Writer => 1,
        Role::Admin => 2,
    }
}

/// The SCALE encoding of the canonical form of a validated document. `peers` and
/// `addresses` are the parsed `peer_id` and `address` of each validator, in order.
pub(crate) fn canonical_bytes(
    doc: &GenesisDoc,
    genesis_time_unix_ms: u64,
    peers: &[CheckedPeer],
    addresses: &[CheckedAddress],
) -> Vec<u8> {
    let p = &doc.params;
    Canonical {
        chain_name: doc.chain_name.clone(),
        genesis_time_unix_ms,
        params: CanonicalParams {
            round_timeout_ms: p.round_timeout_ms,
            max_round_timeout_ms: p.max_round_timeout_ms,
            heartbeat_ms: p.heartbeat_ms,
            max_block_txs: p.max_block_txs,
            max_block_bytes: p.max_block_bytes,
            max_tx_bytes: p.max_tx_bytes,
        },
        validators: doc
            .validators
            .iter()
            .zip(peers)
            .zip(addresses)
            .map(|((v, peer), address)| CanonicalValidator {
                name: v.name.clone(),
                consensus_key: *v.consensus_key.as_bytes(),
                peer_id: peer.peer_id.to_bytes(),
                address: address.canonical.clone(),
            })
            .collect(),
        accounts: doc
            .accounts
            .iter()
            .map(|a| CanonicalAccount {
                name: a.name.clone(),
                public_key: *a.public_key.as_bytes(),
                role: role_byte(a.role),
                balance: a.balance,
            })
            .collect(),
    }
    .encode()
}

/// blake3 of the domain tag followed by the canonical bytes.
pub(crate) fn genesis_hash(canonical: &[u8]) -> Hash {
    Hash::digest_parts(&[GENESIS_HASH_DOMAIN, canonical])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_bytes_match_roles_scale_encoding() {
        for role in [Role::Reader, Role::Writer, Role::Admin] {
            assert_eq!(role.encode(), vec![role_byte(role)]);
        }
    }
}
