//! Votes for this validator's own batches, until a quorum makes a proof.

use std::collections::HashMap;

use cairn_crypto::Hash;
use cairn_types::{BatchInfo, BatchVote, ProofOfAvailability, ValidatorId};

/// One own batch gathering votes: its info, the votes so far, and when it was last
/// sent.
struct Open {
    info: BatchInfo,
    votes: Vec<BatchVote>,
    sent_ms: u64,
}

/// Votes gathered per own batch not yet certified.
#[derive(Default)]
pub(crate) struct Votes {
    open: HashMap<Hash, Open>,
}

impl Votes {
    /// Starts gathering votes for `info`, sent at `now_ms`.
    pub fn open(&mut self, info: &BatchInfo, now_ms: u64) {
        self.open.insert(
            info.digest,
            Open {
                info: *info,
                votes: Vec::new(),
                sent_ms: now_ms,
            },
        );
    }

    /// The batches sent at least `every_ms` ago and still short of a quorum, with who
    /// has voted for each; they count as sent again now.
    pub fn due_again(&mut self, now_ms: u64, every_ms: u64) -> Vec<(Hash, Vec<ValidatorId>)> {
        let mut due = Vec::new();
        for (digest, open) in &mut self.open {
            if now_ms.saturating_sub(open.sent_ms) >= every_ms {
                open.sent_ms = now_ms;
                due.push((*digest, open.votes.iter().map(|v| v.voter).collect()));
            }
        }
        due
    }

    /// Adds `vote`; returns the proof when it completes a quorum of `quorum` votes.
    /// Votes for batches not open (certified already, expired, or not this
    /// validator's), on a different info, or repeated, are ignored.
    pub fn add(&mut self, vote: BatchVote, quorum: usize) -> Option<ProofOfAvailability> {
        let digest = vote.info.digest;
        let open = self.open.get_mut(&digest)?;
        if vote.info != open.info || open.votes.iter().any(|v| v.voter == vote.voter) {
            return None;
        }
        open.votes.push(vote);
        if open.votes.len() < quorum {
            return None;
        }
        let open = self.open.remove(&digest)?;
        ProofOfAvailability::from_votes(open.info, &open.votes).ok()
    }

    /// Stops gathering for `digest` (the batch expired or committed).
    pub fn close(&mut self, digest: &Hash) {
        self.open.remove(digest);
    }
}
