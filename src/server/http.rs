//! The HTTP surface.
//!
//! `POST /webhooks/github` does only what must happen before GitHub gets its answer: limit
//! the body, verify `X-Hub-Signature-256` in constant time (a bad or missing signature gets
//! 401 and nothing is stored), parse into a domain event, and store the delivery and its job
//! in one transaction (a repeated `X-GitHub-Delivery` is a no-op; deliveries arriving together
//! share a commit, see [`super::intake`]). Everything else happens
//! in workers. Errors never leak internals: the client gets a short reason, the log gets the
//! rest.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::store::{Accepted, AuditFilter, JobKind, NewJob};
use crate::webhook::{self, Event, Parsed};
use crate::worker::{EventJob, Services};

/// The router over shared services.
pub fn app(services: Arc<Services>) -> Router {
    let limit = services.config.max_body_bytes;
    Router::new()
        .route("/webhooks/github", post(github_webhook))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/audit", get(audit))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(services)
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn github_webhook(
    State(s): State<Arc<Services>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let event = header_str(&headers, "x-github-event")
        .unwrap_or("")
        .to_owned();
    let (outcome, response) = match prepare(&s, &headers, &event, &body) {
        Err(answered) => answered,
        Ok((delivery, job)) => store(&s, &delivery, &event, job).await,
    };
    s.metrics.webhook(
        if event.is_empty() { "unknown" } else { &event },
        outcome,
        started.elapsed(),
    );
    response
}

type Answered = (&'static str, Response);

/// Verifies and parses one delivery into the job to store, or answers it right away.
fn prepare(
    s: &Services,
    headers: &HeaderMap,
    event: &str,
    body: &[u8],
) -> Result<(String, NewJob), Answered> {
    let signature = header_str(headers, "x-hub-signature-256");
    if let Err(e) = webhook::verify_signature(
        s.config.github.webhook_secret.expose().as_bytes(),
        body,
        signature,
    ) {
        tracing::warn!(error = %e, "rejected a webhook with a bad signature");
        return Err((
            "rejected",
            answer(StatusCode::UNAUTHORIZED, json!({ "error": e.to_string() })),
        ));
    }
    if event.is_empty() {
        return Err((
            "rejected",
            answer(
                StatusCode::BAD_REQUEST,
                json!({ "error": "missing X-GitHub-Event header" }),
            ),
        ));
    }
    let Some(delivery) = header_str(headers, "x-github-delivery").filter(|d| !d.is_empty()) else {
        return Err((
            "rejected",
            answer(
                StatusCode::BAD_REQUEST,
                json!({ "error": "missing X-GitHub-Delivery header" }),
            ),
        ));
    };
    let parsed = match webhook::parse(event, body) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(%event, %delivery, error = %e, "malformed webhook payload");
            return Err((
                "rejected",
                answer(StatusCode::BAD_REQUEST, json!({ "error": e.to_string() })),
            ));
        }
    };
    let ev = match parsed {
        Parsed::Ignored(reason) => {
            return Err((
                "ignored",
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
            "ignored",
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
        (
            "rejected",
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": "internal error" }),
            ),
        )
    })?;
    Ok((
        delivery.to_owned(),
        NewJob {
            kind: JobKind::Event,
            // Events of one PR run one at a time, in the order they arrived.
            lock_key: Some(format!("event|{repo}|{}", pr.0)),
            repo,
            pr,
            stack: None,
            payload,
        },
    ))
}

/// Stores a prepared delivery (batched with others arriving at the same time) and answers.
async fn store(s: &Services, delivery: &str, event: &str, job: NewJob) -> Answered {
    let (repo, pr) = (job.repo.clone(), job.pr);
    match s.intake.accept(delivery, event, Some(job)).await {
        Ok(Accepted::Queued(id)) => {
            s.wake.notify_waiters();
            tracing::info!(%event, %delivery, job = id, %repo, pr = pr.0, "delivery queued");
            (
                "accepted",
                answer(
                    StatusCode::ACCEPTED,
                    json!({ "status": "queued", "job": id }),
                ),
            )
        }
        Ok(Accepted::Duplicate) => (
            "duplicate",
            answer(
                StatusCode::OK,
                json!({ "status": "duplicate", "delivery": delivery }),
            ),
        ),
        Err(e) => {
            // Not stored: GitHub sees a 5xx and the delivery can be redelivered.
            tracing::error!(error = %e, %delivery, "cannot store a delivery");
            (
                "rejected",
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
            crate::command::parse(&c.body),
            crate::command::Parsed::Command(_) | crate::command::Parsed::Invalid(_)
        ) {
            return Some("not a planguard command".into());
        }
    }
    None
}

async fn readyz(State(s): State<Arc<Services>>) -> Response {
    match s.store.ping() {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

async fn metrics(State(s): State<Arc<Services>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(s.store.as_ref()),
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
    if !constant_time_eq(given.as_bytes(), token.expose().as_bytes()) {
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "send the audit token as `Authorization: Bearer <token>`" }),
        );
    }
    match s.store.audit_log(&AuditFilter {
        repo: q.repo,
        pr: q.pr,
        limit: q.limit.unwrap_or(1000).min(10_000),
    }) {
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
