//! The state claims in block headers, checked against this node's own execution.
//!
//! Execution runs after ordering (`commit`), so a proposer vouches in its header for
//! the state of a block it executed earlier (`state_height`, `state_root`; docs/
//! PROTOCOL.md §6). A proposal whose claim differs from what this node computed for
//! that height is not voted for; a claim about a height this node has not executed
//! yet is kept and compared when it has. Either way a difference is logged as a STATE
//! DIVERGENCE and counted (`cairn_node_state_divergences_total`): the honest
//! validators disagree about execution, which must be seen at once, not found later.

use std::collections::BTreeMap;

use cairn_crypto::Hash;
use cairn_types::{BlockHeader, Height, ValidatorId};

/// Executed state roots remembered, by height: claims older than this are not
/// checked (a proposer repeats its parent's claim, so they are rare).
pub const ROOTS_KEPT: usize = 4_096;
/// Claims about heights not executed yet kept per height; more are not checked.
const CLAIMS_PER_HEIGHT: usize = 4;
/// Heights above the executed one whose claims are kept.
const CLAIM_HEIGHTS: u64 = 1_024;

/// How a header's claim compares with this node's execution.
#[derive(Debug, PartialEq, Eq)]
pub enum ClaimCheck {
    /// This node computed the same state for that height, or the claim is of genesis.
    Agrees,
    /// This node has not executed that height yet: kept, compared later.
    Later,
    /// Too old or too far ahead to check.
    Unchecked,
    /// This node computed another state for that height.
    Differs {
        /// What this node computed.
        ours: Hash,
    },
}

/// A claim found to differ after this node executed its height.
#[derive(Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The height.
    pub height: Height,
    /// The proposer that claimed it.
    pub proposer: ValidatorId,
    /// What it claimed.
    pub claimed: Hash,
    /// What this node computed.
    pub ours: Hash,
}

/// Executed roots and claims waiting for execution.
pub struct StateClaims {
    executed: Height,
    roots: BTreeMap<Height, Hash>,
    waiting: BTreeMap<Height, Vec<(Hash, ValidatorId)>>,
}

impl StateClaims {
    /// Starting at the executed `height` with state hash `root`.
    pub fn new(height: Height, root: Hash) -> StateClaims {
        StateClaims {
            executed: height,
            roots: BTreeMap::from([(height, root)]),
            waiting: BTreeMap::new(),
        }
    }

    /// Checks `header`'s claim (keeping it for later when its height is not executed
    /// here yet).
    pub fn check(&mut self, header: &BlockHeader) -> ClaimCheck {
        let height = header.state_height;
        if height == 0 && header.state_root == Hash::ZERO {
            // Genesis: a block on a chain nobody had executed yet vouches for nothing.
            return ClaimCheck::Agrees;
        }
        if height <= self.executed {
            return match self.roots.get(&height) {
                Some(ours) if *ours == header.state_root => ClaimCheck::Agrees,
                Some(ours) => ClaimCheck::Differs { ours: *ours },
                None => ClaimCheck::Unchecked,
            };
        }
        if height > self.executed.saturating_add(CLAIM_HEIGHTS) {
            return ClaimCheck::Unchecked;
        }
        let claims = self.waiting.entry(height).or_default();
        let claim = (header.state_root, header.proposer);
        if !claims.contains(&claim) && claims.len() < CLAIMS_PER_HEIGHT {
            claims.push(claim);
        }
        ClaimCheck::Later
    }

    /// This node executed `height` with state hash `root`: the kept claims about it
    /// that differ.
    pub fn executed(&mut self, height: Height, root: Hash) -> Vec<Divergence> {
        self.executed = self.executed.max(height);
        self.roots.insert(height, root);
        while self.roots.len() > ROOTS_KEPT {
            self.roots.pop_first();
        }
        let mut divergences = Vec::new();
        let settled: Vec<Height> = self.waiting.range(..=height).map(|(h, _)| *h).collect();
        for h in settled {
            let claims = self.waiting.remove(&h).unwrap_or_default();
            let Some(ours) = self.roots.get(&h) else {
                continue;
            };
            divergences.extend(
                claims
                    .into_iter()
                    .filter(|(claimed, _)| claimed != ours)
                    .map(|(claimed, proposer)| Divergence {
                        height: h,
                        proposer,
                        claimed,
                        ours: *ours,
                    }),
            );
        }
        divergences
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::driver::verify::tests::block_of;

    fn claim(height: Height, root: Hash, proposer: u16) -> BlockHeader {
        let mut header = block_of(0, 0, height + 2).header;
        header.state_height = height;
        header.state_root = root;
        header.proposer = ValidatorId(proposer);
        header
    }

    #[test]
    fn claims_are_compared_now_or_once_the_height_is_executed() {
        let (a, b) = (Hash::digest(b"a"), Hash::digest(b"b"));
        let mut claims = StateClaims::new(10, a);
        assert_eq!(claims.check(&claim(10, a, 1)), ClaimCheck::Agrees);
        assert_eq!(
            claims.check(&claim(10, b, 1)),
            ClaimCheck::Differs { ours: a }
        );
        assert_eq!(claims.check(&claim(0, Hash::ZERO, 1)), ClaimCheck::Agrees);
        assert_eq!(claims.check(&claim(5, a, 1)), ClaimCheck::Unchecked);
        // Ahead of execution: kept, then settled when the height is executed.
        assert_eq!(claims.check(&claim(12, a, 1)), ClaimCheck::Later);
        assert_eq!(claims.check(&claim(12, b, 2)), ClaimCheck::Later);
        assert!(claims.executed(11, b).is_empty());
        let found = claims.executed(12, b);
        assert_eq!(
            found,
            vec![Divergence {
                height: 12,
                proposer: ValidatorId(1),
                claimed: a,
                ours: b
            }]
        );
        assert_eq!(claims.check(&claim(12, b, 3)), ClaimCheck::Agrees);
        assert_eq!(
            claims.check(&claim(12 + CLAIM_HEIGHTS + 1, a, 1)),
            ClaimCheck::Unchecked
        );
    }

    #[test]
    fn what_is_kept_is_bounded() {
        let mut claims = StateClaims::new(0, Hash::ZERO);
        for h in 1..=(ROOTS_KEPT as u64 + 100) {
            for p in 0..10u16 {
                claims.check(&claim(h + 1, Hash::digest(&p.to_le_bytes()), p));
            }
            claims.executed(h, Hash::digest(&h.to_le_bytes()));
        }
        assert_eq!(claims.roots.len(), ROOTS_KEPT);
        assert!(
            claims
                .waiting
                .values()
                .all(|c| c.len() <= CLAIMS_PER_HEIGHT)
        );
        assert!(claims.waiting.len() <= 1);
    }
}
