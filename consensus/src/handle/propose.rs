//! Leading a round: ask for a payload, then build, sign and broadcast the block.

use cairn_crypto::Hash;
use cairn_types::{Block, BlockHeader, BoundedVec, Height, Proposal, Round, Transaction};
use parity_scale_codec::Encode;

use crate::{Action, Consensus, Message};

/// Encoded size of a block header apart from its QC: chain id, height, round, parent,
/// payload root, state height, state root, proposer, timestamp.
const HEADER_BYTES_BESIDES_QC: usize = 32 + 8 + 8 + 32 + 32 + 8 + 32 + 2 + 8;

impl Consensus {
    /// Asks the driver for transactions if this validator leads the current round,
    /// has not proposed in it, and holds a certificate that justifies proposing.
    /// Asks for a payload if this validator leads the current round (as far as it
    /// can tell yet: the leader rule may need the block its high QC certifies).
    pub(crate) fn ask_for_payload_if_leading(&mut self) {
        if self.current_leader() == Some(self.me) {
            self.ask_for_payload();
        }
    }

    pub(crate) fn ask_for_payload(&mut self) {
        let round = self.round;
        if self.payload_asked == Some(round)
            || self.safety.check_propose(round).is_err()
            || !self.can_justify(round)
        {
            return;
        }
        self.payload_asked = Some(round);
        let wait = !self.needs_progress();
        self.emit(Action::RequestPayload {
            round,
            parent: self.safety.high_qc.block_id(),
            wait,
        });
    }

    /// A block in `round` needs the high QC to be from the previous round, or a TC
    /// for the previous round.
    fn can_justify(&self, round: Round) -> bool {
        self.safety.high_qc.round().checked_add(1) == Some(round)
            || self
                .last_round_tc
                .as_ref()
                .is_some_and(|tc| tc.round.checked_add(1) == Some(round))
    }

    /// The driver's payload: propose it, if this validator still leads the round.
    pub(crate) fn on_payload(
        &mut self,
        round: Round,
        mut txs: Vec<Transaction>,
        executed: (Height, Hash),
        now_ms: u64,
    ) {
        if round != self.round
            || self.payload_asked != Some(round)
            || self.current_leader() != Some(self.me)
            || self.safety.check_propose(round).is_err()
            || !self.can_justify(round)
        {
            return;
        }
        txs.truncate(
            self.config
                .max_block_txs
                .min(cairn_types::limits::MAX_BLOCK_TXS),
        );
        let justify = self.safety.high_qc.clone();
        // Within the byte limit too: the header (with its QC), a length prefix of at
        // most 5 bytes, then as many transactions as fit.
        let max_bytes = self
            .config
            .max_block_bytes
            .min(cairn_types::limits::MAX_BLOCK_BYTES);
        let mut used = justify.encoded_size() + HEADER_BYTES_BESIDES_QC + 5;
        let fit = txs
            .iter()
            .take_while(|tx| {
                used = used.saturating_add(tx.encoded_size());
                used <= max_bytes
            })
            .count();
        txs.truncate(fit);
        let timeout_cert = if justify.round().checked_add(1) == Some(round) {
            None
        } else {
            self.last_round_tc.clone()
        };
        let parent = self.tree.info(&justify.block_id());
        let parent_time = parent.map_or(0, |p| p.timestamp_ms);
        // The state claim never goes down along a chain: a proposer whose execution
        // lags repeats its parent's claim (voters check it against their own).
        let (state_height, state_root) = match parent {
            Some(p) if p.state_height > executed.0 => (p.state_height, p.state_root),
            _ => executed,
        };
        let header = BlockHeader {
            chain_id: self.chain,
            height: justify.data.height.saturating_add(1),
            round,
            parent: justify.block_id(),
            payload_root: Block::payload_root_of(&txs),
            state_height,
            state_root,
            proposer: self.me,
            timestamp_ms: now_ms.max(parent_time),
            justify,
        };
        let Ok(txs) = BoundedVec::new(txs) else {
            return;
        };
        let proposal = Proposal::sign(Block { header, txs }, timeout_cert, &self.key);
        self.safety.highest_proposed_round = round;
        self.emit(Action::PersistSafety(self.safety.clone()));
        self.emit(Action::Broadcast {
            message: Message::Proposal(proposal.clone()),
        });
        let me = self.me;
        self.on_proposal(me, proposal);
    }
}
