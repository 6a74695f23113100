//! State shared between the consensus driver, the RPC server and the gossip task.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use cairn_crypto::Hash;
use cairn_genesis::Genesis;
use cairn_mempool::{AdmitError, Admitted, BatchVerifier, Mempool};
use cairn_rpc::types::ConsensusStatus;
use cairn_rpc::{NodeApi, NodeHealth, PeerStatus, PendingStatus, SubmitError};
use cairn_storage::Store;
use cairn_types::{Transaction, ValidatorId};
use tokio::sync::Notify;

use super::metrics::NodeMetrics;

/// What the driver and the RPC server share.
pub struct Shared {
    /// The store (one writer: the driver; readers: everyone).
    pub store: Arc<Store>,
    /// The genesis.
    pub genesis: Arc<Genesis>,
    /// This validator's id.
    pub me: ValidatorId,
    /// The transaction pool.
    mempool: Mutex<Mempool>,
    /// Verifies transaction signatures in batches off the runtime's threads.
    pub verifier: BatchVerifier,
    /// Woken when a batch is certified (a waiting leader may propose it).
    pub batch_ready: Notify,
    /// Woken when a client's transaction enters the mempool (the driver then looks
    /// for its next batch).
    pub tx_admitted: Notify,
    /// The consensus round, for health and metrics.
    pub round: AtomicU64,
    /// True while blocks are being fetched from peers.
    pub syncing: AtomicBool,
    /// Validators currently connected, refreshed by the driver.
    pub connected: Mutex<Vec<ValidatorId>>,
    /// Set once shutdown began: new submissions are refused.
    pub stopping: AtomicBool,
    /// The node's metrics.
    pub metrics: Arc<NodeMetrics>,
    /// What the stall report (`consensus_status`) is built from.
    pub stall: super::stall::StallMonitor,
    /// Records client transactions durably before `tx_submit` acknowledges them.
    admissions: super::admission::AdmissionLog,
    /// On a full node: where admitted transactions go to be forwarded to a validator.
    pub forward: Option<tokio::sync::mpsc::Sender<Transaction>>,
}

impl Shared {
    /// Builds the shared state.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<Store>,
        genesis: Arc<Genesis>,
        me: ValidatorId,
        mempool: Mempool,
        verifier: BatchVerifier,
        metrics: Arc<NodeMetrics>,
        admissions: super::admission::AdmissionLog,
    ) -> Shared {
        let stall =
            super::stall::StallMonitor::new(genesis.validators().len(), stall_after(&genesis));
        Shared {
            stall,
            store,
            genesis,
            me,
            mempool: Mutex::new(mempool),
            verifier,
            batch_ready: Notify::new(),
            tx_admitted: Notify::new(),
            round: AtomicU64::new(0),
            syncing: AtomicBool::new(false),
            connected: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            metrics,
            admissions,
            forward: None,
        }
    }

    /// The mempool, locked. A panic while it was held leaves a consistent pool (every
    /// method finishes its bookkeeping before it can fail), so poisoning is ignored.
    pub fn mempool(&self) -> MutexGuard<'_, Mempool> {
        self.mempool.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The committed state of `sender`'s account, if it has one.
    fn account(
        &self,
        sender: &cairn_crypto::PublicKey,
    ) -> Result<Option<cairn_types::AccountState>, SubmitError> {
        self.store.account(sender).map_err(|e| {
            tracing::error!(error = %e, "account read failed");
            SubmitError::Internal("storage read failed".into())
        })
    }

    /// Verifies and admits a client's transaction, recorded durably before this
    /// returns `Ok` (the acknowledgement outlives a crash; see `admission.rs`). From the
    /// mempool it goes into this validator's next batch (docs/DATAPATH.md).
    pub async fn admit(&self, tx: Transaction) -> Result<Admitted, SubmitError> {
        let hash = tx.hash();
        // A transaction already pending costs one hash, not a signature check.
        if self.mempool().contains(&hash) {
            self.record(hash, tx).await?;
            return Ok(Admitted::AlreadyKnown);
        }
        let (tx, hash) = self.verifier.verify(tx).await.map_err(submit_error)?;
        let account = self.account(&tx.payload.sender)?;
        let admitted = {
            let mut pool = self.mempool();
            let admitted = pool
                .insert(tx.clone(), hash, account.as_ref())
                .map_err(submit_error)?;
            self.metrics.mempool_size.set(pool.len() as i64);
            admitted
        };
        if admitted == Admitted::New {
            self.tx_admitted.notify_one();
        }
        let forwarded = self.forward.as_ref().map(|_| tx.clone());
        if let Err(e) = self.record(hash, tx).await {
            if admitted == Admitted::New {
                self.mempool().withdraw(&hash);
            }
            return Err(e);
        }
        if let (Some(forward), Some(tx), Admitted::New) = (&self.forward, forwarded, admitted)
            && forward.try_send(tx).is_err()
        {
            tracing::debug!(%hash, "forward queue full; the transaction stays local");
        }
        Ok(admitted)
    }

    /// Records an acknowledged transaction durably.
    async fn record(&self, hash: Hash, tx: Transaction) -> Result<(), SubmitError> {
        self.admissions.record(hash, tx).await.map_err(|e| {
            tracing::error!(%hash, error = %e, "cannot record the transaction; refused");
            SubmitError::Internal("cannot record the transaction durably".into())
        })
    }

    /// Admits again the transactions this node acknowledged before it stopped and
    /// had not seen leave its mempool; how many are pending again. Those refused now
    /// (committed meanwhile, or no longer valid) are dropped by the next sweep.
    pub async fn readmit(&self, txs: Vec<Transaction>) -> usize {
        let mut pending = 0;
        for chunk in txs.chunks(256) {
            let results =
                futures::future::join_all(chunk.iter().map(|tx| self.admit(tx.clone()))).await;
            pending += results.iter().filter(|r| r.is_ok()).count();
        }
        pending
    }
}

impl Shared {
    /// After a commit (by consensus or block sync) is durable: drops the committed
    /// transactions and every transaction their senders' new nonces make stale from
    /// the mempool (so no leader proposes them again), and counts them.
    pub fn note_commit(&self, batch: &cairn_storage::CommitBatch) {
        let committed: Vec<_> = batch.receipts.iter().map(|r| r.tx_hash).collect();
        let mut nonces: std::collections::BTreeMap<cairn_crypto::PublicKey, u64> =
            std::collections::BTreeMap::new();
        for change in &batch.changes {
            if let cairn_storage::StateChange::Account { key, state } = change {
                nonces.insert(*key, state.nonce);
            }
        }
        let nonces: Vec<_> = nonces.into_iter().collect();
        let size = {
            let mut pool = self.mempool();
            pool.on_commit(&committed, &nonces);
            pool.len()
        };
        self.metrics.mempool_size.set(size as i64);
        self.metrics.committed_txs.inc_by(committed.len() as u64);
        if let Some(last) = batch.blocks.last() {
            self.metrics.height.set(last.header.height as i64);
        }
    }
}

/// The RPC server's view of the node.
pub struct RpcNode(pub Arc<Shared>);

#[jsonrpsee::core::async_trait]
impl NodeApi for RpcNode {
    async fn submit(&self, tx: Transaction) -> Result<(), SubmitError> {
        if self.0.stopping.load(Ordering::Relaxed) {
            return Err(SubmitError::ShuttingDown);
        }
        self.0.admit(tx).await.map(|_| ())
    }

    fn pending_status(&self, hash: &Hash) -> PendingStatus {
        match self.0.mempool().status(hash) {
            cairn_mempool::TxStatus::Pending => PendingStatus::Pending,
            cairn_mempool::TxStatus::Evicted { reason } => PendingStatus::Evicted { reason },
            cairn_mempool::TxStatus::Unknown => PendingStatus::Unknown,
        }
    }

    fn health(&self) -> NodeHealth {
        let pool = self.0.mempool();
        NodeHealth {
            round: self.0.round.load(Ordering::Relaxed),
            connected_peers: self.0.connected.lock().map(|c| c.len()).unwrap_or(0),
            mempool_size: pool.len(),
            mempool_capacity: pool.capacity(),
            syncing: self.0.syncing.load(Ordering::Relaxed),
        }
    }

    fn consensus_status(&self) -> Option<ConsensusStatus> {
        let shared = &self.0;
        let validators = shared.genesis.validators();
        if usize::from(shared.me.0) >= validators.len() {
            return None;
        }
        let connected = shared
            .connected
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default();
        let doc = shared.genesis.doc();
        let inputs = super::stall::ReportInputs {
            me: shared.me,
            names: doc.validators.iter().map(|v| v.name.as_str()).collect(),
            connected: &connected,
            height: shared.store.head().map(|h| h.height).unwrap_or(0),
            quorum: validators.quorum(),
            syncing: shared.syncing.load(Ordering::Relaxed),
        };
        shared.stall.report(&inputs)
    }

    fn peers(&self) -> Vec<PeerStatus> {
        let connected = self
            .0
            .connected
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default();
        let doc = self.0.genesis.doc();
        doc.validators
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != usize::from(self.0.me.0))
            .map(|(i, v)| {
                let id = ValidatorId(i as u16);
                PeerStatus {
                    id: id.0,
                    name: v.name.clone(),
                    peer_id: v.peer_id.clone(),
                    connected: connected.contains(&id),
                }
            })
            .collect()
    }
}

/// No commit for this long is a stall: four base round timeouts, and at least 5 s
/// (an idle chain commits an empty block at least every heartbeat).
fn stall_after(genesis: &Genesis) -> Duration {
    let params = &genesis.doc().params;
    let rounds = params.round_timeout_ms.saturating_mul(4);
    Duration::from_millis(rounds.max(params.heartbeat_ms.saturating_mul(2)).max(5_000))
}

/// The RPC error for a mempool refusal.
fn submit_error(error: AdmitError) -> SubmitError {
    match error {
        AdmitError::WrongChain => SubmitError::WrongChain,
        AdmitError::BadSignature => SubmitError::BadSignature,
        AdmitError::UnknownSender => SubmitError::UnknownSender,
        AdmitError::NotPermitted { has, needs } => SubmitError::NotPermitted { has, needs },
        AdmitError::StaleNonce { expected, got } => SubmitError::StaleNonce { expected, got },
        AdmitError::NonceTooFar {
            expected,
            got,
            max_ahead,
        } => SubmitError::NonceTooFar {
            expected,
            got,
            max_ahead,
        },
        AdmitError::NonceInUse { nonce } => SubmitError::NonceInUse { nonce },
        AdmitError::InsufficientBalance { balance, amount } => {
            SubmitError::InsufficientBalance { balance, amount }
        }
        AdmitError::TooLarge { size, max } => SubmitError::TooLarge { size, max },
        AdmitError::Busy { capacity } => SubmitError::Busy { capacity },
        AdmitError::VerifierStopped => SubmitError::ShuttingDown,
    }
}
