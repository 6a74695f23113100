//! Checking consensus messages before they reach the core, off the driver's task:
//! decoded with strict bounds, proposals held to the chain's limits, then signatures
//! and certificates verified — all on the blocking pool. Only messages that pass are
//! handed to the driver; undecodable or invalid ones count against their sender (the
//! network's strikes and bans).
//!
//! Each peer has its own budget — messages and bytes in verification or waiting for
//! the driver — so a flooding peer has its own excess dropped (counted) without
//! slowing the driver or crowding out the other validators. Messages already verified
//! byte for byte (a replay) skip the signature work: a bounded cache of their digests
//! is consulted first.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use cairn_consensus::Message;
use cairn_crypto::Hash;
use cairn_network::{NetworkHandle, Offence};
use cairn_types::{ChainId, ValidatorId, ValidatorSet, Wire};
use parity_scale_codec::Encode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::run::shared::Shared;

/// Messages in verification or waiting for the driver, per peer; more are dropped.
const MESSAGES_PER_PEER: usize = 32;
/// Bytes in verification or waiting for the driver, per peer (raised to twice the
/// largest message if that is more); more are dropped.
pub const VERIFY_BYTES_PER_PEER: usize = 16 * 1024 * 1024;
/// Digests of verified messages remembered, per generation (two generations are
/// kept: about 2 × 32 Ki × 48 bytes ≈ 3 MiB).
pub const VERIFIED_CACHE_ENTRIES: usize = 32 * 1024;
/// Byte budgets are counted in units of this many bytes (semaphore permits).
const BUDGET_UNIT: usize = 1024;

/// A consensus message whose signatures checked out, holding its sender's budget
/// until the driver is done with it.
pub struct Verified {
    /// The validator it came from.
    pub from: ValidatorId,
    /// The message.
    pub message: Message,
    _budget: (OwnedSemaphorePermit, OwnedSemaphorePermit),
}

/// The chain's block limits (genesis parameters).
#[derive(Clone, Copy)]
pub struct BlockLimits {
    /// Most transactions in a block.
    pub max_txs: usize,
    /// Largest encoded block.
    pub max_bytes: usize,
    /// Largest encoded transaction.
    pub max_tx_bytes: usize,
}

/// One peer's budget: messages and byte units.
struct PeerBudget {
    messages: Arc<Semaphore>,
    units: Arc<Semaphore>,
    max_units: u32,
}

/// Digests of messages verified lately, in two generations: when the current one is
/// full it becomes the previous one, and the oldest are forgotten. Bounded, O(1).
#[derive(Default)]
pub struct VerifiedCache {
    current: HashSet<Hash>,
    previous: HashSet<Hash>,
}

impl VerifiedCache {
    /// Whether `digest` was verified lately.
    pub fn contains(&self, digest: &Hash) -> bool {
        self.current.contains(digest) || self.previous.contains(digest)
    }

    /// Remembers `digest` as verified.
    pub fn insert(&mut self, digest: Hash) {
        if self.current.len() >= VERIFIED_CACHE_ENTRIES {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(digest);
    }

    /// Digests remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}

/// Verifies messages on the blocking pool and delivers the good ones in `verified`.
pub struct MessageVerifier {
    chain: ChainId,
    validators: Arc<ValidatorSet>,
    limits: BlockLimits,
    budgets: Vec<PeerBudget>,
    cache: Arc<Mutex<VerifiedCache>>,
    verified: mpsc::UnboundedSender<Verified>,
    shared: Arc<Shared>,
    net: NetworkHandle,
}

impl MessageVerifier {
    /// A verifier for the genesis chain and validator set; returns the receiving end
    /// (unbounded in count, bounded in bytes by the per-peer budgets its items hold).
    pub fn new(
        shared: Arc<Shared>,
        net: NetworkHandle,
        limits: BlockLimits,
        max_message_bytes: usize,
    ) -> (MessageVerifier, mpsc::UnboundedReceiver<Verified>) {
        let n = shared.genesis.n();
        let (verified, rx) = mpsc::unbounded_channel();
        let bytes = VERIFY_BYTES_PER_PEER.max(max_message_bytes.saturating_mul(2));
        let max_units = u32::try_from(bytes.div_ceil(BUDGET_UNIT)).unwrap_or(u32::MAX);
        let verifier = MessageVerifier {
            chain: shared.genesis.chain_id(),
            validators: Arc::new(shared.genesis.validators().clone()),
            limits,
            budgets: (0..n)
                .map(|_| PeerBudget {
                    messages: Arc::new(Semaphore::new(MESSAGES_PER_PEER)),
                    units: Arc::new(Semaphore::new(max_units as usize)),
                    max_units,
                })
                .collect(),
            cache: Arc::new(Mutex::new(VerifiedCache::default())),
            verified,
            shared,
            net,
        };
        (verifier, rx)
    }

    /// Starts decoding and verifying the consensus message `payload` from `from`, or
    /// drops it if that peer's budget is used up. Never waits.
    pub fn submit(&self, from: ValidatorId, payload: Vec<u8>) {
        let Some(budget) = self.take_budget(from, payload.len()) else {
            self.shared.metrics.dropped_messages.inc();
            tracing::debug!(
                from = from.0,
                bytes = payload.len(),
                "peer's verification budget is used up; dropped a message"
            );
            return;
        };
        let job = Job {
            chain: self.chain,
            validators: self.validators.clone(),
            limits: self.limits,
            cache: self.cache.clone(),
        };
        let (verified, shared, net) =
            (self.verified.clone(), self.shared.clone(), self.net.clone());
        tokio::spawn(async move {
            match tokio::task::spawn_blocking(move || job.run(&payload)).await {
                Ok(Ok((message, replay))) => {
                    if replay {
                        shared.metrics.replays_skipped.inc();
                    }
                    let _ = verified.send(Verified {
                        from,
                        message,
                        _budget: budget,
                    });
                }
                Ok(Err(rejected)) => rejected.report(from, &shared, &net),
                Err(e) => tracing::error!(error = %e, "message verification task failed"),
            }
        });
    }

    fn take_budget(
        &self,
        from: ValidatorId,
        len: usize,
    ) -> Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)> {
        let budget = self.budgets.get(usize::from(from.0))?;
        let units = u32::try_from(len.div_ceil(BUDGET_UNIT).max(1))
            .unwrap_or(u32::MAX)
            .min(budget.max_units);
        let message = budget.messages.clone().try_acquire_owned().ok()?;
        let bytes = budget.units.clone().try_acquire_many_owned(units).ok()?;
        Some((message, bytes))
    }
}

/// Why a message was refused.
enum Rejected {
    Undecodable(String),
    Invalid {
        kind: &'static str,
        round: u64,
        error: String,
    },
}

impl Rejected {
    /// Counts the refusal and reports it against the sender.
    fn report(self, from: ValidatorId, shared: &Shared, net: &NetworkHandle) {
        match self {
            Rejected::Undecodable(error) => {
                shared.metrics.bad_messages.inc();
                tracing::debug!(from = from.0, %error, "undecodable consensus message");
                net.report(from, Offence::Undecodable);
            }
            Rejected::Invalid { kind, round, error } => {
                shared.metrics.bad_signatures.inc();
                tracing::warn!(from = from.0, kind, round, %error,
                    "dropped a consensus message that failed verification");
                net.report(from, Offence::Invalid);
            }
        }
    }
}

/// What one verification needs, moved to the blocking pool.
struct Job {
    chain: ChainId,
    validators: Arc<ValidatorSet>,
    limits: BlockLimits,
    cache: Arc<Mutex<VerifiedCache>>,
}

impl Job {
    /// Decodes and checks `payload`; true with the message if it was a replay of one
    /// verified before (no signature was checked again).
    fn run(self, payload: &[u8]) -> Result<(Message, bool), Rejected> {
        let message =
            Message::from_wire(payload).map_err(|e| Rejected::Undecodable(e.to_string()))?;
        let digest = Hash::digest(payload);
        if self.cached(&digest) {
            return Ok((message, true));
        }
        check(&message, &self.chain, &self.validators, self.limits).map_err(|error| {
            Rejected::Invalid {
                kind: message.kind(),
                round: message.round(),
                error,
            }
        })?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(digest);
        }
        Ok((message, false))
    }

    fn cached(&self, digest: &Hash) -> bool {
        self.cache.lock().is_ok_and(|cache| cache.contains(digest))
    }
}

/// The limit, signature and certificate checks of one message (docs/PROTOCOL.md §7).
pub fn check(
    message: &Message,
    chain: &ChainId,
    validators: &ValidatorSet,
    limits: BlockLimits,
) -> Result<(), String> {
    let checked = match message {
        Message::Proposal(p) => {
            check_block_limits(&p.block, limits)?;
            p.verify(chain, validators)
        }
        Message::Vote(v) => v.verify(chain, validators),
        Message::Timeout(t) => t.verify(chain, validators),
        Message::QuorumCert(qc) => qc.verify(chain, validators),
        Message::TimeoutCert(tc) => tc.verify(chain, validators),
    };
    checked.map_err(|e| e.to_string())
}

/// The chain's limits on a block: transactions, bytes, and each transaction's bytes.
fn check_block_limits(block: &cairn_types::Block, limits: BlockLimits) -> Result<(), String> {
    let txs = block.txs.len();
    if txs > limits.max_txs {
        return Err(format!(
            "block has {txs} transactions; the chain allows {}",
            limits.max_txs
        ));
    }
    if let Some((index, size)) = block
        .txs
        .iter()
        .map(Encode::encoded_size)
        .enumerate()
        .find(|(_, size)| *size > limits.max_tx_bytes)
    {
        return Err(format!(
            "transaction {index} is {size} bytes; the chain allows {}",
            limits.max_tx_bytes
        ));
    }
    let bytes = block.to_wire().len();
    if bytes > limits.max_bytes {
        return Err(format!(
            "block is {bytes} bytes; the chain allows {}",
            limits.max_bytes
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use cairn_crypto::SecretKey;
    use cairn_types::{
        Block, BlockHeader, BoundedBytes, BoundedVec, Op, QuorumCert, Transaction, TxPayload,
    };

    /// A block of `txs` puts whose values are `value_bytes` long.
    pub fn block_of(txs: usize, value_bytes: usize, height: u64) -> Block {
        let chain = ChainId(Hash::digest(b"test chain"));
        let key = SecretKey::from_seed(&[7; 32]);
        let txs: Vec<Transaction> = (0..txs)
            .map(|i| {
                let payload = TxPayload {
                    chain_id: chain,
                    sender: key.public(),
                    nonce: i as u64,
                    op: Op::Put {
                        key: BoundedBytes::new(b"k".to_vec()).unwrap(),
                        value: BoundedBytes::new(vec![1; value_bytes]).unwrap(),
                    },
                };
                Transaction::sign(payload, &key)
            })
            .collect();
        let header = BlockHeader {
            chain_id: chain,
            height,
            round: height,
            parent: Hash::ZERO,
            payload_root: Block::payload_root_of(&txs),
            state_root: Hash::ZERO,
            proposer: ValidatorId(0),
            timestamp_ms: 0,
            justify: QuorumCert::genesis(&chain),
        };
        Block {
            header,
            txs: BoundedVec::new(txs).unwrap(),
        }
    }

    fn limits(max_tx_bytes: usize) -> BlockLimits {
        BlockLimits {
            max_txs: 100,
            max_bytes: 1 << 20,
            max_tx_bytes,
        }
    }

    #[test]
    fn a_block_with_a_transaction_over_max_tx_bytes_is_refused() {
        let block = block_of(3, 300, 1);
        let size = block
            .txs
            .iter()
            .map(Encode::encoded_size)
            .max()
            .unwrap_or(0);
        assert!(check_block_limits(&block, limits(size)).is_ok());
        let refused = check_block_limits(&block, limits(size - 1));
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("transaction 0")),
            "{refused:?}"
        );
    }

    #[test]
    fn block_count_and_size_limits_still_hold() {
        let block = block_of(3, 10, 1);
        let few = BlockLimits {
            max_txs: 2,
            ..limits(1 << 20)
        };
        assert!(check_block_limits(&block, few).is_err());
        let small = BlockLimits {
            max_bytes: 100,
            ..limits(1 << 20)
        };
        assert!(check_block_limits(&block, small).is_err());
    }

    #[test]
    fn verified_cache_is_bounded_and_keeps_the_newest() {
        let mut cache = VerifiedCache::default();
        let digest = |i: u32| Hash::digest(&i.to_le_bytes());
        let total = u32::try_from(VERIFIED_CACHE_ENTRIES * 3).unwrap_or(u32::MAX);
        for i in 0..total {
            cache.insert(digest(i));
        }
        assert!(cache.len() <= 2 * VERIFIED_CACHE_ENTRIES);
        assert!(cache.contains(&digest(total - 1)));
        assert!(!cache.contains(&digest(0)));
    }
}
