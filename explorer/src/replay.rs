//! Re-executing the chain from the genesis state: the part of `verify` that checks
//! what the blocks *did*, where the chain audit checks what they *are*.
//!
//! Every client transaction's signature is checked here — batched, on every core, a
//! window of blocks at a time — and every block is executed in memory with
//! `cairn-execution`, the code the validators run. Then each header's state claim
//! (`state_height`, `state_root`; docs/PROTOCOL.md §6) is compared with the state
//! hash re-execution computed for that height, and the caller compares the outcomes
//! and state hash its source recorded with the ones computed here. A validator set
//! that certified a block vouching for a wrong state, or a node serving receipts that
//! execution does not give, is caught and named with its height.

use std::collections::{BTreeMap, HashSet};
use std::num::NonZeroUsize;
use std::time::Instant;

use cairn_crypto::Hash;
use cairn_execution::{BlockResult, MemoryState, execute_blocks_verified};
use cairn_storage::audit::AuditFault;
use cairn_storage::{ChainFault, StateChange};
use cairn_types::{Block, ChainId, Height, Transaction};
use serde::Serialize;

use crate::{ExplorerError, Result};

/// Transactions gathered before their signatures are checked together.
pub const WINDOW_TXS: usize = 16 * 1024;
/// Signatures per batch check (one batch per core at a time).
const BATCH: usize = 512;

/// The genesis state a replay starts from: its changes and its state hash `S_0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisState {
    /// The genesis accounts, as state changes.
    pub changes: Vec<StateChange>,
    /// `S_0`.
    pub root: Hash,
}

/// What a replay covered, for the report.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReplayReport {
    /// Transactions executed again.
    pub transactions: u64,
    /// Client signatures checked.
    pub signatures_checked: u64,
    /// Of those, how many did not verify (their transactions must be, and were,
    /// recorded as rejected).
    pub bad_signatures: u64,
    /// Header state claims compared with re-execution (claims of genesis excluded).
    pub state_claims_checked: u64,
    /// The state hash after the last block.
    pub state_root: String,
    /// Wall-clock seconds from the replay's start to its last block (signature checks
    /// of later blocks overlap execution, so this is less than their sum).
    pub seconds: f64,
    /// Transactions per second re-executed (signature checks included).
    pub tx_per_s: f64,
}

/// The state of a replay: the chain executed so far, in memory.
pub struct Replay {
    chain: ChainId,
    state: MemoryState,
    height: Height,
    root: Hash,
    /// State hashes by height, from the lowest a later claim may still name (claims
    /// never go back along the chain).
    roots: BTreeMap<Height, Hash>,
    parent_claim: Height,
    report: ReplayReport,
    started: Instant,
}

impl Replay {
    /// A replay of `chain` from `genesis`.
    pub fn new(chain: ChainId, genesis: &GenesisState) -> Replay {
        Replay {
            chain,
            state: MemoryState::from_changes(&genesis.changes),
            height: 0,
            root: genesis.root,
            roots: BTreeMap::from([(0, genesis.root)]),
            parent_claim: 0,
            report: ReplayReport::default(),
            started: Instant::now(),
        }
    }

    /// Executes `blocks` (the next heights, in order): their signatures checked
    /// together, each header's claim compared, then each block executed. Returns each
    /// block's result, for the caller to compare with what its source recorded.
    pub fn run(&mut self, blocks: &[Block]) -> Result<Vec<BlockResult>> {
        let verdicts = Verdicts::check(blocks);
        self.execute(blocks, &verdicts)
    }

    /// [`Replay::run`] with the signatures already checked ([`Verdicts::check`] may run
    /// on another thread meanwhile, for the next blocks).
    pub fn execute(&mut self, blocks: &[Block], verdicts: &Verdicts) -> Result<Vec<BlockResult>> {
        self.report.signatures_checked += verdicts.checked;
        self.report.bad_signatures += verdicts.checked - verdicts.valid.len() as u64;
        let valid = &verdicts.valid;
        let mut results = Vec::with_capacity(blocks.len());
        for block in blocks {
            self.check_claim(block)?;
            let result = execute_blocks_verified(
                &self.state,
                &self.chain,
                std::slice::from_ref(block),
                &self.root,
                &|hash| valid.contains(hash),
            )
            .map_err(|e| {
                ExplorerError::Internal(format!(
                    "cannot re-execute block {}: {e}",
                    block.header.height
                ))
            })?
            .pop()
            .ok_or_else(|| ExplorerError::Internal("execution gave no result".into()))?;
            self.state.apply(&result.changes);
            self.height = block.header.height;
            self.root = result.state_root;
            self.roots.insert(self.height, self.root);
            self.report.transactions += block.txs.len() as u64;
            results.push(result);
        }
        self.report.seconds = self.started.elapsed().as_secs_f64();
        Ok(results)
    }

    /// The header's claim against the state computed for its height.
    fn check_claim(&mut self, block: &Block) -> Result<()> {
        let header = &block.header;
        let fault = |fault| ExplorerError::from(AuditFault::new(header.height, fault));
        if header.state_height < self.parent_claim {
            return Err(fault(ChainFault::StateClaimBackwards {
                state_height: header.state_height,
                parent: self.parent_claim,
            }));
        }
        self.parent_claim = header.state_height;
        // Heights below the claim can no longer be named by a later header.
        while self
            .roots
            .first_key_value()
            .is_some_and(|(h, _)| *h < header.state_height)
        {
            self.roots.pop_first();
        }
        if header.state_height == 0 && header.state_root == Hash::ZERO {
            // Vouches for nothing: a chain nobody had executed yet.
            return Ok(());
        }
        let computed = self.roots.get(&header.state_height).copied();
        match computed {
            Some(computed) if computed == header.state_root => {
                self.report.state_claims_checked += 1;
                Ok(())
            }
            Some(computed) => Err(fault(ChainFault::StateClaim {
                state_height: header.state_height,
                claimed: header.state_root,
                computed,
            })),
            // Well-formed headers claim a height below their own, which was executed.
            None => Err(fault(ChainFault::StateClaim {
                state_height: header.state_height,
                claimed: header.state_root,
                computed: Hash::ZERO,
            })),
        }
    }

    /// The report so far.
    pub fn report(&self) -> ReplayReport {
        let mut report = self.report.clone();
        report.state_root = format!("0x{}", self.root);
        if report.seconds > 0.0 {
            report.tx_per_s = report.transactions as f64 / report.seconds;
        }
        report
    }
}

/// The signature verdicts of some blocks' transactions.
pub struct Verdicts {
    /// Hashes of the transactions whose signatures verify.
    valid: HashSet<Hash>,
    /// Signatures checked.
    checked: u64,
}

impl Verdicts {
    /// Checks the signatures of every transaction of `blocks`, in batches on every
    /// core (`find_invalid`: the validators' one rule, so the verdicts are theirs).
    pub fn check(blocks: &[Block]) -> Verdicts {
        let txs: Vec<&Transaction> = blocks.iter().flat_map(|b| b.txs.iter()).collect();
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        let per_thread = txs.len().div_ceil(cores).max(BATCH);
        let valid = std::thread::scope(|scope| {
            let workers: Vec<_> = txs
                .chunks(per_thread)
                .map(|chunk| scope.spawn(move || valid_in(chunk)))
                .collect();
            // A worker that failed leaves its transactions unchecked here; execution
            // then checks them itself, under the same rule.
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_default())
                .collect()
        });
        Verdicts {
            valid,
            checked: txs.len() as u64,
        }
    }
}

fn valid_in(txs: &[&Transaction]) -> Vec<Hash> {
    let mut valid = Vec::with_capacity(txs.len());
    for batch in txs.chunks(BATCH) {
        let invalid = Transaction::invalid_signatures(batch);
        valid.extend(
            batch
                .iter()
                .enumerate()
                .filter(|(i, _)| invalid.binary_search(i).is_err())
                .map(|(_, tx)| tx.hash()),
        );
    }
    valid
}
