//! Read access to the state that execution starts from.

use std::collections::BTreeMap;

use cairn_crypto::PublicKey;
use cairn_storage::{StateChange, Store};
use cairn_types::AccountState;

use crate::Result;

/// Read access to the committed state (implemented for [`cairn_storage::Store`], for
/// [`MemoryState`] and for [`crate::PendingState`]).
pub trait StateView {
    /// The state of account `key`, or `None` if the account does not exist.
    fn account(&self, key: &PublicKey) -> Result<Option<AccountState>>;
    /// The application value under `key`, or `None` if the key is not set.
    fn value(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
}

impl StateView for Store {
    fn account(&self, key: &PublicKey) -> Result<Option<AccountState>> {
        Ok(Store::account(self, key)?)
    }

    fn value(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.state(key)?)
    }
}

impl<T: StateView + ?Sized> StateView for &T {
    fn account(&self, key: &PublicKey) -> Result<Option<AccountState>> {
        (**self).account(key)
    }

    fn value(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        (**self).value(key)
    }
}

/// A whole ledger state in memory: for tests, simulations and tools that replay a
/// chain without a database. Ordered maps, so two states compare equal exactly when
/// they hold the same accounts and values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryState {
    accounts: BTreeMap<PublicKey, AccountState>,
    values: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemoryState {
    /// An empty state: no accounts, no values.
    pub fn new() -> MemoryState {
        MemoryState::default()
    }

    /// The state that `changes` produce from an empty state (e.g. the genesis changes).
    pub fn from_changes(changes: &[StateChange]) -> MemoryState {
        let mut state = MemoryState::new();
        state.apply(changes);
        state
    }

    /// Applies `changes` in order, as storage does when it commits them.
    pub fn apply(&mut self, changes: &[StateChange]) {
        for change in changes {
            match change {
                StateChange::Put { key, value } => {
                    self.values
                        .insert(key.as_bytes().to_vec(), value.as_bytes().to_vec());
                }
                StateChange::Delete { key } => {
                    self.values.remove(key.as_bytes());
                }
                StateChange::Account { key, state } => {
                    self.accounts.insert(*key, state.clone());
                }
            }
        }
    }

    /// Every account, in key order.
    pub fn accounts(&self) -> impl Iterator<Item = (&PublicKey, &AccountState)> {
        self.accounts.iter()
    }

    /// Every application key and value, in key order.
    pub fn values(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.values
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
    }
}

impl StateView for MemoryState {
    fn account(&self, key: &PublicKey) -> Result<Option<AccountState>> {
        Ok(self.accounts.get(key).cloned())
    }

    fn value(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.values.get(key).cloned())
    }
}
