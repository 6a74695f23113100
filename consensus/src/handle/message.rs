//! Dispatch of messages from other validators.

use cairn_types::ValidatorId;

use crate::{Consensus, Message};

impl Consensus {
    /// A message delivered by validator `from`.
    pub(crate) fn on_message(&mut self, from: ValidatorId, message: Message) {
        match message {
            Message::Proposal(proposal) => self.on_proposal(from, proposal),
            Message::Vote(vote) => self.on_vote(vote),
            Message::Timeout(timeout) => self.on_timeout(from, timeout),
            Message::QuorumCert(qc) => {
                let news = qc.round() > self.safety.high_qc.round()
                    || qc
                        .data
                        .commits()
                        .is_some_and(|(_, round)| round > self.tree.root().round);
                if news && self.verify_once(&qc, |c, v| qc.verify(c, v)) {
                    self.process_qc(qc, from);
                }
            }
            Message::TimeoutCert(tc) => {
                if tc.round >= self.round && self.verify_once(&tc, |c, v| tc.verify(c, v)) {
                    self.process_tc(tc, from);
                }
            }
        }
    }
}
