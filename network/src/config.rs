//! What the network needs to start: identity, listen address, the permitted set and
//! limits.

use std::time::Duration;

use cairn_crypto::SecretKey;
use cairn_genesis::Genesis;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

use crate::{NetworkError, Result};

/// Caps that keep one peer from growing memory or hogging the node.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest message payload accepted or sent, in bytes.
    pub max_message_bytes: usize,
    /// Largest response payload, in bytes (block sync carries blocks).
    pub max_request_bytes: usize,
    /// Largest request payload, in bytes (a request names what it wants; the answer
    /// may be large, the question never is). Inbound frames above it are refused
    /// before they are read.
    pub max_request_payload_bytes: usize,
    /// Inbound requests handled at once per connection (each may hold a large answer
    /// until it is read).
    pub max_inbound_requests: usize,
    /// Addresses remembered per validator (genesis, identify, Kademlia); more are
    /// ignored, so a peer cannot grow the list without bound.
    pub max_addresses_per_peer: usize,
    /// Messages queued per peer and lane (priority, other) while waiting to be
    /// sent; more are dropped.
    pub max_queued_per_peer: usize,
    /// Bytes queued per peer and lane while waiting to be sent; more are dropped.
    pub max_queued_bytes_per_peer: usize,
    /// How long a message may wait to be sent (while its peer is unreachable or not
    /// reading); older ones are dropped, so a peer back from a partition gets current
    /// messages, not a backlog of rounds long gone.
    pub max_queued_age: Duration,
    /// Requests outstanding per peer.
    pub max_requests_per_peer: usize,
    /// Streams open at once per connection (Yamux's cap, twice this; requests have
    /// their own cap, `max_inbound_requests`).
    pub max_inbound_streams: usize,
    /// Sustained inbound messages per second per peer.
    pub rate_per_sec: u32,
    /// Burst of inbound messages per peer above the sustained rate.
    pub rate_burst: u32,
    /// Violations (rate, size, malformed) within `strike_window` before disconnect.
    pub max_strikes: u32,
    /// Window over which violations are counted.
    pub strike_window: Duration,
    /// How long a disconnected offender is refused before it may reconnect.
    pub ban_duration: Duration,
    /// Message kinds the node takes before any other arrival (consensus messages);
    /// they have their own lane of the incoming queue.
    pub priority_kinds: Vec<u8>,
    /// Bytes waiting for the node in each lane of the incoming queue (priority,
    /// requests, other messages), over all peers; when full, arrivals are dropped.
    pub incoming_lane_bytes: usize,
    /// Bytes waiting for the node in each lane from one peer; a peer over its share
    /// has its arrivals dropped while the others' are still taken.
    pub incoming_peer_bytes: usize,
    /// Strikes a message the node found undecodable or invalid costs its sender
    /// (reported with [`crate::NetworkHandle::report`]).
    pub strikes_per_offence: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_message_bytes: 4 * 1024 * 1024,
            max_request_bytes: 32 * 1024 * 1024,
            max_request_payload_bytes: 64 * 1024,
            max_inbound_requests: 16,
            max_addresses_per_peer: 8,
            max_queued_per_peer: 4096,
            max_queued_bytes_per_peer: 64 * 1024 * 1024,
            max_queued_age: Duration::from_secs(1),
            max_requests_per_peer: 16,
            max_inbound_streams: 256,
            rate_per_sec: 20_000,
            rate_burst: 40_000,
            max_strikes: 1_000,
            strike_window: Duration::from_secs(10),
            ban_duration: Duration::from_secs(60),
            priority_kinds: Vec::new(),
            incoming_lane_bytes: 128 * 1024 * 1024,
            incoming_peer_bytes: 32 * 1024 * 1024,
            strikes_per_offence: 50,
        }
    }
}

/// Configuration of [`crate::Network::start`].
pub struct NetworkConfig {
    /// This validator's ed25519 network key (its PeerId).
    pub key: SecretKey,
    /// Address to listen on, e.g. `/ip4/127.0.0.1/tcp/30400`.
    pub listen: Multiaddr,
    /// The permitted peers' ids: the validators in validator order (`ValidatorId(i)`
    /// is entry `i`), then any full nodes permitted to connect. Only these may connect.
    pub validators: Vec<PeerId>,
    /// How many leading entries of `validators` are validators: broadcasts go to
    /// them only; the rest (full nodes) get only what is sent or answered to them.
    pub validator_count: usize,
    /// Known dial addresses per validator (same order; empty if unknown).
    pub addresses: Vec<Vec<Multiaddr>>,
    /// Bootstrap addresses (ending in `/p2p/<peer id>`) for Kademlia discovery.
    pub bootstrap: Vec<Multiaddr>,
    /// Timeout of [`crate::NetworkHandle::request`].
    pub request_timeout: Duration,
    /// First reconnection delay; doubles per failure up to `max_backoff`.
    pub initial_backoff: Duration,
    /// Longest reconnection delay.
    pub max_backoff: Duration,
    /// How often a Kademlia bootstrap runs while some validator is not connected.
    pub discovery_interval: Duration,
    /// Message size, queue and rate limits.
    pub limits: Limits,
}

impl NetworkConfig {
    /// A configuration with defaults for `validators` (peer ids in validator order).
    pub fn new(key: SecretKey, listen: Multiaddr, validators: Vec<PeerId>) -> NetworkConfig {
        let n = validators.len();
        NetworkConfig {
            key,
            listen,
            validator_count: n,
            validators,
            addresses: vec![Vec::new(); n],
            bootstrap: Vec::new(),
            request_timeout: Duration::from_secs(10),
            initial_backoff: Duration::from_millis(250),
            // A failed dial costs one SYN; a validator back from a partition should
            // not wait long to be dialled again.
            max_backoff: Duration::from_secs(2),
            discovery_interval: Duration::from_secs(10),
            limits: Limits::default(),
        }
    }

    /// The configuration the genesis implies: its validators are the permitted set and
    /// their `address` fields the dial addresses.
    pub fn from_genesis(genesis: &Genesis, key: SecretKey, listen: Multiaddr) -> Result<Self> {
        let mut config = NetworkConfig::new(key, listen, genesis.peer_ids());
        for (i, v) in genesis.doc().validators.iter().enumerate() {
            let addr = parse_dial_address(&v.address)?;
            if let Some(slot) = config.addresses.get_mut(i) {
                slot.push(addr);
            }
        }
        Ok(config)
    }
}

/// Parses a validator address, dropping a trailing `/p2p/<peer id>`.
pub fn parse_dial_address(text: &str) -> Result<Multiaddr> {
    let mut addr: Multiaddr = text.parse().map_err(|e| NetworkError::BadAddress {
        address: text.to_string(),
        reason: format!("{e}"),
    })?;
    if matches!(addr.iter().last(), Some(Protocol::P2p(_))) {
        addr.pop();
    }
    Ok(addr)
}
