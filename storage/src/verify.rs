//! The chain audit of a store: walks the stored chain from genesis to head, feeding each
//! block to a [`ChainAudit`] and checking what only a store has (indexes, receipts,
//! nothing above the head).

use cairn_crypto::Hash;
use cairn_types::limits::MAX_BLOCK_TXS;
use cairn_types::{BlockHeader, ChainId, Height, Receipt, Transaction, ValidatorSet, Wire};

use crate::audit::{self, AuditFault, BlockEvidence, ChainAudit, undecodable};
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
    /// The per-block checks are [`ChainAudit`]'s, shared with audits of blocks from
    /// other sources. The first failure is returned as [`StorageError::InvalidChain`]
    /// with its height. `progress(height, head)` is called after each block.
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
        let mut audit = ChainAudit::new(chain, validators);
        for height in 1..=head.height {
            let (id, header) = self.indexed_header(height)?;
            let tx_hashes = self.stored_tx_hashes(height)?;
            let certificate = self.get(CF_COMMITS, &height_key(height))?;
            audit.check_block(BlockEvidence {
                id: &id,
                header: &header,
                tx_hashes: &tx_hashes,
                certificate: certificate.as_deref(),
            })?;
            self.audit_tx_records(height, &tx_hashes)?;
            progress(height, head.height);
        }
        let summary = audit.finish(head.height, &head.id)?;
        self.audit_nothing_above(head)?;
        Ok(VerifyReport {
            head,
            blocks: summary.blocks,
            transactions: summary.transactions,
            certificates: summary.certificates,
        })
    }

    /// The id the height index names for `height`, and the header stored under it.
    fn indexed_header(&self, height: Height) -> Result<(Hash, BlockHeader)> {
        let fail = |fault| invalid(height, fault);
        let id = match self.get(CF_HEIGHTS, &height_key(height))? {
            None => return Err(fail(ChainFault::MissingBlock)),
            Some(bytes) => parse_hash(&bytes)
                .ok_or_else(|| fail(undecodable("height index entry", "not 32 bytes".into())))?,
        };
        let bytes = self
            .get(CF_HEADERS, id.as_bytes())?
            .ok_or_else(|| fail(ChainFault::MissingHeader { id }))?;
        let header = audit::decode(height, "header", &bytes)?;
        Ok((id, header))
    }

    /// The hashes of the transactions stored for `height`, which must sit at positions
    /// 0, 1, … and decode strictly.
    fn stored_tx_hashes(&self, height: Height) -> Result<Vec<Hash>> {
        let mut hashes = Vec::new();
        for item in self.tx_entries(height)? {
            let (key, value) = item.map_err(StorageError::db("read"))?;
            let index = hashes.len() as u32;
            let position = parse_position_key(&key);
            if position != Some((height, index)) || hashes.len() >= MAX_BLOCK_TXS {
                let fault = ChainFault::TxGap {
                    expected: index,
                    found: position,
                };
                return Err(invalid(height, fault));
            }
            let tx: Transaction = audit::decode(height, &format!("transaction {index}"), &value)?;
            hashes.push(tx.hash());
        }
        Ok(hashes)
    }

    /// Every transaction of `height` has its receipt and its tx-hash index entry.
    fn audit_tx_records(&self, height: Height, tx_hashes: &[Hash]) -> Result<()> {
        for (index, tx_hash) in (0u32..).zip(tx_hashes) {
            self.audit_receipt(height, index, tx_hash)?;
            if self
                .get(CF_TX_INDEX, &tx_index_key(tx_hash, height, index))?
                .is_none()
            {
                let fault = ChainFault::TxIndexMissing {
                    index,
                    tx_hash: *tx_hash,
                };
                return Err(invalid(height, fault));
            }
        }
        Ok(())
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

    fn audit_nothing_above(&self, head: Head) -> Result<()> {
        if let Some(bytes) = self.get(CF_HEIGHTS, &height_key(head.height + 1))? {
            let id = parse_hash(&bytes).unwrap_or_default();
            return Err(invalid(head.height + 1, ChainFault::AboveHead { id }));
        }
        Ok(())
    }
}

fn invalid(height: Height, fault: ChainFault) -> StorageError {
    AuditFault::new(height, fault).into()
}
