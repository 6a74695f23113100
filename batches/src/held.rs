//! The batches a validator holds, with each author's usage of its quota.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cairn_crypto::Hash;
use cairn_types::{Batch, BatchInfo, ValidatorId};

/// A batch with its transactions' hashes (computed once, when it was checked); cheap
/// to clone.
#[derive(Clone, Debug)]
pub struct HeldBatch {
    /// The batch.
    pub batch: Arc<Batch>,
    /// Its transactions' hashes, in order.
    pub hashes: Arc<[Hash]>,
}

impl HeldBatch {
    /// Wraps a batch and the hashes [`Batch::check_well_formed`] returned.
    pub fn new(batch: Batch, hashes: Vec<Hash>) -> HeldBatch {
        HeldBatch {
            batch: Arc::new(batch),
            hashes: hashes.into(),
        }
    }

    /// The batch's info.
    pub fn info(&self) -> &BatchInfo {
        &self.batch.info
    }

    /// The batch's digest.
    pub fn digest(&self) -> Hash {
        self.batch.info.digest
    }
}

/// Batches and transaction bytes held for one author.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub batches: usize,
    pub bytes: usize,
}

/// The held batches by digest, and what each author uses.
#[derive(Default)]
pub(crate) struct Held {
    by_digest: HashMap<Hash, HeldBatch>,
    /// The digest of a held batch holding each transaction hash.
    by_tx: HashMap<Hash, Hash>,
    usage: HashMap<ValidatorId, Usage>,
    sequences: HashSet<(ValidatorId, u64)>,
}

impl Held {
    pub fn get(&self, digest: &Hash) -> Option<&HeldBatch> {
        self.by_digest.get(digest)
    }

    pub fn usage(&self, author: ValidatorId) -> Usage {
        self.usage.get(&author).copied().unwrap_or_default()
    }

    pub fn sequence_used(&self, author: ValidatorId, sequence: u64) -> bool {
        self.sequences.contains(&(author, sequence))
    }

    /// Holds `batch`; false if a batch with its digest is held already.
    pub fn insert(&mut self, batch: HeldBatch) -> bool {
        let info = *batch.info();
        if self.by_digest.contains_key(&info.digest) {
            return false;
        }
        let usage = self.usage.entry(info.author).or_default();
        usage.batches += 1;
        usage.bytes += info.bytes as usize;
        self.sequences.insert((info.author, info.sequence));
        for tx in batch.hashes.iter() {
            self.by_tx.insert(*tx, info.digest);
        }
        self.by_digest.insert(info.digest, batch);
        true
    }

    pub fn remove(&mut self, digest: &Hash) -> Option<HeldBatch> {
        let batch = self.by_digest.remove(digest)?;
        let info = batch.info();
        if let Some(usage) = self.usage.get_mut(&info.author) {
            usage.batches = usage.batches.saturating_sub(1);
            usage.bytes = usage.bytes.saturating_sub(info.bytes as usize);
            if usage.batches == 0 {
                self.usage.remove(&info.author);
            }
        }
        self.sequences.remove(&(info.author, info.sequence));
        for tx in batch.hashes.iter() {
            if self.by_tx.get(tx) == Some(&info.digest) {
                self.by_tx.remove(tx);
            }
        }
        Some(batch)
    }

    /// The digests of the held batches that hold any of `txs`.
    pub fn holding(&self, txs: &[Hash]) -> Vec<Hash> {
        let mut digests: Vec<Hash> = txs
            .iter()
            .filter_map(|tx| self.by_tx.get(tx))
            .copied()
            .collect();
        digests.sort_unstable();
        digests.dedup();
        digests
    }

    /// The digests of the batches that expire at or before `round`.
    pub fn expired_by(&self, round: cairn_types::Round) -> Vec<Hash> {
        self.by_digest
            .values()
            .filter(|batch| batch.info().expires <= round)
            .map(HeldBatch::digest)
            .collect()
    }

    pub fn len(&self) -> usize {
        self.by_digest.len()
    }
}
