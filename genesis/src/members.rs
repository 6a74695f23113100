//! Validation of the validator and account lists.

use std::collections::HashMap;

use cairn_types::{Role, limits};

use crate::GenesisDoc;
use crate::peer::{CheckedAddress, CheckedPeer, check_address, check_peer_id};
use crate::validate::{Checker, Mode, check_name};

impl Checker {
    /// Checks every validator entry; returns each one's parsed peer id and address.
    pub(crate) fn validators(
        &mut self,
        doc: &GenesisDoc,
        mode: Mode,
    ) -> (Vec<Option<CheckedPeer>>, Vec<Option<CheckedAddress>>) {
        let validators = &doc.validators;
        if validators.is_empty() && mode == Mode::Final {
            self.push(
                "validators",
                "there are none; add at least one (4 tolerate one faulty validator) with \
                 `cairn genesis add-validator`",
            );
        }
        if validators.len() > limits::MAX_VALIDATORS {
            self.push(
                "validators",
                format!(
                    "there are {}; at most {} are allowed",
                    validators.len(),
                    limits::MAX_VALIDATORS
                ),
            );
        }
        let mut names = HashMap::new();
        let mut keys = HashMap::new();
        let mut peer_ids = HashMap::new();
        let mut endpoints = HashMap::new();
        let mut peers = Vec::with_capacity(validators.len());
        let mut addresses = Vec::with_capacity(validators.len());
        for (i, v) in validators.iter().enumerate() {
            let at = |field: &str| format!("validators[{i}].{field}");
            if let Err(message) = check_name(&v.name) {
                self.push(at("name"), message);
            } else if let Some(j) = names.insert(v.name.as_str(), i) {
                self.push(
                    at("name"),
                    format!(
                        "{:?} is also the name of validators[{j}]; names must be unique",
                        v.name
                    ),
                );
            }
            if let Some(j) = keys.insert(v.consensus_key, i) {
                self.push(
                    at("consensus_key"),
                    format!(
                        "{} is also the consensus key of validators[{j}]; every validator needs \
                         its own key",
                        v.consensus_key
                    ),
                );
            }
            let peer = match check_peer_id(&v.peer_id) {
                Ok(peer) => {
                    if let Some(j) = peer_ids.insert(peer.peer_id, i) {
                        self.push(
                            at("peer_id"),
                            format!(
                                "{} is also the peer id of validators[{j}]; every validator needs \
                                 its own network key",
                                v.peer_id
                            ),
                        );
                    }
                    Some(peer)
                }
                Err(message) => {
                    self.push(at("peer_id"), message);
                    None
                }
            };
            let address = match check_address(&v.address) {
                Ok(address) => {
                    if let (Some(named), Some(peer)) = (address.p2p, &peer)
                        && named != peer.peer_id
                    {
                        self.push(
                            at("address"),
                            format!(
                                "ends in /p2p/{named} but the validator's peer_id is {}; \
                                 make them match or drop the /p2p suffix",
                                peer.peer_id
                            ),
                        );
                    }
                    if let Some(j) = endpoints.insert(address.endpoint.clone(), i) {
                        self.push(
                            at("address"),
                            format!(
                                "{} is also the address of validators[{j}]; each validator \
                                 needs its own host and port",
                                v.address
                            ),
                        );
                    }
                    Some(address)
                }
                Err(message) => {
                    self.push(at("address"), message);
                    None
                }
            };
            peers.push(peer);
            addresses.push(address);
        }
        // A network key must never double as a consensus key: the two are exposed to
        // different protocols and must be replaceable independently.
        for (i, peer) in peers.iter().enumerate() {
            let Some(peer) = peer else { continue };
            if let Some(&j) = keys.get(&peer.network_key) {
                let message = if i == j {
                    "embeds this validator's own consensus key; the network key and the \
                     consensus key must be separate keys; generate a network key of its own"
                        .to_string()
                } else {
                    format!(
                        "embeds the consensus key of validators[{j}]; generate a separate \
                         network key"
                    )
                };
                self.push(format!("validators[{i}].peer_id"), message);
            }
        }
        (peers, addresses)
    }

    /// Checks every account entry, and that an admin exists unless `mode` is a draft.
    pub(crate) fn accounts(&mut self, doc: &GenesisDoc, mode: Mode) {
        let mut keys = HashMap::new();
        let mut names = HashMap::new();
        let mut total: Option<u64> = Some(0);
        for (i, a) in doc.accounts.iter().enumerate() {
            let at = |field: &str| format!("accounts[{i}].{field}");
            if let Some(name) = &a.name {
                if let Err(message) = check_name(name) {
                    self.push(at("name"), format!("{message} (or leave the name out)"));
                } else if let Some(j) = names.insert(name.as_str(), i) {
                    self.push(
                        at("name"),
                        format!("{name:?} is also the name of accounts[{j}]; names must be unique"),
                    );
                }
            }
            if let Some(j) = keys.insert(a.public_key, i) {
                self.push(
                    at("public_key"),
                    format!(
                        "{} is also the key of accounts[{j}]; list each account once",
                        a.public_key
                    ),
                );
            }
            total = total.and_then(|t| t.checked_add(a.balance));
        }
        if total.is_none() {
            self.push(
                "accounts",
                format!("the balances add up to more than {}; lower them", u64::MAX),
            );
        }
        if mode == Mode::Final && !doc.accounts.iter().any(|a| a.role == Role::Admin) {
            self.push(
                "accounts",
                "no account has role \"admin\"; without one, roles can never be granted or \
                 revoked; add one with `cairn genesis add-account --role admin`",
            );
        }
    }
}
