//! Payload requests in the simulated driver: answered at once, or — when the leader
//! may wait — as soon as something to propose arrives or the heartbeat passes.
//!
//! Unbatched scenarios draw transactions from the shared mempool; batched ones
//! propose the leader's certified batches (see `super::batching`), and a new proof
//! wakes a waiting leader.

use cairn_crypto::Hash;
use cairn_types::{Round, Transaction};

use super::world::{Ev, World};
use crate::Event;

impl World {
    /// Payload requests: at once if not waiting or something waits to be proposed;
    /// otherwise when it arrives or the heartbeat passes.
    pub(crate) fn request_payload(&mut self, i: usize, round: Round, parent: Hash, wait: bool) {
        let txs = self.take_payload(i, round, parent);
        let node = &mut self.nodes[i];
        node.payload_token += 1;
        let (inc, token) = (node.incarnation, node.payload_token);
        if wait && txs.is_empty() {
            node.payload_wait = Some((round, parent, token));
            let at = self.now + self.config.heartbeat_ms;
            self.queue
                .push(at, Ev::PayloadDeadline { to: i, inc, token });
        } else {
            node.payload_wait = None;
            self.queue.push(
                self.now,
                Ev::Payload {
                    to: i,
                    inc,
                    round,
                    txs,
                },
            );
        }
    }

    /// What instance `i` may propose now: its certified batches, or transactions from
    /// the shared mempool.
    fn take_payload(&mut self, i: usize, round: Round, parent: Hash) -> Vec<Transaction> {
        if self.scenario.batched {
            self.ready_batches(i, round, parent)
        } else {
            self.mempool.take(self.config.max_block_txs)
        }
    }

    pub(crate) fn give_payload(&mut self, i: usize, round: Round, txs: Vec<Transaction>) {
        let now_ms = self.now;
        self.log(|| format!("#{i} payload round {round} with {} txs", txs.len()));
        self.feed(
            i,
            Event::Payload {
                round,
                txs,
                state_height: 0,
                state_root: Hash::ZERO,
                now_ms,
            },
        );
    }

    pub(crate) fn payload_deadline(&mut self, i: usize, inc: u32, token: u64) {
        let node = &mut self.nodes[i];
        match node.payload_wait {
            Some((round, parent, t)) if t == token && node.accepts(inc) => {
                node.payload_wait = None;
                let txs = self.take_payload(i, round, parent);
                self.give_payload(i, round, txs);
            }
            _ => {}
        }
    }

    /// A client transaction arrives: in batched scenarios it goes to a validator's
    /// batch machine; otherwise into the shared mempool, and waiting leaders get it
    /// at once.
    pub(crate) fn tx_arrives(&mut self) {
        self.mempool.arrive();
        if self.scenario.batched {
            for tx in self.mempool.take(usize::MAX) {
                self.submit_to_validator(tx);
            }
        }
        for i in 0..self.nodes.len() {
            if self.mempool.is_empty() {
                break;
            }
            if let (Some((round, _, _)), true) = (self.nodes[i].payload_wait, self.nodes[i].is_up())
            {
                self.nodes[i].payload_wait = None;
                let txs = self.mempool.take(self.config.max_block_txs);
                self.give_payload(i, round, txs);
            }
        }
        if let Some(at) = self.mempool.next_arrival(self.now) {
            self.queue.push(at, Ev::Tx);
        }
    }
}
