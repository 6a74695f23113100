//! `verify`: audits the whole chain from genesis to head against the genesis — offline
//! with [`cairn_storage::Store::verify_chain`], online by fetching every block and
//! commit certificate over JSON-RPC and running the same [`ChainAudit`] locally — and,
//! given the genesis state, re-executes it (crate::replay) and compares every outcome
//! and state hash the source recorded.

use std::sync::Arc;

use cairn_crypto::Hash;
use cairn_rpc::HexHash;
use cairn_rpc::codes;
use cairn_rpc::types::{BlockRef, ReceiptInfo};
use cairn_storage::audit::{self, BlockEvidence, ChainAudit};
use cairn_storage::{ChainFault, Store};
use cairn_types::{Block, Height, Transaction};
use futures::{StreamExt, TryStreamExt};

use crate::local::LocalNode;
use crate::progress::Progress;
use crate::render::ChainReport;
use crate::replay::{self, GenesisState, Replay, ReplayReport, Verdicts};
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

/// Offline: the store's own audit on a blocking thread and, with the genesis state,
/// the replay on another at the same time. When both find a fault, the lower one is
/// reported (the structural one at the same height).
async fn verify_store(
    local: &LocalNode,
    trust: &TrustRoot,
    progress: &Progress,
) -> Result<ChainReport> {
    let store: Arc<Store> = Arc::clone(local.store());
    let path = local.path().to_path_buf();
    let head = store
        .head()
        .map_err(|e| ExplorerError::store(path.clone(), e))?;
    let audit = {
        let (trust, bar) = (trust.clone(), progress.clone());
        tokio::task::spawn_blocking(move || {
            store.verify_chain(&trust.validators, &trust.chain, |height, head| {
                bar.update(height, head)
            })
        })
    };
    let replay = async {
        match &trust.genesis_state {
            Some(genesis) => Some(replay_store(local, trust.chain, genesis, head.height).await),
            None => None,
        }
    };
    let (audited, replayed) = tokio::join!(audit, replay);
    let audited = audited
        .map_err(|e| ExplorerError::Internal(format!("the audit thread failed: {e}")))?
        .map_err(|e| ExplorerError::store(path.clone(), e));
    let (report, replay) = match (audited, replayed.transpose()) {
        (Err(a), Err(b)) => return Err(lower_fault(a, b)),
        (Err(e), _) | (_, Err(e)) => return Err(e),
        (Ok(report), Ok(replay)) => (report, replay),
    };
    Ok(ChainReport {
        replay,
        valid: true,
        source: path.display().to_string(),
        blocks: report.blocks,
        transactions: report.transactions,
        certificates: report.certificates,
        head_height: report.head.height,
        head_id: HexHash(report.head.id),
    })
}

/// Of two faults found by the structural audit (`first`) and the replay, the one at
/// the lower height; `first` when they are at the same height or not both faults.
fn lower_fault(first: ExplorerError, second: ExplorerError) -> ExplorerError {
    match (&first, &second) {
        (
            ExplorerError::InvalidChain { height: a, .. },
            ExplorerError::InvalidChain { height: b, .. },
        ) if b < a => second,
        _ => first,
    }
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
    let mut replay = trust
        .genesis_state
        .as_ref()
        .map(|genesis| (Replay::new(trust.chain, genesis), Window::default()));
    let mut certificates = Certificates::default();
    let mut blocks = futures::stream::iter(1..=head.height)
        .map(|height| fetch_block(source, height))
        .buffered(BLOCKS_IN_FLIGHT);
    while let Some(fetched) = blocks.try_next().await? {
        let height = audit.next_height();
        let block = &fetched.block;
        let tx_hashes: Vec<_> = block.txs.iter().map(Transaction::hash).collect();
        let certificate = certificates.stored_at(source, height).await?;
        audit.check_block(BlockEvidence {
            id: &fetched.id,
            header: &block.header,
            tx_hashes: &tx_hashes,
            certificate: certificate.as_deref(),
        })?;
        if let Some((replay, window)) = &mut replay {
            window.push(fetched);
            if window.full() {
                window.replay(replay)?;
            }
        }
        progress.update(height, head.height);
    }
    let summary = audit.finish(head.height, &head.block_id.0)?;
    let replay = match replay {
        Some((mut replay, mut window)) => {
            window.replay(&mut replay)?;
            Some(replay.report())
        }
        None => None,
    };
    Ok(ChainReport {
        replay,
        valid: true,
        source: source.describe(),
        blocks: summary.blocks,
        transactions: summary.transactions,
        certificates: summary.certificates,
        head_height: summary.height,
        head_id: HexHash(summary.id),
    })
}

/// A block as a node served it: the id it states, the block decoded from its
/// `encoded` bytes, and what the node recorded executing it did.
struct Fetched {
    id: Hash,
    block: Block,
    outcomes: Vec<ReceiptInfo>,
    result_state_root: Option<Hash>,
}

/// The block at `height` as the node states its id, decoded from its `encoded` bytes
/// (the other summary fields of the answer are not used: they are not what is
/// checked), with the outcomes and state hash the node recorded.
async fn fetch_block(source: &Source, height: Height) -> Result<Fetched> {
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
    Ok(Fetched {
        id: info.id.0,
        block,
        outcomes: info.txs.into_iter().map(|tx| tx.outcome).collect(),
        result_state_root: info.result_state_root.map(|h| h.0),
    })
}

/// Blocks fetched and audited, waiting to be re-executed together (their signatures
/// are checked in one parallel pass).
#[derive(Default)]
struct Window {
    blocks: Vec<Fetched>,
    txs: usize,
}

impl Window {
    fn push(&mut self, fetched: Fetched) {
        self.txs += fetched.block.txs.len();
        self.blocks.push(fetched);
    }

    fn full(&self) -> bool {
        self.txs >= replay::WINDOW_TXS
    }

    /// Re-executes the window and compares what the node recorded.
    fn replay(&mut self, replay: &mut Replay) -> Result<()> {
        self.txs = 0;
        // Blocks move into the replay; what the node recorded is kept beside them.
        let (blocks, recorded): (Vec<Block>, Vec<Recorded>) = std::mem::take(&mut self.blocks)
            .into_iter()
            .map(|f| {
                let recorded = Recorded {
                    outcomes: f.outcomes.iter().map(|o| format!("{o:?}")).collect(),
                    state_root: f.result_state_root,
                };
                (f.block, recorded)
            })
            .unzip();
        let results = replay.run(&blocks)?;
        for ((block, recorded), result) in blocks.iter().zip(&recorded).zip(&results) {
            let computed: Vec<String> = result
                .receipts
                .iter()
                .map(|r| format!("{:?}", ReceiptInfo::from(&r.outcome)))
                .collect();
            recorded.compare(block.header.height, &computed, &result.state_root)?;
        }
        Ok(())
    }
}

/// What a source recorded about one block's execution, in a comparable form.
struct Recorded {
    outcomes: Vec<String>,
    state_root: Option<Hash>,
}

impl Recorded {
    /// The first difference from re-execution, as a fault at `height`.
    fn compare(&self, height: Height, computed: &[String], state_root: &Hash) -> Result<()> {
        let fault = |fault| ExplorerError::InvalidChain { height, fault };
        for (index, (recorded, computed)) in self.outcomes.iter().zip(computed).enumerate() {
            if recorded != computed {
                return Err(fault(ChainFault::OutcomeMismatch {
                    index: index as u32,
                    recorded: recorded.clone(),
                    computed: computed.clone(),
                }));
            }
        }
        if self.outcomes.len() != computed.len() {
            return Err(fault(ChainFault::OutcomeMismatch {
                index: self.outcomes.len().min(computed.len()) as u32,
                recorded: format!("{} outcomes", self.outcomes.len()),
                computed: format!("{} outcomes", computed.len()),
            }));
        }
        match self.state_root {
            Some(recorded) if recorded != *state_root => Err(fault(ChainFault::ResultState {
                recorded,
                computed: *state_root,
            })),
            _ => Ok(()),
        }
    }
}

/// Offline: re-executes the stored chain up to `head` and compares the stored
/// receipts and state hashes, on a blocking thread. The next window of blocks is read
/// and its signatures checked while the current one executes.
async fn replay_store(
    local: &LocalNode,
    chain: cairn_types::ChainId,
    genesis: &GenesisState,
    head: Height,
) -> Result<ReplayReport> {
    let store: Arc<Store> = Arc::clone(local.store());
    let path = local.path().to_path_buf();
    let genesis = genesis.clone();
    tokio::task::spawn_blocking(move || {
        let mut replay = Replay::new(chain, &genesis);
        let mut next = 1;
        let mut window = read_window(&store, &path, &mut next, head)?;
        let mut verdicts = Verdicts::check(&window);
        while !window.is_empty() {
            let (following, results) = std::thread::scope(|scope| {
                let (store, path, next) = (&store, &path, &mut next);
                let reader = scope.spawn(move || {
                    read_window(store, path, next, head).map(|w| (Verdicts::check(&w), w))
                });
                let results = replay.execute(&window, &verdicts);
                let following = reader.join().unwrap_or_else(|_| {
                    Err(ExplorerError::Internal("the replay reader failed".into()))
                });
                (following, results)
            });
            // This window's faults come before anything the reader found further on.
            compare_stored(&store, &path, &window, &results?)?;
            (verdicts, window) = following?;
        }
        Ok(replay.report())
    })
    .await
    .map_err(|e| ExplorerError::Internal(format!("the replay thread failed: {e}")))?
}

/// The stored blocks from `*next` on, up to `head`, about [`replay::WINDOW_TXS`]
/// transactions' worth; advances `*next` past them.
fn read_window(
    store: &Store,
    path: &std::path::Path,
    next: &mut Height,
    head: Height,
) -> Result<Vec<Block>> {
    let mut blocks = Vec::new();
    let mut txs = 0;
    while *next <= head && txs < replay::WINDOW_TXS {
        let height = *next;
        let block = store
            .block_at(height)
            .map_err(|e| ExplorerError::store(path.to_path_buf(), e))?
            .ok_or(ExplorerError::InvalidChain {
                height,
                fault: ChainFault::MissingBlock,
            })?;
        txs += block.txs.len();
        blocks.push(block);
        *next += 1;
    }
    Ok(blocks)
}

/// Compares the receipts and state hashes stored for `blocks` with re-execution's.
fn compare_stored(
    store: &Store,
    path: &std::path::Path,
    blocks: &[Block],
    results: &[cairn_execution::BlockResult],
) -> Result<()> {
    let fail = |e| ExplorerError::store(path.to_path_buf(), e);
    for (block, result) in blocks.iter().zip(results) {
        let at = block.header.height;
        let outcomes = (0..block.txs.len() as u32)
            .map(|i| {
                let receipt = store.receipt(at, i).map_err(fail)?;
                Ok(receipt.map_or_else(|| "none".to_string(), |r| format!("{:?}", r.outcome)))
            })
            .collect::<Result<Vec<_>>>()?;
        let recorded = Recorded {
            outcomes,
            state_root: store.state_root_at(at).map_err(fail)?,
        };
        let computed: Vec<String> = result
            .receipts
            .iter()
            .map(|r| format!("{:?}", r.outcome))
            .collect();
        recorded.compare(at, &computed, &result.state_root)?;
    }
    Ok(())
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
