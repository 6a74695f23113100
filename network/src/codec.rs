//! Length-prefixed frames, with a size cap checked before anything is allocated: the
//! codec of the request-response protocol, and the frame helpers of message streams.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;

use crate::metrics::{DropReason, Metrics};

/// Frames are a 4-byte big-endian length followed by that many bytes. Requests above
/// `max_request` and responses above `max_response` are refused unread; refused
/// inbound requests are counted as [`DropReason::Oversized`].
#[derive(Clone)]
pub struct FrameCodec {
    max_request: usize,
    max_response: usize,
    metrics: Arc<Metrics>,
    /// Set only by fault-run builds (`NetworkHandle::stop_reading`, feature
    /// `testing`): inbound requests are then never read, as by a peer that stopped
    /// reading its sockets.
    deaf: Arc<AtomicBool>,
}

impl FrameCodec {
    /// A codec with the given caps, counting refusals in `metrics`; it stops reading
    /// requests once `deaf` is set.
    pub fn new(
        max_request: usize,
        max_response: usize,
        metrics: Arc<Metrics>,
        deaf: Arc<AtomicBool>,
    ) -> FrameCodec {
        FrameCodec {
            max_request,
            max_response,
            metrics,
            deaf,
        }
    }
}

/// Reads one frame, refusing (`InvalidData`) a length above `max` before reading it.
pub(crate) async fn read_frame<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    max: usize,
) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes exceeds the cap of {max}"),
        ));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    Ok(buf)
}

/// The 4-byte big-endian length prefix of a frame of `len` bytes.
pub(crate) fn frame_prefix(len: usize) -> io::Result<[u8; 4]> {
    u32::try_from(len)
        .map(u32::to_be_bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))
}

/// Writes one frame and closes the stream (request-response: one frame per stream).
async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, bytes: &[u8]) -> io::Result<()> {
    io.write_all(&frame_prefix(bytes.len())?).await?;
    io.write_all(bytes).await?;
    io.close().await
}

impl libp2p::request_response::Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        if self.deaf.load(Ordering::Relaxed) {
            // The stream stays open and unread until the sender's request times out.
            return std::future::pending().await;
        }
        let result = read_frame(io, self.max_request).await;
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::InvalidData) {
            self.metrics.dropped(DropReason::Oversized);
        }
        result
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_response).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res).await
    }
}
