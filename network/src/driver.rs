//! The network task: owns the swarm, serves handle commands, dials with backoff.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_types::ValidatorId;
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{OutboundRequestId, ResponseChannel};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::{Multiaddr, PeerId, Swarm};
use parity_scale_codec::Encode;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use crate::behaviour::Behaviour;
use crate::config::NetworkConfig;
use crate::envelope::Envelope;
use crate::gate::GateRules;
use crate::handle::{Command, Incoming};
use crate::inbox::InboxSender;
use crate::metrics::{DisconnectReason, DropReason, Metrics};
use crate::outbox::OutboxLimits;
use crate::peers::PeerBook;
use crate::stream::{MSG_PROTOCOL, ReadContext, accept_loop, write_loop};
use crate::{NetworkError, Result};

/// How often the task checks for peers to dial.
const TICK: Duration = Duration::from_millis(100);
/// Kademlia lookups of missing validators running at once.
const MAX_LOOKUPS: usize = 16;
/// Ban requests from stream readers waiting for the network task.
const BAN_QUEUE: usize = 64;

/// A response the node is preparing: the libp2p channel and the node's answer.
pub(crate) type PendingResponse =
    BoxFuture<'static, (ResponseChannel<Vec<u8>>, u8, Option<Vec<u8>>)>;

/// Where the answer to one of this node's requests goes.
pub(crate) type Answer = oneshot::Sender<Result<Vec<u8>>>;

pub(crate) struct Driver {
    pub(crate) swarm: Swarm<Behaviour>,
    pub(crate) book: PeerBook,
    pub(crate) local: PeerId,
    pub(crate) cfg: NetworkConfig,
    commands: mpsc::Receiver<Command>,
    pub(crate) incoming: InboxSender,
    pub(crate) metrics: Arc<Metrics>,
    /// Opens outbound message streams (one clone per writer).
    control: libp2p_stream::Control,
    /// Inbound message streams until the acceptor takes them; `None` if the protocol
    /// could not be registered.
    streams: Option<libp2p_stream::IncomingStreams>,
    /// Every writer and reader of message streams: aborted when the driver drops.
    tasks: JoinSet<()>,
    bans: (mpsc::Sender<PeerId>, mpsc::Receiver<PeerId>),
    /// Set by test builds to stop reading message streams.
    deaf: Arc<std::sync::atomic::AtomicBool>,
    pub(crate) req_out: HashMap<OutboundRequestId, (PeerId, Answer)>,
    pub(crate) responses: FuturesUnordered<PendingResponse>,
    pub(crate) banned: HashMap<PeerId, Instant>,
    last_discovery: Option<Instant>,
}

/// Splits `/…/p2p/<id>` into the address and the peer id.
pub(crate) fn split_p2p(mut addr: Multiaddr) -> (Multiaddr, Option<PeerId>) {
    match addr.iter().last() {
        Some(Protocol::P2p(p)) => {
            addr.pop();
            (addr, Some(p))
        }
        _ => (addr, None),
    }
}

impl Driver {
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        cfg: NetworkConfig,
        local: PeerId,
        commands: mpsc::Receiver<Command>,
        incoming: InboxSender,
        metrics: Arc<Metrics>,
        deaf: Arc<std::sync::atomic::AtomicBool>,
    ) -> Driver {
        let rate = (cfg.limits.rate_per_sec, cfg.limits.rate_burst);
        let outbox = OutboxLimits {
            max_frames: cfg.limits.max_queued_per_peer,
            max_bytes: cfg.limits.max_queued_bytes_per_peer,
            max_age: cfg.limits.max_queued_age,
        };
        let book = PeerBook::new(
            cfg.validators.clone(),
            &cfg.addresses,
            local,
            rate,
            cfg.initial_backoff,
            outbox,
        );
        let mut control = swarm.behaviour().stream.new_control();
        let streams = control.accept(MSG_PROTOCOL).ok();
        Driver {
            swarm,
            book,
            local,
            cfg,
            commands,
            incoming,
            metrics,
            control,
            streams,
            tasks: JoinSet::new(),
            bans: mpsc::channel(BAN_QUEUE),
            deaf,
            req_out: HashMap::new(),
            responses: FuturesUnordered::new(),
            banned: HashMap::new(),
            last_discovery: None,
        }
    }

    pub(crate) async fn run(mut self) {
        for addr in self.cfg.bootstrap.clone() {
            if let (addr, Some(peer)) = split_p2p(addr) {
                self.swarm
                    .behaviour_mut()
                    .kad
                    .add_address(&peer, addr.clone());
                self.book
                    .learn(&peer, addr, self.cfg.limits.max_addresses_per_peer);
            }
        }
        // The genesis addresses are not given to Kademlia: they are unconfirmed (a
        // stale one would be dialled by Kademlia's own queries, and handed on to other
        // validators' lookups). Kademlia learns an address when the peer reports it
        // (identify) or a dial to it works.
        self.start_writers();
        self.start_acceptor();
        let mut tick = tokio::time::interval(TICK);
        let ack = loop {
            tokio::select! {
                ev = self.swarm.select_next_some() => self.on_swarm_event(ev),
                Some(peer) = self.bans.1.recv() => self.ban(peer, Instant::now()),
                Some(_) = self.tasks.join_next(), if !self.tasks.is_empty() => {}
                cmd = self.commands.recv() => match cmd {
                    None => break None,
                    Some(Command::Shutdown(tx)) => break Some(tx),
                    Some(c) => self.on_command(c),
                },
                Some((channel, kind, answer)) = self.responses.next(), if !self.responses.is_empty() => {
                    self.answer(channel, kind, answer);
                }
                _ = tick.tick() => self.on_tick(),
            }
        };
        drop(self);
        if let Some(ack) = ack {
            let _ = ack.send(());
        }
    }

    /// One writer per peer and lane, for the life of the driver.
    fn start_writers(&mut self) {
        for (peer, p) in &self.book.peers {
            for outbox in &p.out {
                let task = write_loop(
                    outbox.clone(),
                    self.control.clone(),
                    *peer,
                    self.metrics.clone(),
                );
                self.tasks.spawn(task);
            }
        }
    }

    /// The task that takes inbound message streams, with a reading context for each
    /// permitted peer.
    fn start_acceptor(&mut self) {
        let Some(streams) = self.streams.take() else {
            return;
        };
        let priority: Arc<[u8]> = self.cfg.limits.priority_kinds.clone().into();
        let contexts = self
            .book
            .peers
            .iter()
            .map(|(peer, p)| {
                let ctx = ReadContext {
                    from: p.id,
                    peer: *peer,
                    gate: p.gate.clone(),
                    rules: self.gate_rules(),
                    max_frame: self.cfg.limits.max_message_bytes + crate::behaviour::ENVELOPE_SLACK,
                    inbox: self.incoming.pusher(),
                    priority: priority.clone(),
                    metrics: self.metrics.clone(),
                    deaf: self.deaf.clone(),
                    bans: self.bans.0.clone(),
                };
                (*peer, ctx)
            })
            .collect();
        self.tasks.spawn(accept_loop(streams, contexts));
    }

    /// The gate's rules from the limits.
    pub(crate) fn gate_rules(&self) -> GateRules {
        let lim = &self.cfg.limits;
        GateRules {
            max_payload: lim.max_message_bytes.max(lim.max_request_bytes),
            max_strikes: lim.max_strikes,
            window: lim.strike_window,
        }
    }

    /// Disconnects `peer` and refuses it for the ban duration.
    pub(crate) fn ban(&mut self, peer: PeerId, now: Instant) {
        if self.banned.contains_key(&peer) {
            return;
        }
        let Some(p) = self.book.peers.get(&peer) else {
            return;
        };
        tracing::warn!(peer = %peer, validator = %p.id, "peer exceeded its limits; disconnecting");
        self.metrics.disconnected(DisconnectReason::Penalty);
        self.banned.insert(peer, now + self.cfg.limits.ban_duration);
        self.swarm.behaviour_mut().allowed.disallow_peer(peer);
    }

    fn answer(&mut self, channel: ResponseChannel<Vec<u8>>, kind: u8, answer: Option<Vec<u8>>) {
        let Some(payload) = answer else { return };
        if payload.len() > self.cfg.limits.max_request_bytes {
            self.metrics.dropped(DropReason::Oversized);
            return;
        }
        let bytes = Envelope::new(kind, payload).encode();
        let _ = self.swarm.behaviour_mut().req.send_response(channel, bytes);
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Broadcast(kind, payload) => {
                let env = Envelope::new(kind, payload).encode();
                let validators = self.cfg.validator_count;
                let peers: Vec<PeerId> = self
                    .book
                    .peers
                    .iter()
                    .filter(|(_, p)| usize::from(p.id.0) < validators)
                    .map(|(id, _)| *id)
                    .collect();
                for peer in peers {
                    self.enqueue(peer, kind, env.clone());
                }
            }
            Command::Send(to, kind, payload) => match self.book.peer_id(to) {
                Some(peer) if peer == self.local => {
                    let msg = Incoming::Message {
                        from: to,
                        kind,
                        payload,
                    };
                    self.deliver(msg);
                }
                Some(peer) => self.enqueue(peer, kind, Envelope::new(kind, payload).encode()),
                None => self.metrics.dropped(DropReason::SendFailed),
            },
            #[cfg(feature = "testing")]
            Command::SendRaw(to, frame) => {
                if let Some(peer) = self.book.peer_id(to) {
                    self.enqueue(peer, 0, frame);
                }
            }
            Command::Request(to, kind, payload, tx) => self.request(to, kind, payload, tx),
            Command::AddAddress(to, addr) => {
                let (addr, _) = split_p2p(addr);
                if let Some(peer) = self.book.peer_id(to) {
                    if self
                        .book
                        .learn(&peer, addr.clone(), self.cfg.limits.max_addresses_per_peer)
                    {
                        self.swarm.behaviour_mut().kad.add_address(&peer, addr);
                    }
                    if let Some(p) = self.book.peers.get_mut(&peer) {
                        p.next_dial = Instant::now();
                    }
                }
            }
            Command::Report(from, offence) => {
                if let Some(peer) = self.book.peer_id(from).filter(|p| *p != self.local) {
                    tracing::debug!(
                        validator = from.0,
                        ?offence,
                        "misbehaviour reported by the node"
                    );
                    self.metrics.offence(offence);
                    let strikes = self.cfg.limits.strikes_per_offence;
                    self.penalise(peer, Instant::now(), strikes);
                }
            }
            Command::Connected(tx) => {
                let _ = tx.send(self.book.connected());
            }
            Command::ListenAddrs(tx) => {
                let _ = tx.send(self.swarm.listeners().cloned().collect());
            }
            Command::Shutdown(_) => {}
        }
    }

    fn request(
        &mut self,
        to: ValidatorId,
        kind: u8,
        payload: Vec<u8>,
        tx: oneshot::Sender<Result<Vec<u8>>>,
    ) {
        let fail = |reason: &str| NetworkError::Request {
            to,
            reason: reason.to_string(),
        };
        let Some(peer) = self.book.peer_id(to) else {
            let _ = tx.send(Err(fail("unknown validator")));
            return;
        };
        let Some(p) = self.book.peers.get_mut(&peer) else {
            let _ = tx.send(Err(fail("cannot request from self")));
            return;
        };
        if p.live() == 0 {
            let _ = tx.send(Err(fail("not connected")));
            return;
        }
        if p.requests >= self.cfg.limits.max_requests_per_peer {
            let _ = tx.send(Err(NetworkError::Busy(to)));
            return;
        }
        p.requests += 1;
        let env = Envelope::new(kind, payload).encode();
        self.metrics.sent(kind, env.len());
        let id = self.swarm.behaviour_mut().req.send_request(&peer, env);
        self.req_out.insert(id, (peer, tx));
    }

    /// Hands an arrival to the node in its lane (priority kinds, requests, the rest);
    /// counts it as backpressure if the lane's budget for its sender is full.
    pub(crate) fn deliver(&mut self, item: Incoming) {
        self.incoming
            .deliver(item, &self.cfg.limits.priority_kinds, &self.metrics);
    }

    /// Queues an encoded envelope for `peer` in its lane's outbox, dropping it if the
    /// outbox is full (in messages or in bytes).
    fn enqueue(&mut self, peer: PeerId, kind: u8, env: Vec<u8>) {
        let Some(p) = self.book.peers.get(&peer) else {
            return;
        };
        let lane = usize::from(!self.cfg.limits.priority_kinds.contains(&kind));
        if !p.out[lane].push((kind, env)) {
            self.metrics.dropped(DropReason::QueueFull);
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        let expired: Vec<PeerId> = self
            .banned
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(p, _)| *p)
            .collect();
        for peer in expired {
            self.banned.remove(&peer);
            self.swarm.behaviour_mut().allowed.allow_peer(peer);
        }
        let mut missing = false;
        for (peer, p) in self.book.peers.iter_mut() {
            if p.live() > 0 || self.banned.contains_key(peer) {
                continue;
            }
            missing = true;
            if p.dial.is_some() || p.lookup.is_some() || now < p.next_dial || p.addrs.is_empty() {
                continue;
            }
            // `Disconnected`, not `…AndNotDialing`: a dial Kademlia has under way (perhaps
            // hanging on an address that is gone) must not hold this one off. With the
            // addresses Kademlia knows, too (its routing table and running lookups).
            // `Always` while only closing connections remain: the swarm still counts
            // them, and would refuse a dial to a peer it thinks connected.
            let condition = if p.connections > 0 {
                PeerCondition::Always
            } else {
                PeerCondition::Disconnected
            };
            let opts = DialOpts::peer_id(*peer)
                .addresses(p.addrs.clone())
                .extend_addresses_through_behaviour()
                .condition(condition)
                .build();
            let id = opts.connection_id();
            match self.swarm.dial(opts) {
                Ok(()) => p.dial = Some(id),
                Err(_) => p.next_dial = now + p.backoff,
            }
        }
        let due = self
            .last_discovery
            .is_none_or(|t| now.saturating_duration_since(t) >= self.cfg.discovery_interval);
        if missing && due {
            self.last_discovery = Some(now);
            let _ = self.swarm.behaviour_mut().kad.bootstrap();
            for (peer, p) in self.book.peers.iter_mut() {
                p.lookup_wanted = p.live() == 0 && !p.reached && !self.banned.contains_key(peer);
            }
        }
        self.start_lookups();
    }

    /// Starts a Kademlia lookup of each validator that wants one (never reached since
    /// this node started) and has no dial of ours under way, up to [`MAX_LOOKUPS`] at
    /// once.
    ///
    /// A lookup asks the connected peers for the validator's addresses and dials it
    /// there itself. It must not meet a dial of ours still hanging on a stale address
    /// (a genesis address behind a firewall hangs for minutes): libp2p would refuse the
    /// lookup's dial as a second one, and the addresses it found die with the query.
    fn start_lookups(&mut self) {
        let mut running = self
            .book
            .peers
            .values()
            .filter(|p| p.lookup.is_some())
            .count();
        for (peer, p) in self.book.peers.iter_mut() {
            if running >= MAX_LOOKUPS {
                break;
            }
            if !p.lookup_wanted || p.dial.is_some() || p.lookup.is_some() {
                continue;
            }
            p.lookup_wanted = false;
            if p.live() > 0 {
                continue;
            }
            p.lookup = Some(self.swarm.behaviour_mut().kad.get_closest_peers(*peer));
            running += 1;
        }
    }

    /// A lookup made progress: learns the addresses it found; when it is over, this
    /// node dials the validator again itself.
    pub(crate) fn on_lookup(
        &mut self,
        id: libp2p::kad::QueryId,
        found: Vec<libp2p::kad::PeerInfo>,
        last: bool,
    ) {
        let max = self.cfg.limits.max_addresses_per_peer;
        for info in found {
            for addr in info.addrs {
                let (addr, _) = split_p2p(addr);
                if self.book.learn(&info.peer_id, addr.clone(), max) {
                    self.swarm
                        .behaviour_mut()
                        .kad
                        .add_address(&info.peer_id, addr);
                }
            }
        }
        if !last {
            return;
        }
        if let Some(p) = self.book.peers.values_mut().find(|p| p.lookup == Some(id)) {
            p.lookup = None;
            p.next_dial = Instant::now();
        }
    }
}
