//! Checking consensus messages before they reach the core: decoded with strict
//! bounds, then their signatures and certificates verified on the blocking pool (in
//! parallel, off the driver's task). Only messages that pass are handed to the core,
//! which checks them again itself — it is pure and trusts no caller.

use std::sync::Arc;

use cairn_consensus::Message;
use cairn_types::{ChainId, ValidatorId, ValidatorSet};
use tokio::sync::{Semaphore, mpsc};

use crate::run::shared::Shared;

/// Most verifications running at once; further messages wait for a slot.
const MAX_IN_FLIGHT: usize = 64;

/// A consensus message whose signatures checked out.
pub struct Verified {
    /// The validator it came from.
    pub from: ValidatorId,
    /// The message.
    pub message: Message,
}

/// Verifies messages on the blocking pool and delivers the good ones in `verified`.
pub struct MessageVerifier {
    chain: ChainId,
    validators: Arc<ValidatorSet>,
    slots: Arc<Semaphore>,
    verified: mpsc::Sender<Verified>,
    shared: Arc<Shared>,
}

impl MessageVerifier {
    /// A verifier for the genesis chain and validator set; returns the receiving end.
    pub fn new(shared: Arc<Shared>) -> (MessageVerifier, mpsc::Receiver<Verified>) {
        let (verified, rx) = mpsc::channel(4 * MAX_IN_FLIGHT);
        let verifier = MessageVerifier {
            chain: shared.genesis.chain_id(),
            validators: Arc::new(shared.genesis.validators().clone()),
            slots: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            verified,
            shared,
        };
        (verifier, rx)
    }

    /// Starts verifying `message` from `from`; waits only while all slots are busy.
    pub async fn submit(&self, from: ValidatorId, message: Message) {
        let Ok(slot) = self.slots.clone().acquire_owned().await else {
            return;
        };
        let (chain, validators) = (self.chain, self.validators.clone());
        let (verified, shared) = (self.verified.clone(), self.shared.clone());
        tokio::spawn(async move {
            let checked = tokio::task::spawn_blocking(move || {
                let result = verify(&message, &chain, &validators);
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

/// The signature and certificate checks of one message (docs/PROTOCOL.md §7).
fn verify(
    message: &Message,
    chain: &ChainId,
    validators: &ValidatorSet,
) -> cairn_types::Result<()> {
    match message {
        Message::Proposal(p) => p.verify(chain, validators),
        Message::Vote(v) => v.verify(chain, validators),
        Message::Timeout(t) => t.verify(chain, validators),
        Message::QuorumCert(qc) => qc.verify(chain, validators),
        Message::TimeoutCert(tc) => tc.verify(chain, validators),
    }
}
