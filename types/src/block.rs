//! Blocks and proposals.
//!
//! The committed blocks form a hash chain: each header names its parent's id, and a
//! block's id is `blake3(SCALE(header))`. The genesis block is implicit: its id is the
//! chain id, its height and round are 0, and the first block's `justify` is
//! [`QuorumCert::genesis`].

use cairn_crypto::{Domain, Hash, MerkleTree, SecretKey, Signature};
use parity_scale_codec::{Decode, Encode};

use crate::codec::{BoundedVec, Wire};
use crate::limits::{MAX_BLOCK_BYTES, MAX_BLOCK_TXS};
use crate::{
    ChainId, Height, QuorumCert, Result, Round, TimeoutCert, Transaction, TypesError, ValidatorId,
    ValidatorSet,
};

/// The transactions of one block, at most [`MAX_BLOCK_TXS`].
pub type Payload = BoundedVec<Transaction, MAX_BLOCK_TXS>;

/// Everything about a block except its transactions; the block id is its hash.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct BlockHeader {
    /// The chain this block belongs to.
    pub chain_id: ChainId,
    /// Distance from genesis (genesis is 0).
    pub height: Height,
    /// The consensus round in which it was proposed.
    pub round: Round,
    /// The parent block's id; equal to `justify.data.block_id`.
    pub parent: Hash,
    /// Merkle root (see `cairn_crypto::merkle`) of the transaction hashes, in order.
    pub payload_root: Hash,
    /// The height of the state the proposer vouches for: the highest block it had
    /// executed (or that the parent vouched for, if higher), at most `height - 1`, and
    /// never below the parent's `state_height`.
    pub state_height: Height,
    /// The state hash `S` after executing the chain up to `state_height`
    /// (docs/PROTOCOL.md §11): how validators agree on execution results without
    /// waiting for execution before they vote.
    pub state_root: Hash,
    /// The validator that proposed it.
    pub proposer: ValidatorId,
    /// The proposer's clock, in milliseconds since the Unix epoch. Informational: it
    /// never decides validity beyond being no earlier than the parent's.
    pub timestamp_ms: u64,
    /// The certificate of the parent block that this block extends.
    pub justify: QuorumCert,
}

impl BlockHeader {
    /// The block id: `blake3(SCALE(header))`.
    pub fn id(&self) -> Hash {
        Hash::digest(&self.encode())
    }
}

impl Wire for BlockHeader {
    const MAX_BYTES: usize = crate::limits::MAX_CERT_BYTES + 1024;
    const NAME: &'static str = "block header";
}

/// A block: header plus transactions.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Block {
    /// The header (its hash is the block id).
    pub header: BlockHeader,
    /// The transactions, in execution order.
    pub txs: Payload,
}

impl Block {
    /// The block id (hash of the header).
    pub fn id(&self) -> Hash {
        self.header.id()
    }

    /// The Merkle root of `txs`' hashes: what `payload_root` must be.
    pub fn payload_root_of(txs: &[Transaction]) -> Hash {
        let hashes: Vec<Hash> = txs.iter().map(Transaction::hash).collect();
        MerkleTree::root_of(&hashes)
    }

    /// Checks what the block says about itself: chain id, payload root, that it extends
    /// its justify QC (parent, height, round). Does not check signatures.
    pub fn check_well_formed(&self, chain: &ChainId) -> Result<()> {
        let header = &self.header;
        let invalid = |problem: String| TypesError::InvalidBlock {
            height: header.height,
            problem,
        };
        if header.chain_id != *chain {
            return Err(TypesError::WrongChain);
        }
        if header.parent != header.justify.block_id() {
            return Err(invalid(
                "parent is not the block its justify QC certifies".into(),
            ));
        }
        if header.justify.data.height.checked_add(1) != Some(header.height) {
            return Err(invalid(format!(
                "height does not follow the justify QC's height {}",
                header.justify.data.height
            )));
        }
        if header.round <= header.justify.round() {
            return Err(invalid(format!(
                "round {} is not above the justify QC's round {}",
                header.round,
                header.justify.round()
            )));
        }
        if header.state_height >= header.height {
            return Err(invalid(format!(
                "state height {} is not below the block's height",
                header.state_height
            )));
        }
        let root = Block::payload_root_of(&self.txs);
        if root != header.payload_root {
            return Err(invalid(format!(
                "payload root {} does not match the transactions' root {root}",
                header.payload_root
            )));
        }
        Ok(())
    }
}

impl Wire for Block {
    const MAX_BYTES: usize = MAX_BLOCK_BYTES;
    const NAME: &'static str = "block";
}

/// The bytes a leader signs for a proposal (after the `cairn/proposal/v1` tag):
/// `SCALE(chain_id, round, block_id)`.
pub fn proposal_signing_bytes(chain: &ChainId, round: Round, block_id: &Hash) -> Vec<u8> {
    (chain, round, block_id).encode()
}

/// A leader's signed proposal of a block, with the timeout certificate that let it
/// enter the round when the previous round failed.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Proposal {
    /// The proposed block.
    pub block: Block,
    /// Present when the previous round ended by timeout rather than by a QC.
    pub timeout_cert: Option<TimeoutCert>,
    /// The proposer's signature over `cairn/proposal/v1 || SCALE(chain_id, round, block_id)`.
    pub signature: Signature,
}

impl Proposal {
    /// Signs `block` as its proposer.
    pub fn sign(block: Block, timeout_cert: Option<TimeoutCert>, key: &SecretKey) -> Proposal {
        let message =
            proposal_signing_bytes(&block.header.chain_id, block.header.round, &block.id());
        let signature = key.sign(Domain::Proposal, &message);
        Proposal {
            block,
            timeout_cert,
            signature,
        }
    }

    /// Checks the block's form, the proposer's signature, the justify QC and the
    /// timeout certificate (which must be for the previous round). Whether the proposer
    /// is the round's leader, and whether voting is safe, is for consensus to decide.
    pub fn verify(&self, chain: &ChainId, validators: &ValidatorSet) -> Result<()> {
        self.block.check_well_formed(chain)?;
        verify_signed_header(
            chain,
            validators,
            &self.block.header,
            self.timeout_cert.as_ref(),
            &self.signature,
        )
    }
}

/// The checks of a proposal that need no transactions: the proposer's signature over
/// the header's id, the justify QC, and the timeout certificate (which must be for the
/// previous round). Shared by [`Proposal::verify`] and the batched form's check.
pub fn verify_signed_header(
    chain: &ChainId,
    validators: &ValidatorSet,
    header: &BlockHeader,
    timeout_cert: Option<&TimeoutCert>,
    signature: &Signature,
) -> Result<()> {
    let key = validators.require(header.proposer)?;
    key.verify(
        Domain::Proposal,
        &proposal_signing_bytes(chain, header.round, &header.id()),
        signature,
    )?;
    header.justify.verify(chain, validators)?;
    if let Some(tc) = timeout_cert {
        if tc.round.checked_add(1) != Some(header.round) {
            return Err(TypesError::InvalidBlock {
                height: header.height,
                problem: format!(
                    "timeout certificate is for round {}, not the previous round",
                    tc.round
                ),
            });
        }
        tc.verify(chain, validators)?;
    }
    Ok(())
}

impl Wire for Proposal {
    const MAX_BYTES: usize = MAX_BLOCK_BYTES + crate::limits::MAX_CERT_BYTES;
    const NAME: &'static str = "proposal";
}
