//! The validator set: who may sign consensus messages and how many make a quorum.

use cairn_crypto::PublicKey;

use crate::{Result, TypesError, ValidatorId};

/// The fixed, ordered set of validator consensus keys from the genesis document.
/// `ValidatorId(i)` is the `i`-th key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    keys: Vec<PublicKey>,
}

impl ValidatorSet {
    /// Builds a set from keys in genesis order. Refuses an empty set, more than
    /// [`crate::limits::MAX_VALIDATORS`] keys, and duplicate keys.
    pub fn new(keys: Vec<PublicKey>) -> Result<ValidatorSet> {
        if keys.is_empty() {
            return Err(TypesError::InvalidValidatorSet("no validators".into()));
        }
        if keys.len() > crate::limits::MAX_VALIDATORS {
            return Err(TypesError::InvalidValidatorSet(format!(
                "{} validators, at most {} allowed",
                keys.len(),
                crate::limits::MAX_VALIDATORS
            )));
        }
        let mut sorted = keys.clone();
        sorted.sort();
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(TypesError::InvalidValidatorSet(format!(
                "consensus key {} appears twice",
                pair[0]
            )));
        }
        Ok(ValidatorSet { keys })
    }

    /// Number of validators, n.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: a set has at least one validator.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The largest number of Byzantine validators the set tolerates: `f = ⌊(n − 1) / 3⌋`.
    pub fn max_faulty(&self) -> usize {
        (self.len() - 1) / 3
    }

    /// Signatures needed for a certificate: `⌊(n + f) / 2⌋ + 1`, which is `2f + 1` when
    /// `n = 3f + 1`. Any two quorums then share at least `f + 1` validators, so at
    /// least one honest one.
    pub fn quorum(&self) -> usize {
        (self.len() + self.max_faulty()) / 2 + 1
    }

    /// The key of validator `id`, if it exists.
    pub fn key(&self, id: ValidatorId) -> Option<&PublicKey> {
        self.keys.get(usize::from(id.0))
    }

    /// The id of the validator with consensus key `key`, if it is in the set.
    pub fn id_of(&self, key: &PublicKey) -> Option<ValidatorId> {
        self.keys
            .iter()
            .position(|k| k == key)
            .and_then(|i| u16::try_from(i).ok())
            .map(ValidatorId)
    }

    /// All keys in order, with their ids.
    pub fn iter(&self) -> impl Iterator<Item = (ValidatorId, &PublicKey)> {
        // `new` caps the length at MAX_VALIDATORS, which fits in u16.
        self.keys
            .iter()
            .enumerate()
            .map(|(i, k)| (ValidatorId(i as u16), k))
    }

    /// The round-robin leader of `round`.
    pub fn leader(&self, round: crate::Round) -> ValidatorId {
        ValidatorId((round % self.len() as u64) as u16)
    }

    /// The key of `id`, or an error naming the unknown signer.
    pub(crate) fn require(&self, id: ValidatorId) -> Result<&PublicKey> {
        self.key(id)
            .ok_or(TypesError::UnknownValidator { id, n: self.len() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_crypto::SecretKey;

    fn set(n: u8) -> ValidatorSet {
        ValidatorSet::new(
            (0..n)
                .map(|i| SecretKey::from_seed(&[i; 32]).public())
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn fault_tolerance_and_quorum() {
        // (n, f, quorum)
        for (n, f, q) in [
            (1, 0, 1),
            (2, 0, 2),
            (3, 0, 2),
            (4, 1, 3),
            (5, 1, 4),
            (6, 1, 4),
            (7, 2, 5),
            (10, 3, 7),
            (16, 5, 11),
        ] {
            let s = set(n);
            assert_eq!((s.max_faulty(), s.quorum()), (f, q), "n = {n}");
            // Two quorums overlap in more than f validators.
            assert!(2 * q - s.len() > f, "n = {n}");
            // The honest validators alone can form a quorum.
            assert!(q <= s.len() - f, "n = {n}");
        }
    }

    #[test]
    fn refuses_empty_and_duplicate_sets() {
        assert!(ValidatorSet::new(vec![]).is_err());
        let k = SecretKey::from_seed(&[1; 32]).public();
        let err = ValidatorSet::new(vec![k, k]).unwrap_err().to_string();
        assert!(err.contains("appears twice"), "{err}");
    }

    #[test]
    fn leader_rotates() {
        let s = set(4);
        let leaders: Vec<u16> = (1..=8).map(|r| s.leader(r).0).collect();
        assert_eq!(leaders, vec![1, 2, 3, 0, 1, 2, 3, 0]);
    }
}
