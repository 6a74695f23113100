//! Accounts: the per-key part of the application state.

use parity_scale_codec::{Decode, Encode};

use crate::Role;

/// What the ledger knows about one account (keyed by its ed25519 public key).
///
/// Encoding (SCALE): `role: Option<Role>` (`00`, or `01` then the role byte),
/// `balance: u64` LE, `nonce: u64` LE — 17 or 18 bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct AccountState {
    /// The account's role; `None` once revoked (or for an account that only ever
    /// received transfers). Without a role an account may not submit transactions.
    pub role: Option<Role>,
    /// Balance in the ledger's smallest unit.
    pub balance: u64,
    /// The nonce its next transaction must carry: the number of its committed
    /// transactions that passed the nonce check.
    pub nonce: u64,
}

impl crate::Wire for AccountState {
    const MAX_BYTES: usize = 18;
    const NAME: &'static str = "account state";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Wire;

    #[test]
    fn encoding_is_17_or_18_bytes_and_strict() {
        let none = AccountState::default();
        assert_eq!(none.to_wire().len(), 17);
        let admin = AccountState {
            role: Some(Role::Admin),
            balance: 5,
            nonce: 2,
        };
        let bytes = admin.to_wire();
        assert_eq!(bytes[..2], [1, 2]);
        assert_eq!(bytes.len(), 18);
        assert_eq!(AccountState::from_wire(&bytes).unwrap(), admin);
        assert!(AccountState::from_wire(&bytes[..17]).is_err());
    }
}
