//! [`PendingState`]: uncommitted changes layered over a [`StateView`].

use std::collections::HashMap;

use cairn_crypto::PublicKey;
use cairn_storage::StateChange;
use cairn_types::AccountState;

use crate::{Result, StateView};

/// Changes not yet committed, on top of a base state: reads see the newest write.
///
/// Execution records every write here, so later transactions (and later blocks of
/// [`crate::execute_blocks`]) see earlier ones, while the base (the store) is only
/// read. The node can also use it to stack the results of executed but uncommitted
/// blocks (e.g. to compute a proposal's parent state) without touching storage.
#[derive(Debug)]
pub struct PendingState<'v, V: StateView + ?Sized> {
    base: &'v V,
    accounts: HashMap<PublicKey, AccountState>,
    /// `None` marks a deleted key.
    values: HashMap<Vec<u8>, Option<Vec<u8>>>,
    /// Changes recorded since the last [`PendingState::take_changes`], in order.
    log: Vec<StateChange>,
}

impl<'v, V: StateView + ?Sized> PendingState<'v, V> {
    /// No pending changes over `base`.
    pub fn new(base: &'v V) -> Self {
        PendingState {
            base,
            accounts: HashMap::new(),
            values: HashMap::new(),
            log: Vec::new(),
        }
    }

    /// Layers `changes` (e.g. an executed block's) on top, in order, without recording
    /// them in the change log.
    pub fn apply(&mut self, changes: &[StateChange]) {
        for change in changes {
            self.write(change);
        }
    }

    /// Applies `change` and appends it to the change log.
    pub(crate) fn record(&mut self, change: StateChange) {
        self.write(&change);
        self.log.push(change);
    }

    /// The changes recorded since the last call, in the order they were made.
    pub(crate) fn take_changes(&mut self) -> Vec<StateChange> {
        std::mem::take(&mut self.log)
    }

    fn write(&mut self, change: &StateChange) {
        match change {
            StateChange::Put { key, value } => {
                self.values
                    .insert(key.as_bytes().to_vec(), Some(value.as_bytes().to_vec()));
            }
            StateChange::Delete { key } => {
                self.values.insert(key.as_bytes().to_vec(), None);
            }
            StateChange::Account { key, state } => {
                self.accounts.insert(*key, state.clone());
            }
        }
    }
}

impl<V: StateView + ?Sized> StateView for PendingState<'_, V> {
    fn account(&self, key: &PublicKey) -> Result<Option<AccountState>> {
        match self.accounts.get(key) {
            Some(state) => Ok(Some(state.clone())),
            None => self.base.account(key),
        }
    }

    fn value(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.values.get(key) {
            Some(value) => Ok(value.clone()),
            None => self.base.value(key),
        }
    }
}
