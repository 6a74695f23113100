//! How a broken invariant reads: one variant per invariant, with the values involved.

use std::fmt;

use cairn_crypto::Hash;
use cairn_types::{Height, Round, ValidatorId, VoteData};

/// A broken invariant, with what is needed to understand it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// Two honest validators committed different blocks at one height.
    ConflictingCommit {
        /// The height.
        height: Height,
        /// The instance that committed first, and its block.
        first: (usize, Hash),
        /// The instance that disagreed, and its block.
        second: (usize, Hash),
        /// Virtual time of the second commit.
        at_ms: u64,
    },
    /// An honest validator's commit does not extend its own committed chain.
    BrokenChain {
        /// The instance.
        instance: usize,
        /// What is wrong.
        problem: String,
        /// Virtual time.
        at_ms: u64,
    },
    /// An honest validator signed two different messages of one kind for one round.
    Equivocation {
        /// The validator.
        validator: ValidatorId,
        /// "proposal", "vote" or "timeout".
        kind: &'static str,
        /// The round.
        round: Round,
        /// What it signed first.
        first: String,
        /// What it signed second.
        second: String,
        /// Virtual time of the second.
        at_ms: u64,
    },
    /// An honest validator voted in a round it had already timed out in (the
    /// highest-voted-round rule counts timeouts too).
    VoteAfterTimeout {
        /// The validator.
        validator: ValidatorId,
        /// The round.
        round: Round,
        /// What it voted for.
        vote: String,
        /// Virtual time of the vote.
        at_ms: u64,
    },
    /// An honest validator voted for a block that is malformed or beyond the block
    /// limits (it must refuse such proposals, however well signed).
    VotedForInvalidBlock {
        /// The validator.
        validator: ValidatorId,
        /// The block's round.
        round: Round,
        /// What is wrong with the block.
        problem: String,
        /// Virtual time of the vote.
        at_ms: u64,
    },
    /// Honest validators judged the signatures of one committed block's transactions
    /// differently (or one validator's batch and single checks disagreed): their
    /// executions, and so their states, would diverge.
    DivergentVerdicts {
        /// The height.
        height: Height,
        /// The instance whose verdicts differ.
        instance: usize,
        /// How they differ.
        problem: String,
        /// Virtual time.
        at_ms: u64,
    },
    /// An honest validator's persisted safety state went backwards.
    SafetyRegressed {
        /// The validator.
        validator: ValidatorId,
        /// What went back.
        problem: String,
        /// Virtual time.
        at_ms: u64,
    },
    /// Evidence of equivocation against an honest validator.
    FalseEvidence {
        /// The instance that reported it.
        reporter: usize,
        /// The honest validator it names.
        culprit: ValidatorId,
        /// The round.
        round: Round,
        /// Virtual time.
        at_ms: u64,
    },
    /// An honest validator went longer than the bound without committing after GST.
    NoProgress {
        /// The instance.
        instance: usize,
        /// Start of the silent stretch (GST, its restart, or its last commit).
        from_ms: u64,
        /// End of it (its next commit, or the end of the run).
        until_ms: u64,
        /// The bound.
        bound_ms: u64,
        /// Its committed height at the end.
        height: Height,
    },
    /// The run produced events without bound — a message storm — and was stopped.
    Runaway {
        /// Events processed so far.
        events: u64,
        /// Events waiting.
        queued: usize,
        /// Virtual time when it was stopped.
        at_ms: u64,
    },
    /// An honest validator was still recovering its safety state at the end of a run
    /// that requires progress: it never got the answers it needs to sign again.
    StillRecovering {
        /// The instance.
        instance: usize,
        /// Its committed height.
        height: Height,
    },
    /// An honest validator committed fewer blocks than the scenario expects.
    TooFewCommits {
        /// The instance.
        instance: usize,
        /// Its committed height.
        height: Height,
        /// The height expected.
        expected: Height,
    },
    /// Transactions given to honest validators were never committed (batched
    /// scenarios that expect every transaction).
    TransactionsLost {
        /// How many.
        count: usize,
        /// The instance the earliest was given to.
        instance: usize,
        /// When the earliest arrived.
        at_ms: u64,
        /// The bound they had.
        within_ms: u64,
    },
}

impl Violation {
    /// Whether this breaks safety (agreement or no-equivocation) rather than liveness.
    pub fn is_safety(&self) -> bool {
        !matches!(
            self,
            Violation::NoProgress { .. }
                | Violation::TooFewCommits { .. }
                | Violation::StillRecovering { .. }
                | Violation::Runaway { .. }
                | Violation::TransactionsLost { .. }
        )
    }
}

pub(crate) fn short(hash: &Hash) -> String {
    hash.to_string()[..8].to_string()
}

pub(crate) fn vote_text(d: &VoteData) -> String {
    format!(
        "block {} (round {}, height {}, parent {} of round {})",
        short(&d.block_id),
        d.round,
        d.height,
        short(&d.parent_id),
        d.parent_round
    )
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::ConflictingCommit {
                height,
                first,
                second,
                at_ms,
            } => write!(
                f,
                "SAFETY: conflicting commits at height {height}: instance {} committed {}, \
                 instance {} committed {} (t={at_ms} ms)",
                first.0,
                short(&first.1),
                second.0,
                short(&second.1)
            ),
            Violation::BrokenChain {
                instance,
                problem,
                at_ms,
            } => {
                write!(
                    f,
                    "SAFETY: instance {instance} broke its own chain: {problem} (t={at_ms} ms)"
                )
            }
            Violation::Equivocation {
                validator,
                kind,
                round,
                first,
                second,
                at_ms,
            } => write!(
                f,
                "SAFETY: honest {validator} signed two {kind}s for round {round}: first {first}, \
                 then {second} (t={at_ms} ms)"
            ),
            Violation::VoteAfterTimeout {
                validator,
                round,
                vote,
                at_ms,
            } => write!(
                f,
                "SAFETY: honest {validator} voted for {vote} after timing out in round {round} (t={at_ms} ms)"
            ),
            Violation::VotedForInvalidBlock {
                validator,
                round,
                problem,
                at_ms,
            } => write!(
                f,
                "SAFETY: honest {validator} voted for an invalid block of round {round}: {problem} (t={at_ms} ms)"
            ),
            Violation::DivergentVerdicts {
                height,
                instance,
                problem,
                at_ms,
            } => write!(
                f,
                "SAFETY: transaction signature verdicts at height {height} diverge on instance {instance}: {problem} (t={at_ms} ms)"
            ),
            Violation::SafetyRegressed {
                validator,
                problem,
                at_ms,
            } => {
                write!(
                    f,
                    "SAFETY: honest {validator} persisted a regressed safety state: {problem} (t={at_ms} ms)"
                )
            }
            Violation::FalseEvidence {
                reporter,
                culprit,
                round,
                at_ms,
            } => write!(
                f,
                "SAFETY: instance {reporter} reported evidence against honest {culprit} for round {round} (t={at_ms} ms)"
            ),
            Violation::NoProgress {
                instance,
                from_ms,
                until_ms,
                bound_ms,
                height,
            } => write!(
                f,
                "LIVENESS: instance {instance} committed nothing from t={from_ms} ms to t={until_ms} ms \
                 (bound {bound_ms} ms after GST); final height {height}"
            ),
            Violation::Runaway {
                events,
                queued,
                at_ms,
            } => write!(
                f,
                "LIVENESS: message storm: {events} events processed and {queued} waiting at t={at_ms} ms; run stopped"
            ),
            Violation::StillRecovering { instance, height } => write!(
                f,
                "LIVENESS: instance {instance} was still recovering its safety state at the end (height {height}): it never signed again"
            ),
            Violation::TooFewCommits {
                instance,
                height,
                expected,
            } => {
                write!(
                    f,
                    "LIVENESS: instance {instance} reached height {height}, expected at least {expected}"
                )
            }
            Violation::TransactionsLost {
                count,
                instance,
                at_ms,
                within_ms,
            } => write!(
                f,
                "LIVENESS: {count} transactions given to honest validators were not committed within {within_ms} ms; \
                 the earliest went to instance {instance} at t={at_ms} ms"
            ),
        }
    }
}
