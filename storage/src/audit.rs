//! The chain audit's per-block checks, independent of where the blocks come from.
//!
//! [`ChainAudit`] is fed the committed blocks in height order — each as the id its
//! source names it by, its decoded header, its transactions' hashes and the commit
//! certificate stored at its height, if any — and stops at the first fault. It checks
//! every block id, height, chain id, parent link, justify QC, payload root and commit
//! certificate against the chain id and validator set it was given, and nothing else:
//! it trusts no source. [`crate::Store::verify_chain`] feeds it the stored blocks (and
//! adds the checks that only make sense for a store: index entries, receipts, nothing
//! above the head); the explorer feeds it blocks fetched over JSON-RPC.

use cairn_crypto::{Hash, MerkleTree};
use cairn_types::{BlockHeader, ChainId, Height, QuorumCert, Round, ValidatorSet, Wire};

use crate::{ChainFault, StorageError};

/// The first fault an audit found: where, and what is wrong there.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("chain invalid at height {height}: {fault}")]
pub struct AuditFault {
    /// The first height found invalid.
    pub height: Height,
    /// What is wrong there.
    pub fault: ChainFault,
}

impl AuditFault {
    /// A fault at `height`.
    pub fn new(height: Height, fault: ChainFault) -> AuditFault {
        AuditFault { height, fault }
    }
}

impl From<AuditFault> for StorageError {
    fn from(fault: AuditFault) -> Self {
        StorageError::InvalidChain {
            height: fault.height,
            fault: fault.fault,
        }
    }
}

/// Strictly decodes `bytes` of the block at `height`; a failure is
/// [`ChainFault::Undecodable`] naming `what` ("header", "block", "transaction 3", ...).
pub fn decode<T: Wire>(height: Height, what: &str, bytes: &[u8]) -> Result<T, AuditFault> {
    T::from_wire(bytes).map_err(|e| AuditFault::new(height, undecodable(what, e.to_string())))
}

/// One block as a source presents it to the audit.
#[derive(Clone, Copy, Debug)]
pub struct BlockEvidence<'a> {
    /// The id the source names the block by (its height index entry, or the id an RPC
    /// answer states); it must be the hash of `header`.
    pub id: &'a Hash,
    /// The block's header.
    pub header: &'a BlockHeader,
    /// The hashes of the block's transactions, in order.
    pub tx_hashes: &'a [Hash],
    /// The SCALE-encoded commit certificate stored at this height, if this block was the
    /// last of a commit.
    pub certificate: Option<&'a [u8]>,
}

/// What a successful audit covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditSummary {
    /// Height of the last block audited (0 before any).
    pub height: Height,
    /// Id of the last block audited (the chain id before any).
    pub id: Hash,
    /// Blocks audited.
    pub blocks: u64,
    /// Transactions covered by the audited payload roots.
    pub transactions: u64,
    /// Commit certificates audited.
    pub certificates: u64,
}

/// The last block audited: what the next one must extend.
#[derive(Clone, Copy, Debug)]
struct Tip {
    id: Hash,
    height: Height,
    round: Round,
    certified: bool,
}

/// A chain audit in progress: fed blocks from height 1 upwards, one at a time.
///
/// ```text
/// let mut audit = ChainAudit::new(&chain_id, &validators);
/// for each block in height order { audit.check_block(evidence)?; }
/// let summary = audit.finish(head_height, &head_id)?;
/// ```
#[derive(Clone, Debug)]
pub struct ChainAudit<'v> {
    chain: ChainId,
    validators: &'v ValidatorSet,
    tip: Tip,
    transactions: u64,
    certificates: u64,
}

impl<'v> ChainAudit<'v> {
    /// An audit of chain `chain` against `validators`, starting at the implicit genesis
    /// block (height 0, id = chain id, round 0).
    pub fn new(chain: &ChainId, validators: &'v ValidatorSet) -> ChainAudit<'v> {
        ChainAudit {
            chain: *chain,
            validators,
            tip: Tip {
                id: chain.0,
                height: 0,
                round: 0,
                certified: true,
            },
            transactions: 0,
            certificates: 0,
        }
    }

    /// An audit that continues above a block already trusted (a store's committed
    /// head): the next block must extend the block `id` of height `height` and round
    /// `round`. Block sync checks the blocks peers send with it.
    pub fn after(
        chain: &ChainId,
        validators: &'v ValidatorSet,
        id: Hash,
        height: Height,
        round: Round,
    ) -> ChainAudit<'v> {
        let mut audit = ChainAudit::new(chain, validators);
        audit.tip = Tip {
            id,
            height,
            round,
            certified: true,
        };
        audit
    }

    /// The height of the block the audit expects next.
    pub fn next_height(&self) -> Height {
        self.tip.height + 1
    }

    /// What has been audited so far.
    pub fn summary(&self) -> AuditSummary {
        AuditSummary {
            height: self.tip.height,
            id: self.tip.id,
            blocks: self.tip.height,
            transactions: self.transactions,
            certificates: self.certificates,
        }
    }

    /// Audits the next block ([`Self::next_height`]) and, if it passes, makes it the
    /// block the following one must extend:
    ///
    /// * the header hashes to `id`, says this height and chain, and its parent is the
    ///   block below (the chain id, the implicit genesis, for height 1);
    /// * its justify QC certifies the block below (id, round, height), its round is
    ///   above that QC's, and the QC verifies against the validator set (the genesis QC
    ///   for height 1);
    /// * the transaction hashes' Merkle root is the header's `payload_root`;
    /// * a certificate, if given, decodes, verifies and proves this block committed
    ///   (`parent_id` = its id, `parent_round` = its round, `round = parent_round + 1`,
    ///   `height` = its height + 1).
    pub fn check_block(&mut self, block: BlockEvidence<'_>) -> Result<(), AuditFault> {
        let height = self.next_height();
        self.check_header(height, block.id, block.header)?;
        check_payload(height, block.header, block.tx_hashes)?;
        if let Some(bytes) = block.certificate {
            self.check_certificate(block.id, block.header, bytes)?;
            self.certificates += 1;
        }
        self.transactions += block.tx_hashes.len() as u64;
        self.tip = Tip {
            id: *block.id,
            height,
            round: block.header.round,
            certified: block.certificate.is_some(),
        };
        Ok(())
    }

    /// Ends the audit at the head the source recorded: every height up to it was
    /// audited, the last block audited is `head_id`, and it carries a commit certificate
    /// (nothing uncommitted may pass as the head).
    pub fn finish(&self, head_height: Height, head_id: &Hash) -> Result<AuditSummary, AuditFault> {
        if self.tip.height < head_height {
            return Err(AuditFault::new(
                self.next_height(),
                ChainFault::MissingBlock,
            ));
        }
        if self.tip.height != head_height || self.tip.id != *head_id {
            let fault = ChainFault::HeadMismatch {
                recorded: *head_id,
                found: self.tip.id,
            };
            return Err(AuditFault::new(head_height, fault));
        }
        if !self.tip.certified {
            return Err(AuditFault::new(head_height, ChainFault::HeadNotCertified));
        }
        Ok(self.summary())
    }

    fn check_header(
        &self,
        height: Height,
        id: &Hash,
        header: &BlockHeader,
    ) -> Result<(), AuditFault> {
        let fail = |fault| Err(AuditFault::new(height, fault));
        let computed = header.id();
        if computed != *id {
            return fail(ChainFault::IdMismatch {
                indexed: *id,
                computed,
            });
        }
        if header.height != height {
            return fail(ChainFault::WrongHeight {
                found: header.height,
            });
        }
        if header.chain_id != self.chain {
            return fail(ChainFault::WrongChain {
                found: header.chain_id,
            });
        }
        let below = &self.tip;
        if header.parent != below.id {
            return fail(ChainFault::ParentLink {
                expected: below.id,
                found: header.parent,
            });
        }
        let justify = &header.justify.data;
        if justify.block_id != below.id
            || justify.round != below.round
            || justify.height != below.height
        {
            return fail(ChainFault::JustifyNotParent {
                parent: below.id,
                parent_round: below.round,
                certified: justify.block_id,
                certified_height: justify.height,
                certified_round: justify.round,
            });
        }
        if header.round <= justify.round {
            return fail(ChainFault::RoundNotAbove {
                round: header.round,
                justify_round: justify.round,
            });
        }
        if let Err(e) = header.justify.verify(&self.chain, self.validators) {
            return fail(ChainFault::JustifyInvalid {
                reason: e.to_string(),
            });
        }
        Ok(())
    }

    fn check_certificate(
        &self,
        id: &Hash,
        header: &BlockHeader,
        bytes: &[u8],
    ) -> Result<(), AuditFault> {
        let height = header.height;
        let certificate: QuorumCert = decode(height, "commit certificate", bytes)?;
        certificate
            .verify(&self.chain, self.validators)
            .map_err(|e| {
                let reason = e.to_string();
                AuditFault::new(height, ChainFault::CertificateInvalid { reason })
            })?;
        let data = &certificate.data;
        if data.commits() != Some((*id, header.round)) || data.height != height + 1 {
            let fault = ChainFault::CertificateNotCommitting {
                round: data.round,
                height: data.height,
                parent_id: data.parent_id,
                parent_round: data.parent_round,
                block: *id,
                block_round: header.round,
            };
            return Err(AuditFault::new(height, fault));
        }
        Ok(())
    }
}

/// The transaction hashes' Merkle root must be the header's payload root.
fn check_payload(
    height: Height,
    header: &BlockHeader,
    tx_hashes: &[Hash],
) -> Result<(), AuditFault> {
    let computed = MerkleTree::root_of(tx_hashes);
    if computed != header.payload_root {
        let fault = ChainFault::PayloadRoot {
            header: header.payload_root,
            computed,
        };
        return Err(AuditFault::new(height, fault));
    }
    Ok(())
}

/// A [`ChainFault::Undecodable`] of `what`.
pub(crate) fn undecodable(what: &str, reason: String) -> ChainFault {
    ChainFault::Undecodable {
        what: what.to_string(),
        reason,
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use cairn_types::{Block, Transaction};

    use super::*;
    use crate::testing::ChainBuilder;

    /// A chain committed `commits[i]` blocks at a time: each block with the certificate
    /// stored at its height, if any.
    fn chain(commits: &[usize]) -> Vec<(Block, Option<Vec<u8>>)> {
        let mut builder = ChainBuilder::new(2);
        let mut blocks = Vec::new();
        for &n in commits {
            let batch = builder.next_commit(n);
            let last = batch.blocks.len() - 1;
            for (i, block) in batch.blocks.into_iter().enumerate() {
                let certificate = (i == last).then(|| batch.certificate.to_wire());
                blocks.push((block, certificate));
            }
        }
        blocks
    }

    fn feed(
        audit: &mut ChainAudit<'_>,
        block: &Block,
        certificate: Option<&[u8]>,
    ) -> Result<(), AuditFault> {
        let id = block.id();
        let hashes: Vec<Hash> = block.txs.iter().map(Transaction::hash).collect();
        audit.check_block(BlockEvidence {
            id: &id,
            header: &block.header,
            tx_hashes: &hashes,
            certificate,
        })
    }

    #[test]
    fn a_valid_chain_is_summarised() {
        let validators = ChainBuilder::validator_set();
        let mut audit = ChainAudit::new(&ChainBuilder::chain_id(), &validators);
        let blocks = chain(&[1, 3, 2]);
        for (block, certificate) in &blocks {
            feed(&mut audit, block, certificate.as_deref()).unwrap();
        }
        let last = blocks[5].0.id();
        let summary = audit.finish(6, &last).unwrap();
        assert_eq!(
            (
                summary.height,
                summary.id,
                summary.blocks,
                summary.transactions,
                summary.certificates
            ),
            (6, last, 6, 12, 3)
        );
    }

    #[test]
    fn blocks_out_of_order_or_misnamed_are_faults() {
        let validators = ChainBuilder::validator_set();
        let chain_id = ChainBuilder::chain_id();
        let blocks = chain(&[1, 1, 1]);

        // Skipping height 2.
        let mut audit = ChainAudit::new(&chain_id, &validators);
        feed(&mut audit, &blocks[0].0, blocks[0].1.as_deref()).unwrap();
        let fault = feed(&mut audit, &blocks[2].0, None).unwrap_err();
        assert_eq!(
            fault,
            AuditFault::new(2, ChainFault::WrongHeight { found: 3 })
        );
        assert_eq!(audit.next_height(), 2, "a failed block is not accepted");

        // Named by another id.
        let mut audit = ChainAudit::new(&chain_id, &validators);
        let other = Hash::digest(b"other");
        let fault = audit
            .check_block(BlockEvidence {
                id: &other,
                header: &blocks[0].0.header,
                tx_hashes: &[],
                certificate: None,
            })
            .unwrap_err();
        assert!(matches!(fault.fault, ChainFault::IdMismatch { indexed, .. } if indexed == other));

        // Transactions that are not the payload.
        let fault = audit
            .check_block(BlockEvidence {
                id: &blocks[0].0.id(),
                header: &blocks[0].0.header,
                tx_hashes: &[other],
                certificate: None,
            })
            .unwrap_err();
        assert!(
            matches!(fault.fault, ChainFault::PayloadRoot { .. }),
            "{fault}"
        );

        // A certificate that does not decode.
        let fault = feed(&mut audit, &blocks[0].0, Some(b"junk")).unwrap_err();
        assert!(
            matches!(&fault.fault, ChainFault::Undecodable { what, .. } if what == "commit certificate"),
            "{fault}"
        );
    }

    #[test]
    fn the_head_must_be_reached_named_and_certified() {
        let validators = ChainBuilder::validator_set();
        let chain_id = ChainBuilder::chain_id();
        let blocks = chain(&[2]);
        let mut audit = ChainAudit::new(&chain_id, &validators);
        // Nothing audited yet: the genesis is the head, and it needs no certificate.
        assert_eq!(audit.finish(0, &chain_id.0).unwrap().blocks, 0);
        assert_eq!(
            audit.finish(2, &Hash::ZERO).unwrap_err(),
            AuditFault::new(1, ChainFault::MissingBlock)
        );
        feed(&mut audit, &blocks[0].0, None).unwrap();
        let id1 = blocks[0].0.id();
        assert_eq!(
            audit.finish(1, &id1).unwrap_err(),
            AuditFault::new(1, ChainFault::HeadNotCertified)
        );
        let other = Hash::digest(b"other");
        assert_eq!(
            audit.finish(1, &other).unwrap_err(),
            AuditFault::new(
                1,
                ChainFault::HeadMismatch {
                    recorded: other,
                    found: id1
                }
            )
        );
        feed(&mut audit, &blocks[1].0, blocks[1].1.as_deref()).unwrap();
        assert_eq!(audit.finish(2, &blocks[1].0.id()).unwrap().certificates, 1);
        let fault: StorageError = AuditFault::new(4, ChainFault::MissingBlock).into();
        assert!(matches!(
            fault,
            StorageError::InvalidChain { height: 4, .. }
        ));
    }
}
