//! Using certificates: raise the high QC, commit by the 2-chain rule, advance rounds.

use cairn_types::{QuorumCert, TimeoutCert, ValidatorId};

use crate::{Action, Consensus};

impl Consensus {
    /// A verified QC: raises the high QC, commits what it proves, and enters the next
    /// round if it certifies the current one (or a later one).
    pub(crate) fn process_qc(&mut self, qc: QuorumCert, from: ValidatorId) {
        if qc.round() > self.safety.high_qc.round() {
            self.safety.high_qc = qc.clone();
            self.fetch_certified_if_missing(&qc, from);
        }
        let committed_txs = self.try_commit(&qc, from);
        if qc.round() >= self.round {
            self.last_round_tc = None;
            self.consecutive_timeouts = 0;
            self.announce_commit = committed_txs;
            self.enter_round(qc.round().saturating_add(1));
        }
    }

    /// The high QC's block is what the next leader extends and what the leader rule
    /// reads: a validator that learned the QC without the block (its votes came to
    /// it after a restart, or the QC came in a timeout or a status answer) fetches it,
    /// or it could not propose when its turn comes.
    fn fetch_certified_if_missing(&mut self, qc: &QuorumCert, from: ValidatorId) {
        // `from` sent the QC, so it likely holds the block; if that is this validator
        // (it collected the votes), `fetch` asks a signer of the QC instead.
        let data = &qc.data;
        if data.height > self.tree.root().height && !self.tree.contains(&data.block_id) {
            self.fetch(data.block_id, from);
        }
    }

    /// The 2-chain rule: a QC on a block whose parent is from the previous round
    /// commits that parent and every uncommitted ancestor. Returns whether the newly
    /// committed blocks carry transactions. If blocks are missing, fetches them and
    /// keeps the QC to retry.
    pub(crate) fn try_commit(&mut self, qc: &QuorumCert, from: ValidatorId) -> bool {
        let Some((block_id, round)) = qc.data.commits() else {
            return false;
        };
        if round <= self.tree.root().round {
            return false;
        }
        match self.tree.commit(&block_id) {
            Ok(blocks) if blocks.is_empty() => false,
            Ok(blocks) => {
                let had_txs = blocks.iter().any(|b| !b.txs.is_empty());
                for block in &blocks {
                    self.history.push(crate::LeaderRecord::of(block));
                }
                let root_round = self.tree.root().round;
                if self
                    .pending_commit
                    .as_ref()
                    .and_then(|p| p.data.commits())
                    .is_some_and(|(_, r)| r <= root_round)
                {
                    self.pending_commit = None;
                }
                self.emit(Action::Commit {
                    blocks,
                    certificate: qc.clone(),
                });
                had_txs
            }
            Err(missing) => {
                if self
                    .pending_commit
                    .as_ref()
                    .is_none_or(|p| p.round() < qc.round())
                {
                    self.pending_commit = Some(qc.clone());
                }
                // A block we hold that cannot reach the root lies on a branch that
                // conflicts with the committed chain: never fetch it again.
                if self.tree.get(&missing).is_none() {
                    self.fetch(missing, from);
                }
                false
            }
        }
    }

    /// A verified TC for the current round or a later one: learn the QC it carries
    /// (the highest its signers reported, which the next proposal must extend), keep
    /// it as the high TC (persisted with the next vote or timeout), and enter the round
    /// after it, with a longer timer.
    pub(crate) fn process_tc(&mut self, tc: TimeoutCert, from: ValidatorId) {
        if tc.round < self.round {
            return;
        }
        self.process_qc((*tc.high_qc).clone(), from);
        if tc.round < self.round {
            return;
        }
        let next = tc.round.saturating_add(1);
        if self
            .safety
            .high_tc
            .as_ref()
            .is_none_or(|high| high.round < tc.round)
        {
            self.safety.high_tc = Some(tc.clone());
        }
        self.last_round_tc = Some(tc);
        self.consecutive_timeouts = self.consecutive_timeouts.saturating_add(1);
        self.announce_commit = false;
        self.enter_round(next);
    }
}
