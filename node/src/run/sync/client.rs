//! Catching up: learn the network's head, fetch ranges from several peers at once,
//! check each block against the validator set, and apply them in height order.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use cairn_crypto::Hash;
use cairn_genesis::Genesis;
use cairn_network::{NetworkHandle, Offence};
use cairn_storage::audit::{BlockEvidence, ChainAudit};
use cairn_storage::{CommitBatch, Head, Store};
use cairn_types::{
    Block, ChainId, Height, QuorumCert, Round, Transaction, ValidatorId, ValidatorSet, Wire,
};
use futures::stream::{FuturesUnordered, StreamExt};
use parity_scale_codec::{DecodeAll, Encode};

use super::{BlockChunk, BlockRange, ChainStatus, CommittedBlock, MAX_CHUNK_BLOCKS};
use crate::run::wire::{REQUEST_BLOCKS, REQUEST_STATUS};

/// Range requests in flight at once, over all peers.
const MAX_IN_FLIGHT: usize = 8;
/// Range requests in flight to one peer.
const MAX_IN_FLIGHT_PER_PEER: usize = 3;
/// How long a status or range answer may take before the peer counts as slow.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause before asking again a peer a request could not be sent to.
const UNSENT_PAUSE: Duration = Duration::from_millis(200);
/// Requests to one peer that could not be sent before it is asked no more (about 5 s).
const MAX_UNSENT: u32 = 25;
/// How long a status round waits for connections to the peers.
const CONNECT_WAIT: Duration = Duration::from_secs(5);
/// Failures (withheld, slow, unusable answers) after which a peer is asked no more in
/// this sync.
const MAX_FAILURES: u32 = 2;

/// What one catch-up did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CatchUp {
    /// The head before.
    pub from: Height,
    /// The head after.
    pub to: Height,
    /// Transactions applied.
    pub txs: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The highest round above the watched one (see [`Syncer::watching`]) in which a
    /// synced certificate carries the watched validator's signature: it signed there
    /// and its safety state does not know it.
    pub signed_above: Option<Round>,
}

/// How a catch-up ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncOutcome {
    /// No peer proved a head more than the allowed gap above this node's.
    UpToDate {
        /// This node's head.
        height: Height,
        /// The highest head a peer proved (this node's if none did).
        network: Height,
    },
    /// Blocks were applied.
    CaughtUp(CatchUp),
    /// No peer answered a status request.
    NoPeers,
}

/// Where block sync asks: the network, or a fake with lying peers in tests.
pub trait Source: Clone + Send + Sync + 'static {
    /// The peers connected now.
    fn connected(&self) -> impl std::future::Future<Output = Vec<ValidatorId>> + Send;
    /// Sends request `kind` to `peer`; its answer, or None if it failed.
    fn request(
        &self,
        peer: ValidatorId,
        kind: u8,
        payload: Vec<u8>,
    ) -> impl std::future::Future<Output = Option<Vec<u8>>> + Send;
    /// Reports a peer's misbehaviour.
    fn report(&self, peer: ValidatorId, offence: Offence);
}

impl Source for NetworkHandle {
    async fn connected(&self) -> Vec<ValidatorId> {
        NetworkHandle::connected(self).await.unwrap_or_default()
    }

    async fn request(&self, peer: ValidatorId, kind: u8, payload: Vec<u8>) -> Option<Vec<u8>> {
        NetworkHandle::request(self, peer, kind, payload).await.ok()
    }

    fn report(&self, peer: ValidatorId, offence: Offence) {
        NetworkHandle::report(self, peer, offence);
    }
}

/// Called after each synced write with what was written and the new head.
pub type OnApplied = Arc<dyn Fn(&CommitBatch, Head) + Send + Sync>;

/// Catches a node up with its peers through block sync.
#[derive(Clone)]
pub struct Syncer<S: Source = NetworkHandle> {
    store: Arc<Store>,
    chain: ChainId,
    validators: Arc<ValidatorSet>,
    net: S,
    peers: Vec<ValidatorId>,
    on_applied: OnApplied,
    watch: Option<(ValidatorId, Round)>,
}

/// A range asked for: `count` blocks from `from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Wanted {
    from: Height,
    count: u32,
}

/// The answer of one range request.
type Answer = (
    ValidatorId,
    Wanted,
    std::result::Result<Vec<CommittedBlock>, Failure>,
);

/// Why a peer's answer could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    /// No answer in time.
    Slow,
    /// The request could not be sent (not connected yet, too many outstanding):
    /// the peer is asked again after a pause, without counting against it.
    Unsent,
    /// An empty answer for heights the peer claimed to have.
    Withheld,
    /// Undecodable, or not the blocks asked for.
    Garbage,
}

impl Syncer {
    /// A syncer for `genesis`'s chain asking `peers` (validators other than this node)
    /// over the network, calling `on_applied` after each write.
    pub fn new(
        store: Arc<Store>,
        genesis: &Genesis,
        net: NetworkHandle,
        peers: Vec<ValidatorId>,
        on_applied: OnApplied,
    ) -> Syncer {
        Syncer::with_source(
            store,
            genesis.chain_id(),
            Arc::new(genesis.validators().clone()),
            net,
            peers,
            on_applied,
        )
    }
}

impl<S: Source> Syncer<S> {
    /// A syncer of chain `chain` with `validators`, asking `peers` through `net`.
    pub fn with_source(
        store: Arc<Store>,
        chain: ChainId,
        validators: Arc<ValidatorSet>,
        net: S,
        peers: Vec<ValidatorId>,
        on_applied: OnApplied,
    ) -> Syncer<S> {
        Syncer {
            store,
            chain,
            validators,
            net,
            peers,
            on_applied,
            watch: None,
        }
    }

    /// Also looks, in every synced certificate, for a signature of `signer` in a round
    /// above `round` (its highest voted round): a safety state older than the chain.
    pub fn watching(mut self, signer: ValidatorId, round: Round) -> Syncer<S> {
        self.watch = Some((signer, round));
        self
    }

    /// Every peer's proven committed head: asks all at once, checks each certificate
    /// against the validator set, and drops (and reports) answers that do not prove
    /// what they claim.
    pub async fn statuses(&self) -> Vec<(ValidatorId, Height)> {
        self.wait_for_peers().await;
        let mut asks: FuturesUnordered<_> = self
            .peers
            .iter()
            .map(|peer| {
                let net = self.net.clone();
                let peer = *peer;
                async move {
                    let answer = tokio::time::timeout(
                        ANSWER_TIMEOUT,
                        net.request(peer, REQUEST_STATUS, Vec::new()),
                    )
                    .await;
                    (peer, answer.ok().flatten())
                }
            })
            .collect();
        let mut heads = Vec::new();
        while let Some((peer, answer)) = asks.next().await {
            let Some(bytes) = answer else { continue };
            match self.check_status(&bytes) {
                Ok(height) => heads.push((peer, height)),
                Err(reason) => {
                    tracing::warn!(peer = peer.0, %reason, "peer sent a bad chain status");
                    self.net.report(peer, Offence::Invalid);
                }
            }
        }
        heads
    }

    /// Right after start the connections are still being made: waits (up to
    /// [`CONNECT_WAIT`]) until all but f of the peers are connected.
    async fn wait_for_peers(&self) {
        let f = self.validators.max_faulty();
        let enough = self.peers.len().saturating_sub(f).max(1);
        let deadline = Instant::now() + CONNECT_WAIT;
        while Instant::now() < deadline {
            let connected = self.net.connected().await;
            if self.peers.iter().filter(|p| connected.contains(p)).count() >= enough {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn check_status(&self, bytes: &[u8]) -> std::result::Result<Height, String> {
        let status = ChainStatus::decode_all(&mut &bytes[..]).map_err(|e| e.to_string())?;
        match (&status.certificate, status.height) {
            (None, 0) => Ok(0),
            (None, _) => Err("a head above genesis without a certificate".into()),
            (Some(cert), height) => {
                check_commit_certificate(cert, height)?;
                cert.verify(&self.chain, &self.validators)
                    .map_err(|e| e.to_string())?;
                Ok(height)
            }
        }
    }

    /// Catches up until this node's head is within `gap` blocks of the highest head
    /// its peers prove (asked again whenever the last target is reached).
    pub async fn catch_up(&self, gap: Height) -> Result<SyncOutcome> {
        let started = Instant::now();
        let start = self.store.head()?.height;
        let mut statuses = self.statuses().await;
        if statuses.is_empty() {
            return Ok(SyncOutcome::NoPeers);
        }
        let mut txs = 0u64;
        let mut applier = Applier::new(
            self.store.clone(),
            self.chain,
            self.validators.clone(),
            self.on_applied.clone(),
        )?;
        applier.watch = self.watch;
        loop {
            let network = statuses.iter().map(|(_, h)| *h).max().unwrap_or(0);
            let head = applier.head_height();
            if network <= head.saturating_add(gap) {
                if head == start {
                    return Ok(SyncOutcome::UpToDate {
                        height: head,
                        network: network.max(head),
                    });
                }
                return Ok(SyncOutcome::CaughtUp(CatchUp {
                    from: start,
                    to: head,
                    txs,
                    elapsed: started.elapsed(),
                    signed_above: applier.signed_above,
                }));
            }
            if network > head.saturating_add(crate::run::driver::SYNC_GAP) {
                tracing::info!(
                    head,
                    network,
                    peers = statuses.len(),
                    "behind the network; syncing blocks"
                );
            }
            txs += self
                .fetch_and_apply(&mut applier, &statuses, network)
                .await?;
            statuses = self.statuses().await;
            if statuses.is_empty() {
                return Err(anyhow!("every peer stopped answering during block sync"));
            }
        }
    }

    /// Fetches heights above the applied head up to `target` from the peers in
    /// `statuses` and applies them in order; returns the transactions applied.
    async fn fetch_and_apply(
        &self,
        applier: &mut Applier,
        statuses: &[(ValidatorId, Height)],
        target: Height,
    ) -> Result<u64> {
        let mut claimed: HashMap<ValidatorId, Height> = statuses.iter().copied().collect();
        let mut failures: HashMap<ValidatorId, u32> = HashMap::new();
        let mut load: HashMap<ValidatorId, usize> = HashMap::new();
        let mut queue: VecDeque<Wanted> = VecDeque::new();
        let mut next = applier.head_height() + 1;
        let mut ready: BTreeMap<Height, (ValidatorId, Vec<CommittedBlock>)> = BTreeMap::new();
        let mut in_flight = FuturesUnordered::new();
        let mut txs = 0;
        let mut last_progress = Instant::now();
        let mut cooling: HashMap<ValidatorId, Instant> = HashMap::new();
        let mut unsent: HashMap<ValidatorId, u32> = HashMap::new();
        while applier.head_height() < target {
            // Ask for more while there is room: first ranges to retry, then new ones.
            while in_flight.len() < MAX_IN_FLIGHT {
                let wanted = match queue.pop_front() {
                    Some(w) => w,
                    None if next <= target => {
                        let count = (target - next + 1).min(MAX_CHUNK_BLOCKS as u64) as u32;
                        let w = Wanted { from: next, count };
                        next += u64::from(count);
                        w
                    }
                    None => break,
                };
                let now = Instant::now();
                cooling.retain(|_, until| *until > now);
                let available: HashMap<ValidatorId, Height> = claimed
                    .iter()
                    .filter(|(p, _)| !cooling.contains_key(p))
                    .map(|(p, h)| (*p, *h))
                    .collect();
                let Some(peer) = pick_peer(&available, &load, wanted) else {
                    queue.push_front(wanted);
                    break;
                };
                *load.entry(peer).or_default() += 1;
                in_flight.push(self.ask_range(peer, wanted));
            }
            if in_flight.is_empty() && !cooling.is_empty() {
                // Only peers that could not be asked a moment ago are left: wait.
                tokio::time::sleep(UNSENT_PAUSE).await;
                continue;
            }
            if in_flight.is_empty() {
                return Err(anyhow!(
                    "block sync stalled at height {}: no peer that claimed the blocks still answers",
                    applier.head_height()
                ));
            }
            let Some((peer, wanted, answer)) = in_flight.next().await else {
                continue;
            };
            if let Some(l) = load.get_mut(&peer) {
                *l = l.saturating_sub(1);
            }
            match answer {
                Ok(blocks) => {
                    let got = u32::try_from(blocks.len()).unwrap_or(u32::MAX);
                    if got < wanted.count {
                        // A short answer (the byte cap): ask for the rest next.
                        queue.push_front(Wanted {
                            from: wanted.from + u64::from(got),
                            count: wanted.count - got,
                        });
                    }
                    ready.insert(wanted.from, (peer, blocks));
                }
                Err(Failure::Unsent) => {
                    let count = unsent.entry(peer).or_default();
                    *count += 1;
                    if *count >= MAX_UNSENT {
                        tracing::warn!(
                            peer = peer.0,
                            "cannot reach this peer; asking it no more in this sync"
                        );
                        claimed.remove(&peer);
                    } else {
                        cooling.insert(peer, Instant::now() + UNSENT_PAUSE);
                    }
                    queue.push_front(wanted);
                }
                Err(failure) => {
                    tracing::debug!(
                        peer = peer.0,
                        ?failure,
                        from = wanted.from,
                        "range request failed"
                    );
                    if failure == Failure::Garbage {
                        self.net.report(peer, Offence::Invalid);
                    }
                    let count = failures.entry(peer).or_default();
                    *count += 1;
                    if *count >= MAX_FAILURES || failure != Failure::Slow {
                        tracing::warn!(
                            peer = peer.0,
                            ?failure,
                            "asking this peer for no more blocks in this sync"
                        );
                        claimed.remove(&peer);
                    }
                    queue.push_back(wanted);
                }
            }
            // Apply whatever continues the chain, in height order.
            while let Some((from, (peer, blocks))) = ready.pop_first() {
                let expected = applier.verified_height() + 1;
                if from != expected {
                    if from > expected {
                        ready.insert(from, (peer, blocks));
                    }
                    break;
                }
                match applier.verify_and_apply(blocks) {
                    Ok(applied) => {
                        txs += applied;
                        last_progress = Instant::now();
                    }
                    Err(fault) => {
                        tracing::warn!(peer = peer.0, %fault, "peer sent blocks that do not verify");
                        self.net.report(peer, Offence::Invalid);
                        claimed.remove(&peer);
                        let end = ready.keys().next().copied().unwrap_or(next);
                        let count = (end - from).clamp(1, MAX_CHUNK_BLOCKS as u64) as u32;
                        queue.push_front(Wanted { from, count });
                        break;
                    }
                }
            }
            if last_progress.elapsed() > 4 * ANSWER_TIMEOUT && claimed.is_empty() {
                return Err(anyhow!(
                    "block sync made no progress and no peer is left to ask"
                ));
            }
        }
        Ok(txs)
    }

    /// Asks `peer` for `wanted` and checks the answer's form: consecutive blocks from
    /// the height asked for (signatures are checked when the blocks are applied).
    async fn ask_range(&self, peer: ValidatorId, wanted: Wanted) -> Answer {
        let request = BlockRange {
            from: wanted.from,
            max_blocks: wanted.count,
        };
        let net = self.net.clone();
        let asked = Instant::now();
        let answer = tokio::time::timeout(
            ANSWER_TIMEOUT,
            net.request(peer, REQUEST_BLOCKS, request.encode()),
        )
        .await;
        let bytes = match answer {
            Ok(Some(bytes)) => bytes,
            Ok(None) if asked.elapsed() < ANSWER_TIMEOUT / 2 => {
                return (peer, wanted, Err(Failure::Unsent));
            }
            _ => return (peer, wanted, Err(Failure::Slow)),
        };
        let decoded = tokio::task::spawn_blocking(move || decode_chunk(&bytes, wanted)).await;
        (peer, wanted, decoded.unwrap_or(Err(Failure::Garbage)))
    }
}

/// Strictly decodes a range answer and checks it holds consecutive blocks from
/// `wanted.from`, at most `wanted.count`, each well within the wire limits.
fn decode_chunk(bytes: &[u8], wanted: Wanted) -> std::result::Result<Vec<CommittedBlock>, Failure> {
    let chunk = BlockChunk::decode_all(&mut &bytes[..]).map_err(|_| Failure::Garbage)?;
    let blocks = chunk.into_inner();
    if blocks.is_empty() {
        return Err(Failure::Withheld);
    }
    if blocks.len() > wanted.count as usize {
        return Err(Failure::Garbage);
    }
    for (i, b) in blocks.iter().enumerate() {
        if b.block.header.height != wanted.from + i as u64
            || b.block.encoded_size() > Block::MAX_BYTES
        {
            return Err(Failure::Garbage);
        }
    }
    Ok(blocks)
}

/// The peer to ask for `wanted`: one whose proven head covers its first height, with
/// the fewest requests in flight (and room for another). A range that ends at a peer's
/// proven head goes to that peer if it can take it: its store holds the commit
/// certificate at that height (another peer's commits may end elsewhere, and blocks
/// are applied only up to a certificate).
fn pick_peer(
    claimed: &HashMap<ValidatorId, Height>,
    load: &HashMap<ValidatorId, usize>,
    wanted: Wanted,
) -> Option<ValidatorId> {
    let last = wanted.from + u64::from(wanted.count.max(1)) - 1;
    claimed
        .iter()
        .filter(|(_, head)| **head >= wanted.from)
        .map(|(peer, head)| (*peer, *head, load.get(peer).copied().unwrap_or(0)))
        .filter(|(_, _, l)| *l < MAX_IN_FLIGHT_PER_PEER)
        .min_by_key(|(peer, head, l)| (*head != last, *l, peer.0))
        .map(|(peer, _, _)| peer)
}

/// Checks that `cert` is shaped as the commit certificate of height `height`.
fn check_commit_certificate(cert: &QuorumCert, height: Height) -> std::result::Result<(), String> {
    if cert.data.commits().is_none() || cert.data.height != height.saturating_add(1) {
        return Err(format!(
            "the certificate (round {}, height {}) does not commit height {height}",
            cert.data.round, cert.data.height
        ));
    }
    Ok(())
}

/// Checks blocks against the validator set in height order, and stores those a
/// verified certificate commits.
struct Applier {
    store: Arc<Store>,
    chain: ChainId,
    validators: Arc<ValidatorSet>,
    /// The last block checked (applied or waiting in `unapplied`).
    tip: (Hash, Height, Round),
    /// Checked blocks above the store's head that no certificate has committed yet.
    unapplied: Vec<Block>,
    /// The state hash after the store's head.
    state_root: Hash,
    on_applied: OnApplied,
    /// A signer and round to look for signatures above (see [`Syncer::watching`]).
    watch: Option<(ValidatorId, Round)>,
    signed_above: Option<Round>,
}

impl Applier {
    fn new(
        store: Arc<Store>,
        chain: ChainId,
        validators: Arc<ValidatorSet>,
        on_applied: OnApplied,
    ) -> Result<Applier> {
        let head = store.head()?;
        let round = match head.height {
            0 => 0,
            _ => {
                store
                    .header(&head.id)?
                    .ok_or_else(|| anyhow!("the head block {} is missing", head.id))?
                    .round
            }
        };
        let state_root = store
            .state_root_at(head.height)?
            .ok_or_else(|| anyhow!("no execution result for the head height {}", head.height))?;
        Ok(Applier {
            store,
            chain,
            validators,
            tip: (head.id, head.height, round),
            unapplied: Vec::new(),
            state_root,
            on_applied,
            watch: None,
            signed_above: None,
        })
    }

    fn head_height(&self) -> Height {
        self.tip.1 - self.unapplied.len() as u64
    }

    fn verified_height(&self) -> Height {
        self.tip.1
    }

    /// Checks `blocks` (which continue the last checked block) and applies every run
    /// that ends in a verified commit certificate. On a fault nothing of `blocks` is
    /// kept. Returns the transactions applied.
    fn verify_and_apply(&mut self, blocks: Vec<CommittedBlock>) -> Result<u64> {
        let (id, height, round) = self.tip;
        let (chain, validators) = (self.chain, self.validators.clone());
        let mut audit = ChainAudit::after(&chain, &validators, id, height, round);
        let mut checked = Vec::with_capacity(blocks.len());
        let mut certified: Vec<(usize, QuorumCert)> = Vec::new();
        tokio::task::block_in_place(|| -> Result<()> {
            for (i, CommittedBlock { block, certificate }) in blocks.into_iter().enumerate() {
                let hashes: Vec<Hash> = block.txs.iter().map(Transaction::hash).collect();
                let cert_bytes = certificate.as_ref().map(Wire::to_wire);
                let id = block.id();
                audit
                    .check_block(BlockEvidence {
                        id: &id,
                        header: &block.header,
                        tx_hashes: &hashes,
                        certificate: cert_bytes.as_deref(),
                    })
                    .map_err(|f| anyhow!("height {}: {f}", block.header.height))?;
                self.look_for_watched(&block.header.justify);
                if let Some(cert) = certificate {
                    self.look_for_watched(&cert);
                    certified.push((i, cert));
                }
                checked.push(block);
            }
            Ok(())
        })?;
        if let Some(last) = checked.last() {
            self.tip = (last.id(), last.header.height, last.header.round);
        }
        let first_new = self.unapplied.len();
        self.unapplied.extend(checked);
        let Some((index, cert)) = certified.pop() else {
            return Ok(0);
        };
        // One synced write for the run up to the last certified block; the earlier
        // certificates are stored at their heights too, as the source had them.
        let run: Vec<Block> = self.unapplied.drain(..first_new + index + 1).collect();
        let earlier = certified.into_iter().map(|(_, c)| c).collect();
        self.apply(run, cert, earlier)
    }

    /// Notes a signature of the watched signer in `qc` above the watched round.
    fn look_for_watched(&mut self, qc: &QuorumCert) {
        let Some((signer, round)) = self.watch else {
            return;
        };
        if qc.round() > round && qc.signatures.iter().any(|(v, _)| *v == signer) {
            self.signed_above = self.signed_above.max(Some(qc.round()));
        }
    }

    /// Executes and stores `run` with the certificate committing its last block.
    fn apply(
        &mut self,
        run: Vec<Block>,
        certificate: QuorumCert,
        earlier: Vec<QuorumCert>,
    ) -> Result<u64> {
        let chain = self.chain;
        let txs: u64 = run.iter().map(|b| b.txs.len() as u64).sum();
        let (batch, head) = tokio::task::block_in_place(|| {
            crate::run::execute::execute_and_store(
                &self.store,
                &chain,
                run,
                certificate,
                earlier,
                &self.state_root,
                &|_| false,
            )
        })?;
        if let Some(root) = batch.state_roots.last() {
            self.state_root = *root;
        }
        (self.on_applied)(&batch, head);
        tracing::debug!(height = head.height, txs, "synced blocks applied");
        Ok(txs)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use cairn_storage::testing::ChainBuilder;

    use super::*;
    use crate::run::sync::serve::{chunk, status};

    #[test]
    fn the_least_loaded_peer_that_has_the_height_is_asked() {
        let claimed: HashMap<_, _> = [
            (ValidatorId(1), 100),
            (ValidatorId(2), 50),
            (ValidatorId(3), 100),
        ]
        .into_iter()
        .collect();
        let mut load = HashMap::new();
        load.insert(ValidatorId(1), 2);
        let at = |from, count| Wanted { from, count };
        assert_eq!(pick_peer(&claimed, &load, at(60, 10)), Some(ValidatorId(3)));
        assert_eq!(pick_peer(&claimed, &load, at(10, 10)), Some(ValidatorId(2)));
        assert_eq!(
            pick_peer(&claimed, &load, at(41, 10)),
            Some(ValidatorId(2)),
            "a range ending at a peer's head goes to that peer"
        );
        load.insert(ValidatorId(3), MAX_IN_FLIGHT_PER_PEER);
        load.insert(ValidatorId(1), MAX_IN_FLIGHT_PER_PEER);
        assert_eq!(
            pick_peer(&claimed, &load, at(60, 10)),
            None,
            "everyone who has it is busy"
        );
        assert_eq!(
            pick_peer(&claimed, &load, at(101, 10)),
            None,
            "nobody has it"
        );
    }

    #[test]
    fn an_answer_that_is_empty_or_undecodable_is_refused() {
        let wanted = Wanted { from: 5, count: 4 };
        let empty = BlockChunk::default().encode();
        assert_eq!(decode_chunk(&empty, wanted), Err(Failure::Withheld));
        assert_eq!(decode_chunk(b"\x01\x02", wanted), Err(Failure::Garbage));
    }

    /// How a fake peer lies.
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Lie {
        Honest,
        /// Changes one transaction of every block it serves (the payload root and the
        /// id no longer match).
        Tamper,
        /// Claims its head but answers every range with nothing.
        Withhold,
        /// Never answers a range.
        Silent,
        /// Claims a head it cannot prove (a certificate with one signature changed).
        InflateHead,
    }

    /// Peers served from real stores, each with its way of lying.
    #[derive(Clone)]
    struct FakeNet {
        peers: Arc<HashMap<ValidatorId, (Arc<Store>, Lie)>>,
        reports: Arc<Mutex<Vec<(ValidatorId, Offence)>>>,
    }

    impl Source for FakeNet {
        async fn connected(&self) -> Vec<ValidatorId> {
            self.peers.keys().copied().collect()
        }

        async fn request(&self, peer: ValidatorId, kind: u8, payload: Vec<u8>) -> Option<Vec<u8>> {
            let (store, lie) = self.peers.get(&peer)?.clone();
            match kind {
                REQUEST_STATUS => {
                    let mut status = status(&store)?;
                    if lie == Lie::InflateHead
                        && let Some(cert) = status.certificate.as_mut()
                    {
                        status.height += 1_000;
                        cert.data.height += 1_000;
                    }
                    Some(status.encode())
                }
                REQUEST_BLOCKS => {
                    let range = BlockRange::decode_all(&mut payload.as_slice()).ok()?;
                    match lie {
                        Lie::Withhold => Some(BlockChunk::default().encode()),
                        Lie::Silent => std::future::pending().await,
                        Lie::Tamper => {
                            let bytes = chunk(&store, range)?;
                            let mut blocks = BlockChunk::decode_all(&mut bytes.as_slice())
                                .ok()?
                                .into_inner();
                            for b in &mut blocks {
                                let mut txs = b.block.txs.clone().into_inner();
                                if let Some(tx) = txs.first_mut() {
                                    tx.payload.nonce += 1;
                                }
                                b.block.txs = cairn_types::BoundedVec::new(txs).ok()?;
                            }
                            Some(BlockChunk::new(blocks).ok()?.encode())
                        }
                        Lie::Honest | Lie::InflateHead => chunk(&store, range),
                    }
                }
                _ => None,
            }
        }

        fn report(&self, peer: ValidatorId, offence: Offence) {
            self.reports.lock().unwrap().push((peer, offence));
        }
    }

    /// A store holding a chain of `blocks` blocks (commits of one to three blocks).
    fn source_chain(blocks: u64) -> (tempfile::TempDir, Arc<Store>) {
        source_chain_of(blocks, 3)
    }

    /// A store holding a chain of `blocks` blocks of `txs` signed transactions each.
    fn source_chain_of(blocks: u64, txs: usize) -> (tempfile::TempDir, Arc<Store>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &ChainBuilder::chain_id()).unwrap();
        let mut builder = ChainBuilder::new(txs);
        let mut i = 0;
        while store.head().unwrap().height < blocks {
            store.commit(&builder.next_commit(1 + i % 3)).unwrap();
            i += 1;
        }
        (dir, Arc::new(store))
    }

    fn empty_store() -> (tempfile::TempDir, Arc<Store>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &ChainBuilder::chain_id()).unwrap();
        store.write_genesis_state(&[], &Hash::ZERO).unwrap();
        (dir, Arc::new(store))
    }

    /// Syncs an empty store from the peers `lies` describe (all serving the same
    /// chain of `blocks` blocks); returns it and the reports made.
    async fn sync_from(lies: &[Lie], blocks: u64) -> Synced {
        let (source_dir, source) = source_chain(blocks);
        sync_from_source(lies, blocks, source_dir, source).await
    }

    /// A synced store, its source and the reports made.
    type Synced = (
        Arc<Store>,
        Arc<Store>,
        Vec<(ValidatorId, Offence)>,
        Vec<tempfile::TempDir>,
    );

    async fn sync_from_source(
        lies: &[Lie],
        blocks: u64,
        source_dir: tempfile::TempDir,
        source: Arc<Store>,
    ) -> Synced {
        let mut dirs = vec![source_dir];
        let peers: HashMap<_, _> = lies
            .iter()
            .enumerate()
            .map(|(i, lie)| (ValidatorId(i as u16 + 1), (source.clone(), *lie)))
            .collect();
        let net = FakeNet {
            peers: Arc::new(peers),
            reports: Arc::new(Mutex::new(Vec::new())),
        };
        let (dir, target) = empty_store();
        dirs.push(dir);
        let applied = Arc::new(AtomicU64::new(0));
        let counter = applied.clone();
        let syncer = Syncer::with_source(
            target.clone(),
            ChainBuilder::chain_id(),
            Arc::new(ChainBuilder::validator_set()),
            net.clone(),
            (1..=lies.len()).map(|i| ValidatorId(i as u16)).collect(),
            Arc::new(move |_, head| counter.store(head.height, Ordering::Relaxed)),
        );
        let outcome = syncer.catch_up(0).await.unwrap();
        assert!(matches!(outcome, SyncOutcome::CaughtUp(_)), "{outcome:?}");
        let head = source.head().unwrap().height;
        assert!(head >= blocks);
        assert_eq!(
            applied.load(Ordering::Relaxed),
            head,
            "the hook saw the last write"
        );
        let reports = net.reports.lock().unwrap().clone();
        (source, target, reports, dirs)
    }

    use std::sync::atomic::{AtomicU64, Ordering};

    fn same_chain(a: &Store, b: &Store) {
        let head = a.head().unwrap();
        assert_eq!(b.head().unwrap(), head);
        for h in 1..=head.height {
            assert_eq!(
                a.block_id_at(h).unwrap(),
                b.block_id_at(h).unwrap(),
                "height {h}"
            );
        }
        // Every certificate the source stored is stored at the same height.
        for h in 1..=head.height {
            assert_eq!(
                a.commit_certificate(h).unwrap(),
                b.commit_certificate(h).unwrap(),
                "certificate at {h}"
            );
        }
    }

    /// `peer`, and no other, was reported, for `offence` among others.
    fn reported_alone(reports: &[(ValidatorId, Offence)], peer: ValidatorId, offence: Offence) {
        assert!(
            reports.contains(&(peer, offence)),
            "{peer:?} was not reported for {offence:?}: {reports:?}"
        );
        assert!(reports.iter().all(|(p, _)| *p == peer), "{reports:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn honest_peers_bring_an_empty_store_to_their_head() {
        let (source, target, reports, _dirs) =
            sync_from(&[Lie::Honest, Lie::Honest, Lie::Honest], 700).await;
        same_chain(&source, &target);
        assert!(reports.is_empty(), "{reports:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tampered_blocks_are_refused_and_their_server_reported() {
        let (source, target, reports, _dirs) =
            sync_from(&[Lie::Tamper, Lie::Honest, Lie::Honest], 600).await;
        same_chain(&source, &target);
        reported_alone(&reports, ValidatorId(1), Offence::Invalid);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn withheld_ranges_go_to_the_other_peers() {
        let (source, target, _reports, _dirs) =
            sync_from(&[Lie::Withhold, Lie::Honest, Lie::Withhold], 600).await;
        same_chain(&source, &target);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unprovable_head_is_reported_and_ignored() {
        let (source, target, reports, _dirs) =
            sync_from(&[Lie::InflateHead, Lie::Honest, Lie::Honest], 300).await;
        same_chain(&source, &target);
        reported_alone(&reports, ValidatorId(1), Offence::Invalid);
    }

    /// Waits out the answer timeout of the silent peer's first requests (5 s).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_silent_peer_is_routed_around() {
        let (source, target, _reports, _dirs) =
            sync_from(&[Lie::Silent, Lie::Honest, Lie::Honest], 600).await;
        same_chain(&source, &target);
    }

    /// The block-sync rate bound by this machine's CPU: three honest peers serve a
    /// chain from a real store through the in-memory network, so no round trip is
    /// timed; every justify QC and commit certificate is verified, every transaction
    /// signature checked (in batches) and every block executed and stored.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "benchmark: cargo test -p cairn-node --release --bin cairn sync_rate -- --ignored --nocapture"]
    async fn sync_rate() {
        let env = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let blocks = env("CAIRN_SYNC_BLOCKS", 100_000);
        let txs = env("CAIRN_SYNC_TXS_PER_BLOCK", 10) as usize;
        let built = std::time::Instant::now();
        let (dir, source) = source_chain_of(blocks, txs);
        let head = source.head().unwrap().height;
        eprintln!(
            "source: {head} blocks of {txs} transactions built in {:?}",
            built.elapsed()
        );
        let started = std::time::Instant::now();
        let (source, target, reports, _dirs) = sync_from_source(
            &[Lie::Honest, Lie::Honest, Lie::Honest],
            blocks,
            dir,
            source,
        )
        .await;
        let secs = started.elapsed().as_secs_f64();
        assert!(reports.is_empty());
        assert_eq!(target.head().unwrap(), source.head().unwrap());
        eprintln!(
            "synced {head} blocks, {} transactions in {secs:.1} s: {:.0} blocks/s, {:.0} tx/s",
            head * txs as u64,
            head as f64 / secs,
            (head * txs as u64) as f64 / secs
        );
    }
}
