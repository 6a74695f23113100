//! Prometheus metrics, named `cairn_network_<what>_<unit>`.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::handle::Offence;

/// Why an inbound or outbound message was dropped.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum DropReason {
    /// A frame above the size cap (refused unread).
    Oversized,
    /// Bytes that are not one SCALE envelope.
    Malformed,
    /// An envelope version this build does not speak.
    UnknownVersion,
    /// The sender exceeded its rate limit.
    RateLimited,
    /// The node did not keep up: the incoming queue was full.
    Backpressure,
    /// The per-peer outbound queue was full.
    QueueFull,
    /// Waited in the per-peer outbound queue past `Limits::max_queued_age` (the peer
    /// was unreachable or not reading); dropped instead of sent late.
    Expired,
    /// The message could not be delivered (connection lost, timeout).
    SendFailed,
    /// From a peer outside the validator set (should never pass permissioning).
    NotPermitted,
}

/// Why this node closed a peer's connections.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum DisconnectReason {
    /// The peer kept exceeding its rate or size limits.
    Penalty,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: u8,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DropLabels {
    reason: DropReason,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OffenceLabels {
    offence: Offence,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DisconnectLabels {
    reason: DisconnectReason,
}

/// The network's metrics. Counters get Prometheus' `_total` suffix when exposed.
#[derive(Default, Debug)]
pub struct Metrics {
    connected_peers: Gauge,
    received_messages: Family<KindLabels, Counter>,
    received_bytes: Family<KindLabels, Counter>,
    sent_messages: Family<KindLabels, Counter>,
    sent_bytes: Family<KindLabels, Counter>,
    dropped_messages: Family<DropLabels, Counter>,
    denied_connections: Counter,
    peer_disconnects: Family<DisconnectLabels, Counter>,
    offences: Family<OffenceLabels, Counter>,
}

impl Metrics {
    /// Registers every metric in `registry` under the `cairn_network_` prefix.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("cairn_network");
        r.register(
            "connected_peers",
            "Validators with at least one open connection",
            self.connected_peers.clone(),
        );
        r.register(
            "received_messages",
            "Messages and requests received, by kind",
            self.received_messages.clone(),
        );
        r.register(
            "received_bytes",
            "Payload bytes received, by kind",
            self.received_bytes.clone(),
        );
        r.register(
            "sent_messages",
            "Messages and requests sent, by kind",
            self.sent_messages.clone(),
        );
        r.register(
            "sent_bytes",
            "Payload bytes sent, by kind",
            self.sent_bytes.clone(),
        );
        r.register(
            "dropped_messages",
            "Messages dropped, by reason",
            self.dropped_messages.clone(),
        );
        r.register(
            "denied_connections",
            "Connections refused because the peer is not a validator",
            self.denied_connections.clone(),
        );
        r.register(
            "peer_disconnects",
            "Peers disconnected by this node, by reason",
            self.peer_disconnects.clone(),
        );
        r.register(
            "offences",
            "Bad messages the node reported against their senders, by offence",
            self.offences.clone(),
        );
    }

    pub(crate) fn set_connected(&self, n: usize) {
        self.connected_peers
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    pub(crate) fn received(&self, kind: u8, bytes: usize) {
        let l = KindLabels { kind };
        self.received_messages.get_or_create(&l).inc();
        self.received_bytes.get_or_create(&l).inc_by(bytes as u64);
    }

    pub(crate) fn sent(&self, kind: u8, bytes: usize) {
        let l = KindLabels { kind };
        self.sent_messages.get_or_create(&l).inc();
        self.sent_bytes.get_or_create(&l).inc_by(bytes as u64);
    }

    pub(crate) fn dropped(&self, reason: DropReason) {
        self.dropped_messages
            .get_or_create(&DropLabels { reason })
            .inc();
    }

    pub(crate) fn offence(&self, offence: Offence) {
        self.offences
            .get_or_create(&OffenceLabels { offence })
            .inc();
    }

    /// Offences of kind `offence` reported so far.
    pub fn offence_count(&self, offence: Offence) -> u64 {
        self.offences
            .get_or_create(&OffenceLabels { offence })
            .get()
    }

    pub(crate) fn denied(&self) {
        self.denied_connections.inc();
    }

    pub(crate) fn disconnected(&self, reason: DisconnectReason) {
        self.peer_disconnects
            .get_or_create(&DisconnectLabels { reason })
            .inc();
    }

    /// Validators currently connected.
    pub fn connected_peers(&self) -> i64 {
        self.connected_peers.get()
    }

    /// Messages dropped for `reason` so far.
    pub fn dropped_count(&self, reason: DropReason) -> u64 {
        self.dropped_messages
            .get_or_create(&DropLabels { reason })
            .get()
    }

    /// Connections refused because the peer is not a validator.
    pub fn denied_count(&self) -> u64 {
        self.denied_connections.get()
    }

    /// Peers disconnected for `reason` so far.
    pub fn disconnect_count(&self, reason: DisconnectReason) -> u64 {
        self.peer_disconnects
            .get_or_create(&DisconnectLabels { reason })
            .get()
    }

    /// Messages received of `kind` so far.
    pub fn received_count(&self, kind: u8) -> u64 {
        self.received_messages
            .get_or_create(&KindLabels { kind })
            .get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_uses_cairn_network_names() {
        let m = Metrics::default();
        let mut registry = Registry::default();
        m.register(&mut registry);
        m.set_connected(3);
        m.received(2, 100);
        m.sent(2, 50);
        m.dropped(DropReason::RateLimited);
        m.denied();
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        for line in [
            "cairn_network_connected_peers 3",
            "cairn_network_received_messages_total{kind=\"2\"} 1",
            "cairn_network_received_bytes_total{kind=\"2\"} 100",
            "cairn_network_sent_bytes_total{kind=\"2\"} 50",
            "cairn_network_dropped_messages_total{reason=\"RateLimited\"} 1",
            "cairn_network_denied_connections_total 1",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }
}
