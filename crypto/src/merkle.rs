//! A binary Merkle tree over hashes, with inclusion proofs.
//!
//! The shape is the one of RFC 6962 / RFC 9162 (Certificate Transparency), with blake3:
//! * empty tree: `blake3("")`;
//! * leaf: `blake3(0x00 || item)`;
//! * inner node: `blake3(0x01 || left || right)`;
//! * a tree of `n > 1` leaves splits at `k`, the largest power of two below `n`.
//!
//! Building level by level and carrying an unpaired last node up unchanged gives exactly
//! that shape. The distinct leaf and node prefixes stop an inner node from passing as a
//! leaf (the second-preimage trick).

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::{CryptoError, Hash, Result};

const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// The hash of one leaf: `blake3(0x00 || item)`.
pub fn leaf_hash(item: &Hash) -> Hash {
    Hash::digest_parts(&[&[LEAF_PREFIX], item.as_bytes()])
}

/// The hash of an inner node: `blake3(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash::digest_parts(&[&[NODE_PREFIX], left.as_bytes(), right.as_bytes()])
}

/// The root of the empty tree: `blake3("")`.
pub fn empty_root() -> Hash {
    Hash::digest(b"")
}

/// A Merkle tree kept whole, to produce proofs. Use [`MerkleTree::root_of`] when only
/// the root is needed.
#[derive(Clone, Debug)]
pub struct MerkleTree {
    /// `levels[0]` holds the leaf hashes; the last level holds the root alone.
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// Builds the tree over `items` in order.
    pub fn new(items: &[Hash]) -> MerkleTree {
        let mut levels = vec![items.iter().map(leaf_hash).collect::<Vec<_>>()];
        while let Some(level) = levels.last().filter(|level| level.len() > 1) {
            let next = level
                .chunks(2)
                .map(|pair| match pair {
                    [left, right] => node_hash(left, right),
                    [lone] => *lone,
                    _ => unreachable_pair(),
                })
                .collect();
            levels.push(next);
        }
        MerkleTree { levels }
    }

    /// The root of a tree over `items`, without keeping the tree.
    pub fn root_of(items: &[Hash]) -> Hash {
        MerkleTree::new(items).root()
    }

    /// Number of leaves.
    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    /// True if the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The root hash.
    pub fn root(&self) -> Hash {
        match self.levels.last().and_then(|top| top.first()) {
            Some(root) => *root,
            None => empty_root(),
        }
    }

    /// The inclusion proof for leaf `index`, or `None` if there is no such leaf.
    pub fn proof(&self, index: usize) -> Option<MerkleProof> {
        if index >= self.len() {
            return None;
        }
        let mut siblings = Vec::new();
        let mut position = index;
        for level in &self.levels[..self.levels.len() - 1] {
            if let Some(sibling) = level.get(position ^ 1) {
                siblings.push(*sibling);
            }
            position /= 2;
        }
        Some(MerkleProof {
            index: index as u64,
            leaf_count: self.len() as u64,
            siblings,
        })
    }
}

/// `chunks(2)` yields one or two items; this is never called.
#[cold]
fn unreachable_pair() -> Hash {
    Hash::ZERO
}

/// Proof that an item sits at `index` in a tree of `leaf_count` leaves: the sibling
/// hashes from the leaf up to the root (RFC 9162 "inclusion path").
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct MerkleProof {
    /// Position of the item, from 0.
    pub index: u64,
    /// Number of leaves in the tree.
    pub leaf_count: u64,
    /// Sibling hashes, leaf level first.
    pub siblings: Vec<Hash>,
}

impl MerkleProof {
    /// Checks that `item` is at `self.index` in a tree with root `root`, using only the
    /// proof (RFC 9162 section 2.1.3.2).
    pub fn verify(&self, item: &Hash, root: &Hash) -> Result<()> {
        if self.index >= self.leaf_count {
            return Err(CryptoError::BadProof("index is not below leaf count"));
        }
        if self.siblings.len() > 64 {
            return Err(CryptoError::BadProof("more siblings than a tree can have"));
        }
        let mut f = self.index;
        let mut s = self.leaf_count - 1;
        let mut acc = leaf_hash(item);
        for sibling in &self.siblings {
            if s == 0 {
                return Err(CryptoError::BadProof(
                    "more siblings than the tree has levels",
                ));
            }
            if f & 1 == 1 || f == s {
                acc = node_hash(sibling, &acc);
                if f & 1 == 0 {
                    while f & 1 == 0 && f != 0 {
                        f >>= 1;
                        s >>= 1;
                    }
                }
            } else {
                acc = node_hash(&acc, sibling);
            }
            f >>= 1;
            s >>= 1;
        }
        if s != 0 {
            return Err(CryptoError::BadProof(
                "fewer siblings than the tree has levels",
            ));
        }
        if acc != *root {
            return Err(CryptoError::BadProof("computed root differs"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn items(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| Hash::digest(&(i as u64).to_le_bytes()))
            .collect()
    }

    /// RFC 6962's recursive definition, to check the level-by-level build against.
    fn reference_root(items: &[Hash]) -> Hash {
        match items.len() {
            0 => empty_root(),
            1 => leaf_hash(&items[0]),
            n => {
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                node_hash(&reference_root(&items[..k]), &reference_root(&items[k..]))
            }
        }
    }

    #[test]
    fn small_trees_match_the_rfc_definition() {
        for n in 0..70 {
            assert_eq!(
                MerkleTree::root_of(&items(n)),
                reference_root(&items(n)),
                "n = {n}"
            );
        }
    }

    #[test]
    fn single_leaf_root_is_its_leaf_hash_and_proof_is_empty() {
        let one = items(1);
        let tree = MerkleTree::new(&one);
        assert_eq!(tree.root(), leaf_hash(&one[0]));
        let proof = tree.proof(0).unwrap();
        assert!(proof.siblings.is_empty());
        proof.verify(&one[0], &tree.root()).unwrap();
        assert!(tree.proof(1).is_none());
    }

    #[test]
    fn empty_tree_has_no_proofs() {
        let tree = MerkleTree::new(&[]);
        assert!(tree.is_empty());
        assert_eq!(tree.root(), empty_root());
        assert!(tree.proof(0).is_none());
    }

    #[test]
    fn an_inner_node_cannot_pose_as_a_leaf() {
        let four = items(4);
        let tree = MerkleTree::new(&four);
        // The left inner node of the top level, presented as a one-level-up "leaf".
        let inner = node_hash(&leaf_hash(&four[0]), &leaf_hash(&four[1]));
        let forged = MerkleProof {
            index: 0,
            leaf_count: 2,
            siblings: vec![node_hash(&leaf_hash(&four[2]), &leaf_hash(&four[3]))],
        };
        assert!(forged.verify(&inner, &tree.root()).is_err());
    }

    proptest! {
        #[test]
        fn every_leaf_proof_verifies(n in 1usize..300) {
            let items = items(n);
            let tree = MerkleTree::new(&items);
            let root = tree.root();
            for (i, item) in items.iter().enumerate() {
                let proof = tree.proof(i).unwrap();
                prop_assert!(proof.verify(item, &root).is_ok(), "leaf {} of {}", i, n);
            }
        }

        #[test]
        fn changed_leaf_index_or_root_fails(
            n in 1usize..200,
            pick in any::<prop::sample::Index>(),
            other in any::<prop::sample::Index>(),
            flip in 0usize..256,
        ) {
            let items = items(n);
            let tree = MerkleTree::new(&items);
            let root = tree.root();
            let i = pick.index(n);
            let proof = tree.proof(i).unwrap();

            let mut changed_item = items[i];
            changed_item.0[flip / 8] ^= 1 << (flip % 8);
            prop_assert!(proof.verify(&changed_item, &root).is_err());

            let mut changed_root = root;
            changed_root.0[flip / 8] ^= 1 << (flip % 8);
            prop_assert!(proof.verify(&items[i], &changed_root).is_err());

            let j = other.index(n);
            if j != i {
                let moved = MerkleProof { index: j as u64, ..proof.clone() };
                prop_assert!(moved.verify(&items[i], &root).is_err());
            }
            if !proof.siblings.is_empty() {
                let mut bent = proof.clone();
                let s = flip % bent.siblings.len();
                bent.siblings[s].0[0] ^= 1;
                prop_assert!(bent.verify(&items[i], &root).is_err());
            }
        }
    }
}
