//! The HTTP surface.
//!
//! `POST /webhooks/github` does only what must happen before GitHub gets its answer. Before a
//! byte of the body is read it refuses a delivery without a well-formed `X-Hub-Signature-256`
//! (401), without `X-GitHub-Event` or `X-GitHub-Delivery` (400), or with a `Content-Length`
//! over `max_body_bytes` (413). It then reads the body within `body_timeout` and within the
//! [`BodyBudget`] of bytes all requests may hold at once (503 beyond it), computing the HMAC as
//! the body arrives, and compares it in constant time (a mismatch gets 401 and nothing is
//! stored). A verified delivery is parsed into a domain event and stored with its job in one
//! transaction (a repeated `X-GitHub-Delivery` is a no-op; deliveries arriving together share
//! a commit, see [`crate::serve::intake`]). Everything else happens in workers. Errors never leak
//! internals: the client gets a short reason, the log gets the rest.
//!
//! Connections themselves (timeouts, the connection cap) are [`super::accept`]'s.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRef, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::BodyExt as _;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::serve::config::ExposeSecret as _;
use crate::serve::metrics::{HttpMetrics, Metrics, Outcome};
use crate::serve::store::{Accepted, AuditFilter, JobKind, NewJob};
use crate::serve::webhook::{self, Event, Parsed, SignatureCheck};
use crate::serve::worker::{EventJob, Services};

/// The router's state: the services, and the budget of webhook body bytes in memory.
#[derive(Clone)]
pub struct AppState {
    services: Arc<Services>,
    budget: Arc<BodyBudget>,
}

impl FromRef<AppState> for Arc<Services> {
    fn from_ref(state: &AppState) -> Arc<Services> {
        state.services.clone()
    }
}

/// The router over shared services.
pub fn app(services: Arc<Services>) -> Router {
    let limit = services.config.max_body_bytes;
    let budget = Arc::new(BodyBudget::new(
        services.config.http.body_budget_bytes,
        services.metrics.http.clone(),
    ));
    Router::new()
        .route("/webhooks/github", post(github_webhook))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/audit", get(audit))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(AppState { services, budget })
}

/// Webhook body bytes that may be held in memory at once, across all requests.
///
/// A body is held from its first byte until it is parsed (its signature can only be checked
/// once all of it is there), so without a bound a hundred unsigned near-limit bodies cost
/// gigabytes. A request that would go beyond the budget is refused at once, not queued.
pub struct BodyBudget {
    bytes: Arc<Semaphore>,
    metrics: HttpMetrics,
}

/// Bytes taken from a [`BodyBudget`]; given back when dropped.
struct Held {
    permit: Option<OwnedSemaphorePermit>,
    metrics: HttpMetrics,
}

impl BodyBudget {
    pub fn new(bytes: usize, metrics: HttpMetrics) -> BodyBudget {
        BodyBudget {
            bytes: Arc::new(Semaphore::new(bytes.min(u32::MAX as usize))),
            metrics,
        }
    }

    fn empty(&self) -> Held {
        Held {
            permit: None,
            metrics: self.metrics.clone(),
        }
    }

    /// Takes `n` more bytes into `held`; false when the budget has not got them.
    fn take(&self, held: &mut Held, n: usize) -> bool {
        if n == 0 {
            return true;
        }
        let Ok(n32) = u32::try_from(n) else {
            return false;
        };
        match self.bytes.clone().try_acquire_many_owned(n32) {
            Ok(permit) => {
                self.metrics.body_bytes_held(n as u64);
                match &mut held.permit {
                    Some(p) => p.merge(permit),
                    None => held.permit = Some(permit),
                }
                true
            }
            Err(_) => false,
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(p) = &self.permit {
            self.metrics.body_bytes_released(p.num_permits() as u64);
        }
    }
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn github_webhook(State(app): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let s = &app.services;
    let (outcome, response) = match receive(&app, &headers, body).await {
        Err(answered) => answered,
        Ok((delivery, event, job)) => store(s, &delivery, &event, job).await,
    };
    s.metrics.webhook(
        header_str(&headers, "x-github-event"),
        outcome,
        started.elapsed(),
    );
    response
}

type Answered = (Outcome, Response);

fn refuse(outcome: Outcome, status: StatusCode, error: impl Into<String>) -> Answered {
    (outcome, answer(status, json!({ "error": error.into() })))
}

/// Checks the headers, reads the body within the budget and the body timeout while computing
/// its HMAC, and verifies the signature. Anything missing from the headers is refused before
/// a byte of the body is read.
// Long on purpose: the webhook edge in the order of its checks (headers, body budget, signature); each early return is a refusal.
async fn receive(
    app: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(String, String, NewJob), Answered> {
    let s = &app.services;
    let mut check = SignatureCheck::new(
        s.config.github.webhook_secret.expose_secret().as_bytes(),
        header_str(headers, "x-hub-signature-256"),
    )
    .map_err(|e| {
        tracing::warn!(error = %e, "rejected a webhook with a bad signature");
        refuse(Outcome::Rejected, StatusCode::UNAUTHORIZED, e.to_string())
    })?;
    let Some(event) = header_str(headers, "x-github-event").filter(|e| !e.is_empty()) else {
        return Err(refuse(
            Outcome::Rejected,
            StatusCode::BAD_REQUEST,
            "missing X-GitHub-Event header",
        ));
    };
    let Some(delivery) = header_str(headers, "x-github-delivery").filter(|d| !d.is_empty()) else {
        return Err(refuse(
            Outcome::Rejected,
            StatusCode::BAD_REQUEST,
            "missing X-GitHub-Delivery header",
        ));
    };
    let max = s.config.max_body_bytes;
    let too_large = || {
        refuse(
            Outcome::Rejected,
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than max_body_bytes ({max})"),
        )
    };
    let overloaded = || {
        tracing::warn!("refused a delivery: the body budget is spent");
        let (outcome, mut response) = refuse(
            Outcome::Overloaded,
            StatusCode::SERVICE_UNAVAILABLE,
            "too many deliveries are being received; redeliver it",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        (outcome, response)
    };
    let declared = match header_str(headers, "content-length") {
        None => None,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => {
                return Err(refuse(
                    Outcome::Rejected,
                    StatusCode::BAD_REQUEST,
                    "the Content-Length header is not a number",
                ))
            }
        },
    };
    let mut held = app.budget.empty();
    if let Some(n) = declared {
        if n > max {
            return Err(too_large());
        }
        if !app.budget.take(&mut held, n) {
            return Err(overloaded());
        }
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0));
    let deadline = tokio::time::Instant::now() + s.config.http.body_timeout;
    let mut body = body;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                tracing::warn!(%delivery, "refused a delivery: the body took longer than body_timeout_secs");
                return Err(refuse(
                    Outcome::Rejected,
                    StatusCode::REQUEST_TIMEOUT,
                    "the body was not sent within the body timeout",
                ));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                tracing::warn!(%delivery, error = %e, "cannot read a delivery's body");
                return Err(refuse(
                    Outcome::Rejected,
                    StatusCode::BAD_REQUEST,
                    "the body could not be read",
                ));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if bytes.len() + data.len() > declared.unwrap_or(max).min(max) {
            return Err(too_large());
        }
        if declared.is_none() && !app.budget.take(&mut held, data.len()) {
            return Err(overloaded());
        }
        check.update(&data);
        bytes.extend_from_slice(&data);
    }
    if let Err(e) = check.finish() {
        tracing::warn!(error = %e, "rejected a webhook with a bad signature");
        return Err(refuse(
            Outcome::Rejected,
            StatusCode::UNAUTHORIZED,
            e.to_string(),
        ));
    }
    let job = prepare(s, event, delivery, &bytes)?;
    drop(bytes);
    drop(held);
    Ok((delivery.to_owned(), event.to_owned(), job))
}

/// Parses one verified delivery into the job to store, or answers it right away.
// The error is the answer itself, made once per request: boxing it gains nothing.
#[allow(clippy::result_large_err)]
fn prepare(s: &Services, event: &str, delivery: &str, body: &[u8]) -> Result<NewJob, Answered> {
    let parsed = match webhook::parse(event, body) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(%event, %delivery, error = %e, "malformed webhook payload");
            return Err(refuse(
                Outcome::Rejected,
                StatusCode::BAD_REQUEST,
                e.to_string(),
            ));
        }
    };
    let ev = match parsed {
        Parsed::Ignored(reason) => {
            return Err((
                Outcome::Ignored,
                answer(
                    StatusCode::OK,
                    json!({ "status": "ignored", "reason": reason }),
                ),
            ))
        }
        Parsed::Event(ev) => ev,
    };
    if let Some(reason) = ignore_reason(s, &ev) {
        return Err((
            Outcome::Ignored,
            answer(
                StatusCode::OK,
                json!({ "status": "ignored", "reason": reason }),
            ),
        ));
    }
    let repo = ev.repo().clone();
    let pr = ev.number();
    let payload = serde_json::to_value(EventJob {
        delivery: delivery.to_owned(),
        event: ev,
    })
    .map_err(|e| {
        tracing::error!(error = %e, "cannot serialise an event");
        refuse(
            Outcome::Rejected,
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
        )
    })?;
    Ok(NewJob {
        kind: JobKind::Event,
        // Events of one PR run one at a time, in the order they arrived.
        lock_key: Some(format!("event|{repo}|{}", pr.0)),
        repo,
        pr,
        stack: None,
        payload,
    })
}

/// Stores a prepared delivery (batched with others arriving at the same time) and answers.
async fn store(s: &Services, delivery: &str, event: &str, job: NewJob) -> Answered {
    let (repo, pr) = (job.repo.clone(), job.pr);
    match s.intake.accept(delivery, event, Some(job)).await {
        Ok(Accepted::Queued(id)) => {
            s.wake.notify_waiters();
            tracing::info!(%event, %delivery, job = id, %repo, pr = pr.0, "delivery queued");
            (
                Outcome::Accepted,
                answer(
                    StatusCode::ACCEPTED,
                    json!({ "status": "queued", "job": id }),
                ),
            )
        }
        Ok(Accepted::Duplicate) => (
            Outcome::Duplicate,
            answer(
                StatusCode::OK,
                json!({ "status": "duplicate", "delivery": delivery }),
            ),
        ),
        Err(e) => {
            // Not stored: GitHub sees a 5xx and the delivery can be redelivered.
            tracing::error!(error = %e, %delivery, "cannot store a delivery");
            (
                Outcome::Rejected,
                answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({ "error": "the delivery could not be stored; redeliver it" }),
                ),
            )
        }
    }
}

/// Events that are valid but not for us.
fn ignore_reason(s: &Services, ev: &Event) -> Option<String> {
    if !s.config.repo_allowed(ev.repo()) {
        return Some(format!("{} is not in allowed_repos", ev.repo()));
    }
    if let Event::Comment(c) = ev {
        if c.author_is_bot {
            return Some("comments by bots are ignored".into());
        }
        if s.config.github.bot_login.as_deref() == Some(c.author.0.as_str()) {
            return Some("planguard's own comment".into());
        }
        if !matches!(
            crate::serve::command::parse(&c.body),
            crate::serve::command::Parsed::Command(_) | crate::serve::command::Parsed::Invalid(_)
        ) {
            return Some("not a planguard command".into());
        }
    }
    None
}

async fn readyz(State(s): State<Arc<Services>>) -> Response {
    match s.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

async fn metrics(State(s): State<Arc<Services>>) -> Response {
    (
        [(header::CONTENT_TYPE, Metrics::CONTENT_TYPE)],
        s.metrics.render(s.store.as_ref()).await,
    )
        .into_response()
}

#[derive(Deserialize)]
struct AuditQuery {
    repo: Option<String>,
    pr: Option<u64>,
    limit: Option<usize>,
}

async fn audit(
    State(s): State<Arc<Services>>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Response {
    let Some(token) = &s.config.audit_token else {
        return answer(
            StatusCode::NOT_FOUND,
            json!({ "error": "the audit API is disabled; set [audit] token in the server config" }),
        );
    };
    let given = header_str(&headers, "authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    if !constant_time_eq(given.as_bytes(), token.expose_secret().as_bytes()) {
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "send the audit token as `Authorization: Bearer <token>`" }),
        );
    }
    match s
        .store
        .audit_log(&AuditFilter {
            repo: q.repo,
            pr: q.pr,
            limit: q.limit.unwrap_or(1000).min(10_000),
        })
        .await
    {
        Ok(entries) => answer(StatusCode::OK, json!({ "entries": entries })),
        Err(e) => {
            tracing::error!(error = %e, "audit query failed");
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "error": "database unavailable" }),
            )
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
