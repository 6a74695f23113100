//! The pool: admission, removal on commit, status.

use std::collections::HashMap;

use cairn_crypto::{Hash, PublicKey};
use cairn_types::{AccountState, ChainId, Op, Transaction};
use parity_scale_codec::Encode;
use tracing::debug;

use crate::evicted::EvictedMemory;
use crate::sender::Senders;
use crate::{AdmitError, MempoolConfig, Result};

/// What [`Mempool::insert`] did with an acceptable transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admitted {
    /// It is now pending.
    New,
    /// The identical transaction was already pending; nothing changed.
    AlreadyKnown,
}

/// Where a transaction stands in this pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxStatus {
    /// Waiting to be proposed (or proposed in a block not yet committed).
    Pending,
    /// Dropped without being committed, for `reason`.
    Evicted {
        /// Why, e.g. "nonce 4 already used by a committed transaction".
        reason: String,
    },
    /// Not pending and not remembered as evicted: never seen, committed (ask storage),
    /// or evicted long ago.
    Unknown,
}

/// A pending transaction and its encoded size.
#[derive(Debug)]
pub(crate) struct PendingTx {
    pub(crate) tx: Transaction,
    pub(crate) size: usize,
}

/// The bounded pool of transactions waiting for a block. See the crate documentation.
#[derive(Debug)]
pub struct Mempool {
    pub(crate) config: MempoolConfig,
    chain: ChainId,
    pub(crate) txs: HashMap<Hash, PendingTx>,
    pub(crate) senders: Senders,
    bytes: usize,
    evicted: EvictedMemory,
}

impl Mempool {
    /// An empty pool for chain `chain`. Besides pending transactions it remembers the
    /// committed nonce of up to `config.capacity` idle senders and the reasons of up to
    /// `config.evicted_memory` evictions, so its memory is bounded.
    pub fn new(config: MempoolConfig, chain: ChainId) -> Mempool {
        Mempool {
            senders: Senders::new(config.capacity),
            evicted: EvictedMemory::new(config.evicted_memory),
            config,
            chain,
            txs: HashMap::new(),
            bytes: 0,
        }
    }

    /// Admits `tx`, whose signature was already verified and whose hash is `hash`
    /// (`tx.hash()`, as [`crate::BatchVerifier::verify`] returns it). `account` is the
    /// sender's **committed** state.
    ///
    /// Checks, in order: the identical transaction pending (→ `Ok(AlreadyKnown)`),
    /// size, chain id, known sender, role ≥ the operation's required role, nonce not
    /// below the sender's committed nonce (the highest learned from `account` and
    /// [`Mempool::on_commit`]), nonce less than `max_nonce_ahead` beyond it, no other
    /// pending transaction of the sender with that nonce, a transfer's amount within
    /// the committed balance (a cheap check only: execution decides), and room in the
    /// pool by count and by bytes.
    pub fn insert(
        &mut self,
        tx: Transaction,
        hash: Hash,
        account: Option<&AccountState>,
    ) -> Result<Admitted> {
        if self.txs.contains_key(&hash) {
            return Ok(Admitted::AlreadyKnown);
        }
        let size = tx.encoded_size();
        if size > self.config.max_tx_bytes {
            return Err(AdmitError::TooLarge {
                size,
                max: self.config.max_tx_bytes,
            });
        }
        let payload = &tx.payload;
        if payload.chain_id != self.chain {
            return Err(AdmitError::WrongChain);
        }
        let account = account.ok_or(AdmitError::UnknownSender)?;
        let needs = payload.op.required_role();
        if account.role.is_none_or(|has| has < needs) {
            return Err(AdmitError::NotPermitted {
                has: account.role,
                needs,
            });
        }
        self.learn_committed_nonce(&payload.sender, account.nonce);
        let committed = self
            .senders
            .get(&payload.sender)
            .map_or(account.nonce, |s| s.committed_nonce);
        self.check_nonce(&payload.sender, payload.nonce, committed)?;
        if let Op::Transfer { amount, .. } = payload.op
            && amount > account.balance
        {
            return Err(AdmitError::InsufficientBalance {
                balance: account.balance,
                amount,
            });
        }
        let fits = self
            .bytes
            .checked_add(size)
            .is_some_and(|total| total <= self.config.max_bytes);
        if self.txs.len() >= self.config.capacity || !fits {
            return Err(AdmitError::Busy {
                capacity: self.config.capacity,
            });
        }
        self.senders
            .add_pending(&payload.sender, committed, payload.nonce, hash);
        self.bytes += size;
        self.evicted.forget(&hash);
        self.txs.insert(hash, PendingTx { tx, size });
        Ok(Admitted::New)
    }

    /// After a commit: removes the `committed` transactions, raises each of `senders`'
    /// committed nonce to the given value (its new `AccountState::nonce`), and evicts
    /// pending transactions whose nonce is now below it; [`Mempool::status`] then
    /// reports them as evicted with the reason.
    pub fn on_commit(&mut self, committed: &[Hash], senders: &[(PublicKey, u64)]) {
        for hash in committed {
            self.remove(hash);
        }
        for (sender, nonce) in senders {
            self.learn_committed_nonce(sender, *nonce);
        }
    }

    /// Takes back pending transaction `hash` without remembering it as evicted (its
    /// admission could not be completed, e.g. the node could not record it); true if
    /// it was pending.
    pub fn withdraw(&mut self, hash: &Hash) -> bool {
        let was_pending = self.txs.contains_key(hash);
        self.remove(hash);
        was_pending
    }

    /// Where transaction `hash` stands in this pool.
    pub fn status(&self, hash: &Hash) -> TxStatus {
        if self.txs.contains_key(hash) {
            return TxStatus::Pending;
        }
        match self.evicted.reason(hash) {
            Some(reason) => TxStatus::Evicted {
                reason: reason.to_string(),
            },
            None => TxStatus::Unknown,
        }
    }

    /// True if `hash` is pending.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.txs.contains_key(hash)
    }

    /// The pending transaction `hash`.
    pub fn get(&self, hash: &Hash) -> Option<&Transaction> {
        self.txs.get(hash).map(|pending| &pending.tx)
    }

    /// The nonce `sender`'s next new transaction should carry: one past its
    /// consecutive pending nonces from its committed nonce; `None` if the pool knows
    /// nothing of the sender (ask storage for its committed nonce).
    pub fn next_nonce(&self, sender: &PublicKey) -> Option<u64> {
        let state = self.senders.get(sender)?;
        let mut next = state.committed_nonce;
        for nonce in state.pending.range(next..).map(|(n, _)| *n) {
            if nonce != next {
                break;
            }
            next = next.checked_add(1)?;
        }
        Some(next)
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// True if nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// Total encoded size of the pending transactions, in bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Most pending transactions.
    pub fn capacity(&self) -> usize {
        self.config.capacity
    }

    fn check_nonce(&self, sender: &PublicKey, nonce: u64, committed: u64) -> Result<()> {
        if nonce < committed {
            return Err(AdmitError::StaleNonce {
                expected: committed,
                got: nonce,
            });
        }
        let max_ahead = self.config.max_nonce_ahead;
        if nonce - committed >= max_ahead {
            return Err(AdmitError::NonceTooFar {
                expected: committed,
                got: nonce,
                max_ahead,
            });
        }
        if self
            .senders
            .get(sender)
            .is_some_and(|s| s.pending.contains_key(&nonce))
        {
            return Err(AdmitError::NonceInUse { nonce });
        }
        Ok(())
    }

    /// Raises `sender`'s committed nonce and evicts what that makes stale.
    fn learn_committed_nonce(&mut self, sender: &PublicKey, nonce: u64) {
        for (stale_nonce, hash) in self.senders.learn_committed(sender, nonce) {
            if let Some(pending) = self.txs.remove(&hash) {
                self.bytes = self.bytes.saturating_sub(pending.size);
            }
            let reason = format!("nonce {stale_nonce} already used by a committed transaction");
            debug!(%hash, %sender, %reason, "evicted transaction");
            self.evicted.remember(hash, reason);
        }
    }

    /// Removes pending transaction `hash`, if present, without remembering it.
    fn remove(&mut self, hash: &Hash) {
        if let Some(pending) = self.txs.remove(hash) {
            self.bytes = self.bytes.saturating_sub(pending.size);
            let payload = &pending.tx.payload;
            self.senders
                .remove_pending(&payload.sender, payload.nonce, hash);
        }
    }
}
