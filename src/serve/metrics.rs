//! Prometheus metrics, rendered at `/metrics` in the text exposition format (0.0.4) by the
//! `prometheus-client` crate, which escapes label values.
//!
//! Every label has a closed set of values, so no request can add series: the `event` label
//! is one of [`KNOWN_EVENTS`], `unknown` when the header is absent, or `other`; the `outcome`
//! is an [`Outcome`]; job kinds and step names come from the code. Counters and histograms live
//! in memory (they restart at zero, as Prometheus expects); job gauges are read from the store
//! at scrape time so they are right after a restart.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::serve::store::{JobState, Store};

/// Upper bounds of the duration histograms, in seconds.
const ACK_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];
const JOB_BUCKETS: [f64; 10] = [0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0];

/// `X-GitHub-Event` values counted under their own name; any other is `other`.
pub const KNOWN_EVENTS: [&str; 20] = [
    "pull_request",
    "issue_comment",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_review_thread",
    "ping",
    "push",
    "check_run",
    "check_suite",
    "status",
    "installation",
    "installation_repositories",
    "installation_target",
    "issues",
    "create",
    "delete",
    "repository",
    "workflow_run",
    "workflow_job",
    "github_app_authorization",
];

/// The `event` label of a delivery's `X-GitHub-Event` value.
pub fn event_label(header: Option<&str>) -> &'static str {
    match header {
        None | Some("") => "unknown",
        Some(name) => KNOWN_EVENTS
            .iter()
            .find(|known| **known == name)
            .copied()
            .unwrap_or("other"),
    }
}

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Stored with its job (`202`).
    Accepted,
    /// A redelivery of a stored delivery id (`200`).
    Duplicate,
    /// Valid, but not for planguard (`200`).
    Ignored,
    /// Refused: a bad signature, a missing header, a body too large, too slow or malformed,
    /// or the database failing.
    Rejected,
    /// Refused because the in-flight body budget was spent (`503`).
    Overloaded,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::Accepted,
        Outcome::Duplicate,
        Outcome::Ignored,
        Outcome::Rejected,
        Outcome::Overloaded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Duplicate => "duplicate",
            Outcome::Ignored => "ignored",
            Outcome::Rejected => "rejected",
            Outcome::Overloaded => "overloaded",
        }
    }
}

/// Job kinds and step names with their own series; anything else is `other`.
const JOB_KINDS: [&str; 3] = ["event", "plan", "apply"];
const STEPS: [&str; 6] = ["init", "plan", "show", "policy", "apply", "run"];

fn closed(value: &str, known: &[&'static str]) -> &'static str {
    known
        .iter()
        .find(|k| **k == value)
        .copied()
        .unwrap_or("other")
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    event: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabels {
    step: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn job_histogram() -> Histogram {
    Histogram::new(JOB_BUCKETS)
}

/// Totals of the duration histograms: (count, seconds) per job kind and per step.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub jobs: BTreeMap<String, (u64, f64)>,
    pub steps: BTreeMap<String, (u64, f64)>,
    /// Webhook acknowledgements, measured in the server.
    pub ack: (u64, f64),
}

/// Gauges and counters of the HTTP server itself (connections, timeouts, body bytes).
#[derive(Debug, Clone, Default)]
pub struct HttpMetrics {
    /// Client connections open now.
    pub connections: Gauge,
    /// Connections closed at once because `max_connections` were open.
    pub connections_refused: Counter,
    /// Connections closed for sending nothing and reading nothing for `idle_timeout`.
    pub connections_idle_closed: Counter,
    /// Webhook body bytes held in memory now, and the most ever held at once.
    pub body_bytes_in_flight: Gauge,
    pub body_bytes_in_flight_max: Gauge,
}

impl HttpMetrics {
    /// Counts `n` more body bytes held, raising the high-water mark if need be.
    pub fn body_bytes_held(&self, n: u64) {
        let now = self.body_bytes_in_flight.inc_by(n as i64) + n as i64;
        self.body_bytes_in_flight_max
            .inner()
            .fetch_max(now, Ordering::Relaxed);
    }

    /// Counts `n` body bytes released.
    pub fn body_bytes_released(&self, n: u64) {
        self.body_bytes_in_flight.dec_by(n as i64);
    }
}

/// The job gauges, read from the store at each scrape (`None`: the store failed).
#[derive(Debug, Default)]
struct JobGauges {
    counts: Mutex<Option<BTreeMap<JobState, u64>>>,
}

impl Collector for JobGauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counts = self.counts.lock().unwrap();
        let Some(counts) = counts.as_ref() else {
            return Ok(());
        };
        let family = Family::<StateLabels, Gauge>::default();
        for (state, n) in counts {
            family
                .get_or_create(&StateLabels {
                    state: state.as_str(),
                })
                .set(*n as i64);
        }
        family.encode(encoder.encode_descriptor(
            "planguard_jobs",
            "Jobs by state.",
            None,
            family.metric_type(),
        )?)?;
        let depth = counts.get(&JobState::Queued).copied().unwrap_or(0)
            + counts.get(&JobState::Waiting).copied().unwrap_or(0);
        let depth = ConstGauge::new(depth as i64);
        depth.encode(encoder.encode_descriptor(
            "planguard_queue_depth",
            "Jobs waiting for a worker or a lock.",
            None,
            depth.metric_type(),
        )?)
    }
}

fn add(totals: &mut BTreeMap<String, (u64, f64)>, label: &str, took: Duration) {
    let entry = totals.entry(label.to_owned()).or_default();
    entry.0 += 1;
    entry.1 += took.as_secs_f64();
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    webhooks: Family<WebhookLabels, Counter>,
    ack: Histogram,
    jobs: Histograms<KindLabels>,
    steps: Histograms<StepLabels>,
    job_gauges: std::sync::Arc<JobGauges>,
    /// Held while a scrape reads the store and encodes, so scrapes do not interleave.
    scrape: Mutex<()>,
    /// The histograms' counts and sums again, for [`Metrics::totals`] (the crate reads them
    /// back only in its test builds).
    totals: Mutex<Totals>,
    pub http: HttpMetrics,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::default();
        let webhooks = Family::<WebhookLabels, Counter>::default();
        // A counter's name gets `_total` when encoded.
        registry.register(
            "planguard_webhooks",
            "Webhook deliveries by event and outcome",
            webhooks.clone(),
        );
        let ack = Histogram::new(ACK_BUCKETS);
        registry.register(
            "planguard_webhook_ack_seconds",
            "Time to answer a delivery",
            ack.clone(),
        );
        let jobs: Histograms<KindLabels> = Family::new_with_constructor(job_histogram);
        registry.register(
            "planguard_job_duration_seconds",
            "Time to carry out a job, by kind",
            jobs.clone(),
        );
        let steps: Histograms<StepLabels> = Family::new_with_constructor(job_histogram);
        registry.register(
            "planguard_step_duration_seconds",
            "Time of one step process, by step",
            steps.clone(),
        );
        let job_gauges = std::sync::Arc::new(JobGauges::default());
        registry.register_collector(Box::new(job_gauges.clone()));
        let http = HttpMetrics::default();
        registry.register(
            "planguard_http_connections",
            "Client connections open",
            http.connections.clone(),
        );
        registry.register(
            "planguard_http_connections_refused",
            "Connections closed at once because max_connections were open",
            http.connections_refused.clone(),
        );
        registry.register(
            "planguard_http_connections_idle_closed",
            "Connections closed after idle_timeout without a byte either way",
            http.connections_idle_closed.clone(),
        );
        registry.register(
            "planguard_http_body_bytes_in_flight",
            "Webhook body bytes held in memory",
            http.body_bytes_in_flight.clone(),
        );
        registry.register(
            "planguard_http_body_bytes_in_flight_max",
            "The most webhook body bytes held in memory at once since the start",
            http.body_bytes_in_flight_max.clone(),
        );
        Metrics {
            registry,
            webhooks,
            ack,
            jobs,
            steps,
            job_gauges,
            scrape: Mutex::new(()),
            totals: Mutex::new(Totals::default()),
            http,
        }
    }
}

impl Metrics {
    /// A delivery and what became of it. `event` is the `X-GitHub-Event` value as received;
    /// it is counted as one of a closed set ([`event_label`]).
    pub fn webhook(&self, event: Option<&str>, outcome: Outcome, took: Duration) {
        self.webhooks
            .get_or_create(&WebhookLabels {
                event: event_label(event),
                outcome: outcome.as_str(),
            })
            .inc();
        self.ack.observe(took.as_secs_f64());
        let mut t = self.totals.lock().unwrap();
        t.ack.0 += 1;
        t.ack.1 += took.as_secs_f64();
    }

    /// A finished job of a kind (`event`, `plan`, `apply`).
    pub fn job(&self, kind: &str, took: Duration) {
        let kind = closed(kind, &JOB_KINDS);
        self.jobs
            .get_or_create(&KindLabels { kind })
            .observe(took.as_secs_f64());
        add(&mut self.totals.lock().unwrap().jobs, kind, took);
    }

    /// A finished step process (`init`, `plan`, `run`, ...).
    pub fn step(&self, name: &str, took: Duration) {
        let step = closed(name, &STEPS);
        self.steps
            .get_or_create(&StepLabels { step })
            .observe(took.as_secs_f64());
        add(&mut self.totals.lock().unwrap().steps, step, took);
    }

    /// Counts and sums of job and step durations (the overhead benchmark reads these).
    pub fn totals(&self) -> Totals {
        self.totals.lock().unwrap().clone()
    }

    /// The `Content-Type` of [`Metrics::render`]'s text.
    pub const CONTENT_TYPE: &'static str =
        prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

    /// The exposition text.
    pub async fn render(&self, store: &dyn Store) -> String {
        let counts = match store.job_counts().await {
            Ok(counts) => Some(counts),
            Err(e) => {
                tracing::warn!(error = %e, "metrics: the job gauges are left out, the store failed");
                None
            }
        };
        let _scrape = self.scrape.lock().unwrap();
        *self.job_gauges.counts.lock().unwrap() = counts;
        let mut out = String::new();
        if let Err(e) =
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
        {
            tracing::error!(error = %e, "metrics: cannot encode");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_labels_are_a_closed_set() {
        assert_eq!(event_label(Some("pull_request")), "pull_request");
        assert_eq!(event_label(Some("ping")), "ping");
        assert_eq!(event_label(None), "unknown");
        assert_eq!(event_label(Some("")), "unknown");
        assert_eq!(event_label(Some("x\"}{")), "other");
        assert_eq!(event_label(Some("Pull_Request")), "other");
    }

    #[test]
    fn totals_by_kind_and_step() {
        let m = Metrics::default();
        m.job("plan", Duration::from_secs(2));
        m.job("plan", Duration::from_secs(1));
        m.step("init", Duration::from_millis(500));
        m.step("made-up", Duration::from_millis(500));
        m.webhook(Some("ping"), Outcome::Ignored, Duration::from_millis(3));
        let t = m.totals();
        assert_eq!(t.jobs["plan"], (2, 3.0));
        assert_eq!(t.steps["init"], (1, 0.5));
        assert_eq!(t.steps["other"], (1, 0.5));
        assert_eq!(t.ack.0, 1);
    }
}
