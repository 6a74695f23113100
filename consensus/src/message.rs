//! What validators send each other.

use cairn_types::{Proposal, QuorumCert, Timeout, TimeoutCert, Vote, Wire, limits};
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
        }
    }

    /// The round the message is about.
    pub fn round(&self) -> cairn_types::Round {
        match self {
            Message::Proposal(p) => p.block.header.round,
            Message::Vote(v) => v.data.round,
            Message::Timeout(t) => t.round,
            Message::QuorumCert(qc) => qc.round(),
            Message::TimeoutCert(tc) => tc.round,
        }
    }
}

impl Wire for Message {
    const MAX_BYTES: usize = limits::MAX_BLOCK_BYTES + limits::MAX_CERT_BYTES + 16;
    const NAME: &'static str = "consensus message";
}
