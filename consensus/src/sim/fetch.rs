//! Block fetching in the simulated driver: asking peers, serving from what an instance
//! has seen or committed, delivering answers, and retrying unanswered requests.

use cairn_crypto::Hash;
use cairn_types::{Block, ValidatorId};

use super::node::Role;
use super::world::{Ev, World};
use crate::Event;

/// How long a block request may stay unanswered before it is asked of everyone again.
pub(crate) const FETCH_RETRY_MS: u64 = 1_000;
/// Retries per block before the driver gives up on it.
const FETCH_RETRIES: u32 = 30;

impl World {
    /// Asks every instance of validator `from` (other than `i`) for block `id`.
    pub(crate) fn ask_for_block(&mut self, i: usize, from: ValidatorId, id: Hash) {
        let requester_inc = self.nodes[i].incarnation;
        self.request_from(i, from, |to, inc| Ev::FetchAsk {
            to,
            inc,
            requester: i,
            requester_inc,
            id,
        });
    }

    /// Sends a request from instance `i` through the network to every other instance
    /// of validator `v`; `ask(j, incarnation of j)` is the event that reaches `j`.
    pub(crate) fn request_from(
        &mut self,
        i: usize,
        v: ValidatorId,
        ask: impl Fn(usize, u32) -> Ev,
    ) {
        let targets = self
            .by_id
            .get(usize::from(v.0))
            .cloned()
            .unwrap_or_default();
        for j in targets.into_iter().filter(|&j| j != i) {
            let inc = self.nodes[j].incarnation;
            for delay in self.net.route(i, j, self.now) {
                self.queue.push(self.now + delay, ask(j, inc));
            }
        }
    }

    /// Instance `to` answers a block request, if it has the block.
    pub(crate) fn serve_block(
        &mut self,
        to: usize,
        inc: u32,
        requester: usize,
        requester_inc: u32,
        id: Hash,
    ) {
        let node = &mut self.nodes[to];
        if !node.accepts(inc) || !node.knows(&id) {
            return;
        }
        let Some(block) = self.blocks.get(&id).cloned() else {
            return;
        };
        let block = match &mut node.role {
            Role::Byzantine(b) if !b.serves_blocks() => return,
            Role::Byzantine(b) => b.serve(block),
            _ => block,
        };
        for delay in self.net.route(to, requester, self.now) {
            let block = block.clone();
            self.queue.push(
                self.now + delay,
                Ev::Fetched {
                    to: requester,
                    inc: requester_inc,
                    id,
                    block,
                },
            );
        }
    }

    /// A block answer reaches the instance that asked.
    pub(crate) fn block_arrived(&mut self, to: usize, inc: u32, id: Hash, block: Block) {
        let node = &mut self.nodes[to];
        if !node.accepts(inc) {
            return;
        }
        if block.id() == id {
            node.fetching.remove(&id);
            node.known.insert(id);
        }
        self.log(|| format!("#{to} fetched block {}", &id.to_string()[..8]));
        self.feed(to, Event::BlockFetched { block });
    }

    /// A block request still unanswered: ask every other validator.
    pub(crate) fn retry_fetch(&mut self, to: usize, inc: u32, id: Hash) {
        let node = &mut self.nodes[to];
        if !node.accepts(inc) {
            return;
        }
        let Some(tries) = node.fetching.get_mut(&id) else {
            return;
        };
        *tries += 1;
        if *tries > FETCH_RETRIES {
            node.fetching.remove(&id);
            return;
        }
        let me = node.id;
        for v in 0..self.validators.len() {
            if v != usize::from(me.0) {
                self.ask_for_block(to, ValidatorId(v as u16), id);
            }
        }
        self.queue
            .push(self.now + FETCH_RETRY_MS, Ev::FetchRetry { to, inc, id });
    }
}
