//! Message streams: one long-lived stream per peer and lane carries that lane's
//! messages as back-to-back frames.
//!
//! A message used to be a request-response exchange of its own (a new substream, the
//! frame, an empty acknowledgement), several task wake-ups on both sides for every
//! vote. Now a writer task per peer and lane owns an outbound stream and writes
//! whatever its [`Outbox`] holds with one flush; a reader task per inbound stream
//! checks each frame against the peer's [`Gate`] and queues it for the node, without a
//! round trip through the network task. Frames on one stream arrive in order.
//!
//! The receiver confirms each new stream with one byte before anything is written to
//! it: libp2p hands inbound streams over through a one-slot channel and drops a stream
//! that finds it full (two peers opening at once), and a writer that did not wait
//! would lose what it wrote into such a stream without knowing.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cairn_types::ValidatorId;
use futures::io::BufReader;
use futures::{AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::swarm::Stream;
use libp2p::{PeerId, StreamProtocol};
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};

use crate::codec::{frame_prefix, read_frame};
use crate::gate::{Admission, Gate, GateRules};
use crate::handle::Incoming;
use crate::inbox::InboxPusher;
use crate::metrics::{DropReason, Metrics};
use crate::outbox::{Batch, Frame, Outbox};

/// Messages (broadcast and direct) as a stream of frames.
pub const MSG_PROTOCOL: StreamProtocol = StreamProtocol::new("/cairn/msg/2");

/// Bytes a writer takes from its outbox for one write and flush.
const BATCH_BYTES: usize = 256 * 1024;
/// How long opening a stream may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one batch may take to write: a peer that takes nothing for this long is
/// not reading, and its stream is dropped (with the batch) and opened again.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after a stream could not be opened, before the next try.
const RETRY_AFTER: Duration = Duration::from_millis(100);
/// Tries to open a stream for one batch before it is dropped (while connected).
const OPEN_TRIES: u32 = 20;
/// The byte a receiver sends on a stream it has taken.
const STREAM_ACCEPTED: u8 = 0xc4;
/// Read buffer of an inbound stream: many small frames per read of the connection.
const READ_BUFFER: usize = 64 * 1024;
/// Message streams one peer may hold open towards this node at once (two lanes on
/// each of its two permitted connections); a newer one replaces the oldest, which is
/// most likely on a connection that died.
pub(crate) const MAX_STREAMS_PER_PEER: usize = 4;
/// How long a reader holds a message while the node has no room for it: long enough
/// to ride out a burst, short enough that a node away in block sync (not taking
/// messages) drops what goes stale and keeps reading, so a stream that died is
/// noticed.
const DELIVER_WAIT: Duration = Duration::from_secs(1);

/// Writes `outbox` to `peer` until the task is aborted (when the network stops).
pub(crate) async fn write_loop(
    outbox: Arc<Outbox>,
    mut control: libp2p_stream::Control,
    peer: PeerId,
    metrics: Arc<Metrics>,
) {
    let mut stream: Option<Stream> = None;
    let mut buf = Vec::new();
    loop {
        let Batch {
            frames: batch,
            expired,
        } = outbox.next_batch(BATCH_BYTES).await;
        for _ in 0..expired {
            metrics.dropped(DropReason::Expired);
        }
        if batch.is_empty() {
            continue;
        }
        let opened = match stream.take() {
            Some(s) => Some(s),
            None => open_while_connected(&outbox, &mut control, peer).await,
        };
        let Some(mut s) = opened else {
            failed(&metrics, batch.len());
            continue;
        };
        encode_batch(&batch, &mut buf);
        match tokio::time::timeout(WRITE_TIMEOUT, write_flush(&mut s, &buf)).await {
            Ok(Ok(())) => {
                for (kind, env) in &batch {
                    metrics.sent(*kind, env.len());
                }
                stream = Some(s);
            }
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "message stream failed");
                failed(&metrics, batch.len());
            }
            Err(_) => {
                tracing::debug!(%peer, "message stream stalled; opening a new one");
                failed(&metrics, batch.len());
            }
        }
    }
}

/// Opens a confirmed stream, retrying while the peer stays connected, up to
/// [`OPEN_TRIES`] times.
async fn open_while_connected(
    outbox: &Outbox,
    control: &mut libp2p_stream::Control,
    peer: PeerId,
) -> Option<Stream> {
    for _ in 0..OPEN_TRIES {
        match tokio::time::timeout(OPEN_TIMEOUT, open(control, peer)).await {
            Ok(Ok(s)) => return Some(s),
            Ok(Err(e)) => tracing::debug!(%peer, error = %e, "cannot open a message stream"),
            Err(_) => tracing::debug!(%peer, "opening a message stream timed out"),
        }
        if !outbox.is_connected() {
            return None;
        }
        tokio::time::sleep(RETRY_AFTER).await;
    }
    None
}

/// Opens a stream and waits for the receiver's confirmation.
async fn open(control: &mut libp2p_stream::Control, peer: PeerId) -> io::Result<Stream> {
    let mut s = control
        .open_stream(peer, MSG_PROTOCOL)
        .await
        .map_err(|e| io::Error::other(e.to_string()))?;
    // Sends the (lazily negotiated) protocol header, so the receiver sees the stream.
    s.flush().await?;
    let mut ack = [0u8; 1];
    s.read_exact(&mut ack).await?;
    if ack[0] != STREAM_ACCEPTED {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a stream confirmation",
        ));
    }
    Ok(s)
}

fn failed(metrics: &Metrics, frames: usize) {
    for _ in 0..frames {
        metrics.dropped(DropReason::SendFailed);
    }
}

/// Frames `batch` into `buf` (cleared first). A frame too long for its 4-byte prefix
/// cannot exist here (the handle caps payloads far below it) and is skipped.
fn encode_batch(batch: &[Frame], buf: &mut Vec<u8>) {
    buf.clear();
    for (_, env) in batch {
        if let Ok(prefix) = frame_prefix(env.len()) {
            buf.extend_from_slice(&prefix);
            buf.extend_from_slice(env);
        }
    }
}

async fn write_flush<T: AsyncWrite + Unpin>(io: &mut T, bytes: &[u8]) -> io::Result<()> {
    io.write_all(bytes).await?;
    io.flush().await
}

/// What a reader needs besides its stream.
#[derive(Clone)]
pub(crate) struct ReadContext {
    /// The sender, as the node knows it.
    pub from: ValidatorId,
    /// The sender's peer id (for a ban).
    pub peer: PeerId,
    /// The sender's gate.
    pub gate: Gate,
    /// What the gate applies.
    pub rules: GateRules,
    /// Largest frame read; a longer one closes the stream unread.
    pub max_frame: usize,
    /// Where admitted messages go.
    pub inbox: InboxPusher,
    /// Kinds delivered in the priority lane.
    pub priority: Arc<[u8]>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Test builds only: stop reading, as a peer that stopped reading its sockets.
    pub deaf: Arc<AtomicBool>,
    /// Where a reader asks the network task to ban its sender.
    pub bans: mpsc::Sender<PeerId>,
}

/// Reads frames from one inbound stream until it ends, breaks a rule that costs the
/// sender its connection, or the task is aborted.
pub(crate) async fn read_loop(ctx: ReadContext, mut stream: Stream) {
    let confirmed = async {
        stream.write_all(&[STREAM_ACCEPTED]).await?;
        stream.flush().await
    };
    if tokio::time::timeout(OPEN_TIMEOUT, confirmed).await.is_err() {
        return;
    }
    let mut io = BufReader::with_capacity(READ_BUFFER, stream);
    loop {
        if ctx.deaf.load(Ordering::Relaxed) {
            // The stream stays open and unread: the sender's writes stall.
            return std::future::pending().await;
        }
        let bytes = match read_frame(&mut io, ctx.max_frame).await {
            Ok(bytes) => bytes,
            Err(e) => {
                if e.kind() == io::ErrorKind::InvalidData {
                    // Too long: the rest of the stream cannot be framed any more.
                    ctx.metrics.dropped(DropReason::Oversized);
                    if ctx.gate.strike(Instant::now(), &ctx.rules, 1) {
                        ban(&ctx);
                    }
                }
                return;
            }
        };
        match ctx
            .gate
            .admit(&bytes, &ctx.rules, &ctx.metrics, Instant::now())
        {
            Admission::Pass(env) => {
                let msg = Incoming::Message {
                    from: ctx.from,
                    kind: env.kind,
                    payload: env.payload,
                };
                let delivered = ctx.inbox.deliver_waiting(msg, &ctx.priority);
                if tokio::time::timeout(DELIVER_WAIT, delivered).await.is_err() {
                    ctx.metrics.dropped(DropReason::Backpressure);
                }
            }
            Admission::Refused { ban: false } => {}
            Admission::Refused { ban: true } => {
                ban(&ctx);
                return;
            }
        }
    }
}

/// Takes every inbound message stream and reads it on a task of its own, at most
/// [`MAX_STREAMS_PER_PEER`] per sender; `contexts` has an entry per permitted peer.
/// Runs until the task is aborted (the readers with it).
pub(crate) async fn accept_loop(
    mut streams: libp2p_stream::IncomingStreams,
    contexts: HashMap<PeerId, ReadContext>,
) {
    let mut readers = Readers::default();
    loop {
        tokio::select! {
            next = streams.next() => {
                let Some((peer, stream)) = next else { break };
                if let Some(ctx) = contexts.get(&peer) {
                    readers.start(ctx, stream);
                }
                // Else a stranger: the allow-list keeps them out before this.
            }
            Some(_) = readers.tasks.join_next(), if !readers.tasks.is_empty() => {}
        }
    }
    // No more streams can come; the readers run until the task is aborted.
    while readers.tasks.join_next().await.is_some() {}
}

/// The reader tasks, and per peer the newest of them.
#[derive(Default)]
struct Readers {
    tasks: JoinSet<()>,
    by_peer: HashMap<PeerId, VecDeque<AbortHandle>>,
}

impl Readers {
    /// Reads `stream` on a new task; if its sender already has
    /// [`MAX_STREAMS_PER_PEER`] streams being read, the oldest is dropped.
    fn start(&mut self, ctx: &ReadContext, stream: Stream) {
        let handle = self.tasks.spawn(read_loop(ctx.clone(), stream));
        let held = self.by_peer.entry(ctx.peer).or_default();
        held.retain(|h| !h.is_finished());
        if held.len() >= MAX_STREAMS_PER_PEER
            && let Some(oldest) = held.pop_front()
        {
            tracing::debug!(peer = %ctx.peer, "too many message streams; dropping the oldest");
            oldest.abort();
        }
        held.push_back(handle);
    }
}

fn ban(ctx: &ReadContext) {
    // Full only if bans are already waiting; this sender's next offence asks again.
    let _ = ctx.bans.try_send(ctx.peer);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_frames_back_to_back() {
        let mut buf = vec![9; 3];
        encode_batch(&[(1, vec![1, 2]), (2, Vec::new()), (3, vec![3])], &mut buf);
        assert_eq!(buf, [0, 0, 0, 2, 1, 2, 0, 0, 0, 0, 0, 0, 0, 1, 3]);
    }

    #[tokio::test]
    async fn frames_written_as_one_batch_read_back_one_by_one() {
        let mut buf = Vec::new();
        encode_batch(&[(1, vec![5; 300]), (1, vec![6; 2])], &mut buf);
        let mut io = futures::io::Cursor::new(buf);
        assert_eq!(read_frame(&mut io, 300).await.unwrap(), vec![5; 300]);
        assert_eq!(read_frame(&mut io, 300).await.unwrap(), vec![6; 2]);
        assert!(read_frame(&mut io, 300).await.is_err(), "end of stream");
    }

    #[tokio::test]
    async fn a_frame_over_the_cap_is_refused_unread() {
        let mut buf = Vec::new();
        encode_batch(&[(1, vec![0; 301])], &mut buf);
        let mut io = futures::io::Cursor::new(buf);
        let err = read_frame(&mut io, 300).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(io.position(), 4, "only the length was read");
    }
}
