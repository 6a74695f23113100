//! What the driver feeds into the state machine.

use cairn_crypto::Hash;
use cairn_types::{
    Block, Height, Proposal, QuorumCert, Round, Timeout, TimeoutCert, Transaction, ValidatorId,
    Vote,
};

use crate::Message;

/// An input to [`crate::Consensus::handle`].
#[derive(Clone, Debug)]
pub enum Event {
    /// Start (or restart) the machine: enter the current round, arm its timer and, if
    /// this validator leads it, ask for a payload. Send once, first.
    Start,
    /// A message from validator `from` (the network layer's authenticated sender,
    /// which for forwarded messages need not be the signer).
    Message {
        /// Who delivered it.
        from: ValidatorId,
        /// What it is.
        message: Message,
    },
    /// The timer armed by [`crate::Action::ScheduleTimeout`] for `round` went off.
    LocalTimeout {
        /// The round the timer was armed for.
        round: Round,
    },
    /// The answer to [`crate::Action::RequestPayload`]: transactions for the block this
    /// validator will propose in `round`.
    Payload {
        /// The round the payload was asked for.
        round: Round,
        /// Transactions, in order; at most `Config::max_block_txs` are used.
        txs: Vec<Transaction>,
        /// The height of the driver's last executed block: the header's
        /// `state_height`, unless the parent vouches for a higher one (then the
        /// parent's claim is repeated).
        state_height: Height,
        /// The state hash after `state_height`: the header's `state_root`.
        state_root: Hash,
        /// The driver's clock, for the header's `timestamp_ms`.
        now_ms: u64,
    },
    /// A block that was asked for with [`crate::Action::FetchBlock`]. Accepted only if
    /// its id was asked for and its certificate verifies.
    BlockFetched {
        /// The block.
        block: Block,
    },
}

impl Event {
    /// Shorthand for a message event.
    pub fn message(from: ValidatorId, message: Message) -> Event {
        Event::Message { from, message }
    }

    /// Shorthand for a proposal delivered by `from`.
    pub fn proposal(from: ValidatorId, proposal: Proposal) -> Event {
        Event::message(from, Message::Proposal(proposal))
    }

    /// Shorthand for a vote delivered by `from`.
    pub fn vote(from: ValidatorId, vote: Vote) -> Event {
        Event::message(from, Message::Vote(vote))
    }

    /// Shorthand for a timeout delivered by `from`.
    pub fn timeout(from: ValidatorId, timeout: Timeout) -> Event {
        Event::message(from, Message::Timeout(timeout))
    }

    /// Shorthand for a QC delivered by `from`.
    pub fn quorum_cert(from: ValidatorId, qc: QuorumCert) -> Event {
        Event::message(from, Message::QuorumCert(qc))
    }

    /// Shorthand for a TC delivered by `from`.
    pub fn timeout_cert(from: ValidatorId, tc: TimeoutCert) -> Event {
        Event::message(from, Message::TimeoutCert(tc))
    }
}
