//! The state hash: a hash chain over executed blocks (`docs/PROTOCOL.md`, "Execution").
//!
//! ```text
//! S_0 = blake3("cairn/state/v1/genesis" || chain_id || E(genesis changes))
//! S_h = blake3("cairn/state/v1" || S_{h-1} || u64_le(h)
//!              || blake3(E(changes of block h)) || blake3(SCALE(receipts of block h)))
//! ```
//!
//! `E` ([`encode_changes`]) is the SCALE encoding of the change list: a compact count,
//! then per change a tag byte (`0` put, `1` delete, `2` account) and its fields.
//! Two validators that execute the same blocks from the same genesis get the same
//! `S_h`; a validator that disagrees at some height has diverged there.

use cairn_crypto::Hash;
use cairn_storage::StateChange;
use cairn_types::{ChainId, Height, Receipt};
use parity_scale_codec::{Compact, Encode};

/// Domain tag of the genesis state hash `S_0`.
pub const GENESIS_STATE_TAG: &[u8] = b"cairn/state/v1/genesis";
/// Domain tag of the state hash `S_h` of a block (h ≥ 1).
pub const BLOCK_STATE_TAG: &[u8] = b"cairn/state/v1";

/// Tag byte of a [`StateChange::Put`] in [`encode_changes`].
pub const CHANGE_PUT: u8 = 0;
/// Tag byte of a [`StateChange::Delete`] in [`encode_changes`].
pub const CHANGE_DELETE: u8 = 1;
/// Tag byte of a [`StateChange::Account`] in [`encode_changes`].
pub const CHANGE_ACCOUNT: u8 = 2;

/// `E(changes)`: `compact(count)`, then for each change in order
/// `0 || SCALE(key) || SCALE(value)` (put), `1 || SCALE(key)` (delete) or
/// `2 || public_key (32) || SCALE(AccountState)` (account).
pub fn encode_changes(changes: &[StateChange]) -> Vec<u8> {
    let mut out = Compact(changes.len() as u64).encode();
    for change in changes {
        match change {
            StateChange::Put { key, value } => {
                out.push(CHANGE_PUT);
                key.encode_to(&mut out);
                value.encode_to(&mut out);
            }
            StateChange::Delete { key } => {
                out.push(CHANGE_DELETE);
                key.encode_to(&mut out);
            }
            StateChange::Account { key, state } => {
                out.push(CHANGE_ACCOUNT);
                key.encode_to(&mut out);
                state.encode_to(&mut out);
            }
        }
    }
    out
}

/// `S_0`: the state hash of the genesis state `changes` of chain `chain`.
pub fn genesis_state_root(chain: &ChainId, changes: &[StateChange]) -> Hash {
    Hash::digest_parts(&[
        GENESIS_STATE_TAG,
        chain.0.as_bytes(),
        &encode_changes(changes),
    ])
}

/// `S_h`: the state hash after the block at `height`, whose execution made `changes`
/// and `receipts`, on top of the state hash `parent` (`S_{h-1}`).
pub fn block_state_root(
    parent: &Hash,
    height: Height,
    changes: &[StateChange],
    receipts: &[Receipt],
) -> Hash {
    let changes_hash = Hash::digest(&encode_changes(changes));
    let receipts_hash = Hash::digest(&receipts.encode());
    Hash::digest_parts(&[
        BLOCK_STATE_TAG,
        parent.as_bytes(),
        &height.to_le_bytes(),
        changes_hash.as_bytes(),
        receipts_hash.as_bytes(),
    ])
}

#[cfg(test)]
mod tests {
    use cairn_crypto::SecretKey;
    use cairn_types::{AccountState, BoundedBytes, Outcome, Role};

    use super::*;

    #[test]
    fn changes_encode_as_tagged_scale() {
        let key = SecretKey::from_seed(&[1; 32]).public();
        let changes = vec![
            StateChange::Put {
                key: BoundedBytes::new(b"k".to_vec()).unwrap(),
                value: BoundedBytes::new(b"vv".to_vec()).unwrap(),
            },
            StateChange::Delete {
                key: BoundedBytes::new(b"k".to_vec()).unwrap(),
            },
            StateChange::Account {
                key,
                state: AccountState {
                    role: Some(Role::Writer),
                    balance: 7,
                    nonce: 1,
                },
            },
        ];
        let mut expected = vec![3 << 2, 0, 1 << 2, b'k', 2 << 2, b'v', b'v', 1, 1 << 2, b'k'];
        expected.push(2);
        expected.extend_from_slice(key.as_bytes());
        expected.extend_from_slice(&[1, 1, 7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(encode_changes(&changes), expected);
        assert_eq!(encode_changes(&[]), vec![0]);
    }

    #[test]
    fn every_input_of_the_block_hash_matters() {
        let parent = Hash::digest(b"parent");
        let receipts = [Receipt {
            tx_hash: Hash::digest(b"tx"),
            height: 1,
            index: 0,
            outcome: Outcome::Applied,
        }];
        let changes = [StateChange::Delete {
            key: BoundedBytes::new(b"k".to_vec()).unwrap(),
        }];
        let base = block_state_root(&parent, 1, &changes, &receipts);
        assert_eq!(base, block_state_root(&parent, 1, &changes, &receipts));
        let others = [
            block_state_root(&Hash::ZERO, 1, &changes, &receipts),
            block_state_root(&parent, 2, &changes, &receipts),
            block_state_root(&parent, 1, &[], &receipts),
            block_state_root(&parent, 1, &changes, &[]),
        ];
        for other in others {
            assert_ne!(base, other);
        }
    }
}
