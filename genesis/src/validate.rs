//! Validation of a [`GenesisDoc`]: every rule, every problem reported at once. The
//! checks of the validator and account lists are in `members.rs`.

use std::time::UNIX_EPOCH;

use cairn_types::limits;

use crate::peer::{CheckedAddress, CheckedPeer};
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
pub(crate) enum Mode {
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
pub(crate) struct Checker {
    pub(crate) problems: Vec<Problem>,
}

impl Checker {
    pub(crate) fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
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
            self.push(
                "chain_name",
                "is empty; name the chain, e.g. \"acme-ledger\"",
            );
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
                format!(
                    "{} is out of range; allowed 1 to {max_txs}",
                    p.max_block_txs
                ),
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
}

/// Checks a validator or account name: 1–64 characters, no control characters, no
/// leading or trailing whitespace.
pub(crate) fn check_name(name: &str) -> std::result::Result<(), String> {
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
