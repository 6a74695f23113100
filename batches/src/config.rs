//! What a validator's batch machine needs to know, and its limits.

use cairn_crypto::SecretKey;
use cairn_types::{ChainId, Round, ValidatorId, ValidatorSet};

/// Identity, keys and limits of one validator's [`crate::Batches`].
#[derive(Debug)]
pub struct Config {
    /// The chain (genesis hash), bound into every vote.
    pub chain: ChainId,
    /// This validator.
    pub me: ValidatorId,
    /// Its consensus key, which signs batch votes.
    pub key: SecretKey,
    /// Who may author batches and vote for them.
    pub validators: ValidatorSet,
    /// A batch is sealed at this many transactions...
    pub max_batch_txs: usize,
    /// ...or when the next transaction would take it over this many bytes...
    pub max_batch_bytes: usize,
    /// ...or this long after its first transaction arrived.
    pub linger_ms: u64,
    /// An own batch still short of a quorum this long after it was sent is sent again
    /// to the validators that have not voted (one that was down, or lost it).
    pub resend_ms: u64,
    /// A new batch may be proposed for this many rounds after the current one.
    pub lifetime_rounds: Round,
    /// Most batches held for one author and not yet committed or expired.
    pub quota_batches: usize,
    /// Most transaction bytes held for one author and not yet committed or expired.
    pub quota_bytes: usize,
    /// The sequence number of this validator's first batch: it must exceed every
    /// sequence it used before a restart (the driver derives it from the clock).
    pub first_sequence: u64,
}

impl Config {
    /// The defaults for validator `me` (docs/DATAPATH.md gives the reasoning).
    pub fn new(
        chain: ChainId,
        me: ValidatorId,
        key: SecretKey,
        validators: ValidatorSet,
    ) -> Config {
        Config {
            chain,
            me,
            key,
            validators,
            max_batch_txs: 1_000,
            max_batch_bytes: 1024 * 1024,
            linger_ms: 10,
            resend_ms: 1_000,
            lifetime_rounds: 100,
            quota_batches: 1_000,
            quota_bytes: 64 * 1024 * 1024,
            first_sequence: 0,
        }
    }
}
