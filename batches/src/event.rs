//! What the driver feeds the batch machine, and what it asks the driver to do.

use cairn_crypto::Hash;
use cairn_types::{BatchVote, ProofOfAvailability, Round, Transaction, ValidatorId};

use crate::HeldBatch;

/// An input to [`crate::Batches::handle`]. Signatures are checked by the driver before
/// it feeds anything here.
#[derive(Clone, Debug)]
pub enum Event {
    /// Transactions this validator's clients submitted, admitted and signature-checked,
    /// each with its hash, in the order they may execute.
    Submitted {
        /// The transactions and their hashes.
        txs: Vec<(Transaction, Hash)>,
        /// The driver's clock, in milliseconds.
        now_ms: u64,
    },
    /// Time passes: a batch whose first transaction lingered long enough is sealed.
    Tick {
        /// The driver's clock, in milliseconds.
        now_ms: u64,
    },
    /// The consensus core entered `round`.
    Round {
        /// The new round.
        round: Round,
    },
    /// A batch sent by validator `from`: well formed
    /// ([`cairn_types::Batch::check_well_formed`]) and every signature valid.
    Received {
        /// Who sent it.
        from: ValidatorId,
        /// The batch and its transactions' hashes.
        batch: HeldBatch,
    },
    /// A vote for one of this validator's batches, its signature checked.
    Vote {
        /// The vote.
        vote: BatchVote,
    },
    /// A proof of availability, its signatures checked.
    Proof {
        /// The proof.
        proof: ProofOfAvailability,
    },
    /// A batch that [`Action::Fetch`] asked for, well formed and signature-checked.
    Fetched {
        /// The batch and its transactions' hashes.
        batch: HeldBatch,
    },
    /// Blocks up to `round` are committed, and these batch digests and transactions
    /// with them. Every held batch holding a committed transaction leaves too: the
    /// block may have come whole (fetched, or a proposal not sent by proofs), or a
    /// transaction may have been in two batches.
    Committed {
        /// The committed block's round.
        round: Round,
        /// The digests of the batches the committed blocks held, where known.
        digests: Vec<Hash>,
        /// The hashes of the committed transactions.
        txs: Vec<Hash>,
    },
    /// A batch found in the durable store at start: held again, not voted for again.
    Restored {
        /// The batch and its transactions' hashes.
        batch: HeldBatch,
    },
}

/// Why a received batch was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Batches come from their author; a relayed one is fetched, not pushed.
    #[error("sent by a validator other than its author")]
    NotFromAuthor,
    /// Its expiry round has passed.
    #[error("expired")]
    Expired,
    /// Its expiry is further ahead than a batch may live.
    #[error("expires too far ahead")]
    TooFarAhead,
    /// Its author already holds its quota of batches or bytes here.
    #[error("over its author's quota")]
    OverQuota,
    /// The author already sent a batch with this sequence number.
    #[error("sequence number already used")]
    SequenceReused,
}

/// What [`crate::Batches`] asks the driver to do.
#[derive(Clone, Debug)]
pub enum Action {
    /// A batch of this validator's: store it durably, then send it to every other
    /// validator (this validator's own vote is already counted).
    Disseminate {
        /// The batch.
        batch: HeldBatch,
    },
    /// Send this validator's `batch` (stored already) again to `to`, which have not
    /// voted for it.
    Resend {
        /// The batch.
        batch: HeldBatch,
        /// Who has not voted.
        to: Vec<ValidatorId>,
    },
    /// Store a peer's batch durably, then send `vote` to its author.
    StoreAndVote {
        /// The batch.
        batch: HeldBatch,
        /// The vote to send once stored.
        vote: BatchVote,
    },
    /// Store a fetched batch durably.
    Store {
        /// The batch.
        batch: HeldBatch,
    },
    /// Send this proof of one of this validator's batches to every validator.
    BroadcastProof {
        /// The proof.
        proof: ProofOfAvailability,
    },
    /// Ask `from` (the proof's signers, any of which holds it) for batch `digest`.
    Fetch {
        /// The batch's digest.
        digest: Hash,
        /// Who vouched for holding it.
        from: Vec<ValidatorId>,
    },
    /// These batches left (committed or expired): delete them from the durable store.
    Forget {
        /// Their digests.
        digests: Vec<Hash>,
    },
    /// One of this validator's batches expired uncommitted: its transactions that are
    /// still pending should be submitted again.
    Expired {
        /// The batch.
        batch: HeldBatch,
    },
    /// A received batch was refused (for the peer's score and the metrics).
    Refused {
        /// Who sent it.
        from: ValidatorId,
        /// Why.
        reason: Refusal,
    },
}

/// The answer to [`crate::Batches::assemble`].
#[derive(Debug)]
pub enum Assembly {
    /// Every batch is held: their transactions, in the proposal's order.
    Ready(Vec<HeldBatch>),
    /// Some are not; the fetches asked for them (already registered).
    Missing(Vec<Action>),
}
