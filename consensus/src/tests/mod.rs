//! Hand-driven unit tests of the state machine: a tiny lock-step network of real
//! validators, with no simulator. The simulator (`sim`) does the adversarial work.

use std::collections::VecDeque;

use cairn_crypto::{Hash, SecretKey, Signature};
use cairn_types::{BoundedBytes, ChainId, Op, Transaction, TxPayload, ValidatorId, ValidatorSet};

use crate::*;

mod claims;
mod limits;
mod recovery;
mod timeouts;

struct Net {
    nodes: Vec<Consensus>,
    queue: VecDeque<(ValidatorId, Event)>,
    committed: Vec<Vec<Hash>>,
    persisted: Vec<usize>,
    evidence: Vec<Evidence>,
    timers: Vec<Option<u64>>,
    txs_per_block: usize,
    nonce: u64,
    /// Every block proposed, as the drivers' stores would hold it: a validator that
    /// lost its data fetches committed blocks from here.
    blocks: std::collections::HashMap<Hash, cairn_types::Block>,
    /// What each round's leader's driver says it executed (`state_height`,
    /// `state_root`): nothing by default.
    executed: fn(u64) -> (cairn_types::Height, Hash),
    /// A round whose proposal reaches the others rewritten by `rewrite` and signed
    /// again with the leader's key, as a Byzantine leader would send it.
    rewrite: Option<(u64, HeaderRewrite)>,
}

/// How a test's Byzantine leader changes its header before signing it again.
type HeaderRewrite = fn(&mut cairn_types::BlockHeader);

fn chain() -> ChainId {
    ChainId(Hash::digest(b"unit"))
}

fn keys(n: u8) -> Vec<SecretKey> {
    (0..n).map(|i| SecretKey::from_seed(&[i + 1; 32])).collect()
}

fn tx(nonce: u64) -> Transaction {
    Transaction {
        payload: TxPayload {
            chain_id: chain(),
            sender: SecretKey::from_seed(&[99; 32]).public(),
            nonce,
            op: Op::Delete {
                key: BoundedBytes::new(b"k".to_vec()).unwrap(),
            },
        },
        signature: Signature([0; 64]),
    }
}

impl Net {
    /// Validator `i` rebuilt with `safety` and committed chain `committed` and no
    /// blocks, as after `kill -9` (its committed block kept) or a lost data directory
    /// (genesis).
    fn rebuilt(&self, i: usize, safety: SafetyData, committed: BlockInfo) -> Consensus {
        Consensus::new(Setup {
            config: Config::default(),
            chain: chain(),
            validators: self.nodes[0].validators.clone(),
            me: ValidatorId(i as u16),
            key: SecretKey::from_seed(&[i as u8 + 1; 32]),
            safety,
            committed,
            blocks: Vec::new(),
            history: Vec::new(),
        })
        .unwrap()
    }

    fn new(n: u8) -> Net {
        let keys = keys(n);
        let set = ValidatorSet::new(keys.iter().map(SecretKey::public).collect()).unwrap();
        let nodes = keys
            .into_iter()
            .enumerate()
            .map(|(i, key)| {
                Consensus::new(Setup {
                    config: Config::default(),
                    chain: chain(),
                    validators: set.clone(),
                    me: ValidatorId(i as u16),
                    key,
                    safety: SafetyData::genesis(&chain()),
                    committed: BlockInfo::genesis(&chain()),
                    blocks: Vec::new(),
                    history: Vec::new(),
                })
                .unwrap()
            })
            .collect();
        Net {
            nodes,
            queue: VecDeque::new(),
            committed: vec![Vec::new(); n as usize],
            persisted: vec![0; n as usize],
            evidence: Vec::new(),
            timers: vec![None; n as usize],
            txs_per_block: 1,
            nonce: 0,
            blocks: std::collections::HashMap::new(),
            executed: |_| (0, Hash::ZERO),
            rewrite: None,
        }
    }

    fn start(&mut self) {
        for i in 0..self.nodes.len() {
            self.queue.push_back((ValidatorId(i as u16), Event::Start));
        }
    }

    /// Delivers everything until the network is quiet or `limit` events were handled.
    fn run(&mut self, limit: usize) {
        for _ in 0..limit {
            let Some((to, event)) = self.queue.pop_front() else {
                return;
            };
            let actions = self.nodes[to.0 as usize].handle(event);
            self.perform(to, actions);
        }
    }

    fn perform(&mut self, me: ValidatorId, actions: Vec<Action>) {
        let mut persisted_before_send = true;
        for action in actions {
            match action {
                Action::PersistBlock(_) => {}
                Action::PersistSafety(_) => {
                    self.persisted[me.0 as usize] += 1;
                    persisted_before_send = true;
                }
                Action::Send { to, message } => {
                    assert!(persisted_before_send);
                    self.queue.push_back((to, Event::message(me, message)));
                }
                Action::Broadcast { mut message } => {
                    if let Message::Proposal(p) = &mut message {
                        if let Some((round, rewrite)) = self.rewrite
                            && p.block.header.round == round
                        {
                            rewrite(&mut p.block.header);
                            let key = &keys(self.nodes.len() as u8)[me.0 as usize];
                            *p = cairn_types::Proposal::sign(
                                p.block.clone(),
                                p.timeout_cert.clone(),
                                key,
                            );
                        }
                        self.blocks.insert(p.block.id(), p.block.clone());
                    }
                    for i in 0..self.nodes.len() as u16 {
                        if i != me.0 {
                            self.queue
                                .push_back((ValidatorId(i), Event::message(me, message.clone())));
                        }
                    }
                }
                Action::ScheduleTimeout { round, .. } => self.timers[me.0 as usize] = Some(round),
                Action::RequestPayload { round, .. } => {
                    let txs = (0..self.txs_per_block)
                        .map(|_| {
                            self.nonce += 1;
                            tx(self.nonce)
                        })
                        .collect();
                    let (state_height, state_root) = (self.executed)(round);
                    self.queue.push_back((
                        me,
                        Event::Payload {
                            round,
                            txs,
                            state_height,
                            state_root,
                            now_ms: round * 10,
                        },
                    ));
                }
                Action::Commit {
                    blocks,
                    certificate,
                } => {
                    let last = blocks.last().unwrap().id();
                    assert_eq!(certificate.data.parent_id, last);
                    let mine = &mut self.committed[me.0 as usize];
                    for b in blocks {
                        assert_eq!(
                            b.header.height as usize,
                            mine.len() + 1,
                            "commits are contiguous"
                        );
                        mine.push(b.id());
                    }
                }
                Action::FetchBlock { id, from } => {
                    let block = self
                        .nodes
                        .iter()
                        .find_map(|n| n.tree.get(&id).cloned())
                        .or_else(|| self.blocks.get(&id).cloned());
                    if let Some(block) = block {
                        self.queue.push_back((me, Event::BlockFetched { block }));
                    }
                    let _ = from;
                }
                Action::Evidence(e) => self.evidence.push(e),
                Action::Recovery(_) => {}
            }
        }
    }

    fn fire_timers(&mut self) {
        for i in 0..self.nodes.len() {
            if let Some(round) = self.timers[i].take() {
                self.queue
                    .push_back((ValidatorId(i as u16), Event::LocalTimeout { round }));
            }
        }
    }

    fn assert_consistent(&self) {
        let longest = self.committed.iter().max_by_key(|c| c.len()).unwrap();
        for chain in &self.committed {
            assert_eq!(
                &longest[..chain.len()],
                &chain[..],
                "committed chains diverge"
            );
        }
    }
}

#[test]
fn n4_happy_path_commits_every_round() {
    let mut net = Net::new(4);
    net.start();
    net.run(5_000);
    net.assert_consistent();
    let min = net.committed.iter().map(Vec::len).min().unwrap();
    assert!(
        min >= 50,
        "every validator commits: {:?}",
        net.committed.iter().map(Vec::len).collect::<Vec<_>>()
    );
    assert!(net.evidence.is_empty());
    // Every vote and timeout was preceded by a persist.
    assert!(net.persisted.iter().all(|&p| p > 0));
}

#[test]
fn n4_silent_leader_is_skipped_by_timeout() {
    let mut net = Net::new(4);
    net.start();
    // Validator 2 drops everything it receives: rounds it leads time out.
    for _round in 0..40 {
        for _ in 0..500 {
            let Some((to, event)) = net.queue.pop_front() else {
                break;
            };
            if to.0 == 2 {
                continue;
            }
            let actions = net.nodes[to.0 as usize].handle(event);
            net.perform(to, actions);
        }
        net.timers[2] = None;
        net.fire_timers();
    }
    net.assert_consistent();
    let alive: Vec<usize> = [0, 1, 3].iter().map(|&i| net.committed[i].len()).collect();
    assert!(alive.iter().all(|&c| c >= 10), "{alive:?}");
}

#[test]
fn idle_leader_waits_for_transactions() {
    let mut net = Net::new(4);
    net.txs_per_block = 0;
    net.start();
    let mut waits = Vec::new();
    for _ in 0..200 {
        let Some((to, event)) = net.queue.pop_front() else {
            break;
        };
        let actions = net.nodes[to.0 as usize].handle(event);
        for a in &actions {
            if let Action::RequestPayload { wait, .. } = a {
                waits.push(*wait);
            }
        }
        net.perform(to, actions);
    }
    assert!(
        waits.iter().all(|&w| w),
        "nothing pending, so the leader may wait: {waits:?}"
    );
}

#[test]
fn restarted_validator_resends_its_stored_vote_and_no_other() {
    let mut net = Net::new(4);
    net.start();
    net.run(200);
    let node = &net.nodes[1];
    let safety = node.safety().clone();
    let vote = safety.last_vote.clone().expect("voted");
    // Restart validator 1 from its persisted state.
    let mut restarted = Consensus::new(Setup {
        config: Config::default(),
        chain: chain(),
        validators: net.nodes[0].validators.clone(),
        me: ValidatorId(1),
        key: SecretKey::from_seed(&[2; 32]),
        safety,
        committed: *net.nodes[1].committed(),
        blocks: Vec::new(),
        history: Vec::new(),
    })
    .unwrap();
    // Show it the proposal it voted for again: it re-sends the same vote.
    let proposal = net
        .nodes
        .iter()
        .find_map(|n| n.proposals.get(&vote.data.round).cloned())
        .expect("proposal kept");
    restarted.handle(Event::Start);
    let actions = restarted.handle(Event::proposal(ValidatorId(0), proposal.clone()));
    let votes: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Send {
                message: Message::Vote(v),
                ..
            } => Some(v.clone()),
            _ => None,
        })
        .collect();
    assert!(
        votes.iter().all(|v| *v == vote),
        "only the stored vote is sent"
    );
    // A different block for the same round gets no vote.
    let mut other = proposal.block.clone();
    other.header.timestamp_ms += 1;
    let leader = restarted.validators.leader(vote.data.round).0;
    let forged =
        cairn_types::Proposal::sign(other, None, &SecretKey::from_seed(&[leader as u8 + 1; 32]));
    let mut fresh = restarted;
    let actions = fresh.handle(Event::proposal(ValidatorId(0), forged));
    assert!(!actions.iter().any(|a| matches!(
        a,
        Action::Send {
            message: Message::Vote(_),
            ..
        }
    )));
}

#[test]
fn extreme_rounds_from_outside_never_panic() {
    let mut net = Net::new(4);
    net.start();
    net.run(300);
    let proposal = net.nodes[0]
        .proposals
        .values()
        .next()
        .cloned()
        .expect("a proposal");
    let vote = net.nodes[1].safety().last_vote.clone().expect("a vote");
    let node = &mut net.nodes[2];
    for round in [u64::MAX, u64::MAX - 1] {
        let mut v = vote.clone();
        v.data.round = round;
        v.data.parent_round = round;
        node.handle(Event::vote(ValidatorId(1), v.clone()));
        node.handle(Event::quorum_cert(
            ValidatorId(1),
            cairn_types::QuorumCert {
                data: v.data,
                signatures: Default::default(),
            },
        ));
        let mut p = proposal.clone();
        p.block.header.round = round;
        p.block.header.justify.data.height = u64::MAX;
        p.timeout_cert = Some(cairn_types::TimeoutCert {
            round,
            high_qc: Box::new(p.block.header.justify.clone()),
            entries: Default::default(),
        });
        node.handle(Event::proposal(ValidatorId(0), p));
    }
    // Still working: the cluster keeps committing.
    net.run(2_000);
    net.assert_consistent();
}

#[test]
fn a_replayed_proposal_resends_the_vote_only_a_few_times() {
    let mut net = Net::new(4);
    let set = net.nodes[0].validators.clone();
    let (l1, l2) = (set.leader(1).0 as usize, set.leader(2).0 as usize);
    let y = (0..4).find(|i| *i != l1 && *i != l2).unwrap();
    net.nodes[l1].handle(Event::Start);
    let actions = net.nodes[l1].handle(Event::Payload {
        round: 1,
        txs: vec![tx(1)],
        state_height: 0,
        state_root: Hash::ZERO,
        now_ms: 10,
    });
    let proposal = actions
        .iter()
        .find_map(|a| match a {
            Action::Broadcast {
                message: Message::Proposal(p),
            } => Some(p.clone()),
            _ => None,
        })
        .expect("the leader proposes");
    net.nodes[y].handle(Event::Start);
    let mut sent = 0;
    for _ in 0..50 {
        let actions =
            net.nodes[y].handle(Event::proposal(ValidatorId(l1 as u16), proposal.clone()));
        sent += actions
            .iter()
            .filter(|a| {
                matches!(
                    a,
                    Action::Send {
                        message: Message::Vote(_),
                        ..
                    }
                )
            })
            .count();
    }
    // One vote, then at most three re-sends for a leader that may have restarted.
    assert_eq!(
        sent, 4,
        "50 deliveries of the proposal made {sent} vote sends"
    );
}

#[test]
fn a_replayed_double_vote_is_reported_once() {
    let mut net = Net::new(4);
    let leader = net.nodes[0].validators.leader(2).0 as usize;
    let node = &mut net.nodes[leader];
    node.handle(Event::Start);
    let data = |block: &[u8]| cairn_types::VoteData {
        block_id: Hash::digest(block),
        round: 1,
        height: 1,
        parent_id: chain().0,
        parent_round: 0,
    };
    let voter = (leader + 1) % 4;
    let key = SecretKey::from_seed(&[voter as u8 + 1; 32]);
    let first = cairn_types::Vote::sign(&chain(), data(b"a"), ValidatorId(voter as u16), &key);
    let second = cairn_types::Vote::sign(&chain(), data(b"b"), ValidatorId(voter as u16), &key);
    let mut evidence = 0;
    for _ in 0..5 {
        for vote in [&first, &second] {
            let actions = node.handle(Event::vote(ValidatorId(voter as u16), vote.clone()));
            evidence += actions
                .iter()
                .filter(|a| matches!(a, Action::Evidence(_)))
                .count();
        }
    }
    assert_eq!(
        evidence, 1,
        "one report for one equivocation, however replayed"
    );
}
