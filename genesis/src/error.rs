//! The error type of `cairn-genesis`, and [`Problem`], one finding of validation.

use std::path::{Path, PathBuf};

/// Result alias for this crate.
pub type Result<T, E = GenesisError> = std::result::Result<T, E>;

/// One thing wrong with a genesis document, found by validation.
///
/// `field` is the JSON path of the offending value (`validators[2].peer_id`,
/// `accounts[0].public_key`, `params.max_block_txs`); `message` says what is wrong and,
/// where it helps, what to do. Shown as `"{field}: {message}"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// JSON path of the offending value.
    pub field: String,
    /// What is wrong, and what to do about it.
    pub message: String,
}

impl Problem {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Everything that can go wrong reading, writing or validating a genesis document.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// The file could not be read or written.
    #[error("genesis file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The text is not a genesis document: bad JSON, a wrong type, an unknown or
    /// missing field, a malformed key.
    #[error("{}:{line}:{column}: {field}: {message}", source_name(path.as_deref()))]
    Parse {
        /// The file, if the text came from one.
        path: Option<PathBuf>,
        /// JSON path of the value being read when parsing failed (`validators[1].consensus_key`),
        /// or `(top level)`.
        field: String,
        /// 1-based line of the error (0 if unknown).
        line: usize,
        /// 1-based column of the error (0 if unknown).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The document is larger than [`crate::MAX_GENESIS_BYTES`]; it was not read.
    #[error(
        "{}: {size} bytes is more than the {max}-byte limit for a genesis document; \
         is this the right file?",
        source_name(path.as_deref())
    )]
    TooLarge {
        /// The file, if the text came from one.
        path: Option<PathBuf>,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        max: u64,
    },
    /// The document parsed but breaks the rules. Every problem found is listed.
    #[error("{}", invalid_summary(problems))]
    Invalid {
        /// Every problem found, in document order.
        problems: Vec<Problem>,
    },
}

impl GenesisError {
    /// The problems of an [`GenesisError::Invalid`] error; empty for other errors.
    pub fn problems(&self) -> &[Problem] {
        match self {
            GenesisError::Invalid { problems } => problems,
            _ => &[],
        }
    }
}

/// How an error names where the text came from.
fn source_name(path: Option<&Path>) -> String {
    match path {
        Some(path) => path.display().to_string(),
        None => "genesis JSON".to_string(),
    }
}

/// The first problem, plus how many more there are.
fn invalid_summary(problems: &[Problem]) -> String {
    match problems {
        [] => "invalid genesis document".to_string(),
        [only] => only.to_string(),
        [first, rest @ ..] => format!(
            "{first} (and {} more problem{})",
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_shows_first_problem_and_count() {
        let one = GenesisError::Invalid {
            problems: vec![Problem::new("chain_name", "is empty")],
        };
        assert_eq!(one.to_string(), "chain_name: is empty");
        let three = GenesisError::Invalid {
            problems: vec![
                Problem::new("chain_name", "is empty"),
                Problem::new("validators", "none"),
                Problem::new("accounts", "no admin"),
            ],
        };
        assert_eq!(
            three.to_string(),
            "chain_name: is empty (and 2 more problems)"
        );
        assert_eq!(three.problems().len(), 3);
    }

    #[test]
    fn parse_error_names_file_position_and_field() {
        let err = GenesisError::Parse {
            path: Some(PathBuf::from("/etc/cairn/genesis.json")),
            field: "validators[1].consensus_key".into(),
            line: 12,
            column: 30,
            message: "bad hex".into(),
        };
        assert_eq!(
            err.to_string(),
            "/etc/cairn/genesis.json:12:30: validators[1].consensus_key: bad hex"
        );
    }
}
