//! The blocks above the last committed one, kept until they commit or die.

use std::collections::HashMap;

use cairn_crypto::Hash;
use cairn_types::{Block, ChainId, Height, Round};

/// What the state machine needs to know about a block it no longer keeps whole:
/// the committed head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    /// The block id.
    pub id: Hash,
    /// Its round.
    pub round: Round,
    /// Its height.
    pub height: Height,
    /// Its header's timestamp.
    pub timestamp_ms: u64,
    /// The state height its header vouches for (0 for genesis).
    pub state_height: Height,
    /// The state hash its header vouches for (zero for genesis, which vouches for
    /// nothing).
    pub state_root: Hash,
}

impl BlockInfo {
    /// The implicit genesis block of `chain`: id = chain id, height and round 0.
    pub fn genesis(chain: &ChainId) -> BlockInfo {
        BlockInfo {
            id: chain.0,
            round: 0,
            height: 0,
            timestamp_ms: 0,
            state_height: 0,
            state_root: Hash::ZERO,
        }
    }

    /// The summary of `block`.
    pub fn of(block: &Block) -> BlockInfo {
        BlockInfo {
            id: block.id(),
            round: block.header.round,
            height: block.header.height,
            timestamp_ms: block.header.timestamp_ms,
            state_height: block.header.state_height,
            state_root: block.header.state_root,
        }
    }
}

/// The committed head (the root) and the uncommitted blocks above it, by id.
#[derive(Debug)]
pub(crate) struct BlockTree {
    root: BlockInfo,
    blocks: HashMap<Hash, Block>,
}

impl BlockTree {
    pub(crate) fn new(root: BlockInfo) -> BlockTree {
        BlockTree {
            root,
            blocks: HashMap::new(),
        }
    }

    /// The committed head.
    pub(crate) fn root(&self) -> &BlockInfo {
        &self.root
    }

    /// An uncommitted block.
    pub(crate) fn get(&self, id: &Hash) -> Option<&Block> {
        self.blocks.get(id)
    }

    /// Whether `id` is the root or a kept block.
    pub(crate) fn contains(&self, id: &Hash) -> bool {
        *id == self.root.id || self.blocks.contains_key(id)
    }

    /// Summary of the root or a kept block.
    pub(crate) fn info(&self, id: &Hash) -> Option<BlockInfo> {
        if *id == self.root.id {
            Some(self.root)
        } else {
            self.blocks.get(id).map(BlockInfo::of)
        }
    }

    /// Keeps `block` if it is above the root. Its parent need not be known yet.
    pub(crate) fn insert(&mut self, block: Block) {
        if block.header.height > self.root.height && block.header.round > self.root.round {
            self.blocks.insert(block.id(), block);
        }
    }

    /// The blocks from just above the root up to and including `id`, lowest first;
    /// `Err(missing)` names the first block on the way down that is not known.
    pub(crate) fn path_from_root(&self, id: &Hash) -> Result<Vec<&Block>, Hash> {
        let mut path = Vec::new();
        let mut cursor = *id;
        while cursor != self.root.id {
            let block = self.blocks.get(&cursor).ok_or(cursor)?;
            if block.header.height <= self.root.height {
                // Below the root on another branch: this chain conflicts with the
                // committed one and can never be extended.
                return Err(cursor);
            }
            path.push(block);
            cursor = block.header.parent;
        }
        path.reverse();
        Ok(path)
    }

    /// Whether any block from `id` down to the root (exclusive) carries transactions.
    /// Unknown blocks count as empty.
    pub(crate) fn has_uncommitted_txs(&self, id: &Hash) -> bool {
        let mut cursor = *id;
        while let Some(block) = self.blocks.get(&cursor) {
            if !block.txs.is_empty() {
                return true;
            }
            cursor = block.header.parent;
        }
        false
    }

    /// Makes `id` the root and returns the newly committed blocks, lowest first.
    /// Drops every block that can no longer commit: at or below the new root's round.
    pub(crate) fn commit(&mut self, id: &Hash) -> Result<Vec<Block>, Hash> {
        let ids: Vec<Hash> = self.path_from_root(id)?.iter().map(|b| b.id()).collect();
        let committed: Vec<Block> = ids.iter().filter_map(|id| self.blocks.remove(id)).collect();
        if let Some(last) = committed.last() {
            self.root = BlockInfo::of(last);
        }
        let root = self.root;
        self.blocks
            .retain(|_, b| b.header.round > root.round && b.header.height > root.height);
        Ok(committed)
    }

    /// Drops blocks of rounds below `round` that are not ancestors-in-waiting, to bound
    /// memory when a Byzantine leader proposes blocks that never certify.
    pub(crate) fn prune_below(&mut self, round: Round, keep: &Hash) {
        let mut keep_ids = Vec::new();
        let mut cursor = *keep;
        while let Some(block) = self.blocks.get(&cursor) {
            keep_ids.push(cursor);
            cursor = block.header.parent;
        }
        self.blocks
            .retain(|id, b| b.header.round >= round || keep_ids.contains(id));
    }

    /// Number of kept blocks.
    pub(crate) fn len(&self) -> usize {
        self.blocks.len()
    }
}
