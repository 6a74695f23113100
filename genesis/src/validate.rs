//! Validation of a [`GenesisDoc`]: every rule, every problem reported at once.

use std::collections::HashMap;
use std::time::UNIX_EPOCH;

use cairn_types::{Role, limits};

use crate::peer::{CheckedAddress, CheckedPeer, check_address, check_peer_id};
use crate::{Genesis, GenesisDoc, GenesisError, Params, Problem, Result};

/// Longest chain, validator or account name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Smallest allowed `params.round_timeout_ms`.
pub const MIN_ROUND_TIMEOUT_MS: u64 = 10;
/// Largest allowed value of any `params.*_ms` field: one day.
pub const MAX_TIMEOUT_MS: u64 = 24 * 60 * 60 * 1000;
/// Smallest allowed `params.max_tx_bytes`: room for a signed transaction with a small op.
pub const MIN_TX_BYTES: u64 = 200;
/// Earliest allowed genesis time: 2000-01-01T00:00:00Z, in Unix milliseconds.
pub const MIN_GENESIS_TIME_MS: u64 = 946_684_800_000;

impl GenesisDoc {
    /// Checks every rule and returns the validated genesis, or
    /// [`GenesisError::Invalid`] listing every problem found.
    pub fn validate(&self) -> Result<Genesis> {
        let mut checker = Checker::default();
        let parsed = checker.check(self, Mode::Final);
        if !checker.problems.is_empty() {
            return Err(GenesisError::Invalid {
                problems: checker.problems,
            });
        }
        Genesis::from_checked(self.clone(), parsed)
    }

    /// The checks of [`GenesisDoc::validate`] except "no validators" and "no admin
    /// account": for a genesis that is still being built up.
    pub fn check_draft(&self) -> Result<()> {
        let mut checker = Checker::default();
        checker.check(self, Mode::Draft);
        if checker.problems.is_empty() {
            Ok(())
        } else {
            Err(GenesisError::Invalid {
                problems: checker.problems,
            })
        }
    }
}

/// Whether the document must be complete.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Still being built: validators and an admin may be missing.
    Draft,
    /// Ready to start a chain.
    Final,
}

/// Values parsed while checking, for building the [`Genesis`]. Each entry is `None`
/// where its check failed.
pub(crate) struct Parsed {
    /// `genesis_time` in Unix milliseconds.
    pub time_ms: Option<u64>,
    /// Each validator's checked peer id.
    pub peers: Vec<Option<CheckedPeer>>,
    /// Each validator's checked address.
    pub addresses: Vec<Option<CheckedAddress>>,
}

/// Collects problems.
#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(field, message));
    }

    fn check(&mut self, doc: &GenesisDoc, mode: Mode) -> Parsed {
        self.chain_name(&doc.chain_name);
        let time_ms = match check_time(&doc.genesis_time) {
            Ok(ms) => Some(ms),
            Err(message) => {
                self.push("genesis_time", message);
                None
            }
        };
        self.params(&doc.params);
        let (peers, addresses) = self.validators(doc, mode);
        self.accounts(doc, mode);
        Parsed {
            time_ms,
            peers,
            addresses,
        }
    }

    fn chain_name(&mut self, name: &str) {
        if name.is_empty() {
            self.push("chain_name", "is empty; name the chain, e.g. \"acme-ledger\"");
        } else if name.chars().count() > MAX_NAME_CHARS {
            self.push(
                "chain_name",
                format!(
                    "is {} characters long; at most {MAX_NAME_CHARS} are allowed",
                    name.chars().count()
                ),
            );
        } else if let Some(c) = name
            .chars()
            .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '-'))
        {
            self.push(
                "chain_name",
                format!(
                    "{name:?} contains {c:?}; use only lowercase letters, digits, '.', '_' and '-'"
                ),
            );
        }
    }

    fn params(&mut self, p: &Params) {
        for (field, value) in [
            ("round_timeout_ms", p.round_timeout_ms),
            ("max_round_timeout_ms", p.max_round_timeout_ms),
            ("heartbeat_ms", p.heartbeat_ms),
        ] {
            if value > MAX_TIMEOUT_MS {
                self.push(
                    format!("params.{field}"),
                    format!("{value} ms is more than a day ({MAX_TIMEOUT_MS} ms); choose a smaller value"),
                );
            }
        }
        if p.round_timeout_ms < MIN_ROUND_TIMEOUT_MS {
            self.push(
                "params.round_timeout_ms",
                format!(
                    "{} ms is too short; at least {MIN_ROUND_TIMEOUT_MS} ms (1000 is a good start)",
                    p.round_timeout_ms
                ),
            );
        }
        if p.max_round_timeout_ms < p.round_timeout_ms {
            self.push(
                "params.max_round_timeout_ms",
                format!(
                    "{} ms is less than round_timeout_ms ({} ms); the cap on backed-off \
                     timeouts must be at least the first timeout",
                    p.max_round_timeout_ms, p.round_timeout_ms
                ),
            );
        }
        if p.heartbeat_ms < 1 {
            self.push("params.heartbeat_ms", "must be at least 1 ms");
        }
        let max_txs = limits::MAX_BLOCK_TXS as u64;
        if !(1..=max_txs).contains(&p.max_block_txs) {
            self.push(
                "params.max_block_txs",
                format!("{} is out of range; allowed 1 to {max_txs}", p.max_block_txs),
            );
        }
        let max_tx = limits::MAX_TX_BYTES as u64;
        if !(MIN_TX_BYTES..=max_tx).contains(&p.max_tx_bytes) {
            self.push(
                "params.max_tx_bytes",
                format!(
                    "{} bytes is out of range; allowed {MIN_TX_BYTES} to {max_tx}",
                    p.max_tx_bytes
                ),
            );
        }
        let max_block = limits::MAX_BLOCK_BYTES as u64;
        if p.max_block_bytes > max_block {
            self.push(
                "params.max_block_bytes",
                format!(
                    "{} bytes is more than the limit of {max_block}",
                    p.max_block_bytes
                ),
            );
        } else if p.max_block_bytes < p.max_tx_bytes {
            self.push(
                "params.max_block_bytes",
                format!(
                    "{} bytes is less than max_tx_bytes ({}); a block must fit the largest \
                     transaction",
                    p.max_block_bytes, p.max_tx_bytes
                ),
            );
        }
    }

    fn validators(
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
                    format!("{:?} is also the name of validators[{j}]; names must be unique", v.name),
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
                    if let (Some(named), Some(peer)) = (address.p2p, &peer) {
                        if named != peer.peer_id {
                            self.push(
                                at("address"),
                                format!(
                                    "ends in /p2p/{named} but the validator's peer_id is {}; \
                                     make them match or drop the /p2p suffix",
                                    peer.peer_id
                                ),
                            );
                        }
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

    fn accounts(&mut self, doc: &GenesisDoc, mode: Mode) {
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
                format!(
                    "the balances add up to more than {}; lower them",
                    u64::MAX
                ),
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

/// Checks a validator or account name: 1–64 characters, no control characters, no
/// leading or trailing whitespace.
fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        return Err("is empty; give it a name".to_string());
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(format!(
            "is {chars} characters long; at most {MAX_NAME_CHARS} are allowed"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("{name:?} contains control characters"));
    }
    if name.trim() != name {
        return Err(format!("{name:?} has leading or trailing whitespace"));
    }
    Ok(())
}

/// Parses `genesis_time` and returns it in Unix milliseconds.
pub(crate) fn check_time(text: &str) -> std::result::Result<u64, String> {
    let time = humantime::parse_rfc3339(text).map_err(|e| {
        format!("{text:?} is not an RFC 3339 UTC time ({e}); write it like 2026-11-23T00:00:00Z")
    })?;
    // parse_rfc3339 refuses years before 1970 and after 9999, so this cannot fail and
    // the milliseconds fit in u64.
    let since_epoch = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| format!("{text} is before 1970"))?;
    if since_epoch.subsec_nanos() % 1_000_000 != 0 {
        return Err(format!(
            "{text} is more precise than a millisecond; cairn keeps genesis time in \
             milliseconds, so round it"
        ));
    }
    let ms = u64::try_from(since_epoch.as_millis()).map_err(|_| format!("{text} is too late"))?;
    if ms < MIN_GENESIS_TIME_MS {
        return Err(format!(
            "{text} is before 2000-01-01T00:00:00Z; is the clock or the date wrong?"
        ));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_time_rules() {
        assert_eq!(check_time("2000-01-01T00:00:00Z"), Ok(MIN_GENESIS_TIME_MS));
        assert_eq!(
            check_time("2026-11-23T00:00:00.250Z"),
            Ok(1_795_392_000_250)
        );
        assert_eq!(
            check_time("2026-11-23T00:00:00+00:00"),
            Ok(1_795_392_000_000)
        );
        for bad in [
            "",
            "yesterday",
            "2026-11-23",
            "2026-11-23 00:00:00",
            "2026-11-23T00:00:00+01:00",
            "2026-13-01T00:00:00Z",
            "1999-12-31T23:59:59.999Z",
            "2026-11-23T00:00:00.0001Z",
            "2026-11-23T00:00:00Zjunk",
        ] {
            assert!(check_time(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn names() {
        assert!(check_name("v0").is_ok());
        assert!(check_name("Acme validator #1").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name(" v0").is_err());
        assert!(check_name("v\n0").is_err());
        assert!(check_name(&"x".repeat(65)).is_err());
    }
}
