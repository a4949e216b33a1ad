//! The server's end-to-end test world: a real bare git repository, a real SQLite file, the
//! real `tofu`/`terraform` binary, the planguard server running in-process on 127.0.0.1, and
//! the GitHub fake. Webhooks are GitHub's real example payloads with the test's repository,
//! commits and people filled in, signed with the test secret.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use planguard::serve::config::ServerConfig;
use planguard::serve::runner::PlanRunner;
use planguard::serve::store::JobState;
use planguard::serve::worker::Services;

use crate::github::{FakeGitHub, FakePr};

pub const SECRET: &str = "e2e-webhook-secret";
pub const REPO: &str = "acme/infra";

pub fn corpus_payload(name: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/corpus/webhooks/");
    serde_json::from_str(&std::fs::read_to_string(format!("{path}{name}")).unwrap()).unwrap()
}

/// Runs git in `dir` and returns its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Options of a world.
pub struct Options {
    /// Extra TOML appended to the server config.
    pub extra_config: String,
    /// The planguard.yaml of the main branch (None: the standard two stacks). `{STATE}` in it
    /// becomes the world's state directory.
    pub planguard_yaml: Option<String>,
    pub workers: usize,
    /// Authenticate with a token instead of as a GitHub App (checks become statuses).
    pub token_mode: bool,
    /// More files on the main branch (path, text), e.g. CODEOWNERS.
    pub main_files: Vec<(String, String)>,
    /// Runs the steps instead of real processes (see `fake_tofu`); `None`: the real runner.
    pub runner: Option<Arc<dyn PlanRunner>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            extra_config: String::new(),
            planguard_yaml: None,
            workers: 4,
            token_mode: false,
            main_files: Vec::new(),
            runner: None,
        }
    }
}

/// Starts the real `planguard serve` on a world's config (see [`World::hand_over_to_binary`]).
pub struct Binary {
    config_path: PathBuf,
}

impl Binary {
    pub fn spawn(&self) -> std::process::Child {
        self.command().spawn().unwrap()
    }

    /// Starts it as replica `name` (`PLANGUARD_REPLICA`).
    pub fn spawn_as(&self, name: &str) -> std::process::Child {
        self.command()
            .env("PLANGUARD_REPLICA", name)
            .spawn()
            .unwrap()
    }

    fn command(&self) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_planguard"));
        c.args(["serve", "--config", self.config_path.to_str().unwrap()])
            .env("PLANGUARD_LOG", "warn");
        c
    }
}

/// Another replica of a world's server, in this process: the same config and database, a
/// data directory (working copies) of its own (see [`World::add_replica`]).
pub struct Replica {
    pub services: Arc<Services>,
    pub url: String,
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Replica {
    /// Stops it, letting running jobs finish.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(h) = self.server.take() {
            h.await.unwrap();
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The token of token-mode worlds.
pub const TOKEN: &str = "ghp_e2eTokenThatMustNeverBePosted01";

pub struct World {
    pub tmp: tempfile::TempDir,
    pub origin: PathBuf,
    pub work: PathBuf,
    pub data_dir: PathBuf,
    pub state_dir: PathBuf,
    pub github: FakeGitHub,
    pub services: Arc<Services>,
    pub url: String,
    pub config_text: String,
    runner: Option<Arc<dyn PlanRunner>>,
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<()>>,
    deliveries: AtomicU64,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

/// The standard planguard.yaml: two stacks with their own state and accounts. Each stack's
/// local state is a file in its own working copy (`state_dir` names the file's directory
/// relative to the stack's, `.` in practice): sandboxed steps can write nowhere else.
pub fn standard_yaml(state_dir: &Path, extra_stack_keys: &str) -> String {
    format!(
        r#"version: 1
stacks:
  - name: network
    dir: stacks/network
    account:
      id: "111111111111"
      env:
        AWS_ACCESS_KEY_ID: AKIANETWORKEXAMPLE01
    backend_config:
      path: {state}/network.tfstate
{extra}
  - name: data
    dir: stacks/data
    depends_on: [network]
    account:
      id: "222222222222"
      env:
        AWS_ACCESS_KEY_ID: AKIADATAEXAMPLE00002
    backend_config:
      path: {state}/data.tfstate
{extra}
"#,
        state = if state_dir.is_absolute() {
            Path::new(".")
        } else {
            state_dir
        }
        .display(),
        extra = extra_stack_keys
    )
}

/// Starts a server from config text on an ephemeral port.
async fn boot(
    config_text: &str,
    runner: Option<Arc<dyn PlanRunner>>,
) -> (
    Arc<Services>,
    String,
    CancellationToken,
    tokio::task::JoinHandle<()>,
) {
    let config = ServerConfig::from_toml(config_text, "e2e.toml", |_| None)
        .unwrap_or_else(|e| panic!("test config: {e}"));
    let mut services = planguard::serve::http::services(config)
        .await
        .expect("services start");
    if let Some(runner) = runner {
        Arc::get_mut(&mut services)
            .expect("the services are not shared before launch")
            .runner = runner;
    }
    let listener = planguard::serve::http::listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let s = services.clone();
    let server = tokio::spawn(async move {
        planguard::serve::http::launch(s, listener, stop, Duration::from_secs(30))
            .await
            .unwrap();
    });
    (services, url, shutdown, server)
}

impl World {
    pub async fn start(opts: Options) -> World {
        let tmp = tempfile::tempdir().unwrap();
        let origin = tmp.path().join("origin.git");
        let work = tmp.path().join("work");
        let data_dir = tmp.path().join("data");
        let state_dir = tmp.path().join("state");
        std::fs::create_dir_all(&state_dir).unwrap();
        git(
            tmp.path(),
            &[
                "init",
                "-q",
                "--bare",
                "-b",
                "main",
                origin.to_str().unwrap(),
            ],
        );
        git(
            tmp.path(),
            &[
                "clone",
                "-q",
                origin.to_str().unwrap(),
                work.to_str().unwrap(),
            ],
        );
        git(&work, &["checkout", "-q", "-b", "main"]);
        copy_dir(&crate::common::testdata("server/repo"), &work);
        let yaml = opts
            .planguard_yaml
            .clone()
            .unwrap_or_else(|| standard_yaml(&state_dir, ""));
        let yaml = yaml.replace("{STATE}", &state_dir.display().to_string());
        std::fs::write(work.join("planguard.yaml"), yaml).unwrap();
        for (path, text) in &opts.main_files {
            let p = work.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        git(&work, &["add", "."]);
        git(&work, &["commit", "-qm", "two stacks"]);
        git(&work, &["push", "-q", "origin", "main"]);

        let github = FakeGitHub::start().await;
        // Top-level keys of the extra config go before the first table.
        let split = opts
            .extra_config
            .lines()
            .position(|l| l.trim_start().starts_with('['))
            .unwrap_or(opts.extra_config.lines().count());
        let top: String = opts
            .extra_config
            .lines()
            .take(split)
            .collect::<Vec<_>>()
            .join("\n");
        let tables: String = opts
            .extra_config
            .lines()
            .skip(split)
            .collect::<Vec<_>>()
            .join("\n");
        let config_text = format!(
            r#"{top}
listen = "127.0.0.1:0"
data_dir = "{data}"
workers = {workers}
allowed_repos = ["acme/*"]
step_timeout_secs = 120

[github]
api_url = "{api}"
{auth}
webhook_secret = "{SECRET}"
bot_login = "planguard[bot]"

[policies]
builtin = true
paths = ["{policies}"]

[audit]
token = "audit-token-123"

{extra}
"#,
            data = data_dir.display(),
            workers = opts.workers,
            api = github.url,
            auth = if opts.token_mode {
                format!("token = \"{TOKEN}\"")
            } else {
                format!(
                    "app_id = 4242\nprivate_key_path = \"{}\"",
                    crate::common::testdata("server/test-app-key.pem").display()
                )
            },
            policies = crate::common::testdata("server/policies").display(),
            extra = tables,
            top = top,
        );
        let (services, url, shutdown, server) = boot(&config_text, opts.runner.clone()).await;
        World {
            tmp,
            origin,
            work,
            data_dir,
            state_dir,
            github,
            services,
            url,
            config_text,
            runner: opts.runner,
            shutdown,
            server: Some(server),
            deliveries: AtomicU64::new(1),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Starts another replica named `name` on this world's config: the same database (so a
    /// PostgreSQL world's), the same GitHub fake and runner, its own data directory.
    pub async fn add_replica(&self, name: &str) -> Replica {
        let data = self.tmp.path().join(format!("data-{name}"));
        let config = format!(
            "replica = \"{name}\"\n{}",
            self.config_text.replace(
                &format!("data_dir = \"{}\"", self.data_dir.display()),
                &format!("data_dir = \"{}\"", data.display()),
            )
        );
        let (services, url, shutdown, server) = boot(&config, self.runner.clone()).await;
        Replica {
            services,
            url,
            shutdown,
            server: Some(server),
        }
    }

    /// Signs and posts a delivery with id `delivery` to the server at `url` (a replica).
    pub async fn deliver_to(
        &self,
        url: &str,
        event: &str,
        delivery: &str,
        payload: &Value,
    ) -> (u16, Value) {
        let body = serde_json::to_vec(payload).unwrap();
        let sig = planguard::serve::webhook::sign(SECRET.as_bytes(), &body);
        self.post_raw_to(url, event, delivery, Some(&sig), body)
            .await
    }

    /// Starts the server again on the same data directory (after [`World::stop`]).
    pub async fn restart(&mut self) {
        let (services, url, shutdown, server) = boot(&self.config_text, self.runner.clone()).await;
        self.services = services;
        self.url = url;
        self.shutdown = shutdown;
        self.server = Some(server);
    }

    /// Stops the server, letting running jobs finish.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(h) = self.server.take() {
            h.await.unwrap();
        }
    }

    /// Commits `files` on `branch` (created from main when new) and pushes it, also as
    /// GitHub's `refs/pull/<pr>/head`. Returns the commit.
    pub fn push(&self, branch: &str, pr: u64, files: &[(&str, &str)], message: &str) -> String {
        let exists = git(&self.work, &["branch", "--list", branch]);
        if exists.is_empty() {
            git(&self.work, &["checkout", "-q", "-b", branch, "main"]);
        } else {
            git(&self.work, &["checkout", "-q", branch]);
        }
        for (path, text) in files {
            let p = self.work.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "-qm", message, "--allow-empty"]);
        let sha = git(&self.work, &["rev-parse", "HEAD"]);
        git(
            &self.work,
            &[
                "push",
                "-qf",
                "origin",
                &format!("{branch}:refs/heads/{branch}"),
            ],
        );
        git(
            &self.work,
            &[
                "push",
                "-qf",
                "origin",
                &format!("{branch}:refs/pull/{pr}/head"),
            ],
        );
        git(&self.work, &["checkout", "-q", "main"]);
        sha
    }

    /// Stops the in-process server and hands the world to the real binary: a config with a
    /// fixed free port is written, `url` points at it, and the returned launcher starts
    /// `planguard serve` on it (for the kill-and-restart scenarios).
    pub async fn hand_over_to_binary(&mut self) -> Binary {
        self.stop().await;
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let config = self.config_text.replace(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"127.0.0.1:{port}\""),
        );
        let config_path = self.tmp.path().join("server.toml");
        std::fs::write(&config_path, config).unwrap();
        self.url = format!("http://127.0.0.1:{port}");
        Binary { config_path }
    }

    /// Waits until the server (the real binary, in the restart scenarios) accepts connections
    /// at `self.url`; fails after a minute.
    pub async fn wait_ready(&self) {
        let started = std::time::Instant::now();
        loop {
            let ok = tokio::time::timeout(Duration::from_millis(500), async {
                tokio::net::TcpStream::connect(self.url.trim_start_matches("http://"))
                    .await
                    .is_ok()
            })
            .await
            .unwrap_or(false);
            if ok {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the server did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The local state file an apply of a standard stack (`network`, `data`) of PR `pr` writes:
    /// `<stack>.tfstate` in the stack's directory of its working copy.
    pub fn state_file(&self, pr: u64, stack: &str) -> PathBuf {
        self.data_dir.join(format!(
            "work/{REPO}/{pr}/{stack}/stacks/{stack}/{stack}.tfstate"
        ))
    }

    pub fn main_sha(&self) -> String {
        git(&self.work, &["rev-parse", "main"])
    }

    /// A `pull_request` payload from GitHub's example, for this world's repository.
    pub fn pr_payload(
        &self,
        action: &str,
        pr: u64,
        branch: &str,
        head: &str,
        author: &str,
    ) -> Value {
        let mut p = corpus_payload("pull_request.opened.1.json");
        let url = self.origin.display().to_string();
        p["action"] = json!(action);
        p["number"] = json!(pr);
        p["installation"] =
            json!({ "id": 42, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI=" });
        let repo = &mut p["repository"];
        repo["full_name"] = json!(REPO);
        repo["name"] = json!("infra");
        repo["owner"]["login"] = json!("acme");
        repo["clone_url"] = json!(url);
        repo["default_branch"] = json!("main");
        let pull = &mut p["pull_request"];
        pull["number"] = json!(pr);
        pull["html_url"] = json!(format!("https://github.com/{REPO}/pull/{pr}"));
        pull["user"]["login"] = json!(author);
        pull["head"]["sha"] = json!(head);
        pull["head"]["ref"] = json!(branch);
        pull["head"]["repo"]["full_name"] = json!(REPO);
        pull["head"]["repo"]["clone_url"] = json!(url);
        pull["base"]["sha"] = json!(self.main_sha());
        pull["base"]["ref"] = json!("main");
        pull["base"]["repo"]["full_name"] = json!(REPO);
        pull["base"]["repo"]["clone_url"] = json!(url);
        pull["draft"] = json!(false);
        if action == "closed" {
            pull["state"] = json!("closed");
        }
        p
    }

    /// Opens PR `pr` from `branch` at `head` (and tells the fake about it).
    pub async fn open_pr(&self, pr: u64, branch: &str, head: &str, author: &str) -> (u16, Value) {
        self.github.set_pr(
            pr,
            FakePr {
                head: head.to_owned(),
                author: author.to_owned(),
                open: true,
                mergeable: Some(true),
                mergeable_state: "blocked".into(),
            },
        );
        let payload = self.pr_payload("opened", pr, branch, head, author);
        self.deliver("pull_request", &payload).await
    }

    /// A push to an open PR: `synchronize` from `before` to `head`.
    pub async fn push_pr(
        &self,
        pr: u64,
        branch: &str,
        before: &str,
        head: &str,
        author: &str,
    ) -> (u16, Value) {
        self.github.with(|s| {
            if let Some(p) = s.prs.get_mut(&pr) {
                p.head = head.to_owned();
            }
        });
        let mut payload = self.pr_payload("synchronize", pr, branch, head, author);
        payload["before"] = json!(before);
        payload["after"] = json!(head);
        self.deliver("pull_request", &payload).await
    }

    pub async fn close_pr(
        &self,
        pr: u64,
        branch: &str,
        head: &str,
        author: &str,
        merged: bool,
    ) -> (u16, Value) {
        self.github.with(|s| {
            if let Some(p) = s.prs.get_mut(&pr) {
                p.open = false;
            }
        });
        let mut payload = self.pr_payload("closed", pr, branch, head, author);
        payload["pull_request"]["merged"] = json!(merged);
        self.deliver("pull_request", &payload).await
    }

    /// `issue_comment.created` on PR `pr` by `user`.
    pub async fn comment(&self, pr: u64, user: &str, body: &str) -> (u16, Value) {
        let p = self.comment_payload(pr, user, body);
        self.deliver("issue_comment", &p).await
    }

    /// A new comment by `user` on PR `pr`, posted now: it exists on the fake GitHub, and
    /// this is its `issue_comment.created` payload (to deliver, and deliver again).
    pub fn comment_payload(&self, pr: u64, user: &str, body: &str) -> Value {
        let id = self.deliveries.fetch_add(1, Ordering::SeqCst) + 500_000;
        let on_github = self
            .github
            .add_user_comment(id, pr, user, body, chrono::Utc::now());
        let mut p = corpus_payload("issue_comment.created.1.json");
        p["action"] = json!("created");
        p["installation"] = json!({ "id": 42 });
        p["repository"]["full_name"] = json!(REPO);
        p["repository"]["clone_url"] = json!(self.origin.display().to_string());
        p["issue"]["number"] = json!(pr);
        p["issue"]["pull_request"] =
            json!({ "url": format!("https://api.github.com/repos/{REPO}/pulls/{pr}") });
        p["comment"]["body"] = json!(body);
        p["comment"]["id"] = json!(id);
        p["comment"]["user"]["login"] = json!(user);
        p["comment"]["user"]["type"] = json!("User");
        p["comment"]["created_at"] = on_github["created_at"].clone();
        p["comment"]["updated_at"] = on_github["updated_at"].clone();
        p["comment"]["html_url"] = json!(format!(
            "https://github.com/{REPO}/pull/{pr}#issuecomment-{id}"
        ));
        p
    }

    /// `user` approves PR `pr` at `commit`: the review exists on the fake, and its
    /// `pull_request_review.submitted` webhook is delivered.
    pub async fn approve(&self, pr: u64, user: &str, commit: &str) {
        self.github.add_review(pr, user, "APPROVED", commit);
        let mut p = corpus_payload("pull_request_review.submitted.1.json");
        p["installation"] = json!({ "id": 42 });
        p["repository"]["full_name"] = json!(REPO);
        p["pull_request"]["number"] = json!(pr);
        p["review"]["user"]["login"] = json!(user);
        p["review"]["state"] = json!("approved");
        p["review"]["commit_id"] = json!(commit);
        let (status, body) = self.deliver("pull_request_review", &p).await;
        assert!(status == 202 || status == 200, "{status} {body}");
    }

    /// Signs and posts a delivery with a fresh delivery id.
    pub async fn deliver(&self, event: &str, payload: &Value) -> (u16, Value) {
        let id = format!(
            "delivery-{}",
            self.deliveries.fetch_add(1, Ordering::SeqCst)
        );
        self.deliver_as(event, &id, payload).await
    }

    pub async fn deliver_as(&self, event: &str, delivery: &str, payload: &Value) -> (u16, Value) {
        self.deliver_to(&self.url, event, delivery, payload).await
    }

    pub async fn post_raw(
        &self,
        event: &str,
        delivery: &str,
        signature: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, Value) {
        self.post_raw_to(&self.url, event, delivery, signature, body)
            .await
    }

    async fn post_raw_to(
        &self,
        url: &str,
        event: &str,
        delivery: &str,
        signature: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let mut req = hyper::Request::post(format!("{url}/webhooks/github"))
            .header("content-type", "application/json")
            .header("x-github-event", event)
            .header("x-github-delivery", delivery);
        if let Some(sig) = signature {
            req = req.header("x-hub-signature-256", sig);
        }
        let resp = self
            .client
            .request(req.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e:?}"));
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> (u16, String) {
        let mut req = hyper::Request::get(format!("{}{path}", self.url));
        if let Some(t) = bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = self
            .client
            .request(req.body(Full::new(Bytes::new())).unwrap())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The audit log of PR `pr`, oldest first.
    pub fn audit(&self, pr: u64) -> Vec<planguard::serve::store::AuditEntry> {
        let filter = planguard::serve::store::AuditFilter {
            pr: Some(pr),
            limit: 1000,
            ..Default::default()
        };
        // Synchronous for the scenarios' closures; the tests run on a multi-threaded runtime.
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current()
                .block_on(self.services.store.audit_log(&filter))
                .unwrap()
        })
    }

    /// Waits until no job is queued or running (waiting jobs may stay parked).
    pub async fn settle(&self) {
        let started = Instant::now();
        loop {
            let counts = self.services.store.job_counts().await.unwrap();
            if counts[&JobState::Queued] == 0 && counts[&JobState::Running] == 0 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "jobs did not settle: {counts:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for a condition on the fake GitHub.
    pub async fn wait_for(&self, what: &str, mut cond: impl FnMut(&FakeGitHub) -> bool) {
        let started = Instant::now();
        while !cond(&self.github) {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The planguard comment of a PR (all parts joined).
    pub fn pr_comment(&self, pr: u64) -> String {
        self.github
            .comments(pr)
            .into_iter()
            .filter(|c| c.body.starts_with("<!-- planguard:pr-comment -->"))
            .map(|c| c.body)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Comments that are not the main planguard comment (replies, refusals).
    pub fn replies(&self, pr: u64) -> Vec<String> {
        self.github
            .comments(pr)
            .into_iter()
            .filter(|c| !c.body.starts_with("<!-- planguard:pr-comment -->"))
            .map(|c| c.body)
            .collect()
    }

    /// Replaces the run-specific parts of posted text (temp paths, SHAs, times) for snapshots.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.replace(&self.tmp.path().display().to_string(), "[tmp]");
        for sha in git(&self.work, &["log", "--all", "--format=%H"]).lines() {
            out = out.replace(sha, "[sha]").replace(&sha[..7], "[short]");
        }
        // Plan hashes (the plan file holds a timestamp).
        let mut from = 0;
        while let Some(i) = out[from..].find("(plan `").map(|i| from + i + 7) {
            if out.len() >= i + 12 {
                out.replace_range(i..i + 12, "[hash]");
            }
            from = i;
        }
        regex_lite_durations(&out)
    }
}

/// Replaces `1.23s`-style durations, which vary between runs.
fn regex_lite_durations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_alphanumeric()) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len()
                && chars[i] == 's'
                && (i + 1 == chars.len() || !chars[i + 1].is_ascii_alphanumeric())
                && chars[start..i].contains(&'.')
            {
                out.push_str("[t]s");
                i += 1;
                continue;
            }
            out.extend(&chars[start..i]);
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

impl Drop for World {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
