//! Dispatch of messages from other validators.

use cairn_types::{QuorumCert, TimeoutCert, ValidatorId};

use crate::{Consensus, Message};

impl Consensus {
    /// A message delivered by validator `from`.
    pub(crate) fn on_message(&mut self, from: ValidatorId, message: Message) {
        match message {
            Message::Proposal(proposal) => self.on_proposal(from, proposal),
            Message::Vote(vote) => self.on_vote(vote),
            Message::Timeout(timeout) => self.on_timeout(from, timeout),
            Message::QuorumCert(qc) => self.on_quorum_cert(from, qc),
            Message::TimeoutCert(tc) => self.on_timeout_cert(from, tc),
            Message::StatusRequest => self.on_status_request(from),
            Message::Status(status) => self.on_status(from, status),
        }
    }

    /// A QC on its own: used if it is news (a higher QC, or a commit not made yet).
    pub(crate) fn on_quorum_cert(&mut self, from: ValidatorId, qc: QuorumCert) {
        let news = qc.round() > self.safety.high_qc.round()
            || qc
                .data
                .commits()
                .is_some_and(|(_, round)| round > self.tree.root().round);
        if news && self.verify_qc(&qc) {
            self.process_qc(qc, from);
        }
    }

    /// A TC on its own: used if it is for this round or a later one.
    pub(crate) fn on_timeout_cert(&mut self, from: ValidatorId, tc: TimeoutCert) {
        if tc.round >= self.round && self.verify_tc(&tc) {
            self.process_tc(tc, from);
        }
    }
}
