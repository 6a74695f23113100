//! What the state machine asks the driver to do.
//!
//! The driver performs the actions of one [`crate::Consensus::handle`] call **in
//! order**. In particular a [`Action::PersistSafety`] must be durably written (synced)
//! before any message that follows it leaves the node: those messages are the votes
//! and timeouts the persisted state protects.

use cairn_crypto::Hash;
use cairn_types::{Block, QuorumCert, Round, ValidatorId};

use crate::{Evidence, Message, SafetyData};

/// An output of [`crate::Consensus::handle`], with the driver's duty for each.
#[derive(Clone, Debug)]
pub enum Action {
    /// Write `SafetyData` durably (synced) before performing any later action of the
    /// same batch. On restart, hand the last written value back to
    /// [`crate::Consensus::new`].
    PersistSafety(SafetyData),
    /// Store `block` durably (synced, like `PersistSafety`) before performing any later
    /// action of the batch: it is a block this validator is about to vote for. Keep it
    /// across restarts, hand it back through `Setup::blocks` while it is uncommitted,
    /// and answer other validators' `FetchBlock` requests with it. Since every QC has
    /// at least f + 1 honest voters, a certified block can then always be fetched,
    /// however many of them crash.
    PersistBlock(Block),
    /// Send `message` to validator `to` (which may be this validator: deliver it back
    /// as an [`crate::Event::Message`]).
    Send {
        /// The recipient.
        to: ValidatorId,
        /// The message.
        message: Message,
    },
    /// Send `message` to every other validator.
    Broadcast {
        /// The message.
        message: Message,
    },
    /// Arm a timer: after `after_ms` milliseconds, deliver
    /// [`crate::Event::LocalTimeout`] for `round`. A later schedule replaces earlier ones.
    ScheduleTimeout {
        /// The round the timer belongs to.
        round: Round,
        /// Delay in milliseconds.
        after_ms: u64,
    },
    /// This validator leads `round`: answer with [`crate::Event::Payload`]. If `wait` is
    /// true nothing is pending commit, so the driver may wait until transactions are
    /// available or `Config::heartbeat_ms` has passed; otherwise answer at once, with
    /// an empty payload if there are no transactions.
    RequestPayload {
        /// The round to propose in.
        round: Round,
        /// The block the proposal will extend; transactions already in it or its
        /// uncommitted ancestors should not be proposed again.
        parent: Hash,
        /// Whether the driver may wait for transactions.
        wait: bool,
    },
    /// These blocks are final, in height order, each the parent of the next. Execute
    /// and store them; `certificate` is the QC proving the last one committed (its
    /// `data.parent_id` is the last block's id).
    Commit {
        /// Newly committed blocks, lowest height first.
        blocks: Vec<Block>,
        /// Commit evidence for the last block.
        certificate: QuorumCert,
    },
    /// Ask a validator (`from` is a hint: one that should have it) for the block with
    /// this id, and deliver it as [`crate::Event::BlockFetched`].
    FetchBlock {
        /// The block id.
        id: Hash,
        /// Who to ask first.
        from: ValidatorId,
    },
    /// A validator signed two conflicting messages: log it and keep it as evidence.
    Evidence(Evidence),
    /// This validator stopped signing to recover its safety state, or finished and
    /// signs again. Log it (at warning level: an operator wants to know). Nothing else
    /// to do: the `PersistSafety` that records the change comes before it in the batch.
    Recovery(Recovery),
}

/// A step of a recovery of the safety state (docs/PROTOCOL.md, "Re-entry without
/// safety state").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// From now on this validator signs nothing — no vote, timeout or proposal — and
    /// follows the chain while it asks the others for their highest certificates
    /// (`Message::StatusRequest`, at start and each time its round timer fires).
    Started {
        /// Why.
        reason: RecoveryReason,
        /// Answers from distinct other validators it waits for:
        /// `n − quorum + f + 1` (`2f + 1` for `n = 3f + 1`).
        replies_needed: usize,
    },
    /// Enough validators answered: it signs again, from `signs_from_round` on.
    Finished {
        /// The first round it may sign in: the highest round the answers certified,
        /// plus 3.
        signs_from_round: Round,
        /// The highest round the answers certified.
        highest_reported_round: Round,
        /// Distinct validators that answered.
        replies: usize,
    },
}

/// Why a validator recovers its safety state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecoveryReason {
    /// It started from a safety state marked recovering: none was found
    /// (`SafetyData::recovering`), or a recovery had not finished before a restart.
    AtStart,
    /// A valid certificate holds this validator's own signature for `round`, above
    /// its `highest_voted_round`: its safety state is older than what it signed (a
    /// restored backup, say).
    OwnSignatureAbove {
        /// The round of the signature found.
        round: Round,
        /// The highest voted round of the safety state it holds.
        highest_voted_round: Round,
    },
}

impl std::fmt::Display for RecoveryReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecoveryReason::AtStart => {
                write!(f, "started without a usable safety state")
            }
            RecoveryReason::OwnSignatureAbove {
                round,
                highest_voted_round,
            } => write!(
                f,
                "a certificate holds this validator's signature for round {round}, above its highest voted round {highest_voted_round}: the safety state is stale"
            ),
        }
    }
}
