//! Votes for this validator's own batches, until a quorum makes a proof.

use std::collections::HashMap;

use cairn_crypto::Hash;
use cairn_types::{BatchInfo, BatchVote, ProofOfAvailability};

/// Votes gathered per own batch not yet certified.
#[derive(Default)]
pub(crate) struct Votes {
    open: HashMap<Hash, (BatchInfo, Vec<BatchVote>)>,
}

impl Votes {
    /// Starts gathering votes for `info`.
    pub fn open(&mut self, info: &BatchInfo) {
        self.open.insert(info.digest, (*info, Vec::new()));
    }

    /// Adds `vote`; returns the proof when it completes a quorum of `quorum` votes.
    /// Votes for batches not open (certified already, expired, or not this
    /// validator's), on a different info, or repeated, are ignored.
    pub fn add(&mut self, vote: BatchVote, quorum: usize) -> Option<ProofOfAvailability> {
        let digest = vote.info.digest;
        let (info, votes) = self.open.get_mut(&digest)?;
        if vote.info != *info || votes.iter().any(|v| v.voter == vote.voter) {
            return None;
        }
        votes.push(vote);
        if votes.len() < quorum {
            return None;
        }
        let (info, votes) = self.open.remove(&digest)?;
        ProofOfAvailability::from_votes(info, &votes).ok()
    }

    /// Stops gathering for `digest` (the batch expired or committed).
    pub fn close(&mut self, digest: &Hash) {
        self.open.remove(digest);
    }
}
