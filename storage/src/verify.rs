//! The chain audit: walks the stored chain from genesis to head and checks every link.

use cairn_crypto::{Hash, MerkleTree};
use cairn_types::limits::MAX_BLOCK_TXS;
use cairn_types::{
    BlockHeader, ChainId, Height, QuorumCert, Receipt, Round, Transaction, ValidatorSet, Wire,
};

use crate::schema::*;
use crate::{ChainFault, Head, Result, StorageError, Store};

/// What a successful [`Store::verify_chain`] checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// The head the walk ended at.
    pub head: Head,
    /// Blocks checked.
    pub blocks: u64,
    /// Transactions checked (with their receipts and index entries).
    pub transactions: u64,
    /// Commit certificates checked.
    pub certificates: u64,
}

/// The block below the one being checked.
struct Below {
    id: Hash,
    round: Round,
}

impl Store {
    /// Audits the stored chain from height 1 to the head, as read when the walk starts:
    ///
    /// * each block is decoded strictly, its id recomputed (it must be the id the height
    ///   index names) and its payload Merkle root recomputed from the stored
    ///   transactions;
    /// * its height and chain are right, its parent link names the block below (the
    ///   chain id, the implicit genesis, for height 1), and its justify QC certifies that
    ///   block and verifies against `validators`;
    /// * every transaction has a matching receipt and a tx-hash index entry;
    /// * every stored commit certificate verifies and proves its block committed
    ///   (`parent_id` = block id, `parent_round` = block round, `round = parent_round + 1`);
    /// * the head is the indexed block at its height, is covered by a stored commit
    ///   certificate, and nothing is stored above it.
    ///
    /// The first failure is returned as [`StorageError::InvalidChain`] with its height.
    /// `progress(height, head)` is called after each block.
    pub fn verify_chain(
        &self,
        validators: &ValidatorSet,
        chain: &ChainId,
        mut progress: impl FnMut(Height, Height),
    ) -> Result<VerifyReport> {
        let head = self.head()?;
        if *chain != self.chain {
            let fault = ChainFault::WrongStore {
                store: self.chain,
                asked: *chain,
            };
            return Err(invalid(0, fault));
        }
        let mut report = VerifyReport {
            head,
            blocks: 0,
            transactions: 0,
            certificates: 0,
        };
        let mut below = Below {
            id: chain.0,
            round: 0,
        };
        for height in 1..=head.height {
            let header = self.audit_header(height, &below, validators)?;
            report.transactions += self.audit_txs(&header)?;
            let id = header.id();
            if let Some(bytes) = self.get(CF_COMMITS, &height_key(height))? {
                audit_certificate(&bytes, &id, &header, validators, chain)?;
                report.certificates += 1;
            }
            report.blocks += 1;
            below = Below {
                id,
                round: header.round,
            };
            progress(height, head.height);
        }
        self.audit_head(head, &below.id)?;
        Ok(report)
    }

    fn audit_header(
        &self,
        height: Height,
        below: &Below,
        validators: &ValidatorSet,
    ) -> Result<BlockHeader> {
        let fail = |fault| invalid(height, fault);
        let id = match self.get(CF_HEIGHTS, &height_key(height))? {
            None => return Err(fail(ChainFault::MissingBlock)),
            Some(bytes) => parse_hash(&bytes)
                .ok_or_else(|| fail(undecodable("height index entry", "not 32 bytes".into())))?,
        };
        let bytes = self
            .get(CF_HEADERS, id.as_bytes())?
            .ok_or_else(|| fail(ChainFault::MissingHeader { id }))?;
        let header = BlockHeader::from_wire(&bytes)
            .map_err(|e| fail(undecodable("header", e.to_string())))?;
        let computed = header.id();
        if computed != id {
            return Err(fail(ChainFault::IdMismatch {
                indexed: id,
                computed,
            }));
        }
        if header.height != height {
            return Err(fail(ChainFault::WrongHeight {
                found: header.height,
            }));
        }
        if header.chain_id != self.chain {
            return Err(fail(ChainFault::WrongChain {
                found: header.chain_id,
            }));
        }
        if header.parent != below.id {
            return Err(fail(ChainFault::ParentLink {
                expected: below.id,
                found: header.parent,
            }));
        }
        let justify = &header.justify.data;
        if justify.block_id != below.id
            || justify.round != below.round
            || justify.height + 1 != height
        {
            return Err(fail(ChainFault::JustifyNotParent {
                parent: below.id,
                parent_round: below.round,
                certified: justify.block_id,
                certified_height: justify.height,
                certified_round: justify.round,
            }));
        }
        if header.round <= justify.round {
            return Err(fail(ChainFault::RoundNotAbove {
                round: header.round,
                justify_round: justify.round,
            }));
        }
        header
            .justify
            .verify(&self.chain, validators)
            .map_err(|e| {
                fail(ChainFault::JustifyInvalid {
                    reason: e.to_string(),
                })
            })?;
        Ok(header)
    }

    /// Checks the stored transactions, receipts and index entries of one block; returns
    /// the number of transactions.
    fn audit_txs(&self, header: &BlockHeader) -> Result<u64> {
        let height = header.height;
        let fail = |fault| invalid(height, fault);
        let iter = self.tx_entries(height)?;
        let mut hashes = Vec::new();
        for item in iter {
            let (key, value) = item.map_err(StorageError::db("read"))?;
            let index = hashes.len() as u32;
            let position = parse_position_key(&key);
            if position != Some((height, index)) || hashes.len() >= MAX_BLOCK_TXS {
                return Err(fail(ChainFault::TxGap {
                    expected: index,
                    found: position,
                }));
            }
            let tx = Transaction::from_wire(&value)
                .map_err(|e| fail(undecodable(&format!("transaction {index}"), e.to_string())))?;
            hashes.push(tx.hash());
        }
        let computed = MerkleTree::root_of(&hashes);
        if computed != header.payload_root {
            return Err(fail(ChainFault::PayloadRoot {
                header: header.payload_root,
                computed,
            }));
        }
        for (index, tx_hash) in (0u32..).zip(&hashes) {
            self.audit_receipt(height, index, tx_hash)?;
            if self
                .get(CF_TX_INDEX, &tx_index_key(tx_hash, height, index))?
                .is_none()
            {
                return Err(fail(ChainFault::TxIndexMissing {
                    index,
                    tx_hash: *tx_hash,
                }));
            }
        }
        Ok(hashes.len() as u64)
    }

    fn audit_receipt(&self, height: Height, index: u32, tx_hash: &Hash) -> Result<()> {
        let problem = |problem: String| invalid(height, ChainFault::Receipt { index, problem });
        let bytes = self
            .get(CF_RECEIPTS, &position_key(height, index))?
            .ok_or_else(|| problem("missing".into()))?;
        let receipt =
            Receipt::from_wire(&bytes).map_err(|e| problem(format!("does not decode: {e}")))?;
        if receipt.tx_hash != *tx_hash || receipt.height != height || receipt.index != index {
            return Err(problem(format!(
                "names tx {} at height {} index {}",
                receipt.tx_hash, receipt.height, receipt.index
            )));
        }
        Ok(())
    }

    fn audit_head(&self, head: Head, last: &Hash) -> Result<()> {
        let fail = |fault| invalid(head.height, fault);
        if head.id != *last {
            return Err(fail(ChainFault::HeadMismatch {
                recorded: head.id,
                found: *last,
            }));
        }
        if head.height > 0 && self.get(CF_COMMITS, &height_key(head.height))?.is_none() {
            return Err(fail(ChainFault::HeadNotCertified));
        }
        if let Some(bytes) = self.get(CF_HEIGHTS, &height_key(head.height + 1))? {
            let id = parse_hash(&bytes).unwrap_or_default();
            return Err(invalid(head.height + 1, ChainFault::AboveHead { id }));
        }
        Ok(())
    }
}

fn audit_certificate(
    bytes: &[u8],
    id: &Hash,
    header: &BlockHeader,
    validators: &ValidatorSet,
    chain: &ChainId,
) -> Result<()> {
    let fail = |fault| invalid(header.height, fault);
    let certificate = QuorumCert::from_wire(bytes)
        .map_err(|e| fail(undecodable("commit certificate", e.to_string())))?;
    certificate.verify(chain, validators).map_err(|e| {
        fail(ChainFault::CertificateInvalid {
            reason: e.to_string(),
        })
    })?;
    let data = &certificate.data;
    if data.commits() != Some((*id, header.round)) || data.height != header.height + 1 {
        return Err(fail(ChainFault::CertificateNotCommitting {
            round: data.round,
            height: data.height,
            parent_id: data.parent_id,
            parent_round: data.parent_round,
            block: *id,
            block_round: header.round,
        }));
    }
    Ok(())
}

fn undecodable(what: &str, reason: String) -> ChainFault {
    ChainFault::Undecodable {
        what: what.to_string(),
        reason,
    }
}

fn invalid(height: Height, fault: ChainFault) -> StorageError {
    StorageError::InvalidChain { height, fault }
}
