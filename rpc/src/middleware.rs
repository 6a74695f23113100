//! The RPC middleware in front of every method: a per-connection token-bucket rate
//! limit (answering [`codes::RATE_LIMITED`]) and the request counters.
//!
//! Batches are unpacked here and each entry goes through the same limit and counter
//! as a single call, so a batch buys no extra rate; likewise `tx_submitBatch` costs one
//! token per transaction it carries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use jsonrpsee::ConnectionId;
use jsonrpsee::core::server::BatchResponseBuilder;
use jsonrpsee::server::middleware::rpc::{
    Batch, BatchEntry, MethodResponse, Notification, Request, RpcServiceT,
};
use jsonrpsee::types::ErrorObjectOwned;

use crate::error::codes;
use crate::metrics::RpcMetrics;

/// Buckets kept before idle (full) ones are dropped.
const PRUNE_ABOVE: usize = 1024;

/// A token bucket per connection: `per_second` tokens a second, at most `burst`.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<usize, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    /// A limiter of `per_second` calls a second with bursts of `burst`.
    pub(crate) fn new(per_second: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            per_second: f64::from(per_second),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `cost` tokens (at most a full bucket's) from `connection`'s bucket; false
    /// if it holds fewer.
    pub(crate) fn admit(&self, connection: usize, now: Instant, cost: u32) -> bool {
        let cost = f64::from(cost.max(1)).min(self.burst);
        // The map holds only counters, so a panic elsewhere leaves nothing to repair.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            // A full bucket behaves exactly like a new one, so it can go.
            buckets.retain(|_, bucket| self.refill(*bucket, now).tokens < self.burst);
        }
        let bucket = buckets.entry(connection).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        *bucket = self.refill(*bucket, now);
        if bucket.tokens >= cost {
            bucket.tokens -= cost;
            true
        } else {
            false
        }
    }

    fn refill(&self, bucket: Bucket, now: Instant) -> Bucket {
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        Bucket {
            tokens: (bucket.tokens + elapsed * self.per_second).min(self.burst),
            updated: now,
        }
    }
}

/// The middleware service wrapping jsonrpsee's.
#[derive(Clone, Debug)]
pub(crate) struct Guard<S> {
    pub(crate) inner: S,
    pub(crate) limiter: Option<Arc<RateLimiter>>,
    pub(crate) metrics: Option<Arc<RpcMetrics>>,
    pub(crate) max_response_bytes: usize,
}

fn rate_limited() -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        codes::RATE_LIMITED,
        "rate limited: this connection sends more requests than allowed; slow down",
        None::<()>,
    )
}

impl<S> Guard<S> {
    fn admit(&self, request: &Request<'_>) -> bool {
        let Some(limiter) = &self.limiter else {
            return true;
        };
        let connection = request
            .extensions()
            .get::<ConnectionId>()
            .map_or(usize::MAX, |id| id.0);
        limiter.admit(connection, Instant::now(), cost(request))
    }
}

/// Tokens a call costs: one, or for `tx_submitBatch` one per transaction it carries
/// (counted without decoding them; unparsable parameters cost one and are refused by
/// the method itself).
fn cost(request: &Request<'_>) -> u32 {
    use serde::de::IgnoredAny;
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum BatchParams {
        Positional((Vec<IgnoredAny>,)),
        Named { txs: Vec<IgnoredAny> },
    }
    if request.method_name() != crate::methods::TX_SUBMIT_BATCH {
        return 1;
    }
    let txs = match request.params().parse::<BatchParams>() {
        Ok(BatchParams::Positional((txs,)) | BatchParams::Named { txs }) => txs.len(),
        Err(_) => 1,
    };
    u32::try_from(txs).unwrap_or(u32::MAX)
}

impl<S> RpcServiceT for Guard<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Clone
        + Send
        + Sync
        + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let this = self.clone();
        let span = tracing::debug_span!(
            "rpc",
            method = %request.method_name(),
            id = %request.id,
            connection = request.extensions.get::<ConnectionId>().map(|c| c.0)
        );
        let call = async move {
            let method = request.method_name().to_string();
            let response = if this.admit(&request) {
                this.inner.call(request).await
            } else {
                tracing::debug!(%method, "rate limited");
                MethodResponse::error(request.id, rate_limited())
                    .with_extensions(request.extensions)
            };
            if let Some(metrics) = &this.metrics {
                metrics.record(&method, response.is_success());
            }
            tracing::trace!(ok = response.is_success(), "answered");
            response
        };
        tracing::Instrument::instrument(call, span)
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let this = self.clone();
        async move {
            let mut responses = BatchResponseBuilder::new_with_limit(this.max_response_bytes);
            let mut got_notification = false;
            for entry in batch {
                let response = match entry {
                    Ok(BatchEntry::Call(request)) => this.call(request).await,
                    Ok(BatchEntry::Notification(notification)) => {
                        got_notification = true;
                        this.inner.notification(notification).await;
                        continue;
                    }
                    Err(error) => {
                        let (error, id) = error.into_parts();
                        MethodResponse::error(id, error)
                    }
                };
                if let Err(too_big) = responses.append(response) {
                    return too_big;
                }
            }
            if responses.is_empty() && got_notification {
                MethodResponse::notification()
            } else {
                MethodResponse::from_batch(responses.finish())
            }
        }
    }

    fn notification<'a>(
        &self,
        notification: Notification<'a>,
    ) -> impl Future<Output = MethodResponse> + Send + 'a {
        self.inner.notification(notification)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn buckets_allow_a_burst_then_refill_per_connection() {
        let limiter = RateLimiter::new(10, 3);
        let start = Instant::now();
        assert!((0..3).all(|_| limiter.admit(1, start, 1)));
        assert!(!limiter.admit(1, start, 1));
        // Another connection has its own bucket.
        assert!(limiter.admit(2, start, 1));
        // 100 ms at 10/s gives one token back.
        let later = start + Duration::from_millis(100);
        assert!(limiter.admit(1, later, 1));
        assert!(!limiter.admit(1, later, 1));
    }

    #[test]
    fn a_call_may_cost_several_tokens_but_never_more_than_a_full_bucket() {
        let limiter = RateLimiter::new(10, 5);
        let start = Instant::now();
        assert!(limiter.admit(1, start, 3));
        assert!(!limiter.admit(1, start, 3), "two tokens left");
        assert!(limiter.admit(1, start, 2));
        // A cost above the burst is charged as the burst: possible from a full bucket.
        assert!(limiter.admit(2, start, 100));
        assert!(!limiter.admit(2, start, 1));
    }

    #[test]
    fn idle_buckets_are_pruned() {
        let limiter = RateLimiter::new(1000, 1);
        let start = Instant::now();
        for connection in 0..=PRUNE_ABOVE + 1 {
            limiter.admit(connection, start, 1);
        }
        let later = start + Duration::from_secs(1);
        limiter.admit(usize::MAX, later, 1);
        let kept = limiter.buckets.lock().unwrap().len();
        assert!(kept <= 2, "{kept} buckets kept");
    }
}
