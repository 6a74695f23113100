//! The consensus driver: owns the I/O around the pure consensus core.
//!
//! One task runs [`Driver::run`]: it turns network messages, timers, fetched blocks and
//! the mempool into [`Event`]s for the core and performs the core's [`Action`]s in
//! order — durable writes of the safety state and voted blocks complete before any
//! later action of the same batch, so no vote or timeout leaves before the state that
//! protects it is on disk (consensus/README.md, "Actions and the driver's duties").
//! Commits are executed and written by a committer thread in commit order, off the
//! voting path (`commit`).

mod actions;
mod batch_writer;
mod batching;
mod claims;
mod commit;
mod evidence;
mod fetch;
mod inbound;
mod payload;
mod rates;
mod replay;
mod verify;

pub use rates::PeerRates;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Result;
use cairn_consensus::{Action, Consensus, Event, Message};
use cairn_crypto::Hash;
use cairn_network::{Inbox, NetworkHandle};
use cairn_storage::Head;
use cairn_types::{Block, Round, ValidatorId};
use parity_scale_codec::Encode;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, Sleep, sleep_until};
use tracing::Instrument;

use super::shared::Shared;
pub use fetch::FetchResult;

/// A leader waiting (up to the heartbeat) for transactions to propose.
struct PayloadWait {
    round: Round,
    parent: Hash,
    deadline: Instant,
}

/// The driver's state: the core, the I/O handles and the little it remembers itself.
pub struct Driver {
    core: Consensus,
    shared: Arc<Shared>,
    net: NetworkHandle,
    heads: watch::Sender<Head>,
    /// Timer armed by `ScheduleTimeout`: (round, deadline).
    timer: Option<(Round, Instant)>,
    payload_wait: Option<PayloadWait>,
    /// Recent uncommitted blocks the core accepted (voted for, proposed, fetched): to
    /// leave their transactions out of new proposals and to answer block requests.
    recent: payload::RecentBlocks,
    /// Heights of the blocks persisted but not committed, by id: a block request finds
    /// one with a point read instead of a scan.
    pending_heights: HashMap<Hash, cairn_types::Height>,
    /// When each block in `recent` was first seen here (for the commit latency metric).
    seen: HashMap<Hash, Instant>,
    /// The state hash after the executed head.
    state_root: Hash,
    /// Executes and stores committed blocks off this task, in order.
    committer: commit::Committer,
    /// Height of the last block executed and stored (at most the core's committed
    /// height: commits in flight are above it).
    executed: cairn_types::Height,
    /// Proposals' state claims, checked against this node's execution.
    claims: claims::StateClaims,
    heartbeat: Duration,
    /// Transaction bytes a proposal may carry: `max_block_bytes` less the header.
    tx_budget: usize,
    max_block_txs: usize,
    block_fetch: Duration,
    fetches: fetch::Fetches,
    fetched_tx: mpsc::Sender<FetchResult>,
    fetched_rx: mpsc::Receiver<FetchResult>,
    verifier: verify::MessageVerifier,
    verified_rx: mpsc::UnboundedReceiver<verify::Verified>,
    /// Keeps equivocation evidence on disk, off this task, within its byte cap.
    evidence: evidence::EvidenceKeeper,
    /// Certificates sent to lagging validators, per peer.
    replies: rates::PeerRates,
    /// Block requests answered, per peer.
    block_requests: rates::PeerRates,
    /// Answers other nodes' status and range requests (block sync).
    sync_server: crate::run::sync::SyncServer,
    /// Set when a verified certificate shows the chain more than [`SYNC_GAP`] blocks
    /// above this node's head: the driver then stops for block sync to catch up.
    behind: Option<cairn_types::Height>,
    /// A Byzantine behaviour (fault-run builds with the `byzantine` feature only).
    byzantine: Option<crate::run::byzantine::Byzantine>,
    /// This validator's batches and the ones it holds for others.
    batching: batching::Batching,
    /// The chain's block limits.
    limits: verify::BlockLimits,
    /// Bundles of transactions forwarded by full nodes in admission at once.
    forward_slots: Arc<tokio::sync::Semaphore>,
    /// When the batch clock next ticks (while batching is active).
    batch_due: Option<Instant>,
}

/// Blocks a node may lag before it leaves consensus for block sync: shorter gaps are
/// filled by fetching the missing blocks one by one.
pub const SYNC_GAP: cairn_types::Height = 32;

/// Why [`Driver::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriverExit {
    /// Asked to stop.
    Stopped,
    /// The network is at least this height, too far ahead to follow block by block.
    Behind(cairn_types::Height),
}

/// What [`Driver::new`] needs.
pub struct DriverSetup {
    /// The consensus core, built from the persisted state.
    pub core: Consensus,
    /// State shared with RPC.
    pub shared: Arc<Shared>,
    /// The network.
    pub net: NetworkHandle,
    /// Publishes each new committed head (RPC subscriptions follow it).
    pub heads: watch::Sender<Head>,
    /// The state hash after the committed head.
    pub state_root: Hash,
    /// Blocks persisted but not committed (they answer block requests).
    pub pending: Vec<Block>,
    /// How long a block request may take before another peer is asked.
    pub block_fetch: Duration,
    /// Where equivocation evidence is kept.
    pub evidence_dir: PathBuf,
    /// Peers (validators and full nodes) whose sync requests are served.
    pub peers: usize,
    /// A Byzantine behaviour (fault-run builds with the `byzantine` feature only).
    pub byzantine: Option<crate::run::byzantine::Byzantine>,
    /// The consensus key, which also signs batch votes.
    pub key: cairn_crypto::SecretKey,
}

impl Driver {
    /// A driver ready to [`run`](Driver::run); an error if its committer thread cannot
    /// start.
    pub fn new(setup: DriverSetup) -> Result<Driver> {
        let committer = commit::Committer::spawn(setup.shared.clone(), setup.state_root)
            .map_err(|e| anyhow::anyhow!("cannot start the committer thread: {e}"))?;
        let executed = setup.core.committed().height;
        let params = &setup.shared.genesis.doc().params;
        let (fetched_tx, fetched_rx) = mpsc::channel(256);
        let limits = verify::BlockLimits {
            max_txs: usize::try_from(params.max_block_txs).unwrap_or(usize::MAX),
            max_bytes: usize::try_from(params.max_block_bytes).unwrap_or(usize::MAX),
            max_tx_bytes: usize::try_from(params.max_tx_bytes).unwrap_or(usize::MAX),
        };
        let max_message_bytes = super::wire::max_message_bytes(limits.max_bytes);
        let (verifier, verified_rx) = verify::MessageVerifier::new(
            setup.shared.clone(),
            setup.net.clone(),
            limits,
            max_message_bytes,
        );
        let n = setup.shared.genesis.n();
        let pending_heights = setup
            .pending
            .iter()
            .map(|b| (b.id(), b.header.height))
            .collect();
        let mut recent = payload::RecentBlocks::default();
        for block in setup.pending {
            recent.insert(block);
        }
        let mut byzantine = setup.byzantine;
        if let Some(b) = &mut byzantine {
            b.on_start(&setup.net);
        }
        let stored = setup
            .shared
            .store
            .batches()
            .map_err(|e| anyhow::anyhow!("cannot read the stored batches: {e}"))?;
        let machine =
            cairn_batches::Batches::new(batching::machine_config(&setup.shared, setup.key));
        Ok(Driver {
            batching: batching::Batching::new(
                machine,
                stored,
                batch_writer::BatchWriter::spawn(setup.shared.store.clone(), setup.net.clone()),
            ),
            forward_slots: Arc::new(tokio::sync::Semaphore::new(4)),
            batch_due: None,
            limits,
            committer,
            executed,
            claims: claims::StateClaims::new(executed, setup.state_root),
            sync_server: crate::run::sync::SyncServer::new(
                setup.shared.store.clone(),
                setup.net.clone(),
                setup.peers,
            ),
            behind: None,
            byzantine,
            verifier,
            verified_rx,
            evidence: evidence::EvidenceKeeper::new(setup.evidence_dir),
            replies: rates::PeerRates::new(n, rates::REPLIES_PER_SEC),
            block_requests: rates::PeerRates::new(n, rates::BLOCK_REQUESTS_PER_SEC),
            pending_heights,
            heartbeat: Duration::from_millis(params.heartbeat_ms),
            tx_budget: usize::try_from(params.max_block_bytes)
                .unwrap_or(usize::MAX)
                .saturating_sub(super::wire::BLOCK_OVERHEAD_BYTES),
            max_block_txs: usize::try_from(params.max_block_txs).unwrap_or(usize::MAX),
            recent,
            seen: HashMap::new(),
            core: setup.core,
            shared: setup.shared,
            net: setup.net,
            heads: setup.heads,
            timer: None,
            payload_wait: None,
            state_root: setup.state_root,
            block_fetch: setup.block_fetch,
            fetches: fetch::Fetches::new(n),
            fetched_tx,
            fetched_rx,
        })
    }

    /// Runs until `stop` turns true or a durable write fails (then the error is
    /// returned: continuing could sign without the protecting state on disk).
    /// Work in progress when `stop` fires — one event's actions — is finished first.
    /// It also returns when the chain turns out to be far ahead
    /// ([`DriverExit::Behind`]), handing back the inbox for block sync.
    pub async fn run(
        mut self,
        incoming: Inbox,
        stop: watch::Receiver<bool>,
    ) -> Result<(DriverExit, Inbox)> {
        let exit = self.run_until_exit(incoming, stop).await?;
        // Commits in flight are written before anyone else (shutdown, block sync)
        // reads the store.
        self.finish_commits().await?;
        Ok(exit)
    }

    async fn run_until_exit(
        &mut self,
        mut incoming: Inbox,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(DriverExit, Inbox)> {
        self.step(Event::Start).await?;
        let mut peers_tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            if let Some(height) = self.behind {
                return Ok((DriverExit::Behind(height), incoming));
            }
            if *stop.borrow() {
                return Ok((DriverExit::Stopped, incoming));
            }
            let timer = self.timer_sleep();
            let payload = self.payload_sleep();
            // Batching needs the clock only while there is something to batch or an
            // own batch to see certified; an idle validator sleeps until a client's
            // transaction arrives.
            let active = self.batching_active();
            if !active {
                self.batch_due = None;
            } else if self.batch_due.is_none() {
                self.batch_due = Some(Instant::now() + batching::BATCH_TICK);
            }
            let batching = far_or(self.batch_due);
            // Biased, in this order: the round timer can never be starved by arrivals
            // (a silent leader is always timed out), verified consensus messages come
            // before new arrivals, and the network's inbox already puts consensus
            // messages ahead of transaction gossip.
            tokio::select! {
                biased;
                _ = stop.changed() => return Ok((DriverExit::Stopped, incoming)),
                () = timer => {
                    if let Some((round, _)) = self.timer.take() {
                        self.shared.metrics.timeouts.inc();
                        tracing::info!(round, "round timed out");
                        self.step(Event::LocalTimeout { round }).await?;
                    }
                }
                Some(done) = self.committer.next_done(), if self.committer.busy() => {
                    self.on_committed(done)?;
                }
                () = payload => self.propose_now().await?,
                Some(checked) = self.verified_rx.recv() => self.on_verified(checked).await?,
                Some(result) = self.fetched_rx.recv() => self.on_fetched(result).await?,
                Some(fetched) = self.batching.fetched_rx.recv() => self.on_fetched_batch(fetched).await?,
                Some(message) = incoming.recv() => self.on_incoming(message).await?,
                () = self.shared.batch_ready.notified(), if self.payload_wait.is_some() => {
                    if let Some(event) = self.payload_if_ready() {
                        self.step(event).await?;
                    }
                }
                () = batching => {
                    self.batch_due = None;
                    self.batch_tick();
                }
                () = self.shared.tx_admitted.notified(), if !active => self.batch_tick(),
                _ = peers_tick.tick() => self.refresh_peers().await,
            }
        }
    }

    /// Feeds one event to the core and performs its actions in order. An action may
    /// answer with a follow-up event (a payload the leader can propose at once); it is
    /// handled after every action of the batch that produced it.
    async fn step(&mut self, event: Event) -> Result<()> {
        let mut queue = VecDeque::from([event]);
        while let Some(event) = queue.pop_front() {
            let span = tracing::debug_span!("round", round = self.core.round());
            let actions = span.in_scope(|| self.core.handle(event));
            let round = self.core.round();
            self.batching.note_round(round);
            if self.shared.stall.due(round) {
                self.shared.stall.publish(self.core.round_view());
            }
            self.shared.round.store(round, Ordering::Relaxed);
            self.shared.metrics.round.set(round as i64);
            self.shared
                .metrics
                .recovering
                .set(i64::from(self.core.is_recovering()));
            let mut actions = actions.into_iter().peekable();
            while let Some(action) = actions.next() {
                // A block about to be voted for and the safety state of that vote: one
                // synced write instead of two, both durable before the vote leaves.
                if let Action::PersistBlock(block) = &action
                    && let Some(Action::PersistSafety(safety)) = actions.peek()
                {
                    self.persist_block_and_safety(block.clone(), safety.encode())?;
                    actions.next();
                    continue;
                }
                if let Some(next) = self.perform(action).instrument(span.clone()).await? {
                    queue.push_back(next);
                }
            }
        }
        Ok(())
    }

    /// Proposes now if a payload request is waiting.
    async fn propose_now(&mut self) -> Result<()> {
        match self.payload_event() {
            Some(event) => self.step(event).await,
            None => Ok(()),
        }
    }

    fn timer_sleep(&self) -> Pin<Box<Sleep>> {
        far_or(self.timer.map(|(_, at)| at))
    }

    fn payload_sleep(&self) -> Pin<Box<Sleep>> {
        far_or(self.payload_wait.as_ref().map(|w| w.deadline))
    }

    /// A verified certificate certifies a block of `height`: if that is far above the
    /// committed head, block sync must catch up first.
    fn note_network_height(&mut self, height: cairn_types::Height) {
        let head = self.core.committed().height;
        if height > head.saturating_add(SYNC_GAP) && self.behind.is_none() {
            tracing::info!(
                head,
                network = height,
                "far behind the network; leaving consensus for block sync"
            );
            self.behind = Some(height);
        }
    }

    /// Updates the connected set (for RPC and the stall report) and asks every
    /// validator connected since the last look for its status: one that comes back
    /// from a partition or a restart learns where the others are from the answer at
    /// once, instead of at its next round timer (up to a backed-off timeout later).
    async fn refresh_peers(&mut self) {
        let Ok(connected) = self.net.connected().await else {
            return;
        };
        let fresh: Vec<ValidatorId> = {
            let Ok(mut slot) = self.shared.connected.lock() else {
                return;
            };
            let fresh = connected
                .iter()
                .filter(|v| !slot.contains(v))
                .copied()
                .collect();
            *slot = connected;
            fresh
        };
        for peer in fresh {
            self.send(peer, &Message::StatusRequest).await;
        }
        self.shared
            .syncing
            .store(!self.fetches.is_empty(), Ordering::Relaxed);
    }
}

/// A sleep until `at`, or practically forever when there is nothing to wait for.
fn far_or(at: Option<Instant>) -> Pin<Box<Sleep>> {
    let at = at.unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
    Box::pin(sleep_until(at))
}

/// Runs a blocking storage call without stalling the runtime's other tasks.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Logs an action at trace level without its payload.
fn action_name(action: &Action) -> &'static str {
    match action {
        Action::PersistSafety(_) => "persist_safety",
        Action::PersistBlock(_) => "persist_block",
        Action::Send { .. } => "send",
        Action::Broadcast { .. } => "broadcast",
        Action::ScheduleTimeout { .. } => "schedule_timeout",
        Action::RequestPayload { .. } => "request_payload",
        Action::Commit { .. } => "commit",
        Action::FetchBlock { .. } => "fetch_block",
        Action::Evidence(_) => "evidence",
        Action::Recovery(_) => "recovery",
    }
}
