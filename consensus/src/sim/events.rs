//! The events of a run and how each is dispatched.

use std::rc::Rc;
use std::sync::Arc;

use cairn_crypto::Hash;
use cairn_types::{Batch, Block, Round, Transaction, ValidatorId};

use super::batching::BatchMessage;
use super::world::World;
use crate::{Event, Message};

/// Something that happens at a virtual time.
pub(crate) enum Ev {
    Start(usize),
    Crash(usize),
    /// From now on, the instance crashes right after it next sends a vote or timeout.
    ArmCrash(usize),
    /// The instance restarts; `true`: with its data directory wiped.
    Restart(usize, bool),
    Deliver {
        to: usize,
        inc: u32,
        from: ValidatorId,
        message: Rc<Message>,
    },
    /// Bytes arrive: the driver decodes them as a message, strictly and within the
    /// size limit (as the node's network layer does), or drops them.
    DeliverBytes {
        to: usize,
        inc: u32,
        from: ValidatorId,
        bytes: Rc<Vec<u8>>,
    },
    Timer {
        to: usize,
        inc: u32,
        round: Round,
        token: u64,
    },
    Payload {
        to: usize,
        inc: u32,
        round: Round,
        txs: Vec<Transaction>,
    },
    PayloadDeadline {
        to: usize,
        inc: u32,
        token: u64,
    },
    FetchAsk {
        to: usize,
        inc: u32,
        requester: usize,
        requester_inc: u32,
        id: Hash,
    },
    Fetched {
        to: usize,
        inc: u32,
        id: Hash,
        block: Block,
    },
    FetchRetry {
        to: usize,
        inc: u32,
        id: Hash,
    },
    /// A Byzantine instance sends `message` now (it decided to earlier).
    SendLater {
        from: usize,
        to: ValidatorId,
        message: Message,
    },
    Tx,
    /// A batch message arrives (batched scenarios).
    BatchDeliver {
        to: usize,
        inc: u32,
        from: ValidatorId,
        message: Rc<BatchMessage>,
    },
    /// Instance `to`'s batch machine looks at the time.
    BatchTick {
        to: usize,
        inc: u32,
    },
    BatchAsk {
        to: usize,
        inc: u32,
        requester: usize,
        requester_inc: u32,
        digest: Hash,
    },
    BatchAnswer {
        to: usize,
        inc: u32,
        digest: Hash,
        batch: Arc<Batch>,
    },
    BatchFetchRetry {
        to: usize,
        inc: u32,
        digest: Hash,
    },
}

impl World {
    pub(crate) fn dispatch(&mut self, event: Ev) {
        match event {
            Ev::Start(i) => self.start(i),
            Ev::Crash(i) => self.crash(i),
            Ev::ArmCrash(i) => {
                if self.nodes[i].is_up() {
                    self.nodes[i].crash_armed = true;
                }
            }
            Ev::Restart(i, wiped) => {
                if self.nodes[i].is_up() {
                    // An armed crash that never fired: it crashes now.
                    self.nodes[i].crash_armed = false;
                    self.crash(i);
                }
                if wiped {
                    self.log(|| format!("#{i} RESTART WIPED"));
                    let chain = self.chain;
                    self.nodes[i].wipe(&chain);
                } else {
                    self.log(|| format!("#{i} RESTART"));
                }
                self.start(i);
            }
            Ev::Deliver {
                to,
                inc,
                from,
                message,
            } => self.deliver(to, inc, from, message),
            Ev::DeliverBytes {
                to,
                inc,
                from,
                bytes,
            } => self.deliver_bytes(to, inc, from, &bytes),
            Ev::Timer {
                to,
                inc,
                round,
                token,
            } => {
                if self.nodes[to].accepts(inc) && self.nodes[to].timer_token == token {
                    self.log(|| format!("#{to} timer round {round}"));
                    self.feed(to, Event::LocalTimeout { round });
                }
            }
            Ev::Payload {
                to,
                inc,
                round,
                txs,
            } => {
                if self.nodes[to].accepts(inc) {
                    self.give_payload(to, round, txs);
                }
            }
            Ev::PayloadDeadline { to, inc, token } => self.payload_deadline(to, inc, token),
            Ev::FetchAsk {
                to,
                inc,
                requester,
                requester_inc,
                id,
            } => self.serve_block(to, inc, requester, requester_inc, id),
            Ev::Fetched { to, inc, id, block } => self.block_arrived(to, inc, id, block),
            Ev::FetchRetry { to, inc, id } => self.retry_fetch(to, inc, id),
            Ev::SendLater { from, to, message } => {
                if self.nodes[from].is_up() {
                    self.send_to(from, to, Rc::new(message));
                }
            }
            Ev::Tx => self.tx_arrives(),
            Ev::BatchDeliver {
                to,
                inc,
                from,
                message,
            } => self.deliver_batch_message(to, inc, from, &message),
            Ev::BatchTick { to, inc } => self.batch_tick(to, inc),
            Ev::BatchAsk {
                to,
                inc,
                requester,
                requester_inc,
                digest,
            } => self.serve_batch(to, inc, requester, requester_inc, digest),
            Ev::BatchAnswer {
                to,
                inc,
                digest,
                batch,
            } => self.batch_answered(to, inc, digest, batch),
            Ev::BatchFetchRetry { to, inc, digest } => self.retry_batch_fetch(to, inc, digest),
        }
    }

    /// Instance `i` crashes: it loses everything it did not persist.
    pub(crate) fn crash(&mut self, i: usize) {
        self.mix(0xC0 + i as u64);
        self.log(|| format!("#{i} CRASH"));
        self.nodes[i].crash(self.scenario.durable_blocks);
        self.nodes[i].last_crash_ms = Some(self.now);
    }

    fn start(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        let honest = node.is_honest();
        let committed_height = node.committed.height;
        let blocks: Vec<Block> = node
            .persisted_blocks
            .iter()
            .filter_map(|id| self.blocks.get(id))
            .filter(|b| b.header.height > committed_height)
            .cloned()
            .collect();
        let core = node.boot(&self.config, self.chain, &self.validators, blocks);
        #[cfg(feature = "unsafe-test-variants")]
        if let (Some(v), true) = (self.scenario.unsafe_variant, honest) {
            core.set_unsafe_variant(v);
        }
        let _ = (core, honest);
        self.start_batches(i);
        self.mix(0x5A + i as u64);
        self.feed(i, Event::Start);
    }
}
