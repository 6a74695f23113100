//! The node's side: [`Network::start`], [`NetworkHandle`] and what arrives.

use std::sync::Arc;

use cairn_types::ValidatorId;
use libp2p::Multiaddr;
use tokio::sync::{mpsc, oneshot};

use crate::behaviour::{build_swarm, keypair_of};
use crate::config::NetworkConfig;
use crate::driver::Driver;
use crate::inbox::{Inbox, LaneBudget, inbox};
use crate::metrics::Metrics;
use crate::{NetworkError, Result};

/// Capacity of the command queue from handles to the network task.
const COMMAND_CAPACITY: usize = 1024;

/// Something a validator sent this node.
#[derive(Debug)]
pub enum Incoming {
    /// A one-way message (broadcast or direct).
    Message {
        /// The sender.
        from: ValidatorId,
        /// The node's message kind.
        kind: u8,
        /// The payload.
        payload: Vec<u8>,
    },
    /// A request waiting for an answer through `responder`.
    Request {
        /// The sender.
        from: ValidatorId,
        /// The node's request kind.
        kind: u8,
        /// The payload.
        payload: Vec<u8>,
        /// Answers the request; dropping it answers with an error.
        responder: Responder,
    },
}

impl Incoming {
    /// The sender.
    pub fn from(&self) -> ValidatorId {
        match self {
            Incoming::Message { from, .. } | Incoming::Request { from, .. } => *from,
        }
    }

    /// Length of the payload in bytes.
    pub fn payload_len(&self) -> usize {
        match self {
            Incoming::Message { payload, .. } | Incoming::Request { payload, .. } => payload.len(),
        }
    }
}

/// What a validator did wrong, as the node saw it: reported with
/// [`NetworkHandle::report`], it costs the validator strikes towards a ban.
#[derive(
    Clone, Copy, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelValue,
)]
pub enum Offence {
    /// A payload the node could not decode.
    Undecodable,
    /// A message that decoded but failed verification (a bad signature or
    /// certificate, a block over the chain's limits).
    Invalid,
    /// A request the node refused as malformed or over its rate.
    BadRequest,
}

/// Answers one incoming request.
#[derive(Debug)]
pub struct Responder(pub(crate) oneshot::Sender<Vec<u8>>);

impl Responder {
    /// Sends `payload` back to the requester. The requester sees an error if it is
    /// larger than its request cap.
    pub fn respond(self, payload: Vec<u8>) {
        let _ = self.0.send(payload);
    }
}

/// What handles ask of the network task.
pub(crate) enum Command {
    Broadcast(u8, Vec<u8>),
    Send(ValidatorId, u8, Vec<u8>),
    Request(ValidatorId, u8, Vec<u8>, oneshot::Sender<Result<Vec<u8>>>),
    #[cfg(feature = "testing")]
    SendRaw(ValidatorId, Vec<u8>),
    AddAddress(ValidatorId, Multiaddr),
    Report(ValidatorId, Offence),
    Connected(oneshot::Sender<Vec<ValidatorId>>),
    ListenAddrs(oneshot::Sender<Vec<Multiaddr>>),
    Shutdown(oneshot::Sender<()>),
}

/// Starts the network.
pub struct Network;

impl Network {
    /// Binds `config.listen`, starts the network task on the current tokio runtime and
    /// returns the handle and the stream of incoming messages and requests.
    pub async fn start(config: NetworkConfig) -> Result<(NetworkHandle, Inbox)> {
        Network::start_with_metrics(config, Arc::new(Metrics::default())).await
    }

    /// Like [`Network::start`], counting into `metrics` (register them first with
    /// [`Metrics::register`]).
    pub async fn start_with_metrics(
        config: NetworkConfig,
        metrics: Arc<Metrics>,
    ) -> Result<(NetworkHandle, Inbox)> {
        let keypair = keypair_of(&config.key)?;
        let local = keypair.public().to_peer_id();
        let index = config.validators.iter().position(|p| *p == local).ok_or(
            NetworkError::NotAValidator {
                peer_id: local.to_string(),
            },
        )?;
        let local_id = ValidatorId(u16::try_from(index).unwrap_or(u16::MAX));
        let deaf = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut swarm = build_swarm(&config, keypair, metrics.clone(), deaf.clone())?;
        swarm
            .listen_on(config.listen.clone())
            .map_err(|e| NetworkError::Start(format!("listen on {}: {e}", config.listen)))?;
        wait_listening(&mut swarm, &config.listen).await?;
        let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_CAPACITY);
        let n = config.validators.len();
        let lane = LaneBudget {
            total: config.limits.incoming_lane_bytes,
            per_peer: config.limits.incoming_peer_bytes,
        };
        let (in_tx, in_rx) = inbox(n, [lane; 3]);
        let max_message_bytes = config.limits.max_message_bytes;
        let max_request_bytes = config.limits.max_request_payload_bytes;
        let driver = Driver::new(
            swarm,
            config,
            local,
            cmd_rx,
            in_tx,
            metrics.clone(),
            deaf.clone(),
        );
        tokio::spawn(driver.run());
        let handle = NetworkHandle {
            inner: Arc::new(Inner {
                commands: cmd_tx,
                local_id,
                n,
                max_message_bytes,
                max_request_bytes,
                metrics,
                deaf,
            }),
        };
        Ok((handle, in_rx))
    }
}

/// Waits until the listener reports its address (the real port when 0 was asked for),
/// so that a port that cannot be bound fails `start` instead of a later dial.
async fn wait_listening(
    swarm: &mut libp2p::Swarm<crate::behaviour::Behaviour>,
    listen: &Multiaddr,
) -> Result<()> {
    use futures::StreamExt;
    use libp2p::swarm::SwarmEvent;
    let fail = |e: String| NetworkError::Start(format!("listen on {listen}: {e}"));
    let wait = async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::NewListenAddr { .. } => return Ok(()),
                SwarmEvent::ListenerClosed { reason, .. } => {
                    return Err(fail(format!("{reason:?}")));
                }
                SwarmEvent::ListenerError { error, .. } => return Err(fail(error.to_string())),
                _ => {}
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), wait)
        .await
        .map_err(|_| fail("no listen address after 10 s".to_string()))?
}

struct Inner {
    commands: mpsc::Sender<Command>,
    local_id: ValidatorId,
    n: usize,
    max_message_bytes: usize,
    max_request_bytes: usize,
    metrics: Arc<Metrics>,
    /// See [`NetworkHandle::stop_reading`].
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    deaf: Arc<std::sync::atomic::AtomicBool>,
}

/// Cheap to clone; every clone talks to the same network task.
#[derive(Clone)]
pub struct NetworkHandle {
    inner: Arc<Inner>,
}

impl NetworkHandle {
    /// This node's validator id.
    pub fn local_id(&self) -> ValidatorId {
        self.inner.local_id
    }

    /// The network's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    fn check(&self, to: Option<ValidatorId>, len: usize, max: usize) -> Result<()> {
        if len > max {
            return Err(NetworkError::TooLarge { len, max });
        }
        match to {
            Some(id) if usize::from(id.0) >= self.inner.n => Err(NetworkError::UnknownValidator {
                id,
                n: self.inner.n,
            }),
            _ => Ok(()),
        }
    }

    async fn command(&self, c: Command) -> Result<()> {
        self.inner
            .commands
            .send(c)
            .await
            .map_err(|_| NetworkError::Stopped)
    }

    /// Sends `payload` of `kind` to every other validator. Waits only while the
    /// command queue is full; delivery is best effort (drops are counted).
    pub async fn broadcast(&self, kind: u8, payload: Vec<u8>) -> Result<()> {
        self.check(None, payload.len(), self.inner.max_message_bytes)?;
        self.command(Command::Broadcast(kind, payload)).await
    }

    /// Sends `payload` of `kind` to validator `to`, best effort.
    pub async fn send(&self, to: ValidatorId, kind: u8, payload: Vec<u8>) -> Result<()> {
        self.check(Some(to), payload.len(), self.inner.max_message_bytes)?;
        self.command(Command::Send(to, kind, payload)).await
    }

    /// Asks validator `to` and waits for its answer, up to the configured timeout.
    pub async fn request(&self, to: ValidatorId, kind: u8, payload: Vec<u8>) -> Result<Vec<u8>> {
        self.check(Some(to), payload.len(), self.inner.max_request_bytes)?;
        let (tx, rx) = oneshot::channel();
        self.command(Command::Request(to, kind, payload, tx))
            .await?;
        rx.await.map_err(|_| NetworkError::Stopped)?
    }

    /// Test-only (feature `testing`): sends `frame` to `to` as a message frame without
    /// wrapping it in an envelope, to exercise the receiver's checks.
    #[cfg(feature = "testing")]
    pub async fn send_raw_frame(&self, to: ValidatorId, frame: Vec<u8>) -> Result<()> {
        self.command(Command::SendRaw(to, frame)).await
    }

    /// Test-only (feature `testing`): from now on, inbound messages and requests are
    /// never read — their streams stay open until each sender's timeout — as by a
    /// peer that stopped reading its sockets. Sending still works.
    #[cfg(feature = "testing")]
    pub fn stop_reading(&self) {
        self.inner
            .deaf
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Adds a dial address for validator `to` (e.g. from an operator or a test that
    /// bound port 0); the node dials it at once if not connected.
    pub async fn add_address(&self, to: ValidatorId, addr: Multiaddr) -> Result<()> {
        self.check(Some(to), 0, 0)?;
        self.command(Command::AddAddress(to, addr)).await
    }

    /// Reports that validator `from` sent something bad: it costs the validator
    /// strikes, and past the limit its connections are closed and it is banned for a
    /// while (docs/NETWORK.md). Never waits: if the network is busy the report is lost.
    pub fn report(&self, from: ValidatorId, offence: Offence) {
        if self
            .inner
            .commands
            .try_send(Command::Report(from, offence))
            .is_err()
        {
            tracing::debug!(
                from = from.0,
                ?offence,
                "network busy; a misbehaviour report was lost"
            );
        }
    }

    /// Validators this node is connected to.
    pub async fn connected(&self) -> Result<Vec<ValidatorId>> {
        let (tx, rx) = oneshot::channel();
        self.command(Command::Connected(tx)).await?;
        rx.await.map_err(|_| NetworkError::Stopped)
    }

    /// Addresses this node listens on (with the real port when 0 was asked for).
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>> {
        let (tx, rx) = oneshot::channel();
        self.command(Command::ListenAddrs(tx)).await?;
        rx.await.map_err(|_| NetworkError::Stopped)
    }

    /// Stops the network task, closing every connection and the listener.
    pub async fn shutdown(&self) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.command(Command::Shutdown(tx)).await?;
        rx.await.map_err(|_| NetworkError::Stopped)
    }
}
