//! The node's Prometheus metrics and the HTTP endpoint that serves every registered
//! metric (node, network, RPC) at `/metrics`.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Metrics of the node itself (`cairn_node_*`).
pub struct NodeMetrics {
    /// Committed height.
    pub height: Gauge,
    /// Current consensus round.
    pub round: Gauge,
    /// Transactions in the mempool.
    pub mempool_size: Gauge,
    /// Transactions committed (applied or rejected).
    pub committed_txs: Counter,
    /// Local round timeouts that fired.
    pub timeouts: Counter,
    /// Equivocation evidence seen.
    pub evidence: Counter,
    /// Consensus messages from peers that did not decode.
    pub bad_messages: Counter,
    /// Consensus messages from peers whose signatures or certificates did not verify.
    pub bad_signatures: Counter,
    /// Consensus messages from peers dropped because that peer's verification budget
    /// was used up.
    pub dropped_messages: Counter,
    /// Batches this validator made from its clients' transactions.
    pub batches_made: Counter,
    /// This validator's batches that gathered a proof of availability.
    pub batches_certified: Counter,
    /// Peers' batches refused (not from their author, expired, over quota, reused).
    pub batches_refused: Counter,
    /// Batches fetched because a proposal needed them.
    pub batches_fetched: Counter,
    /// Own batches sent again to validators that had not voted for them.
    pub batches_resent: Counter,
    /// This validator's proposals sent with batch proofs instead of transactions.
    pub batched_proposals: Counter,
    /// Consensus messages whose exact bytes were verified before (replays): handed on
    /// without checking their signatures again.
    pub replays_skipped: Counter,
    /// Consensus messages dropped on arrival: their sender sent the same bytes within
    /// the replay window (half the base round timeout).
    pub replays_dropped: Counter,
    /// Replies to lagging validators (certificates) not sent: over that peer's rate.
    pub replies_limited: Counter,
    /// Block requests from peers refused: malformed, over the peer's rate, or too many
    /// in progress.
    pub block_requests_refused: Counter,
    /// Seconds from when this node first saw a block to its commit.
    pub commit_latency: Histogram,
    /// Votes this validator signed and sent (re-sends included).
    pub votes: Counter,
    /// Proposals whose state claim differs from what this node computed at that
    /// height (docs/PROTOCOL.md §6): honest validators disagree about execution.
    pub state_divergences: Counter,
    /// 1 while this validator follows without signing because it lost its safety
    /// state (docs/PROTOCOL.md, "Re-entry without safety state"), else 0.
    pub recovering: Gauge,
}

impl NodeMetrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> Arc<NodeMetrics> {
        let metrics = NodeMetrics {
            height: Gauge::default(),
            round: Gauge::default(),
            mempool_size: Gauge::default(),
            committed_txs: Counter::default(),
            timeouts: Counter::default(),
            evidence: Counter::default(),
            bad_messages: Counter::default(),
            bad_signatures: Counter::default(),
            dropped_messages: Counter::default(),
            batches_made: Counter::default(),
            batches_certified: Counter::default(),
            batches_refused: Counter::default(),
            batches_fetched: Counter::default(),
            batches_resent: Counter::default(),
            batched_proposals: Counter::default(),
            replays_skipped: Counter::default(),
            replays_dropped: Counter::default(),
            replies_limited: Counter::default(),
            block_requests_refused: Counter::default(),
            commit_latency: Histogram::new(exponential_buckets(0.005, 2.0, 14)),
            votes: Counter::default(),
            state_divergences: Counter::default(),
            recovering: Gauge::default(),
        };
        let r = registry.sub_registry_with_prefix("cairn_node");
        r.register("height", "Committed height", metrics.height.clone());
        r.register(
            "votes",
            "Votes this validator signed and sent",
            metrics.votes.clone(),
        );
        r.register(
            "state_divergences",
            "Proposals vouching for another state than this node computed at that height",
            metrics.state_divergences.clone(),
        );
        r.register(
            "recovering",
            "1 while following without signing after losing the safety state",
            metrics.recovering.clone(),
        );
        r.register("round", "Current consensus round", metrics.round.clone());
        r.register(
            "mempool_size",
            "Transactions in the mempool",
            metrics.mempool_size.clone(),
        );
        r.register(
            "committed_txs",
            "Committed transactions",
            metrics.committed_txs.clone(),
        );
        r.register(
            "timeouts",
            "Local round timeouts fired",
            metrics.timeouts.clone(),
        );
        r.register(
            "evidence",
            "Equivocation evidence seen",
            metrics.evidence.clone(),
        );
        r.register(
            "bad_messages",
            "Consensus messages from peers that did not decode",
            metrics.bad_messages.clone(),
        );
        r.register(
            "bad_signatures",
            "Consensus messages from peers that failed signature or certificate checks",
            metrics.bad_signatures.clone(),
        );
        r.register(
            "dropped_messages",
            "Consensus messages dropped because their sender's verification budget was used up",
            metrics.dropped_messages.clone(),
        );
        r.register(
            "batches_made",
            "Batches this validator made from its clients' transactions",
            metrics.batches_made.clone(),
        );
        r.register(
            "batches_certified",
            "Batches of this validator that gathered a proof of availability",
            metrics.batches_certified.clone(),
        );
        r.register(
            "batches_refused",
            "Batches from peers refused (not from their author, expired, over quota, sequence reused)",
            metrics.batches_refused.clone(),
        );
        r.register(
            "batches_fetched",
            "Batches fetched from their signers because a proposal needed them",
            metrics.batches_fetched.clone(),
        );
        r.register(
            "batches_resent",
            "Own batches sent again to the validators that had not voted for them",
            metrics.batches_resent.clone(),
        );
        r.register(
            "batched_proposals",
            "Proposals of this validator sent with batch proofs instead of transactions",
            metrics.batched_proposals.clone(),
        );
        r.register(
            "replays_skipped",
            "Consensus messages verified before byte for byte, not verified again",
            metrics.replays_skipped.clone(),
        );
        r.register(
            "replays_dropped",
            "Consensus messages dropped on arrival: their sender sent the same bytes moments ago",
            metrics.replays_dropped.clone(),
        );
        r.register(
            "replies_limited",
            "Certificates for lagging peers not sent because of the per-peer reply rate",
            metrics.replies_limited.clone(),
        );
        r.register(
            "block_requests_refused",
            "Block requests refused: malformed, over the peer's rate, or too many at once",
            metrics.block_requests_refused.clone(),
        );
        r.register(
            "commit_latency_seconds",
            "Seconds from when this node first saw a block to its commit",
            metrics.commit_latency.clone(),
        );
        Arc::new(metrics)
    }
}

/// Binds the metrics endpoint (a port in use is an error naming the address).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("metrics.listen {addr}: cannot bind"))
}

/// Serves `GET /metrics` until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    registry: Arc<Registry>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics endpoint: accept failed");
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let registry = registry.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| respond(req, registry.clone()));
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "metrics connection ended with an error");
            }
        });
    }
}

async fn respond(
    req: Request<hyper::body::Incoming>,
    registry: Arc<Registry>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let (status, body) = if req.uri().path() == "/metrics" {
        let mut text = String::new();
        match encode(&mut text, &registry) {
            Ok(()) => (StatusCode::OK, text),
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("encoding failed: {e}\n"),
            ),
        }
    } else {
        (StatusCode::NOT_FOUND, "see /metrics\n".to_string())
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}
