//! `verify`: audits the whole chain from genesis to head against the genesis — offline
//! with [`cairn_storage::Store::verify_chain`], online by fetching every block and
//! commit certificate over JSON-RPC and running the same [`ChainAudit`] locally.

use std::sync::Arc;

use cairn_rpc::HexHash;
use cairn_rpc::codes;
use cairn_rpc::types::BlockRef;
use cairn_storage::audit::{self, BlockEvidence, ChainAudit};
use cairn_storage::{ChainFault, Store};
use cairn_types::{Block, Height, Transaction};
use futures::{StreamExt, TryStreamExt};

use crate::local::LocalNode;
use crate::progress::Progress;
use crate::render::ChainReport;
use crate::{ExplorerError, Result, Source, TrustRoot};

/// Blocks requested ahead of the one being checked, over RPC.
const BLOCKS_IN_FLIGHT: usize = 4;

/// Audits the chain of `source` from genesis to its current head against `trust`,
/// reporting progress to `progress`. The first fault is
/// [`ExplorerError::InvalidChain`] with its height.
pub async fn verify_chain(
    source: &Source,
    trust: &TrustRoot,
    progress: &Progress,
) -> Result<ChainReport> {
    let report = match source {
        Source::Local(local) => verify_store(local, trust, progress).await,
        Source::Rpc { .. } => verify_over_rpc(source, trust, progress).await,
    };
    progress.finish();
    report
}

/// Offline: the store's own audit, on a blocking thread.
async fn verify_store(
    local: &LocalNode,
    trust: &TrustRoot,
    progress: &Progress,
) -> Result<ChainReport> {
    let store: Arc<Store> = Arc::clone(local.store());
    let trust = trust.clone();
    let bar = progress.clone();
    let path = local.path().to_path_buf();
    let audited = tokio::task::spawn_blocking(move || {
        store.verify_chain(&trust.validators, &trust.chain, |height, head| {
            bar.update(height, head)
        })
    })
    .await
    .map_err(|e| ExplorerError::Internal(format!("the audit thread failed: {e}")))?;
    let report = audited.map_err(|e| ExplorerError::store(path.clone(), e))?;
    Ok(ChainReport {
        valid: true,
        source: path.display().to_string(),
        blocks: report.blocks,
        transactions: report.transactions,
        certificates: report.certificates,
        head_height: report.head.height,
        head_id: HexHash(report.head.id),
    })
}

/// Online: every block and certificate fetched, every check done here.
async fn verify_over_rpc(
    source: &Source,
    trust: &TrustRoot,
    progress: &Progress,
) -> Result<ChainReport> {
    let head = source.head().await?;
    tracing::info!(head = head.height, source = %source.describe(), "auditing the chain over RPC");
    let mut audit = ChainAudit::new(&trust.chain, &trust.validators);
    let mut certificates = Certificates::default();
    let mut blocks = futures::stream::iter(1..=head.height)
        .map(|height| fetch_block(source, height))
        .buffered(BLOCKS_IN_FLIGHT);
    while let Some((id, block)) = blocks.try_next().await? {
        let height = audit.next_height();
        let tx_hashes: Vec<_> = block.txs.iter().map(Transaction::hash).collect();
        let certificate = certificates.stored_at(source, height).await?;
        audit.check_block(BlockEvidence {
            id: &id,
            header: &block.header,
            tx_hashes: &tx_hashes,
            certificate: certificate.as_deref(),
        })?;
        progress.update(height, head.height);
    }
    let summary = audit.finish(head.height, &head.block_id.0)?;
    Ok(ChainReport {
        valid: true,
        source: source.describe(),
        blocks: summary.blocks,
        transactions: summary.transactions,
        certificates: summary.certificates,
        head_height: summary.height,
        head_id: HexHash(summary.id),
    })
}

/// The block at `height` as the node states its id, decoded from its `encoded` bytes
/// (the summary fields of the answer are not used: they are not what is checked).
async fn fetch_block(source: &Source, height: Height) -> Result<(cairn_crypto::Hash, Block)> {
    let info = match source.block(BlockRef::Height(height)).await {
        Err(ExplorerError::Rpc { source, .. }) if source.code() == Some(codes::NOT_FOUND) => {
            return Err(ExplorerError::InvalidChain {
                height,
                fault: ChainFault::MissingBlock,
            });
        }
        other => other?,
    };
    let block: Block = audit::decode(height, "block", &info.encoded.0)?;
    Ok((info.id.0, block))
}

/// The commit certificates as the node serves them: `chain_getCommit(h)` answers with
/// the certificate stored at the lowest height ≥ h, so one call covers every height up
/// to that one.
#[derive(Debug, Default)]
struct Certificates {
    next: Option<(Height, Vec<u8>)>,
}

impl Certificates {
    /// The certificate stored at `height`, if any (heights asked in increasing order).
    async fn stored_at(&mut self, source: &Source, height: Height) -> Result<Option<Vec<u8>>> {
        if self.next.as_ref().is_none_or(|(at, _)| *at < height) {
            let commit = source.commit(height).await?;
            if commit.certificate_height < height {
                return Err(ExplorerError::BadAnswer {
                    method: cairn_rpc::methods::CHAIN_GET_COMMIT,
                    problem: format!(
                        "asked for height {height}, it sent the certificate of height {}",
                        commit.certificate_height
                    ),
                });
            }
            self.next = Some((commit.certificate_height, commit.certificate.0));
        }
        Ok(match &self.next {
            Some((at, bytes)) if *at == height => Some(bytes.clone()),
            _ => None,
        })
    }
}
