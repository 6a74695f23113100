//! The libp2p behaviour: permissioning, limits, identify, Kademlia, message streams
//! and the request-response protocol, and building the swarm around it.

use std::sync::Arc;
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{
    PeerId, StreamProtocol, Swarm, SwarmBuilder, allow_block_list, connection_limits, identify,
    kad, noise, ping, tcp, yamux,
};

use crate::codec::FrameCodec;
use crate::config::NetworkConfig;
use crate::metrics::Metrics;
use crate::{NetworkError, Result};

/// Requests with a response (block sync).
pub const REQ_PROTOCOL: StreamProtocol = StreamProtocol::new("/cairn/req/1");
/// Kademlia protocol name, distinct from the public IPFS DHT.
pub const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/cairn/kad/1");
/// Identify protocol version string.
pub const IDENTIFY_VERSION: &str = "/cairn/1";

/// Slack for the envelope's version, kind and length prefix above a payload cap.
pub(crate) const ENVELOPE_SLACK: usize = 16;
/// How often each connection is pinged, and how long a ping may take before the
/// connection counts as dead.
const PING_EVERY: Duration = Duration::from_secs(2);
const PING_TIMEOUT: Duration = Duration::from_secs(6);
/// How long dialling (TCP, Noise, Yamux) may take: a dial whose SYNs vanish into a
/// partition gives up and is retried after the backoff.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// Every behaviour of a cairn node. `allowed` comes first so a stranger's connection
/// is denied before any other behaviour sees it.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Permissioning: only validators' peer ids may hold a connection.
    pub allowed: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    /// Connection caps.
    pub limits: connection_limits::Behaviour,
    /// Exchanges listen addresses.
    pub identify: identify::Behaviour,
    /// Discovery.
    pub kad: kad::Behaviour<kad::store::MemoryStore>,
    /// Message streams (`crate::stream`).
    pub stream: libp2p_stream::Behaviour,
    /// Requests and responses.
    pub req: request_response::Behaviour<FrameCodec>,
    /// Liveness of each connection: a connection whose pings fail is closed (and the
    /// peer dialled again), so a path that was cut and heals does not wait for TCP's
    /// retransmission backoff, which after a minute's outage is tens of seconds.
    pub ping: ping::Behaviour,
}

/// Builds the swarm for `config` with the libp2p form of its key.
pub fn build_swarm(
    config: &NetworkConfig,
    keypair: Keypair,
    metrics: Arc<Metrics>,
    deaf: Arc<std::sync::atomic::AtomicBool>,
) -> Result<Swarm<Behaviour>> {
    let start = |e: &dyn std::fmt::Display| NetworkError::Start(e.to_string());
    let local = keypair.public().to_peer_id();
    let lim = &config.limits;
    let n = u32::try_from(config.validators.len()).unwrap_or(u32::MAX);
    let mut allowed = allow_block_list::Behaviour::<allow_block_list::AllowedPeers>::default();
    for p in &config.validators {
        allowed.allow_peer(*p);
    }
    let conn_limits = connection_limits::ConnectionLimits::default()
        .with_max_established_per_peer(Some(2))
        .with_max_established(Some(n.saturating_mul(2).saturating_add(4)))
        .with_max_pending_incoming(Some(n.saturating_add(16)));
    let identify = identify::Behaviour::new(
        identify::Config::new(IDENTIFY_VERSION.to_string(), keypair.public())
            .with_agent_version(format!("cairn/{}", env!("CARGO_PKG_VERSION"))),
    );
    let mut kad_cfg = kad::Config::new(KAD_PROTOCOL);
    kad_cfg.set_query_timeout(Duration::from_secs(10));
    // Kademlia is used for peer discovery only: records other peers ask this node to
    // store are not kept (they would be memory any validator could fill).
    kad_cfg.set_record_filtering(kad::StoreInserts::FilterBoth);
    let mut kad = kad::Behaviour::with_config(local, kad::store::MemoryStore::new(local), kad_cfg);
    kad.set_mode(Some(kad::Mode::Server));
    let req = request_response::Behaviour::with_codec(
        FrameCodec::new(
            lim.max_request_payload_bytes + ENVELOPE_SLACK,
            lim.max_request_bytes + ENVELOPE_SLACK,
            metrics.clone(),
            deaf.clone(),
        ),
        [(REQ_PROTOCOL, ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(config.request_timeout)
            .with_max_concurrent_streams(lim.max_inbound_requests),
    );
    let behaviour = Behaviour {
        allowed,
        limits: connection_limits::Behaviour::new(conn_limits),
        identify,
        kad,
        stream: libp2p_stream::Behaviour::new(),
        req,
        ping: ping::Behaviour::new(
            ping::Config::new()
                .with_interval(PING_EVERY)
                .with_timeout(PING_TIMEOUT),
        ),
    };
    let mut yamux_cfg = yamux::Config::default();
    yamux_cfg.set_max_num_streams(lim.max_inbound_streams.saturating_mul(2).max(64));
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            move || yamux_cfg.clone(),
        )
        .map_err(|e| start(&e))?
        .with_behaviour(|_| behaviour)
        .map_err(|e| start(&e))?
        .with_swarm_config(|c| {
            // Every request is a new substream (and a message stream is reopened after
            // a failure). With multistream-select's default (V1) the opener waits a
            // round trip for the protocol to be confirmed before it may send. V1Lazy
            // sends the protocol and the data together (0-RTT); safe here because each
            // substream offers exactly one protocol and nothing is nested. Measured with
            // the fault runner's 50 ms delay: docs/TESTING.md "Fault runs".
            c.with_idle_connection_timeout(Duration::from_secs(3600))
                .with_substream_upgrade_protocol_override(libp2p::core::upgrade::Version::V1Lazy)
        })
        .with_connection_timeout(CONNECTION_TIMEOUT)
        .build();
    Ok(swarm)
}

/// The peer id of `key`'s libp2p form.
pub fn keypair_of(key: &cairn_crypto::SecretKey) -> Result<Keypair> {
    let mut seed = key.seed();
    Keypair::ed25519_from_bytes(&mut seed[..]).map_err(|e| NetworkError::Start(e.to_string()))
}

/// Local peer id of `key`.
pub fn peer_id_of(key: &cairn_crypto::SecretKey) -> Result<PeerId> {
    Ok(keypair_of(key)?.public().to_peer_id())
}
