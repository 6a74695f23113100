//! Checking consensus messages before they reach the core: decoded with strict
//! bounds, proposals held to the chain's block limits, then signatures and
//! certificates verified on the blocking pool (in parallel, off the driver's task).
//! Only messages that pass are handed to the core, which checks them again itself —
//! it is pure and trusts no caller.
//!
//! Each peer has its own few verification slots: a peer flooding messages fills its
//! own slots and has the excess dropped (counted), without slowing the driver or
//! crowding out the other validators.

use std::sync::Arc;

use cairn_consensus::Message;
use cairn_types::{ChainId, ValidatorId, ValidatorSet, Wire};
use tokio::sync::{Semaphore, mpsc};

use crate::run::shared::Shared;

/// Verifications in flight per peer; more messages from that peer are dropped.
const SLOTS_PER_PEER: usize = 32;

/// A consensus message whose signatures checked out.
pub struct Verified {
    /// The validator it came from.
    pub from: ValidatorId,
    /// The message.
    pub message: Message,
}

/// The chain's block limits (genesis parameters).
#[derive(Clone, Copy)]
pub struct BlockLimits {
    /// Most transactions in a block.
    pub max_txs: usize,
    /// Largest encoded block.
    pub max_bytes: usize,
}

/// Verifies messages on the blocking pool and delivers the good ones in `verified`.
pub struct MessageVerifier {
    chain: ChainId,
    validators: Arc<ValidatorSet>,
    limits: BlockLimits,
    slots: Vec<Arc<Semaphore>>,
    verified: mpsc::Sender<Verified>,
    shared: Arc<Shared>,
}

impl MessageVerifier {
    /// A verifier for the genesis chain and validator set; returns the receiving end.
    pub fn new(
        shared: Arc<Shared>,
        limits: BlockLimits,
    ) -> (MessageVerifier, mpsc::Receiver<Verified>) {
        let n = shared.genesis.n();
        let (verified, rx) = mpsc::channel(SLOTS_PER_PEER * n.max(1));
        let verifier = MessageVerifier {
            chain: shared.genesis.chain_id(),
            validators: Arc::new(shared.genesis.validators().clone()),
            limits,
            slots: (0..n)
                .map(|_| Arc::new(Semaphore::new(SLOTS_PER_PEER)))
                .collect(),
            verified,
            shared,
        };
        (verifier, rx)
    }

    /// Starts verifying `message` from `from`, or drops it if that peer has too many
    /// messages in verification already. Never waits.
    pub fn submit(&self, from: ValidatorId, message: Message) {
        let slot = self
            .slots
            .get(usize::from(from.0))
            .and_then(|s| s.clone().try_acquire_owned().ok());
        let Some(slot) = slot else {
            self.shared.metrics.dropped_messages.inc();
            tracing::debug!(
                from = from.0,
                "peer has too many messages in verification; dropped one"
            );
            return;
        };
        let (chain, validators, limits) = (self.chain, self.validators.clone(), self.limits);
        let (verified, shared) = (self.verified.clone(), self.shared.clone());
        tokio::spawn(async move {
            let checked = tokio::task::spawn_blocking(move || {
                let result = check(&message, &chain, &validators, limits);
                (message, result)
            })
            .await;
            drop(slot);
            match checked {
                Ok((message, Ok(()))) => {
                    let _ = verified.send(Verified { from, message }).await;
                }
                Ok((message, Err(e))) => {
                    shared.metrics.bad_signatures.inc();
                    tracing::warn!(from = from.0, kind = message.kind(), round = message.round(), error = %e,
                        "dropped a consensus message that failed verification");
                }
                Err(e) => tracing::error!(error = %e, "message verification task failed"),
            }
        });
    }
}

/// The limit, signature and certificate checks of one message (docs/PROTOCOL.md §7).
fn check(
    message: &Message,
    chain: &ChainId,
    validators: &ValidatorSet,
    limits: BlockLimits,
) -> Result<(), String> {
    let checked = match message {
        Message::Proposal(p) => {
            let txs = p.block.txs.len();
            if txs > limits.max_txs {
                return Err(format!(
                    "block has {txs} transactions; the chain allows {}",
                    limits.max_txs
                ));
            }
            let bytes = p.block.to_wire().len();
            if bytes > limits.max_bytes {
                return Err(format!(
                    "block is {bytes} bytes; the chain allows {}",
                    limits.max_bytes
                ));
            }
            p.verify(chain, validators)
        }
        Message::Vote(v) => v.verify(chain, validators),
        Message::Timeout(t) => t.verify(chain, validators),
        Message::QuorumCert(qc) => qc.verify(chain, validators),
        Message::TimeoutCert(tc) => tc.verify(chain, validators),
    };
    checked.map_err(|e| e.to_string())
}
