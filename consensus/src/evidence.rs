//! Proof that a validator equivocated: two conflicting signed messages for one round.

use cairn_types::{Proposal, Timeout, ValidatorId, Vote};

/// Two signed messages of one validator that an honest validator never produces.
/// Each carries both messages, so anyone can check the signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// Two different proposals for one round.
    DoubleProposal(Box<Proposal>, Box<Proposal>),
    /// Two different votes for one round.
    DoubleVote(Box<Vote>, Box<Vote>),
    /// Two different timeouts for one round.
    DoubleTimeout(Box<Timeout>, Box<Timeout>),
}

impl Evidence {
    /// The validator that equivocated.
    pub fn culprit(&self) -> ValidatorId {
        match self {
            Evidence::DoubleProposal(a, _) => a.block.header.proposer,
            Evidence::DoubleVote(a, _) => a.voter,
            Evidence::DoubleTimeout(a, _) => a.signer,
        }
    }

    /// The round of the conflicting messages.
    pub fn round(&self) -> cairn_types::Round {
        match self {
            Evidence::DoubleProposal(a, _) => a.block.header.round,
            Evidence::DoubleVote(a, _) => a.data.round,
            Evidence::DoubleTimeout(a, _) => a.round,
        }
    }
}
