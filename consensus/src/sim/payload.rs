//! Payload requests in the simulated driver: answered from the shared mempool at
//! once, or — when the leader may wait — as soon as transactions arrive or the
//! heartbeat passes.

use cairn_crypto::Hash;
use cairn_types::{Round, Transaction};

use super::world::{Ev, World};
use crate::Event;

impl World {
    /// Payload requests: at once if not waiting or transactions wait; otherwise when
    /// transactions arrive or the heartbeat passes.
    pub(crate) fn request_payload(&mut self, i: usize, round: Round, wait: bool) {
        let node = &mut self.nodes[i];
        node.payload_token += 1;
        let (inc, token) = (node.incarnation, node.payload_token);
        if wait && self.mempool.is_empty() {
            node.payload_wait = Some((round, token));
            let at = self.now + self.config.heartbeat_ms;
            self.queue
                .push(at, Ev::PayloadDeadline { to: i, inc, token });
        } else {
            node.payload_wait = None;
            let txs = self.mempool.take(self.config.max_block_txs);
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
            Some((round, t)) if t == token && node.accepts(inc) => {
                node.payload_wait = None;
                let txs = self.mempool.take(self.config.max_block_txs);
                self.give_payload(i, round, txs);
            }
            _ => {}
        }
    }

    /// A client transaction arrives; waiting leaders get it at once.
    pub(crate) fn tx_arrives(&mut self) {
        self.mempool.arrive();
        for i in 0..self.nodes.len() {
            if self.mempool.is_empty() {
                break;
            }
            if let (Some((round, _)), true) = (self.nodes[i].payload_wait, self.nodes[i].is_up()) {
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
