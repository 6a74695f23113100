//! Test helpers (feature `testing`): a builder of valid, really signed chains, and raw
//! access to the database for corruption experiments. Not for production use.
//!
//! The chain has four validators with fixed seeds (`[1; 32]` … `[4; 32]`), so quorum
//! certificates carry three real ed25519 signatures, and one writer account (seed
//! `[9; 32]`) that puts one key per transaction.

use cairn_crypto::{Hash, PublicKey, SecretKey};
use cairn_types::{
    AccountState, Block, BlockHeader, BoundedBytes, BoundedVec, ChainId, Height, Op, Outcome,
    QuorumCert, Receipt, Role, Round, Transaction, TxPayload, ValidatorId, ValidatorSet, Vote,
    VoteData,
};
use rocksdb::WriteOptions;

use crate::{CommitBatch, Result, StateChange, StorageError, Store};

/// The tip a builder extends: enough to sign its QC and link the next block.
#[derive(Clone, Debug)]
struct Tip {
    id: Hash,
    height: Height,
    round: Round,
    parent_id: Hash,
    parent_round: Round,
}

/// Builds a valid committed chain block by block, continuing from any stored head.
#[derive(Debug)]
pub struct ChainBuilder {
    chain: ChainId,
    keys: Vec<SecretKey>,
    validators: ValidatorSet,
    sender: SecretKey,
    tip: Tip,
    next_round: Round,
    nonce: u64,
    txs_per_block: usize,
    /// The state claim of the blocks built next (`state_height`, `state_root`).
    state_claim: (Height, Hash),
}

impl ChainBuilder {
    /// The chain id of every builder's chain.
    pub fn chain_id() -> ChainId {
        ChainId(Hash::digest(b"cairn-storage test chain"))
    }

    /// The four validators' keys.
    pub fn validator_keys() -> Vec<SecretKey> {
        (1..=4u8).map(|i| SecretKey::from_seed(&[i; 32])).collect()
    }

    /// The validator set the chain's certificates verify against.
    pub fn validator_set() -> ValidatorSet {
        let keys = Self::validator_keys()
            .iter()
            .map(SecretKey::public)
            .collect();
        // Four distinct fixed keys always make a valid set.
        ValidatorSet::new(keys).unwrap_or_else(|e| unreachable!("fixed validator set: {e}"))
    }

    /// The account that signs every transaction.
    pub fn sender() -> PublicKey {
        SecretKey::from_seed(&[9; 32]).public()
    }

    /// A builder at genesis, putting `txs_per_block` keys per block.
    pub fn new(txs_per_block: usize) -> ChainBuilder {
        let chain = Self::chain_id();
        ChainBuilder {
            chain,
            keys: Self::validator_keys(),
            validators: Self::validator_set(),
            sender: SecretKey::from_seed(&[9; 32]),
            tip: Tip {
                id: chain.0,
                height: 0,
                round: 0,
                parent_id: Hash::ZERO,
                parent_round: 0,
            },
            next_round: 1,
            nonce: 0,
            txs_per_block,
            state_claim: (0, Hash::ZERO),
        }
    }

    /// Makes the blocks built from now on vouch for `root` as the state after `height`.
    pub fn claim_state(&mut self, height: Height, root: Hash) {
        self.state_claim = (height, root);
    }

    /// A builder that continues the chain stored in `store` (built by a `ChainBuilder`).
    pub fn resume(store: &Store, txs_per_block: usize) -> Result<ChainBuilder> {
        let mut builder = ChainBuilder::new(txs_per_block);
        let head = store.head()?;
        if let Some(header) = store.header(&head.id)? {
            builder.tip = Tip {
                id: head.id,
                height: header.height,
                round: header.round,
                parent_id: header.parent,
                parent_round: header.justify.round(),
            };
            builder.next_round = header.round + 1;
        }
        builder.nonce = store.account(&Self::sender())?.map_or(0, |a| a.nonce);
        Ok(builder)
    }

    /// Makes the next block's round skip one (as after a timed-out round).
    pub fn skip_round(&mut self) {
        self.next_round += 1;
    }

    /// A QC signed by validators 0, 1 and 2 (a quorum of four) over `data`.
    pub fn certify(&self, data: VoteData) -> QuorumCert {
        let votes: Vec<Vote> = (0..3u16)
            .map(|i| {
                Vote::sign(
                    &self.chain,
                    data,
                    ValidatorId(i),
                    &self.keys[usize::from(i)],
                )
            })
            .collect();
        QuorumCert::from_votes(data, &votes).unwrap_or_else(|e| unreachable!("3 votes: {e}"))
    }

    /// The QC certifying the current tip (the genesis QC at genesis).
    pub fn tip_qc(&self) -> QuorumCert {
        if self.tip.height == 0 {
            return QuorumCert::genesis(&self.chain);
        }
        self.certify(VoteData {
            block_id: self.tip.id,
            round: self.tip.round,
            height: self.tip.height,
            parent_id: self.tip.parent_id,
            parent_round: self.tip.parent_round,
        })
    }

    /// Builds the next block (with `txs_per_block` transactions) and makes it the tip.
    pub fn next_block(&mut self) -> Block {
        let txs: Vec<Transaction> = (0..self.txs_per_block).map(|_| self.next_tx()).collect();
        self.next_block_with(txs)
    }

    /// Builds the next block carrying `txs` and makes it the tip.
    pub fn next_block_with(&mut self, txs: Vec<Transaction>) -> Block {
        let block = self.block_on_tip(txs);
        self.tip = Tip {
            id: block.id(),
            height: block.header.height,
            round: block.header.round,
            parent_id: block.header.parent,
            parent_round: block.header.justify.round(),
        };
        self.next_round += 1;
        block
    }

    /// Builds `blocks` blocks and everything a commit of them writes: receipts (all
    /// applied), state changes (one key per transaction, the sender's account) and the
    /// certificate of a child of the last block, which proves it committed.
    pub fn next_commit(&mut self, blocks: usize) -> CommitBatch {
        let blocks: Vec<Block> = (0..blocks).map(|_| self.next_block()).collect();
        self.commit_of(blocks)
    }

    /// The commit of `blocks` (the builder's latest, lowest first) with made-up
    /// results, as [`ChainBuilder::next_commit`] writes them.
    pub fn commit_of(&mut self, blocks: Vec<Block>) -> CommitBatch {
        let mut receipts = Vec::new();
        let mut changes = Vec::new();
        for block in &blocks {
            for (index, tx) in block.txs.iter().enumerate() {
                receipts.push(Receipt {
                    tx_hash: tx.hash(),
                    height: block.header.height,
                    index: index as u32,
                    outcome: Outcome::Applied,
                });
                if let Op::Put { key, value } = &tx.payload.op {
                    changes.push(StateChange::Put {
                        key: key.clone(),
                        value: value.clone(),
                    });
                }
            }
        }
        changes.push(StateChange::Account {
            key: Self::sender(),
            state: AccountState {
                role: Some(Role::Writer),
                balance: 0,
                nonce: self.nonce,
            },
        });
        let child = self.block_on_tip(Vec::new());
        let certificate = self.certify(VoteData {
            block_id: child.id(),
            round: child.header.round,
            height: child.header.height,
            parent_id: self.tip.id,
            parent_round: self.tip.round,
        });
        let state_roots = blocks
            .iter()
            .map(|b| Hash::digest_parts(&[b"test state", b.id().as_bytes()]))
            .collect();
        CommitBatch {
            blocks,
            certificate,
            earlier_certificates: Vec::new(),
            receipts,
            changes,
            state_roots,
        }
    }

    fn block_on_tip(&self, txs: Vec<Transaction>) -> Block {
        let round = self.next_round;
        let header = BlockHeader {
            chain_id: self.chain,
            height: self.tip.height + 1,
            round,
            parent: self.tip.id,
            payload_root: Block::payload_root_of(&txs),
            state_height: self.state_claim.0,
            state_root: self.state_claim.1,
            proposer: self.validators.leader(round),
            timestamp_ms: 1_700_000_000_000 + round * 1000,
            justify: self.tip_qc(),
        };
        let txs = BoundedVec::new(txs).unwrap_or_else(|e| unreachable!("block size: {e}"));
        Block { header, txs }
    }

    /// A Put signed by the builder's sender with its next nonce.
    pub fn next_tx(&mut self) -> Transaction {
        let nonce = self.nonce;
        self.nonce += 1;
        let payload = TxPayload {
            chain_id: self.chain,
            sender: self.sender.public(),
            nonce,
            op: Op::Put {
                key: bounded(format!("key/{nonce}").into_bytes()),
                value: bounded(nonce.to_le_bytes().to_vec()),
            },
        };
        Transaction::sign(payload, &self.sender)
    }
}

/// Short test bytes as a bounded byte string.
fn bounded<const N: usize>(bytes: Vec<u8>) -> BoundedBytes<N> {
    BoundedBytes::new(bytes).unwrap_or_else(|e| unreachable!("short test bytes: {e}"))
}

impl Store {
    /// Test only: writes raw `value` under `key` in column family `cf`, bypassing
    /// every check (to simulate corruption).
    pub fn raw_put(&self, cf: &'static str, key: &[u8], value: &[u8]) -> Result<()> {
        let mut options = WriteOptions::default();
        options.set_sync(true);
        self.db
            .put_cf_opt(self.cf(cf)?, key, value, &options)
            .map_err(StorageError::db("raw write"))
    }

    /// Test only: deletes `key` in column family `cf`, bypassing every check.
    pub fn raw_delete(&self, cf: &'static str, key: &[u8]) -> Result<()> {
        self.db
            .delete_cf(self.cf(cf)?, key)
            .map_err(StorageError::db("raw delete"))
    }

    /// Test only: the raw bytes under `key` in column family `cf`.
    pub fn raw_get(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get(cf, key)
    }
}
