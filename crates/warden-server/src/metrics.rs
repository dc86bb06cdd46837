//! `/metrics`: Prometheus text (OpenMetrics) through `prometheus-client`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::borrow::Cow;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub endpoint: Cow<'static, str>,
    pub outcome: Cow<'static, str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabels {
    pub rule: String,
    pub effect: Cow<'static, str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RevisionLabels {
    pub revision: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SinkLabels {
    pub sink: String,
}

/// What the metrics show of one log sink.
pub struct SinkFigures {
    pub sink: &'static str,
    pub queue_depth: u64,
    pub lag_seconds: f64,
    pub shipped: u64,
    pub failures: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub code: String,
}

/// Every metric the server keeps.
pub struct Metrics {
    registry: Registry,
    pub decisions: Family<OutcomeLabels, Counter>,
    pub findings: Family<RuleLabels, Counter>,
    pub latency: Histogram,
    pub revision: Family<RevisionLabels, Gauge>,
    pub reloads: Family<ResultLabels, Counter>,
    pub errors: Family<ErrorLabels, Counter>,
    pub bundle_revision: Family<RevisionLabels, Gauge>,
    pub bundle_fetches: Family<ResultLabels, Counter>,
    pub bundle_last_success: Gauge,
    pub ship_queue: Family<SinkLabels, Gauge>,
    pub ship_lag: Family<SinkLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    pub ship_shipped: Family<SinkLabels, Gauge>,
    pub ship_failures: Family<SinkLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("warden");
        let decisions = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "decisions",
            "Decisions taken, by endpoint and outcome",
            decisions.clone(),
        );
        let findings = Family::<RuleLabels, Counter>::default();
        registry.register(
            "findings",
            "Findings in decisions, by rule and effect",
            findings.clone(),
        );
        // 10 µs to about 0.3 s.
        let latency = Histogram::new(exponential_buckets(0.000_01, 2.0, 16));
        registry.register(
            "decision_seconds",
            "Time to decide one input (evaluation and the decision JSON; not reading the request)",
            latency.clone(),
        );
        let revision = Family::<RevisionLabels, Gauge>::default();
        registry.register(
            "policy_revision",
            "The policy revision being served (value 1)",
            revision.clone(),
        );
        let reloads = Family::<ResultLabels, Counter>::default();
        registry.register("reloads", "Policy reloads, by result", reloads.clone());
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "request_errors",
            "Requests answered with an error, by its code (bad-json, E0401, ...); denials are not errors",
            errors.clone(),
        );
        let bundle_revision = Family::<RevisionLabels, Gauge>::default();
        registry.register(
            "bundle_revision",
            "The bundle revision being served, with `--bundle` (value 1)",
            bundle_revision.clone(),
        );
        let bundle_fetches = Family::<ResultLabels, Counter>::default();
        registry.register(
            "bundle_fetches",
            "Polls of the bundle source, by result (updated, not-modified, unchanged, failed, refused)",
            bundle_fetches.clone(),
        );
        let bundle_last_success = Gauge::default();
        registry.register(
            "bundle_last_success_timestamp_seconds",
            "When a poll of the bundle source last succeeded (Unix seconds; 0: never)",
            bundle_last_success.clone(),
        );
        let ship_queue = Family::<SinkLabels, Gauge>::default();
        registry.register(
            "ship_queue_lines",
            "Decision-log lines written but not yet delivered to the sink",
            ship_queue.clone(),
        );
        let ship_lag = Family::<SinkLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        registry.register(
            "ship_lag_seconds",
            "How long the oldest line not yet delivered to the sink has waited",
            ship_lag.clone(),
        );
        let ship_shipped = Family::<SinkLabels, Gauge>::default();
        registry.register(
            "ship_delivered_lines",
            "Decision-log lines delivered to the sink since the server started",
            ship_shipped.clone(),
        );
        let ship_failures = Family::<SinkLabels, Gauge>::default();
        registry.register(
            "ship_failed_attempts",
            "Failed deliveries to the sink since the server started (each retried)",
            ship_failures.clone(),
        );
        Metrics {
            ship_queue,
            ship_lag,
            ship_shipped,
            ship_failures,
            bundle_revision,
            bundle_fetches,
            bundle_last_success,
            registry,
            decisions,
            findings,
            latency,
            revision,
            reloads,
            errors,
        }
    }
}

impl Metrics {
    /// Counts one decision.
    pub fn decided(&self, endpoint: &'static str, decision: &warden::Decision, seconds: f64) {
        // Labels from fixed sets are borrowed: counting allocates only for rule names.
        self.decisions
            .get_or_create(&OutcomeLabels {
                endpoint: Cow::Borrowed(endpoint),
                outcome: Cow::Borrowed(decision.decision.as_str()),
            })
            .inc();
        for finding in decision.findings.iter().chain(&decision.warnings) {
            self.findings
                .get_or_create(&RuleLabels {
                    rule: finding.rule.to_string(),
                    effect: Cow::Borrowed(finding.effect.as_str()),
                })
                .inc();
        }
        self.latency.observe(seconds);
    }

    /// Marks `revision` (and the bundle it came from) as the one served.
    pub fn serving(&self, revision: &str, bundle: Option<&str>) {
        self.revision.clear();
        self.revision
            .get_or_create(&RevisionLabels {
                revision: revision.to_string(),
            })
            .set(1);
        self.bundle_revision.clear();
        if let Some(bundle) = bundle {
            self.bundle_revision
                .get_or_create(&RevisionLabels {
                    revision: bundle.to_string(),
                })
                .set(1);
        }
    }

    /// Counts a poll of the bundle source: what it found, and when a poll
    /// last succeeded.
    pub fn bundle_polled(&self, last_result: Option<&str>, last_success: Option<i64>) {
        if let Some(result) = last_result {
            self.bundle_fetches
                .get_or_create(&ResultLabels {
                    result: result.into(),
                })
                .inc();
        }
        if let Some(at) = last_success {
            self.bundle_last_success.set(at);
        }
    }

    /// Sets the shipping gauges from the sinks' figures.
    pub fn shipping(&self, sinks: &[SinkFigures]) {
        for status in sinks {
            let labels = SinkLabels {
                sink: status.sink.to_string(),
            };
            self.ship_queue
                .get_or_create(&labels)
                .set(status.queue_depth as i64);
            self.ship_lag.get_or_create(&labels).set(status.lag_seconds);
            self.ship_shipped
                .get_or_create(&labels)
                .set(status.shipped as i64);
            self.ship_failures
                .get_or_create(&labels)
                .set(status.failures as i64);
        }
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
