//! A GitHub API fake served on 127.0.0.1 for the server's end-to-end tests.
//!
//! It answers the REST calls planguard makes with GitHub's own example responses (from
//! `testdata/corpus/webhooks/rest-examples/`, with ids and fields filled in), keeps the
//! resulting state (comments, check runs, statuses) and records every call in order, so a
//! test can assert what was posted. Tests script the rest: pull request state, reviews,
//! permissions, team members, and outages (`fail_next`).
//!
//! Like GitHub, it answers `401` to a request without an `Authorization` header (on every
//! route, `DELETE` included), and serves reviews and check runs in pages (`per_page`, at most
//! 100, default 30; `page`) with a `Link` header naming the next page by absolute URL.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, patch, post};
use axum::{Json, Router};
use serde_json::{json, Value};

fn example(name: &str) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/corpus/webhooks/rest-examples/"
    );
    let text = std::fs::read_to_string(format!("{path}{name}"))
        .unwrap_or_else(|e| panic!("rest example {name}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub body: Value,
}

/// A comment as the fake holds it.
#[derive(Debug, Clone)]
pub struct Comment {
    pub id: u64,
    pub repo: String,
    pub pr: u64,
    pub body: String,
}

/// A pull request the tests describe.
#[derive(Debug, Clone)]
pub struct FakePr {
    pub head: String,
    pub author: String,
    pub open: bool,
    pub mergeable: Option<bool>,
    pub mergeable_state: String,
}

#[derive(Default)]
pub struct FakeState {
    pub calls: Vec<Call>,
    pub comments: BTreeMap<u64, Comment>,
    pub check_runs: BTreeMap<u64, Value>,
    pub statuses: Vec<Value>,
    pub prs: BTreeMap<u64, FakePr>,
    pub reviews: BTreeMap<u64, Vec<Value>>,
    pub permissions: BTreeMap<String, String>,
    pub teams: BTreeMap<String, Vec<String>>,
    /// Comments by people (the webhooks' authors), by id, as GitHub's JSON: what
    /// `GET .../issues/comments/{id}` answers. Not in `comments`, which are planguard's own.
    pub user_comments: BTreeMap<u64, Value>,
    pub tokens_issued: usize,
    /// Answer the next N calls with 502.
    pub fail_next: usize,
    /// Calls refused with 401 for want of an `Authorization` header, as "METHOD path".
    pub unauthenticated: Vec<String>,
    next_id: u64,
}

#[derive(Clone)]
pub struct FakeGitHub {
    pub url: String,
    pub state: Arc<Mutex<FakeState>>,
}

type S = State<Arc<Mutex<FakeState>>>;

impl FakeGitHub {
    /// Serves the fake on an ephemeral port of 127.0.0.1 until the runtime ends.
    pub async fn start() -> FakeGitHub {
        let state = Arc::new(Mutex::new(FakeState {
            next_id: 1000,
            ..Default::default()
        }));
        let app = Router::new()
            .route("/app/installations/{id}/access_tokens", post(access_token))
            .route("/repos/{o}/{r}/installation", get(installation))
            .route("/repos/{o}/{r}/issues/{n}/comments", post(create_comment))
            .route("/repos/{o}/{r}/issues/comments/{id}", patch(update_comment))
            .route("/repos/{o}/{r}/issues/comments/{id}", get(get_comment))
            .route(
                "/repos/{o}/{r}/issues/comments/{id}",
                delete(delete_comment),
            )
            .route("/repos/{o}/{r}/check-runs", post(create_check))
            .route("/repos/{o}/{r}/check-runs/{id}", patch(update_check))
            .route("/repos/{o}/{r}/statuses/{sha}", post(create_status))
            .route("/repos/{o}/{r}/commits/{sha}/check-runs", get(list_checks))
            .route("/repos/{o}/{r}/pulls/{n}", get(pull))
            .route("/repos/{o}/{r}/pulls/{n}/reviews", get(reviews))
            .route(
                "/repos/{o}/{r}/collaborators/{u}/permission",
                get(permission),
            )
            .route("/orgs/{org}/teams/{team}/memberships/{u}", get(membership))
            .fallback(any(unknown))
            .layer(axum::middleware::from_fn_with_state(state.clone(), record))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeGitHub { url, state }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    pub fn calls(&self) -> Vec<Call> {
        self.with(|s| s.calls.clone())
    }

    /// Comments on a PR, oldest first.
    pub fn comments(&self, pr: u64) -> Vec<Comment> {
        self.with(|s| {
            s.comments
                .values()
                .filter(|c| c.pr == pr)
                .cloned()
                .collect()
        })
    }

    /// The latest state of each check run on a commit, by name.
    pub fn checks(&self, sha: &str) -> BTreeMap<String, Value> {
        self.with(|s| {
            s.check_runs
                .values()
                .filter(|c| c["head_sha"] == sha)
                .map(|c| (c["name"].as_str().unwrap().to_owned(), c.clone()))
                .collect()
        })
    }

    pub fn set_pr(&self, number: u64, pr: FakePr) {
        self.with(|s| s.prs.insert(number, pr));
    }

    pub fn add_review(&self, pr: u64, user: &str, state: &str, commit: &str) {
        let mut r = example("pull-request-review.json");
        r["user"]["login"] = json!(user);
        r["state"] = json!(state);
        r["commit_id"] = json!(commit);
        self.with(|s| s.reviews.entry(pr).or_default().push(r));
    }

    /// A comment by `user` on PR `pr`, posted at `created_at`, as GitHub would serve it.
    pub fn add_user_comment(
        &self,
        id: u64,
        pr: u64,
        user: &str,
        body: &str,
        created_at: chrono::DateTime<chrono::Utc>,
    ) -> Value {
        let at = created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut c = example("issue-comment.json");
        c["id"] = json!(id);
        c["body"] = json!(body);
        c["user"]["login"] = json!(user);
        c["user"]["type"] = json!("User");
        c["created_at"] = json!(at);
        c["updated_at"] = json!(at);
        c["issue_url"] = json!(format!(
            "https://api.github.com/repos/acme/infra/issues/{pr}"
        ));
        self.with(|s| s.user_comments.insert(id, c.clone()));
        c
    }

    /// Its author edits comment `id` now.
    pub fn edit_user_comment(&self, id: u64, body: &str) {
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.with(|s| {
            let c = s.user_comments.get_mut(&id).expect("a user comment");
            c["body"] = json!(body);
            c["updated_at"] = json!(at);
        });
    }

    pub fn delete_user_comment(&self, id: u64) {
        self.with(|s| s.user_comments.remove(&id));
    }

    pub fn set_permission(&self, user: &str, permission: &str) {
        self.with(|s| s.permissions.insert(user.to_owned(), permission.to_owned()));
    }

    /// A check run on `sha` by another app (CI, say), as GitHub lists it.
    pub fn add_foreign_check_run(&self, sha: &str, name: &str, conclusion: &str) {
        let mut c = example("check-run.json");
        self.with(|s| {
            s.next_id += 1;
            c["id"] = json!(s.next_id);
            c["name"] = json!(name);
            c["head_sha"] = json!(sha);
            c["status"] = json!("completed");
            c["conclusion"] = json!(conclusion);
            s.check_runs.insert(s.next_id, c);
        });
    }

    pub fn add_team_member(&self, team: &str, user: &str) {
        self.with(|s| {
            s.teams
                .entry(team.to_owned())
                .or_default()
                .push(user.to_owned())
        });
    }
}

async fn record(
    State(state): S,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let authenticated = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer ") && v.len() > "Bearer ".len());
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let body_json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    {
        let mut s = state.lock().unwrap();
        s.calls.push(Call {
            method: method.clone(),
            path: path.clone(),
            body: body_json,
        });
        if !authenticated {
            s.unauthenticated.push(format!("{method} {path}"));
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({
                    "message": "Requires authentication",
                    "documentation_url": "https://docs.github.com/rest"
                })),
            )
                .into_response();
        }
        if s.fail_next > 0 {
            s.fail_next -= 1;
            return (
                StatusCode::BAD_GATEWAY,
                Json(json!({"message": "Bad Gateway"})),
            )
                .into_response();
        }
    }
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

fn body_of(s: &FakeState) -> Value {
    s.calls
        .last()
        .map(|c| c.body.clone())
        .unwrap_or(Value::Null)
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})),
    )
        .into_response()
}

async fn unknown(method: Method, uri: Uri) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"message": format!("the fake does not serve {method} {uri}")})),
    )
        .into_response()
}

async fn access_token(State(state): S, Path(_id): Path<u64>) -> Json<Value> {
    let mut t = example("installation-token.json");
    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    t["token"] = json!("ghs_fake_installation_token_0123456789");
    t["expires_at"] = json!(expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    state.lock().unwrap().tokens_issued += 1;
    Json(t)
}

async fn installation(Path((_o, _r)): Path<(String, String)>) -> Json<Value> {
    let mut i = example("installation.json");
    i["id"] = json!(42);
    Json(i)
}

async fn create_comment(State(state): S, Path((o, r, n)): Path<(String, String, u64)>) -> Response {
    let mut s = state.lock().unwrap();
    let body = body_of(&s)["body"].as_str().unwrap_or_default().to_owned();
    s.next_id += 1;
    let id = s.next_id;
    s.comments.insert(
        id,
        Comment {
            id,
            repo: format!("{o}/{r}"),
            pr: n,
            body: body.clone(),
        },
    );
    let mut c = example("issue-comment.json");
    c["id"] = json!(id);
    c["body"] = json!(body);
    c["user"]["login"] = json!("planguard[bot]");
    c["user"]["type"] = json!("Bot");
    (StatusCode::CREATED, Json(c)).into_response()
}

async fn update_comment(
    State(state): S,
    Path((_o, _r, id)): Path<(String, String, u64)>,
) -> Response {
    let mut s = state.lock().unwrap();
    let body = body_of(&s)["body"].as_str().unwrap_or_default().to_owned();
    let Some(c) = s.comments.get_mut(&id) else {
        return not_found();
    };
    c.body = body.clone();
    let mut out = example("issue-comment.json");
    out["id"] = json!(id);
    out["body"] = json!(body);
    Json(out).into_response()
}

async fn get_comment(State(state): S, Path((_o, _r, id)): Path<(String, String, u64)>) -> Response {
    let s = state.lock().unwrap();
    if let Some(c) = s.user_comments.get(&id) {
        return Json(c.clone()).into_response();
    }
    let Some(c) = s.comments.get(&id) else {
        return not_found();
    };
    let mut out = example("issue-comment.json");
    out["id"] = json!(id);
    out["body"] = json!(c.body);
    out["user"]["login"] = json!("planguard[bot]");
    out["user"]["type"] = json!("Bot");
    Json(out).into_response()
}

async fn delete_comment(
    State(state): S,
    Path((_o, _r, id)): Path<(String, String, u64)>,
) -> Response {
    match state.lock().unwrap().comments.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(),
    }
}

async fn create_check(State(state): S, Path((_o, _r)): Path<(String, String)>) -> Response {
    let mut s = state.lock().unwrap();
    let req = body_of(&s);
    s.next_id += 1;
    let id = s.next_id;
    let mut c = example("check-run.json");
    c["id"] = json!(id);
    for k in [
        "name",
        "head_sha",
        "status",
        "conclusion",
        "output",
        "details_url",
    ] {
        c[k] = req.get(k).cloned().unwrap_or(Value::Null);
    }
    s.check_runs.insert(id, c.clone());
    (StatusCode::CREATED, Json(c)).into_response()
}

async fn update_check(
    State(state): S,
    Path((_o, _r, id)): Path<(String, String, u64)>,
) -> Response {
    let mut s = state.lock().unwrap();
    let req = body_of(&s);
    let Some(c) = s.check_runs.get_mut(&id) else {
        return not_found();
    };
    for k in [
        "name",
        "head_sha",
        "status",
        "conclusion",
        "output",
        "details_url",
    ] {
        if let Some(v) = req.get(k) {
            c[k] = v.clone();
        }
    }
    if req.get("status").is_some_and(|s| s != "completed") {
        c["conclusion"] = Value::Null;
    }
    Json(c.clone()).into_response()
}

/// `per_page` and `page` of a list request.
#[derive(serde::Deserialize)]
struct PageQuery {
    per_page: Option<usize>,
    page: Option<usize>,
}

/// One page of `all` as GitHub serves it: the items, and a `Link` header with absolute URLs
/// to the next and last pages when there are more.
fn paged(
    all: &[Value],
    q: &PageQuery,
    headers: &HeaderMap,
    uri: &Uri,
    wrap: impl FnOnce(usize, Vec<Value>) -> Value,
) -> Response {
    let per_page = q.per_page.unwrap_or(30).clamp(1, 100);
    let page = q.page.unwrap_or(1).max(1);
    let total = all.len();
    let last = total.div_ceil(per_page).max(1);
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    let mut response = Json(wrap(total, items)).into_response();
    if page < last {
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let at = |n: usize| format!("<http://{host}{}?per_page={per_page}&page={n}>", uri.path());
        let link = format!("{}; rel=\"next\", {}; rel=\"last\"", at(page + 1), at(last));
        response.headers_mut().insert("link", link.parse().unwrap());
    }
    response
}

async fn list_checks(
    State(state): S,
    Path((_o, _r, sha)): Path<(String, String, String)>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let s = state.lock().unwrap();
    let runs: Vec<Value> = s
        .check_runs
        .values()
        .filter(|c| c["head_sha"] == sha)
        .cloned()
        .collect();
    paged(
        &runs,
        &q,
        &headers,
        &uri,
        |total, runs| json!({ "total_count": total, "check_runs": runs }),
    )
}

async fn create_status(
    State(state): S,
    Path((_o, _r, sha)): Path<(String, String, String)>,
) -> Response {
    let mut s = state.lock().unwrap();
    let mut req = body_of(&s);
    req["sha"] = json!(sha);
    s.statuses.push(req.clone());
    (StatusCode::CREATED, Json(req)).into_response()
}

async fn pull(State(state): S, Path((_o, _r, n)): Path<(String, String, u64)>) -> Response {
    let s = state.lock().unwrap();
    let Some(pr) = s.prs.get(&n) else {
        return not_found();
    };
    let mut p = example("pull-request.json");
    p["number"] = json!(n);
    p["head"]["sha"] = json!(pr.head);
    p["user"]["login"] = json!(pr.author);
    p["state"] = json!(if pr.open { "open" } else { "closed" });
    p["merged"] = json!(false);
    p["mergeable"] = json!(pr.mergeable);
    p["mergeable_state"] = json!(pr.mergeable_state);
    Json(p).into_response()
}

async fn reviews(
    State(state): S,
    Path((_o, _r, n)): Path<(String, String, u64)>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let s = state.lock().unwrap();
    let all = s.reviews.get(&n).map(Vec::as_slice).unwrap_or_default();
    paged(all, &q, &headers, &uri, |_, items| json!(items))
}

async fn permission(
    State(state): S,
    Path((_o, _r, u)): Path<(String, String, String)>,
) -> Response {
    let s = state.lock().unwrap();
    match s.permissions.get(&u) {
        Some(p) => {
            Json(json!({"permission": p, "role_name": p, "user": {"login": u}})).into_response()
        }
        None => not_found(),
    }
}

async fn membership(
    State(state): S,
    Path((org, team, u)): Path<(String, String, String)>,
) -> Response {
    let s = state.lock().unwrap();
    let key = format!("{org}/{team}");
    if s.teams.get(&key).is_some_and(|m| m.contains(&u)) {
        Json(json!({"state": "active", "role": "member", "url": ""})).into_response()
    } else {
        not_found()
    }
}
