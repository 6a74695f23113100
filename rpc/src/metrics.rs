//! Prometheus metrics of the RPC server.
//!
//! * `cairn_rpc_requests_total{method, outcome}`: calls answered, by method and by
//!   `outcome="ok"|"error"`. Calls to unknown methods count under `method="unknown"`,
//!   so a client cannot grow the label set.
//! * `cairn_rpc_subscriptions`: heads subscriptions currently open.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::methods;

/// Labels of `cairn_rpc_requests_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    outcome: &'static str,
}

/// The RPC server's metrics; register once, share with [`crate::RpcServer::start`].
#[derive(Debug, Default)]
pub struct RpcMetrics {
    requests: Family<RequestLabels, Counter>,
    subscriptions: Gauge,
}

impl RpcMetrics {
    /// Creates the metrics and adds them to `registry`.
    pub fn register(registry: &mut Registry) -> Arc<RpcMetrics> {
        let metrics = RpcMetrics::default();
        registry.register(
            "cairn_rpc_requests",
            "JSON-RPC calls answered, by method and outcome (ok or error)",
            metrics.requests.clone(),
        );
        registry.register(
            "cairn_rpc_subscriptions",
            "Heads subscriptions currently open",
            metrics.subscriptions.clone(),
        );
        Arc::new(metrics)
    }

    /// Counts one answered call of `method`.
    pub(crate) fn record(&self, method: &str, ok: bool) {
        let method = methods::registered_names()
            .find(|name| *name == method)
            .unwrap_or("unknown");
        let outcome = if ok { "ok" } else { "error" };
        self.requests
            .get_or_create(&RequestLabels { method, outcome })
            .inc();
    }

    /// Calls of `method` answered with `outcome` ("ok" or "error") so far.
    pub fn requests(&self, method: &'static str, outcome: &'static str) -> u64 {
        self.requests
            .get_or_create(&RequestLabels { method, outcome })
            .get()
    }

    /// Subscriptions currently open.
    pub fn open_subscriptions(&self) -> i64 {
        self.subscriptions.get()
    }

    pub(crate) fn subscription_opened(&self) {
        self.subscriptions.inc();
    }

    pub(crate) fn subscription_closed(&self) {
        self.subscriptions.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;

    #[test]
    fn counts_by_method_and_outcome_and_bounds_the_labels() {
        let mut registry = Registry::default();
        let metrics = RpcMetrics::register(&mut registry);
        metrics.record("chain_head", true);
        metrics.record("chain_head", false);
        metrics.record("no_such_method_0123", false);
        metrics.subscription_opened();
        assert_eq!(metrics.requests("chain_head", "ok"), 1);
        assert_eq!(metrics.requests("unknown", "error"), 1);
        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        assert!(
            text.contains("cairn_rpc_requests_total{method=\"chain_head\",outcome=\"ok\"} 1"),
            "{text}"
        );
        assert!(text.contains("cairn_rpc_subscriptions 1"), "{text}");
        assert!(!text.contains("no_such_method"));
    }
}
