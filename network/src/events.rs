//! Reactions to swarm events: connections, discovery, and inbound traffic.

use std::time::Instant;

use libp2p::request_response::{self, Message, ResponseChannel};
use libp2p::swarm::{ListenError, SwarmEvent};
use libp2p::{PeerId, allow_block_list, identify, kad, ping};
use tokio::sync::oneshot;

use crate::NetworkError;
use crate::behaviour::BehaviourEvent;
use crate::driver::{Driver, split_p2p};
use crate::envelope::Envelope;
use crate::gate::{Admission, drop_reason};
use crate::handle::{Incoming, Responder};
use crate::metrics::DropReason;

type RrEvent = request_response::Event<Vec<u8>, Vec<u8>>;

impl Driver {
    pub(crate) fn on_swarm_event(&mut self, ev: SwarmEvent<BehaviourEvent>) {
        match ev {
            SwarmEvent::Behaviour(BehaviourEvent::Req(e)) => self.on_req_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                for addr in info.listen_addrs {
                    let (addr, _) = split_p2p(addr);
                    let max = self.cfg.limits.max_addresses_per_peer;
                    // Kademlia gets what the peer reports of itself, whether or not it
                    // was in the genesis already (bounded by the book's cap).
                    if self.book.learn(&peer_id, addr.clone(), max)
                        || self.book.knows(&peer_id, &addr)
                    {
                        self.swarm.behaviour_mut().kad.add_address(&peer_id, addr);
                    }
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::RoutingUpdated {
                peer,
                addresses,
                ..
            })) => {
                for addr in addresses.iter() {
                    self.book.learn(
                        &peer,
                        split_p2p(addr.clone()).0,
                        self.cfg.limits.max_addresses_per_peer,
                    );
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed {
                id,
                result: kad::QueryResult::GetClosestPeers(result),
                step,
                ..
            })) => {
                let found = match result {
                    Ok(ok) => ok.peers,
                    Err(kad::GetClosestPeersError::Timeout { peers, .. }) => peers,
                };
                self.on_lookup(id, found, step.last);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result: Err(error),
            })) if !matches!(error, ping::Failure::Unsupported) => {
                // A dead path (cut cable, partition, frozen peer): close it, so the
                // peer is dialled afresh instead of waiting for TCP to give up. The
                // close itself may hang until the path heals; the connection counts
                // as gone from now on.
                tracing::debug!(%peer, %error, "ping failed; closing the connection");
                self.swarm.close_connection(connection);
                if let Some(p) = self.book.peers.get_mut(&peer) {
                    if !p.closing.contains(&connection) {
                        p.closing.push(connection);
                    }
                    if p.live() == 0 {
                        p.next_dial = Instant::now();
                    }
                    p.update_connected();
                }
                self.metrics.set_connected(self.book.connected().len());
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                let Some(p) = self.book.peers.get_mut(&peer_id) else {
                    // The allow-list denies strangers before this point; belt and braces.
                    self.metrics.denied();
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                };
                p.connections = num_established.get() as usize;
                p.dial = None;
                p.lookup_wanted = false;
                p.reached = true;
                p.backoff = self.cfg.initial_backoff;
                if endpoint.is_dialer() {
                    let (addr, _) = split_p2p(endpoint.get_remote_address().clone());
                    self.book
                        .learn(&peer_id, addr, self.cfg.limits.max_addresses_per_peer);
                }
                if let Some(p) = self.book.peers.get(&peer_id) {
                    p.update_connected();
                }
                self.metrics.set_connected(self.book.connected().len());
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                ..
            } => {
                if let Some(p) = self.book.peers.get_mut(&peer_id) {
                    p.connections = num_established as usize;
                    p.closing.retain(|c| *c != connection_id);
                    if num_established == 0 {
                        p.next_dial = Instant::now() + p.backoff;
                    }
                    p.update_connected();
                }
                self.metrics.set_connected(self.book.connected().len());
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer),
                connection_id,
                ..
            } => {
                // Only this node's own dial sets the backoff; Kademlia's failures are
                // its own business.
                if let Some(p) = self
                    .book
                    .peers
                    .get_mut(&peer)
                    .filter(|p| p.dial == Some(connection_id))
                {
                    p.dial = None;
                    p.backoff = (p.backoff * 2).min(self.cfg.max_backoff);
                    p.next_dial = Instant::now() + p.backoff;
                }
            }
            SwarmEvent::IncomingConnectionError {
                error: ListenError::Denied { cause },
                ..
            } if cause
                .downcast_ref::<allow_block_list::NotAllowed>()
                .is_some() =>
            {
                self.metrics.denied();
            }
            _ => {}
        }
    }

    fn on_req_event(&mut self, ev: RrEvent) {
        match ev {
            request_response::Event::Message { peer, message, .. } => match message {
                Message::Request {
                    request, channel, ..
                } => self.on_request(peer, &request, channel),
                Message::Response {
                    request_id,
                    response,
                } => {
                    let Some((peer, tx)) = self.req_out.remove(&request_id) else {
                        return;
                    };
                    let to = self.release_request(peer);
                    let result = match Envelope::decode_checked(&response) {
                        Ok(env) => {
                            self.metrics.received(env.kind, response.len());
                            Ok(env.payload)
                        }
                        Err(e) => {
                            self.metrics.dropped(drop_reason(e));
                            Err(NetworkError::Request {
                                to,
                                reason: format!("bad response: {e:?}"),
                            })
                        }
                    };
                    let _ = tx.send(result);
                }
            },
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                let Some((peer, tx)) = self.req_out.remove(&request_id) else {
                    return;
                };
                let to = self.release_request(peer);
                let _ = tx.send(Err(NetworkError::Request {
                    to,
                    reason: error.to_string(),
                }));
            }
            _ => {}
        }
    }

    fn release_request(&mut self, peer: PeerId) -> cairn_types::ValidatorId {
        match self.book.peers.get_mut(&peer) {
            Some(p) => {
                p.requests = p.requests.saturating_sub(1);
                p.id
            }
            None => cairn_types::ValidatorId(u16::MAX),
        }
    }

    fn on_request(&mut self, peer: PeerId, request: &[u8], channel: ResponseChannel<Vec<u8>>) {
        let Some(env) = self.admit(peer, request) else {
            return;
        };
        let Some(from) = self.book.peers.get(&peer).map(|p| p.id) else {
            return;
        };
        let (tx, rx) = oneshot::channel();
        let kind = env.kind;
        let item = Incoming::Request {
            from,
            kind,
            payload: env.payload,
            responder: Responder(tx),
        };
        self.deliver(item);
        let timeout = self.cfg.request_timeout;
        self.responses.push(Box::pin(async move {
            let answer = tokio::time::timeout(timeout, rx)
                .await
                .ok()
                .and_then(|r| r.ok());
            (channel, kind, answer)
        }));
    }

    /// Checks an inbound request frame against permissioning and the peer's gate
    /// (rate limit, envelope format, size); what fails is counted and costs a strike.
    fn admit(&mut self, peer: PeerId, bytes: &[u8]) -> Option<Envelope> {
        let now = Instant::now();
        let Some(p) = self.book.peers.get(&peer) else {
            self.metrics.dropped(DropReason::NotPermitted);
            return None;
        };
        match p.gate.admit(bytes, &self.gate_rules(), &self.metrics, now) {
            Admission::Pass(env) => Some(env),
            Admission::Refused { ban } => {
                if ban {
                    self.ban(peer, now);
                }
                None
            }
        }
    }

    /// Records a violation worth `strikes`; past the limit, disconnects and bans the
    /// peer for a while.
    pub(crate) fn penalise(&mut self, peer: PeerId, now: Instant, strikes: u32) {
        let Some(p) = self.book.peers.get(&peer) else {
            return;
        };
        if p.gate.strike(now, &self.gate_rules(), strikes) {
            self.ban(peer, now);
        }
    }
}
