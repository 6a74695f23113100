//! `state_get` and `account_get`.

use jsonrpsee::types::ErrorObjectOwned;

use crate::api_error::internal;
use crate::convert::account_info;
use crate::hex::Hex;
use crate::methods::{ACCOUNT_GET, STATE_GET};
use crate::module::Handler;
use crate::params::{AccountParams, KeyParams};
use crate::types::{AccountInfo, StateEntry};

/// `state_get`. The head is read before the value, so the value reflects at least
/// `height` (a commit landing in between may make it newer).
pub(crate) fn state_get(
    handler: &Handler,
    params: KeyParams,
) -> Result<StateEntry, ErrorObjectOwned> {
    let store = &handler.ctx.store;
    let head = store.head().map_err(|e| internal(STATE_GET, e))?;
    let value = store
        .state(&params.key.0)
        .map_err(|e| internal(STATE_GET, e))?;
    Ok(StateEntry {
        key: params.key,
        value: value.map(Hex),
        height: head.height,
    })
}

/// `account_get`: null for a key the ledger has never seen.
pub(crate) fn account_get(
    handler: &Handler,
    params: AccountParams,
) -> Result<Option<AccountInfo>, ErrorObjectOwned> {
    let state = handler
        .ctx
        .store
        .account(&params.key.0)
        .map_err(|e| internal(ACCOUNT_GET, e))?;
    Ok(state.map(|state| account_info(params.key, &state)))
}
