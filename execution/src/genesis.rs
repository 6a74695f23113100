//! The state a chain starts from.

use cairn_crypto::Hash;
use cairn_genesis::Genesis;
use cairn_storage::StateChange;
use cairn_types::AccountState;

use crate::state_hash::genesis_state_root;

/// The genesis state: one account per genesis account, in document order (its role,
/// its balance, nonce 0), and its state hash `S_0`. Write both with
/// `Store::write_genesis_state` before the first commit.
pub fn genesis_state(genesis: &Genesis) -> (Vec<StateChange>, Hash) {
    let changes: Vec<StateChange> = genesis
        .doc()
        .accounts
        .iter()
        .map(|entry| StateChange::Account {
            key: entry.public_key,
            state: AccountState {
                role: Some(entry.role),
                balance: entry.balance,
                nonce: 0,
            },
        })
        .collect();
    let root = genesis_state_root(&genesis.chain_id(), &changes);
    (changes, root)
}
