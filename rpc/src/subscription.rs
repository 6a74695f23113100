//! `chain_subscribeHeads`: replay committed blocks from a height, then follow the
//! node's commits, sending every height exactly once and in order.
//!
//! The store is the source of truth; the node's `heads` watch only wakes the task. A
//! subscriber whose send buffer stays full for the configured timeout is closed with
//! [`codes::SUBSCRIBER_TOO_SLOW`]: it is never silently skipped ahead.

use std::sync::Arc;

use cairn_types::Height;
use jsonrpsee::core::SubscriptionError;
use jsonrpsee::core::server::SendTimeoutError;
use jsonrpsee::{
    PendingSubscriptionSink, SubscriptionCloseResponse, SubscriptionMessage, SubscriptionSink,
};
use serde_json::json;

use crate::error::codes;
use crate::methods::CHAIN_SUBSCRIBE_HEADS;
use crate::module::Handler;
use crate::reads::head_at;
use crate::types::HeadInfo;

/// Why a subscription ended.
enum End {
    /// The client unsubscribed or disconnected, or the node is stopping.
    Closed,
    /// The client did not drain its buffer in time.
    TooSlow { height: Height },
    /// The store failed.
    Internal(String),
}

/// Counts the subscription in the gauge for as long as it lives.
struct Live(Option<Arc<crate::metrics::RpcMetrics>>);

impl Live {
    fn new(metrics: Option<Arc<crate::metrics::RpcMetrics>>) -> Live {
        if let Some(metrics) = &metrics {
            metrics.subscription_opened();
        }
        Live(metrics)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(metrics) = &self.0 {
            metrics.subscription_closed();
        }
    }
}

/// Runs one heads subscription to its end.
pub(crate) async fn serve_heads(
    handler: Arc<Handler>,
    pending: PendingSubscriptionSink,
    from: Option<Height>,
) -> SubscriptionCloseResponse {
    let start = match from {
        Some(height) => Ok(height.max(1)),
        None => handler.ctx.store.head().map(|head| head.height + 1),
    };
    let start = match start {
        Ok(start) => start,
        Err(error) => {
            pending
                .reject(crate::api_error::internal(CHAIN_SUBSCRIBE_HEADS, error))
                .await;
            return SubscriptionCloseResponse::None;
        }
    };
    let Ok(sink) = pending.accept().await else {
        return SubscriptionCloseResponse::None;
    };
    let _live = Live::new(handler.metrics.clone());
    match follow(&handler, &sink, start).await {
        End::Closed => SubscriptionCloseResponse::None,
        End::TooSlow { height } => {
            tracing::info!(
                connection = sink.connection_id().0,
                height,
                "closing a heads subscriber that does not keep up"
            );
            close_with(
                codes::SUBSCRIBER_TOO_SLOW,
                format!(
                    "subscriber too slow: notifications were not read for {:?}; the \
                     subscription is closed. Resubscribe with from = {height} to continue \
                     without a gap",
                    handler.slow_subscriber_timeout
                ),
                Some(json!({ "next_height": height })),
            )
        }
        End::Internal(error) => {
            tracing::error!(%error, "heads subscription failed");
            close_with(
                codes::INTERNAL,
                "internal error: the node could not read its store; see the node's log".into(),
                None,
            )
        }
    }
}

/// Sends heights from `next` on: everything stored, then each new commit.
async fn follow(handler: &Handler, sink: &SubscriptionSink, mut next: Height) -> End {
    let mut heads = handler.ctx.heads.clone();
    let store = &handler.ctx.store;
    loop {
        // Marks the current value seen before reading the store, so a commit after
        // this point wakes the wait below.
        heads.borrow_and_update();
        let head = match store.head() {
            Ok(head) => head.height,
            Err(error) => return End::Internal(error.to_string()),
        };
        while next <= head {
            let event = match head_at(store, &handler.ctx.genesis, next) {
                Ok(Some(event)) => event,
                Ok(None) => return End::Internal(format!("committed height {next} is missing")),
                Err(error) => return End::Internal(error.to_string()),
            };
            if let Some(end) = send(handler, sink, &event).await {
                return end;
            }
            next += 1;
        }
        tokio::select! {
            changed = heads.changed() => {
                if changed.is_err() {
                    // The node dropped its sender: it is shutting down.
                    return End::Closed;
                }
            }
            () = sink.closed() => return End::Closed,
        }
    }
}

/// Sends one event, waiting at most the slow-subscriber timeout for buffer space.
async fn send(handler: &Handler, sink: &SubscriptionSink, event: &HeadInfo) -> Option<End> {
    let message = match serde_json::value::to_raw_value(event) {
        Ok(raw) => SubscriptionMessage::from(raw),
        Err(error) => return Some(End::Internal(error.to_string())),
    };
    match sink
        .send_timeout(message, handler.slow_subscriber_timeout)
        .await
    {
        Ok(()) => None,
        Err(SendTimeoutError::Timeout(_)) => Some(End::TooSlow {
            height: event.height,
        }),
        Err(SendTimeoutError::Closed(_)) => Some(End::Closed),
    }
}

/// The final error notification of a subscription: `{code, message, data?}`.
fn close_with(
    code: i32,
    message: String,
    data: Option<serde_json::Value>,
) -> SubscriptionCloseResponse {
    let mut error = json!({ "code": code, "message": message });
    if let Some(data) = data {
        error["data"] = data;
    }
    match serde_json::value::to_raw_value(&error) {
        Ok(raw) => SubscriptionCloseResponse::NotifErr(SubscriptionError::from_json(raw)),
        Err(_) => SubscriptionCloseResponse::NotifErr(SubscriptionError::from(message)),
    }
}
