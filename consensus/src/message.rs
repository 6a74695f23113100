//! What validators send each other.

use cairn_types::{Proposal, QuorumCert, Round, Timeout, TimeoutCert, Vote, Wire, limits};
use parity_scale_codec::{Decode, Encode};

/// A consensus message between validators. The network layer carries its SCALE
/// encoding; decode it with [`Wire::from_wire`].
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Message {
    /// A leader's proposal (broadcast).
    #[codec(index = 0)]
    Proposal(Proposal),
    /// A vote (sent to the next round's leader).
    #[codec(index = 1)]
    Vote(Vote),
    /// A timeout (broadcast).
    #[codec(index = 2)]
    Timeout(Timeout),
    /// A quorum certificate, sent to help a peer catch up.
    #[codec(index = 3)]
    QuorumCert(QuorumCert),
    /// A timeout certificate, sent to help a peer catch up.
    #[codec(index = 4)]
    TimeoutCert(TimeoutCert),
    /// "Which certificates do you hold?" — sent (broadcast) by a validator recovering
    /// its safety state, at start and each time its round timer fires. Every validator
    /// answers with [`Message::Status`], once per asker per timer period.
    #[codec(index = 5)]
    StatusRequest,
    /// The answer to [`Message::StatusRequest`]: the sender's highest QC and TC. A
    /// recovering validator counts such answers from distinct validators to learn how
    /// far the chain got after it lost its safety state.
    #[codec(index = 6)]
    Status(RoundStatus),
}

/// A validator's highest certificates, as it reports them to a recovering validator.
/// Both verify on their own; the report is not signed (the network layer
/// authenticates its sender).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct RoundStatus {
    /// The highest quorum certificate the sender holds.
    pub high_qc: QuorumCert,
    /// The highest timeout certificate the sender holds, if any.
    pub high_tc: Option<TimeoutCert>,
}

impl RoundStatus {
    /// The highest round the two certificates certify.
    pub fn round(&self) -> Round {
        let tc_round = self.high_tc.as_ref().map_or(0, |tc| tc.round);
        self.high_qc.round().max(tc_round)
    }
}

impl Message {
    /// A short name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Proposal(_) => "proposal",
            Message::Vote(_) => "vote",
            Message::Timeout(_) => "timeout",
            Message::QuorumCert(_) => "quorum_cert",
            Message::TimeoutCert(_) => "timeout_cert",
            Message::StatusRequest => "status_request",
            Message::Status(_) => "status",
        }
    }

    /// The round the message is about (0 for a status request; the higher of the two
    /// certificates' rounds for a status).
    pub fn round(&self) -> Round {
        match self {
            Message::Proposal(p) => p.block.header.round,
            Message::Vote(v) => v.data.round,
            Message::Timeout(t) => t.round,
            Message::QuorumCert(qc) => qc.round(),
            Message::TimeoutCert(tc) => tc.round,
            Message::StatusRequest => 0,
            Message::Status(status) => status.round(),
        }
    }
}

impl Wire for Message {
    const MAX_BYTES: usize = limits::MAX_BLOCK_BYTES + limits::MAX_CERT_BYTES + 16;
    const NAME: &'static str = "consensus message";
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_crypto::Hash;
    use cairn_types::{BoundedVec, ChainId};

    #[test]
    fn status_messages_are_indexes_5_and_6_and_decode_strictly() {
        let chain = ChainId(Hash::digest(b"status"));
        assert_eq!(Message::StatusRequest.encode(), vec![5]);
        let mut qc = QuorumCert::genesis(&chain);
        let status = RoundStatus {
            high_qc: qc.clone(),
            high_tc: None,
        };
        let bytes = Message::Status(status.clone()).encode();
        assert_eq!(bytes[0], 6);
        assert_eq!(&bytes[1..], &(qc.clone(), None::<TimeoutCert>).encode()[..]);
        for message in [Message::StatusRequest, Message::Status(status)] {
            let wire = message.to_wire();
            assert_eq!(Message::from_wire(&wire).unwrap(), message);
            assert!(Message::from_wire(&[wire.as_slice(), &[0]].concat()).is_err());
        }
        assert!(Message::from_wire(&[7]).is_err(), "no index 7");

        qc.data.round = 4;
        let tc = TimeoutCert {
            round: 9,
            high_qc: Box::new(qc.clone()),
            entries: BoundedVec::default(),
        };
        let status = Message::Status(RoundStatus {
            high_qc: qc,
            high_tc: Some(tc),
        });
        assert_eq!((status.kind(), status.round()), ("status", 9));
        assert_eq!(
            (
                Message::StatusRequest.kind(),
                Message::StatusRequest.round()
            ),
            ("status_request", 0)
        );
    }
}
