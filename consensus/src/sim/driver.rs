//! The simulated driver: feeds events to a state machine and performs its actions in
//! order — persisting, sending through the network model, arming the one timer,
//! answering payload requests from the mempool, committing, fetching blocks and
//! recording evidence — checking the invariants as it goes.

use std::rc::Rc;

use cairn_types::{Block, QuorumCert, ValidatorId, Wire, limits};
use parity_scale_codec::Encode;

use super::byzantine::Out;
use super::craft::Ctx;
use super::fetch::FETCH_RETRY_MS;
use super::node::Role;
use super::violation::Violation;
use super::world::{Ev, World};
use crate::{Action, BlockInfo, Event, Message};

impl World {
    /// Hands `event` to instance `i`'s state machine and performs what it asks.
    pub(crate) fn feed(&mut self, i: usize, event: Event) {
        let node = &mut self.nodes[i];
        let Some(core) = node.core.as_mut() else {
            return;
        };
        let actions = core.handle(event);
        let outs = match &mut node.role {
            Role::Byzantine(b) => {
                let ctx = Ctx::of(
                    &self.chain,
                    &self.validators,
                    &self.config,
                    node.id,
                    &node.key,
                    core,
                );
                b.transform(&ctx, actions)
            }
            _ => actions.into_iter().map(Out::Act).collect(),
        };
        self.perform(i, outs);
        self.note_batch_round(i);
    }

    /// A message arrives at instance `to`.
    pub(crate) fn deliver(&mut self, to: usize, inc: u32, from: ValidatorId, message: Rc<Message>) {
        if !self.nodes[to].accepts(inc) {
            self.stats.lost_to_crash += 1;
            return;
        }
        self.mix(((to as u64) << 32) ^ message.round() ^ u64::from(from.0) << 48);
        self.log(|| format!("#{to} <- {from} {} r{}", message.kind(), message.round()));
        if let Message::Proposal(p) = &*message {
            let id = p.block.id();
            self.nodes[to].known.insert(id);
            self.blocks.entry(id).or_insert_with(|| p.block.clone());
        }
        let node = &mut self.nodes[to];
        if let (Role::Byzantine(b), Some(core)) = (&mut node.role, &node.core) {
            let ctx = Ctx::of(
                &self.chain,
                &self.validators,
                &self.config,
                node.id,
                &node.key,
                core,
            );
            let outs = b.observe(&ctx, &message);
            self.perform(to, outs);
        }
        let message = Rc::try_unwrap(message).unwrap_or_else(|shared| (*shared).clone());
        self.feed(to, Event::Message { from, message });
    }

    /// Bytes arrive at instance `to`: decoded like the node's network layer does it
    /// (strictly, within [`Message`]'s size limit), else dropped and counted.
    pub(crate) fn deliver_bytes(&mut self, to: usize, inc: u32, from: ValidatorId, bytes: &[u8]) {
        if !self.nodes[to].accepts(inc) {
            self.stats.lost_to_crash += 1;
            return;
        }
        match Message::from_wire(bytes) {
            Ok(message) => self.deliver(to, inc, from, Rc::new(message)),
            Err(e) => {
                self.stats.undecodable += 1;
                self.log(|| format!("#{to} <- {from} {} bytes, undecodable: {e}", bytes.len()));
            }
        }
    }

    /// Sends `bytes` to every instance of validator `to`, through the network.
    fn send_bytes(&mut self, i: usize, to: ValidatorId, bytes: Rc<Vec<u8>>) {
        let Some(targets) = self.by_id.get(usize::from(to.0)).cloned() else {
            return;
        };
        let from = self.nodes[i].id;
        for j in targets {
            self.nodes[i].counters.sent += 1;
            let inc = self.nodes[j].incarnation;
            for delay in self.net.route(i, j, self.now) {
                let at = self.now + delay;
                let bytes = bytes.clone();
                self.queue.push(
                    at,
                    Ev::DeliverBytes {
                        to: j,
                        inc,
                        from,
                        bytes,
                    },
                );
            }
        }
    }

    /// Performs instance `i`'s actions, in order.
    fn perform(&mut self, i: usize, outs: Vec<Out>) {
        let now = self.now;
        let me = self.nodes[i].id;
        let honest = self.nodes[i].is_honest();
        for out in outs {
            let action = match out {
                Out::Act(action) => action,
                Out::Later {
                    to,
                    message,
                    after_ms,
                } => {
                    self.queue.push(
                        now + after_ms,
                        Ev::SendLater {
                            from: i,
                            to,
                            message,
                        },
                    );
                    continue;
                }
                Out::Bytes { to, bytes } => {
                    self.send_bytes(i, to, bytes);
                    continue;
                }
            };
            match action {
                Action::PersistBlock(block) => {
                    let id = block.id();
                    self.nodes[i].persisted_blocks.insert(id);
                    self.nodes[i].known.insert(id);
                    self.blocks.entry(id).or_insert(block);
                }
                Action::PersistSafety(safety) => {
                    self.log(|| {
                        let timeout = safety.last_timeout.as_ref().map(|t| t.round);
                        let hvr = safety.highest_voted_round;
                        format!(
                            "#{i} persist voted r{hvr} high QC r{} timeout {timeout:?}",
                            safety.high_qc.round()
                        )
                    });
                    if honest {
                        self.checker
                            .on_persist(me, &self.nodes[i].safety, &safety, now);
                    }
                    self.nodes[i].safety = safety;
                }
                Action::Send { to, message } => {
                    let signed = self.sent(i, honest, &message);
                    self.send_to(i, to, Rc::new(message));
                    if signed && self.crash_if_armed(i) {
                        return;
                    }
                }
                Action::Broadcast { message } => {
                    let signed = self.sent(i, honest, &message);
                    let batched = match &message {
                        Message::Proposal(p) => self.batched_form(i, p),
                        _ => None,
                    };
                    if let Some(batched) = batched {
                        self.broadcast_batched(i, batched);
                        if signed && self.crash_if_armed(i) {
                            return;
                        }
                        continue;
                    }
                    let message = Rc::new(message);
                    let targets: Vec<usize> = (0..self.nodes.len())
                        .filter(|&j| self.nodes[j].id != me)
                        .collect();
                    for to in targets {
                        self.send_instance(i, to, message.clone());
                    }
                    if signed && self.crash_if_armed(i) {
                        return;
                    }
                }
                Action::ScheduleTimeout { round, after_ms } => {
                    let node = &mut self.nodes[i];
                    node.timer_token += 1;
                    let (inc, token) = (node.incarnation, node.timer_token);
                    self.queue.push(
                        now + after_ms,
                        Ev::Timer {
                            to: i,
                            inc,
                            round,
                            token,
                        },
                    );
                }
                Action::RequestPayload {
                    round,
                    parent,
                    wait,
                } => self.request_payload(i, round, parent, wait),
                Action::Commit {
                    blocks,
                    certificate,
                } => self.commit(i, blocks, &certificate),
                Action::FetchBlock { id, from } => {
                    if self.nodes[i].knows(&id) {
                        // Its own store has it (persisted, or kept across a restart).
                        if let Some(block) = self.blocks.get(&id).cloned() {
                            let inc = self.nodes[i].incarnation;
                            self.queue.push(
                                now,
                                Ev::Fetched {
                                    to: i,
                                    inc,
                                    id,
                                    block,
                                },
                            );
                            continue;
                        }
                    }
                    let node = &mut self.nodes[i];
                    if let std::collections::btree_map::Entry::Vacant(entry) =
                        node.fetching.entry(id)
                    {
                        entry.insert(0);
                        let inc = node.incarnation;
                        self.queue
                            .push(now + FETCH_RETRY_MS, Ev::FetchRetry { to: i, inc, id });
                    }
                    self.ask_for_block(i, from, id);
                }
                Action::Recovery(step) => {
                    self.log(|| format!("#{i} RECOVERY {step:?}"));
                    if let crate::Recovery::Finished { .. } = step {
                        self.nodes[i].counters.recoveries += 1;
                        // Progress now also waits for this instance to sign again.
                        self.progress_changed = true;
                    }
                }
                Action::Evidence(evidence) => {
                    self.nodes[i].counters.evidence += 1;
                    let culprit = evidence.culprit();
                    self.log(|| {
                        format!("#{i} evidence against {culprit} round {}", evidence.round())
                    });
                    if honest {
                        let culprit_honest = self
                            .by_id
                            .get(usize::from(culprit.0))
                            .is_some_and(|ids| ids.iter().all(|&j| self.nodes[j].is_honest()));
                        self.checker.on_evidence(i, &evidence, culprit_honest, now);
                    }
                }
            }
        }
    }

    /// Instance `i` crashes now if a crash waits for its next signature; true if so.
    fn crash_if_armed(&mut self, i: usize) -> bool {
        if !std::mem::take(&mut self.nodes[i].crash_armed) {
            return false;
        }
        self.crash(i);
        true
    }

    /// Bookkeeping for a message leaving instance `i`. Returns whether it is a vote
    /// or timeout signed by the instance itself.
    fn sent(&mut self, i: usize, honest: bool, message: &Message) -> bool {
        self.log(|| format!("#{i} -> {} r{}", message.kind(), message.round()));
        if honest {
            let me = self.nodes[i].id;
            self.checker.on_sent(me, message, self.now);
            if let Message::Vote(v) = message
                && v.voter == me
                && let Some(problem) = self.block_problem(&v.data.block_id)
            {
                self.checker
                    .violations
                    .push(Violation::VotedForInvalidBlock {
                        validator: me,
                        round: v.data.round,
                        problem,
                        at_ms: self.now,
                    });
            }
        }
        if let Message::Proposal(p) = message {
            let id = p.block.id();
            self.nodes[i].known.insert(id);
            self.blocks.entry(id).or_insert_with(|| p.block.clone());
        }
        let me = self.nodes[i].id;
        match message {
            Message::Vote(v) => v.voter == me,
            Message::Timeout(t) => t.signer == me,
            _ => false,
        }
    }

    /// What is wrong with block `id` for a vote: unknown, malformed, beyond the limits,
    /// or earlier than its parent. `None` if it is a block an honest validator may vote
    /// for.
    fn block_problem(&self, id: &cairn_crypto::Hash) -> Option<String> {
        let Some(block) = self.blocks.get(id) else {
            return Some("no such block was ever proposed".into());
        };
        if let Err(e) = block.check_well_formed(&self.chain) {
            return Some(e.to_string());
        }
        let max_txs = self.config.max_block_txs.min(limits::MAX_BLOCK_TXS);
        if block.txs.len() > max_txs {
            return Some(format!(
                "{} transactions, the limit is {max_txs}",
                block.txs.len()
            ));
        }
        let bytes = block.encoded_size();
        if bytes > self.config.max_block_bytes {
            return Some(format!(
                "{bytes} bytes, the limit is {}",
                self.config.max_block_bytes
            ));
        }
        let parent = block.header.parent;
        match self.blocks.get(&parent) {
            Some(p) if p.header.timestamp_ms > block.header.timestamp_ms => Some(format!(
                "timestamp {} before its parent's {}",
                block.header.timestamp_ms, p.header.timestamp_ms
            )),
            _ => None,
        }
    }

    /// Sends to every instance of validator `to`.
    pub(crate) fn send_to(&mut self, i: usize, to: ValidatorId, message: Rc<Message>) {
        if let Message::Proposal(p) = &*message {
            self.blocks
                .entry(p.block.id())
                .or_insert_with(|| p.block.clone());
        }
        let Some(targets) = self.by_id.get(usize::from(to.0)).cloned() else {
            return;
        };
        for j in targets {
            self.send_instance(i, j, message.clone());
        }
    }

    /// Sends to one instance: directly if it is the sender, else through the network.
    fn send_instance(&mut self, i: usize, j: usize, message: Rc<Message>) {
        self.nodes[i].counters.sent += 1;
        let from = self.nodes[i].id;
        let inc = self.nodes[j].incarnation;
        if i == j {
            let at = self.now;
            self.queue.push(
                at,
                Ev::Deliver {
                    to: j,
                    inc,
                    from,
                    message,
                },
            );
            return;
        }
        for delay in self.net.route(i, j, self.now) {
            let at = self.now + delay;
            self.queue.push(
                at,
                Ev::Deliver {
                    to: j,
                    inc,
                    from,
                    message: message.clone(),
                },
            );
        }
    }

    /// Instance `i` commits `blocks`: checked (if honest), then made durable.
    fn commit(&mut self, i: usize, blocks: Vec<Block>, certificate: &QuorumCert) {
        let now = self.now;
        if self.nodes[i].is_honest() {
            let quorum = self.validators.quorum();
            self.checker.on_commit(
                i,
                &self.nodes[i].committed,
                &blocks,
                certificate,
                quorum,
                now,
            );
            if self.scenario.odd_signatures.is_some() {
                for block in &blocks {
                    let verdicts = super::signatures::verdicts(block, i);
                    for (tx, valid) in block.txs.iter().zip(verdicts.as_deref().unwrap_or(&[])) {
                        if super::signatures::is_odd(tx) {
                            self.stats.odd_txs_committed += 1;
                            self.stats.odd_txs_valid += u64::from(*valid);
                        }
                    }
                    self.checker
                        .on_verdicts(i, block.header.height, verdicts, now);
                }
            }
        }
        self.batches_committed(i, &blocks);
        let Some(last) = blocks.last() else {
            return;
        };
        let head = BlockInfo::of(last);
        self.log(|| {
            format!(
                "#{i} COMMIT {} blocks up to height {} ({})",
                blocks.len(),
                head.height,
                &head.id.to_string()[..8]
            )
        });
        self.mix(u64::from_le_bytes(head.id.0[..8].try_into().unwrap_or_default()) ^ i as u64);
        let fresh = last.header.timestamp_ms >= self.stats.stable_ms;
        let node = &mut self.nodes[i];
        if fresh && node.is_honest() && !node.fresh {
            node.fresh = true;
            self.progress_changed = true;
        }
        node.committed = head;
        node.counters.commit_times.push(now);
        for block in blocks {
            let id = block.id();
            node.counters.txs_committed += block.txs.len() as u64;
            node.committed_ids.insert(id);
            node.history.push_back(crate::LeaderRecord::of(&block));
            if node.history.len() > crate::history_needed(self.validators.len()) {
                node.history.pop_front();
            }
            self.blocks.entry(id).or_insert(block);
        }
    }
}
