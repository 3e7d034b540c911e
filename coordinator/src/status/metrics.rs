//! The coordinator's Prometheus metrics (`GET /metrics`), kept with
//! `prometheus-client`: atomics updated by the event loop and the verifier,
//! read by the HTTP server without locking either.

use candor_protocols::NetGauges;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// A refusal's reason code, e.g. `InvalidProof`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// The `RejectCode`, as the store records it.
    pub reason: String,
}

/// Every metric, registered under `candor_`.
pub struct Metrics {
    registry: Registry,
    /// Rounds closed by this process.
    pub rounds_closed: Counter,
    /// Updates accepted (verified and stored) by this process.
    pub updates_accepted: Counter,
    /// Updates and requests refused, by reason code.
    pub refused: Family<ReasonLabel, Counter>,
    /// Seconds each verification batch took.
    pub verification_seconds: Histogram,
    /// Proofs verified (accepted or not).
    pub proofs_verified: Counter,
    /// Connections open now.
    pub connections: Gauge,
    /// Admitted participants connected now.
    pub participants_connected: Gauge,
    /// The open round's id (0 when none is open).
    pub open_round: Gauge,
    /// Seconds since the open round opened (0 when none is open).
    pub open_round_age_seconds: Gauge<f64, AtomicU64>,
    /// Requests answered `Busy` for their peer's request rate.
    pub rate_limited: Counter,
    /// Connections refused before being established.
    pub connections_refused: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("candor");
        let m = Metrics {
            rounds_closed: Counter::default(),
            updates_accepted: Counter::default(),
            refused: Family::default(),
            // 10 ms to about 80 s: one proof is about a second, a large
            // batch on a slow machine tens
            verification_seconds: Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.01, 2.0, 14)),
            proofs_verified: Counter::default(),
            connections: Gauge::default(),
            participants_connected: Gauge::default(),
            open_round: Gauge::default(),
            open_round_age_seconds: Gauge::default(),
            rate_limited: Counter::default(),
            connections_refused: Counter::default(),
            registry: Registry::default(),
        };
        registry.register("rounds_closed", "Rounds closed", m.rounds_closed.clone());
        registry.register("updates_accepted", "Updates whose proofs verified, stored for aggregation", m.updates_accepted.clone());
        registry.register("updates_refused", "Updates and requests refused, by reason code", m.refused.clone());
        registry.register("verification_seconds", "Seconds per verification batch", m.verification_seconds.clone());
        registry.register("proofs_verified", "Proofs verified, accepted or not", m.proofs_verified.clone());
        registry.register("connections", "Connections open", m.connections.clone());
        registry.register("participants_connected", "Admitted participants connected", m.participants_connected.clone());
        registry.register("open_round", "Id of the open round (0: none)", m.open_round.clone());
        registry.register("open_round_age_seconds", "Seconds since the open round opened (0: none)", m.open_round_age_seconds.clone());
        registry.register("requests_rate_limited", "Requests refused for their peer's request rate", m.rate_limited.clone());
        registry.register("connections_refused", "Connections refused before being established", m.connections_refused.clone());
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// A refusal with reason code `code`.
    pub fn refusal(&self, code: &str) {
        self.refused.get_or_create(&ReasonLabel { reason: code.to_string() }).inc();
    }

    /// Sets the connection gauges from the network's counts.
    pub fn connections_from(&self, net: &Arc<NetGauges>, participants: usize) {
        self.connections.set(net.connections() as i64);
        self.participants_connected.set(participants as i64);
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // writing into a String cannot fail
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
