//! Prometheus metrics, rendered in the text exposition format at `/metrics`.
//!
//! Counters and histograms live in memory (they restart at zero, as Prometheus expects);
//! job gauges are read from the store at scrape time so they are right after a restart.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use crate::store::{JobState, Store};

/// Upper bounds of the duration histograms, in seconds.
const ACK_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];
const JOB_BUCKETS: [f64; 10] = [0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0];

#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, buckets: &[f64], v: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; buckets.len()];
        }
        for (i, b) in buckets.iter().enumerate() {
            if v <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += v;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str, buckets: &[f64]) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in buckets.iter().enumerate() {
            let n = self.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[derive(Debug, Default)]
struct Inner {
    webhooks: BTreeMap<(String, &'static str), u64>,
    ack: Histogram,
    jobs: BTreeMap<&'static str, Histogram>,
    steps: BTreeMap<String, Histogram>,
}

/// Totals of the duration histograms: (count, seconds) per job kind and per step.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub jobs: BTreeMap<String, (u64, f64)>,
    pub steps: BTreeMap<String, (u64, f64)>,
    /// Webhook acknowledgements, measured in the server.
    pub ack: (u64, f64),
}

/// The server's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// A delivery and what became of it: accepted, duplicate, ignored or rejected.
    pub fn webhook(&self, event: &str, outcome: &'static str, took: Duration) {
        let mut m = self.inner.lock().unwrap();
        *m.webhooks.entry((event.to_owned(), outcome)).or_default() += 1;
        m.ack.observe(&ACK_BUCKETS, took.as_secs_f64());
    }

    /// A finished job of a kind (`event`, `plan`, `apply`).
    pub fn job(&self, kind: &'static str, took: Duration) {
        let mut m = self.inner.lock().unwrap();
        m.jobs
            .entry(kind)
            .or_default()
            .observe(&JOB_BUCKETS, took.as_secs_f64());
    }

    /// A finished step process (`init`, `plan`, `run`, ...).
    pub fn step(&self, name: &str, took: Duration) {
        let mut m = self.inner.lock().unwrap();
        m.steps
            .entry(name.to_owned())
            .or_default()
            .observe(&JOB_BUCKETS, took.as_secs_f64());
    }

    /// Counts and sums of job and step durations (the overhead benchmark reads these).
    pub fn totals(&self) -> Totals {
        let m = self.inner.lock().unwrap();
        Totals {
            jobs: m
                .jobs
                .iter()
                .map(|(k, h)| (k.to_string(), (h.count, h.sum)))
                .collect(),
            steps: m
                .steps
                .iter()
                .map(|(k, h)| (k.clone(), (h.count, h.sum)))
                .collect(),
            ack: (m.ack.count, m.ack.sum),
        }
    }

    /// The exposition text.
    pub fn render(&self, store: &dyn Store) -> String {
        let mut out = String::new();
        let m = self.inner.lock().unwrap();
        out.push_str("# HELP planguard_webhooks_total Webhook deliveries by event and outcome.\n");
        out.push_str("# TYPE planguard_webhooks_total counter\n");
        for ((event, outcome), n) in &m.webhooks {
            let _ = writeln!(
                out,
                "planguard_webhooks_total{{event=\"{event}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str("# HELP planguard_webhook_ack_seconds Time to answer a delivery.\n");
        out.push_str("# TYPE planguard_webhook_ack_seconds histogram\n");
        m.ack
            .render(&mut out, "planguard_webhook_ack_seconds", "", &ACK_BUCKETS);
        out.push_str("# HELP planguard_job_duration_seconds Time to carry out a job, by kind.\n");
        out.push_str("# TYPE planguard_job_duration_seconds histogram\n");
        for (kind, h) in &m.jobs {
            h.render(
                &mut out,
                "planguard_job_duration_seconds",
                &format!("kind=\"{kind}\""),
                &JOB_BUCKETS,
            );
        }
        out.push_str("# HELP planguard_step_duration_seconds Time of one step process, by step.\n");
        out.push_str("# TYPE planguard_step_duration_seconds histogram\n");
        for (step, h) in &m.steps {
            h.render(
                &mut out,
                "planguard_step_duration_seconds",
                &format!("step=\"{step}\""),
                &JOB_BUCKETS,
            );
        }
        drop(m);
        match store.job_counts() {
            Ok(counts) => {
                out.push_str("# HELP planguard_jobs Jobs by state.\n# TYPE planguard_jobs gauge\n");
                for (state, n) in &counts {
                    let _ = writeln!(out, "planguard_jobs{{state=\"{}\"}} {n}", state.as_str());
                }
                out.push_str(
                    "# HELP planguard_queue_depth Jobs waiting for a worker or a lock.\n# TYPE planguard_queue_depth gauge\n",
                );
                let depth = counts.get(&JobState::Queued).copied().unwrap_or(0)
                    + counts.get(&JobState::Waiting).copied().unwrap_or(0);
                let _ = writeln!(out, "planguard_queue_depth {depth}");
            }
            Err(e) => {
                let _ = writeln!(out, "# store unavailable: {e}");
            }
        }
        out
    }
}
