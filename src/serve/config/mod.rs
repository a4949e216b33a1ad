//! The server's configuration: `planguard serve --config FILE` plus `PLANGUARD_*` overrides.
//!
//! Owns reading the TOML file, applying environment overrides, and validating the result into
//! a [`ServerConfig`] that the rest of the server can trust. It does not open sockets, read
//! policies or talk to GitHub; it only checks what can be checked from here (addresses, globs,
//! that the App key is an RSA PEM).
//!
//! Loading runs in two phases and collects every problem before giving up, so one failed start
//! shows everything to fix:
//!
//! 1. shape: the file is TOML, every key is known, every value has the right type; the
//!    environment's values parse. Each key is read on its own, so a wrong type in one does not
//!    hide an unknown key in another (this is why the file is not deserialized in one go with
//!    `deny_unknown_fields`; nested lists such as `[[enforcement]]` still are, through
//!    `serde_path_to_error`, so their problems name the full key path).
//! 2. meaning: required settings are present, exactly one way to authenticate to GitHub is
//!    chosen, values are in range.
//!
//! A problem names the key it is about (`github.webhook_secret`, `enforcement[1].level`) or,
//! for a value from the environment, the variable (`PLANGUARD_WORKERS`). Environment values win
//! over the file; an empty variable counts as unset. The file is optional when the environment
//! supplies everything. Secrets are held in [`Secret`] (secrecy's `SecretString`), which never prints its value.

pub mod http_limits;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use globset::{GlobBuilder, GlobMatcher};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::serve::diagnostics;
use crate::serve::domain::RepoName;
use crate::serve::enforcement::{self, EnforcementRule};

/// A commented example configuration (`deploy/planguard.example.toml`).
pub const EXAMPLE_CONFIG: &str = include_str!("../../../deploy/planguard.example.toml");

pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";
pub const DEFAULT_DATA_DIR: &str = "./planguard-data";
/// The database file inside the data directory, unless `database` says otherwise.
pub const DATABASE_FILE: &str = "planguard.db";
pub const DEFAULT_WORKERS: usize = 4;
pub const DEFAULT_ALLOWED_REPOS: &str = "*/*";
pub const DEFAULT_API_URL: &str = "https://api.github.com";
pub const DEFAULT_STEP_TIMEOUT_SECS: u64 = 1800;
pub const DEFAULT_MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// Bounds on what one repository (its `planguard.yaml`, its pushes) can make the server do,
/// set in `[limits]`. Zero is refused: every limit must let something through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The largest `planguard.yaml` read, in bytes.
    pub max_config_bytes: u64,
    /// The most stacks one repository's `planguard.yaml` may define.
    pub max_stacks: usize,
    /// The most plan jobs one push, PR opening or `planguard plan` queues.
    pub max_plans_per_event: usize,
    /// How often a job may be interrupted (the server stopped under it, or it panicked)
    /// before it fails instead of running again.
    pub max_job_interruptions: u32,
    /// How long a claimed job stays its replica's without a renewal (seconds). The running
    /// replica renews it every third of that; when a replica dies, another takes its jobs
    /// over once their leases expire.
    pub job_lease_secs: u64,
    /// Finished jobs, deliveries, and the plans of closed PRs older than this (days) are
    /// deleted; the audit log is kept.
    pub retention_days: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_config_bytes: 256 * 1024,
            max_stacks: 200,
            max_plans_per_event: 50,
            max_job_interruptions: 3,
            job_lease_secs: 60,
            retention_days: 30,
        }
    }
}

/// A secret value (secrecy's): `Debug` prints it redacted, it is zeroed when dropped, and it is
/// read only through [`ExposeSecret::expose_secret`].
pub type Secret = secrecy::SecretString;
pub use secrecy::ExposeSecret;

/// How the server logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Whether steps run in the sandbox (`sandbox = "on"`, the default) or as the server's own
/// user with its file system (`"off"`, for hosts without user namespaces or Landlock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxMode {
    #[default]
    On,
    Off,
}

/// How the server authenticates to GitHub.
#[derive(Debug, Clone)]
pub enum GithubAuth {
    /// A GitHub App: its id and private key (PEM text, checked to be an RSA key).
    App { app_id: u64, private_key: Secret },
    /// A personal access or installation token.
    Token(Secret),
}

#[derive(Debug, Clone)]
pub struct GithubConfig {
    /// The REST API root, without a trailing `/`.
    pub api_url: String,
    pub auth: GithubAuth,
    pub webhook_secret: Secret,
    /// The login whose comments are the bot's own.
    pub bot_login: Option<String>,
}

/// Which policies the server evaluates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfig {
    pub builtin: bool,
    pub paths: Vec<PathBuf>,
    pub data: Vec<PathBuf>,
}

/// Who may approve policy findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owners {
    pub users: Vec<String>,
    /// `org/team` slugs.
    pub teams: Vec<String>,
    /// Whether a PR's author may approve findings on their own PR.
    pub allow_self_approval: bool,
}

/// The validated configuration of `planguard serve`.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub github: GithubConfig,
    pub data_dir: PathBuf,
    /// A SQLite file, or a `postgres://` URL (see [`crate::serve::store::Database`]).
    pub database: PathBuf,
    /// This replica's name in the job table (`replica`, `PLANGUARD_REPLICA`; default: the
    /// host name). Replicas sharing a database need distinct names; one replica keeps its
    /// name across restarts, so a restart resumes its own jobs at once.
    pub replica: String,
    pub workers: usize,
    /// Globs over `owner/name`.
    pub allowed_repos: Vec<String>,
    /// `None`: `tofu` if on PATH, else `terraform`.
    pub binary: Option<PathBuf>,
    pub log_format: LogFormat,
    pub allow_fork_prs: bool,
    pub step_timeout: Duration,
    pub sandbox: SandboxMode,
    pub max_body_bytes: usize,
    /// Timeouts, the connection cap and the body budget (`[http]`).
    pub http: http_limits::HttpLimits,
    pub policies: PolicyConfig,
    /// Bearer token for `GET /api/audit`; `None` disables the audit API.
    pub audit_token: Option<Secret>,
    /// `org/team` slugs whose members may apply, besides users with write permission.
    pub apply_teams: Vec<String>,
    pub policy_owners: Owners,
    pub enforcement: Vec<EnforcementRule>,
    /// Cloud accounts, their plan and apply credentials, and the directories each may serve.
    pub accounts: crate::serve::accounts::Registry,
    /// Whether the default branch's `planguard.yaml` may define its own workflows and `run:`
    /// steps (off by default; a pull request's head never may).
    pub allow_custom_workflows: bool,
    /// Base branches whose `planguard.yaml` and CODEOWNERS are trusted besides the default
    /// branch; a PR against any other base cannot apply.
    pub protected_branches: Vec<String>,
    /// `[limits]`.
    pub limits: Limits,
}

/// A problem in the config: where (the key, or the environment variable the value came from)
/// and what.
pub use crate::serve::diagnostics::Problem as ConfigProblem;

/// Everything wrong with a configuration: one line per problem, `<origin>: <key>: <message>`.
#[derive(Debug, Clone)]
pub struct ConfigErrors {
    /// The file, or `environment` when there was none.
    pub origin: String,
    pub problems: Vec<ConfigProblem>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}: {p}", self.origin)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl ServerConfig {
    /// Reads `path` (when given) and the environment. `env` looks a variable up; production
    /// passes `|k| std::env::var(k).ok()`.
    pub fn load(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ServerConfig, ConfigErrors> {
        let Some(path) = path else {
            return ServerConfig::from_toml("", "environment", env);
        };
        let origin = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => ServerConfig::from_toml(&text, &origin, env),
            Err(e) => Err(ConfigErrors {
                origin,
                problems: vec![ConfigProblem::new(
                    String::new(),
                    format!(
                        "cannot read the config file ({e}); check the --config path, or leave \
                         --config out and configure with PLANGUARD_* variables"
                    ),
                )],
            }),
        }
    }

    /// Parses a TOML configuration (`origin` names it in messages) with environment overrides.
    pub fn from_toml(
        text: &str,
        origin: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ServerConfig, ConfigErrors> {
        let mut problems = Vec::new();
        let errors = |problems| ConfigErrors {
            origin: origin.to_owned(),
            problems,
        };
        // Without the file's content, checking what it means would only add noise.
        let Some(mut raw) = Raw::from_toml(text, &mut problems) else {
            return Err(errors(problems));
        };
        raw.apply_env(&env, &mut problems);
        match raw.validate(&mut problems) {
            Some(config) if problems.is_empty() => Ok(config),
            _ => Err(errors(problems)),
        }
    }

    /// Whether the server works for `repo`: its `owner/name` matches one of
    /// [`ServerConfig::allowed_repos`] (case-insensitively, as GitHub compares names).
    pub fn repo_allowed(&self, repo: &RepoName) -> bool {
        let name = repo.to_string();
        self.allowed_repos
            .iter()
            .any(|pattern| repo_glob(pattern).is_ok_and(|g| g.is_match(&name)))
    }
}

fn repo_glob(pattern: &str) -> Result<GlobMatcher, globset::Error> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .case_insensitive(true)
        .build()
        .map(|g| g.compile_matcher())
}

/// Phase one's result: every setting as found, none checked for meaning yet.
#[derive(Default)]
struct Raw {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database: Option<PathBuf>,
    workers: Option<usize>,
    allowed_repos: Option<Vec<String>>,
    binary: Option<PathBuf>,
    log_format: Option<LogFormat>,
    allow_fork_prs: Option<bool>,
    step_timeout_secs: Option<u64>,
    sandbox: Option<SandboxMode>,
    max_body_bytes: Option<usize>,
    http: http_limits::RawLimits,
    api_url: Option<String>,
    app_id: Option<u64>,
    private_key: Option<String>,
    private_key_path: Option<PathBuf>,
    token: Option<String>,
    webhook_secret: Option<String>,
    bot_login: Option<String>,
    builtin: Option<bool>,
    policy_paths: Option<Vec<PathBuf>>,
    policy_data: Option<Vec<PathBuf>>,
    audit_token: Option<String>,
    apply_teams: Option<Vec<String>>,
    owner_users: Option<Vec<String>>,
    owner_teams: Option<Vec<String>>,
    allow_self_approval: Option<bool>,
    enforcement: Option<Vec<EnforcementRule>>,
    accounts: Option<BTreeMap<String, crate::serve::accounts::AccountSpec>>,
    allow_custom_workflows: Option<bool>,
    protected_branches: Option<Vec<String>>,
    max_config_bytes: Option<u64>,
    max_stacks: Option<usize>,
    max_plans_per_event: Option<usize>,
    max_job_interruptions: Option<u32>,
    job_lease_secs: Option<u64>,
    retention_days: Option<u64>,
    replica: Option<String>,
    /// Keys whose value came from the environment, with the variable's name.
    from_env: BTreeMap<&'static str, &'static str>,
}

pub(super) fn problem(key: impl Into<String>, message: impl Into<String>) -> ConfigProblem {
    ConfigProblem::new(key, message)
}

/// Reads one table's keys one at a time, remembering which keys exist so that whatever is
/// left at the end can be reported as unknown, with the known ones listed.
struct Table {
    /// `""` for the top level, `"github"` for `[github]`.
    name: &'static str,
    table: toml::Table,
    known: Vec<&'static str>,
}

impl Table {
    fn key(&self, key: &str) -> String {
        if self.name.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.name)
        }
    }

    fn take<T: DeserializeOwned>(
        &mut self,
        key: &'static str,
        problems: &mut Vec<ConfigProblem>,
    ) -> Option<T> {
        self.known.push(key);
        let value = self.table.remove(key)?;
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => Some(v),
            Err(e) => {
                let below = e.path().to_string();
                let key = match below.as_str() {
                    "." => self.key(key),
                    b if b.starts_with('[') => format!("{}{b}", self.key(key)),
                    b => format!("{}.{b}", self.key(key)),
                };
                problems.push(problem(key, e.into_inner().message().to_owned()));
                None
            }
        }
    }

    fn section(&mut self, key: &'static str, problems: &mut Vec<ConfigProblem>) -> Option<Table> {
        self.known.push(key);
        match self.table.remove(key)? {
            toml::Value::Table(table) => Some(Table {
                name: key,
                table,
                known: Vec::new(),
            }),
            other => {
                problems.push(problem(
                    key,
                    format!(
                        "must be a table (a `[{key}]` section), not a {}",
                        other.type_str()
                    ),
                ));
                None
            }
        }
    }

    fn finish(self, problems: &mut Vec<ConfigProblem>) {
        let scope = if self.name.is_empty() {
            "the top level".to_owned()
        } else {
            format!("[{}]", self.name)
        };
        for key in self.table.keys() {
            problems.push(problem(
                self.key(key),
                diagnostics::unknown_key(key, &self.known, &scope),
            ));
        }
    }
}

impl Raw {
    /// `None` when the text is not TOML at all.
    fn from_toml(text: &str, problems: &mut Vec<ConfigProblem>) -> Option<Raw> {
        let mut raw = Raw::default();
        let table = match toml::from_str::<toml::Table>(text) {
            Ok(t) => t,
            Err(e) => {
                let key = e
                    .span()
                    .map(|span| {
                        let before = &text[..span.start.min(text.len())];
                        let line = before.matches('\n').count() + 1;
                        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                        format!("line {line}, column {column}")
                    })
                    .unwrap_or_default();
                problems.push(problem(
                    key,
                    format!("{} (the file is not valid TOML)", e.message().trim_end()),
                ));
                return None;
            }
        };
        let p = problems;
        let mut top = Table {
            name: "",
            table,
            known: Vec::new(),
        };
        raw.listen = top.take("listen", p);
        raw.data_dir = top.take("data_dir", p);
        raw.database = top.take("database", p);
        raw.replica = top.take("replica", p);
        raw.workers = top.take("workers", p);
        raw.allowed_repos = top.take("allowed_repos", p);
        raw.binary = top.take("binary", p);
        raw.log_format = top.take("log_format", p);
        raw.allow_fork_prs = top.take("allow_fork_prs", p);
        raw.step_timeout_secs = top.take("step_timeout_secs", p);
        raw.sandbox = top.take("sandbox", p);
        raw.max_body_bytes = top.take("max_body_bytes", p);
        if let Some(mut t) = top.section("github", p) {
            raw.api_url = t.take("api_url", p);
            raw.app_id = t.take("app_id", p);
            raw.private_key = t.take("private_key", p);
            raw.private_key_path = t.take("private_key_path", p);
            raw.token = t.take("token", p);
            raw.webhook_secret = t.take("webhook_secret", p);
            raw.bot_login = t.take("bot_login", p);
            t.finish(p);
        }
        if let Some(mut t) = top.section("policies", p) {
            raw.builtin = t.take("builtin", p);
            raw.policy_paths = t.take("paths", p);
            raw.policy_data = t.take("data", p);
            t.finish(p);
        }
        if let Some(mut t) = top.section("audit", p) {
            raw.audit_token = t.take("token", p);
            t.finish(p);
        }
        if let Some(mut t) = top.section("apply", p) {
            raw.apply_teams = t.take("teams", p);
            t.finish(p);
        }
        if let Some(mut t) = top.section("policy_owners", p) {
            raw.owner_users = t.take("users", p);
            raw.owner_teams = t.take("teams", p);
            raw.allow_self_approval = t.take("allow_self_approval", p);
            t.finish(p);
        }
        if let Some(mut t) = top.section("http", p) {
            raw.http.header_timeout_secs = t.take("header_timeout_secs", p);
            raw.http.body_timeout_secs = t.take("body_timeout_secs", p);
            raw.http.idle_timeout_secs = t.take("idle_timeout_secs", p);
            raw.http.max_connections = t.take("max_connections", p);
            raw.http.body_budget_bytes = t.take("body_budget_bytes", p);
            t.finish(p);
        }
        raw.enforcement = top.take("enforcement", p);
        raw.accounts = top.take("accounts", p);
        raw.allow_custom_workflows = top.take("allow_custom_workflows", p);
        raw.protected_branches = top.take("protected_branches", p);
        if let Some(mut t) = top.section("limits", p) {
            raw.max_config_bytes = t.take("max_config_bytes", p);
            raw.max_stacks = t.take("max_stacks", p);
            raw.max_plans_per_event = t.take("max_plans_per_event", p);
            raw.max_job_interruptions = t.take("max_job_interruptions", p);
            raw.job_lease_secs = t.take("job_lease_secs", p);
            raw.retention_days = t.take("retention_days", p);
            t.finish(p);
        }
        top.finish(p);
        Some(raw)
    }

    /// Environment values override the file's. A private key from the environment (inline or
    /// a path) replaces the file's key in either form.
    // Long on purpose: one line per `PLANGUARD_*` variable, then their parsing: the list is the documentation of the overrides.
    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>, p: &mut Vec<ConfigProblem>) {
        let get = |var: &str| env(var).filter(|v| !v.trim().is_empty());
        let mut from_env = BTreeMap::new();
        let mut string = |var: &'static str, key: &'static str| {
            let v = get(var)?;
            from_env.insert(key, var);
            Some(v)
        };

        let listen = string("PLANGUARD_LISTEN", "listen");
        let data_dir = string("PLANGUARD_DATA_DIR", "data_dir");
        let database = string("PLANGUARD_DATABASE", "database");
        let replica = string("PLANGUARD_REPLICA", "replica");
        let workers = string("PLANGUARD_WORKERS", "workers");
        let allowed = string("PLANGUARD_ALLOWED_REPOS", "allowed_repos");
        let binary = string("PLANGUARD_BINARY", "binary");
        let log_format = string("PLANGUARD_LOG_FORMAT", "log_format");
        let forks = string("PLANGUARD_ALLOW_FORK_PRS", "allow_fork_prs");
        let timeout = string("PLANGUARD_STEP_TIMEOUT_SECS", "step_timeout_secs");
        let sandbox = string("PLANGUARD_SANDBOX", "sandbox");
        let api_url = string("PLANGUARD_GITHUB_API_URL", "github.api_url");
        let app_id = string("PLANGUARD_GITHUB_APP_ID", "github.app_id");
        let key = string("PLANGUARD_GITHUB_PRIVATE_KEY", "github.private_key");
        let key_path = string(
            "PLANGUARD_GITHUB_PRIVATE_KEY_PATH",
            "github.private_key_path",
        );
        let token = string("PLANGUARD_GITHUB_TOKEN", "github.token");
        let secret = string("PLANGUARD_GITHUB_WEBHOOK_SECRET", "github.webhook_secret");
        let audit = string("PLANGUARD_AUDIT_TOKEN", "audit.token");
        self.from_env = from_env;

        set(&mut self.listen, listen);
        set(&mut self.data_dir, data_dir.map(PathBuf::from));
        set(&mut self.database, database.map(PathBuf::from));
        set(&mut self.replica, replica);
        set(
            &mut self.workers,
            parse_env("PLANGUARD_WORKERS", workers, "a whole number such as 4", p),
        );
        set(
            &mut self.allowed_repos,
            allowed.map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            }),
        );
        set(&mut self.binary, binary.map(PathBuf::from));
        set(
            &mut self.log_format,
            log_format.and_then(|v| match v.trim().to_ascii_lowercase().as_str() {
                "text" => Some(LogFormat::Text),
                "json" => Some(LogFormat::Json),
                _ => {
                    p.push(problem(
                        "PLANGUARD_LOG_FORMAT",
                        format!("{v:?} is not a log format; use text or json"),
                    ));
                    None
                }
            }),
        );
        set(
            &mut self.allow_fork_prs,
            forks.and_then(|v| match parse_bool(&v) {
                Some(b) => Some(b),
                None => {
                    p.push(problem(
                        "PLANGUARD_ALLOW_FORK_PRS",
                        format!("{v:?} is not a boolean; use true or false"),
                    ));
                    None
                }
            }),
        );
        set(
            &mut self.step_timeout_secs,
            parse_env(
                "PLANGUARD_STEP_TIMEOUT_SECS",
                timeout,
                "a number of seconds such as 1800",
                p,
            ),
        );
        set(
            &mut self.sandbox,
            sandbox.and_then(|v| match v.trim().to_ascii_lowercase().as_str() {
                "on" => Some(SandboxMode::On),
                "off" => Some(SandboxMode::Off),
                _ => {
                    p.push(problem(
                        "PLANGUARD_SANDBOX",
                        format!("{v:?} is not a sandbox setting; use on or off"),
                    ));
                    None
                }
            }),
        );
        set(&mut self.api_url, api_url);
        set(
            &mut self.app_id,
            parse_env("PLANGUARD_GITHUB_APP_ID", app_id, "the App's numeric id", p),
        );
        if key.is_some() || key_path.is_some() {
            self.private_key = key;
            self.private_key_path = key_path.map(PathBuf::from);
        }
        set(&mut self.token, token);
        set(&mut self.webhook_secret, secret);
        set(&mut self.audit_token, audit);
        self.http.apply_env(&get, p);
    }

    /// Where a key's value came from: the environment variable, or the key itself.
    fn source(&self, key: &'static str) -> String {
        self.from_env.get(key).copied().unwrap_or(key).to_owned()
    }

    /// Phase two. Returns the configuration when every required part is there; the caller
    /// still refuses it if any problem was recorded.
    // Long on purpose: one independent check per setting, in the order of the reference docs; phase two reads best as one checklist (the longer sections are their own functions).
    fn validate(self, p: &mut Vec<ConfigProblem>) -> Option<ServerConfig> {
        let listen = self.listen_addr(p);

        let workers = self.workers.unwrap_or(DEFAULT_WORKERS);
        if workers == 0 {
            p.push(problem(
                self.source("workers"),
                "must be at least 1: with no workers no job would ever run (the default is 4)",
            ));
        }

        let allowed_repos = self.allowed_repos(p);

        if self
            .binary
            .as_ref()
            .is_some_and(|b| b.as_os_str().is_empty())
        {
            p.push(problem(
                self.source("binary"),
                "is empty; name tofu or terraform (or a path to one), or leave it out to pick \
                 tofu when it is on PATH and terraform otherwise",
            ));
        }

        let step_secs = self.step_timeout_secs.unwrap_or(DEFAULT_STEP_TIMEOUT_SECS);
        if step_secs == 0 {
            p.push(problem(
                self.source("step_timeout_secs"),
                "must be at least 1 second (the default is 1800, half an hour)",
            ));
        }
        let max_body_bytes = self.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES);
        if max_body_bytes == 0 {
            p.push(problem(
                "max_body_bytes",
                "must be more than 0; GitHub sends webhook bodies of up to 25 MiB (26214400), \
                 the default",
            ));
        }

        let http = self.http.validate(max_body_bytes, p);
        let github = self.github(p);

        let policies = PolicyConfig {
            builtin: self.builtin.unwrap_or(true),
            paths: self.policy_paths.clone().unwrap_or_default(),
            data: self.policy_data.clone().unwrap_or_default(),
        };
        if !policies.builtin && policies.paths.is_empty() {
            p.push(problem(
                "policies",
                "builtin = false and no paths: there would be no policies to check plans \
                 against; set builtin = true or list policy directories in paths",
            ));
        }

        let audit_token = match &self.audit_token {
            Some(t) if t.trim().is_empty() => {
                p.push(problem(
                    "audit.token",
                    "is empty; set a long random token, or remove it to turn the audit API off",
                ));
                None
            }
            t => t.clone().map(Secret::from),
        };

        let apply_teams = self.apply_teams.clone().unwrap_or_default();
        check_teams("apply.teams", &apply_teams, p);
        let policy_owners = Owners {
            users: self.owner_users.clone().unwrap_or_default(),
            teams: self.owner_teams.clone().unwrap_or_default(),
            allow_self_approval: self.allow_self_approval.unwrap_or(false),
        };
        check_users("policy_owners.users", &policy_owners.users, p);
        check_teams("policy_owners.teams", &policy_owners.teams, p);

        let enforcement = self.enforcement.clone().unwrap_or_default();
        for (below, message) in enforcement::validate(&enforcement) {
            p.push(problem(format!("enforcement{below}"), message));
        }

        let accounts = match crate::serve::accounts::Registry::from_specs(
            self.accounts.clone().unwrap_or_default(),
        ) {
            Ok(r) => r,
            Err(found) => {
                p.extend(found.into_iter().map(|(k, m)| problem(k, m)));
                crate::serve::accounts::Registry::default()
            }
        };
        let limits = self.limits(p);
        let protected_branches = self.protected_branches.clone().unwrap_or_default();
        for (i, b) in protected_branches.iter().enumerate() {
            if b.trim().is_empty() || b.contains("..") || b.starts_with("refs/") {
                p.push(problem(
                    format!("protected_branches[{i}]"),
                    format!("{b:?} is not a branch name; write it as it appears in GitHub, e.g. \"release\""),
                ));
            }
        }

        let data_dir = self
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database = self
            .database
            .clone()
            .unwrap_or_else(|| data_dir.join(DATABASE_FILE));

        Some(ServerConfig {
            listen: listen?,
            github: github?,
            data_dir,
            database,
            replica: self.replica.clone().unwrap_or_else(default_replica),
            workers,
            allowed_repos,
            binary: self.binary.clone(),
            log_format: self.log_format.unwrap_or_default(),
            allow_fork_prs: self.allow_fork_prs.unwrap_or(false),
            step_timeout: Duration::from_secs(step_secs),
            sandbox: self.sandbox.unwrap_or_default(),
            max_body_bytes,
            http,
            policies,
            audit_token,
            apply_teams,
            policy_owners,
            enforcement,
            accounts,
            allow_custom_workflows: self.allow_custom_workflows.unwrap_or(false),
            protected_branches,
            limits,
        })
    }

    /// The address to listen on (`listen`, or the default).
    fn listen_addr(&self, p: &mut Vec<ConfigProblem>) -> Option<SocketAddr> {
        let listen_text = self
            .listen
            .clone()
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        match listen_text.trim().parse::<SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                p.push(problem(
                    self.source("listen"),
                    format!(
                        "{listen_text:?} is not an address to listen on; write IP:PORT, \
                         e.g. \"0.0.0.0:8080\" or \"[::]:8080\""
                    ),
                ));
                None
            }
        }
    }

    /// The globs over owner/name of the repositories served (`allowed_repos`, or all).
    fn allowed_repos(&self, p: &mut Vec<ConfigProblem>) -> Vec<String> {
        let allowed_repos = self
            .allowed_repos
            .clone()
            .unwrap_or_else(|| vec![DEFAULT_ALLOWED_REPOS.to_owned()]);
        let allowed_key = self.source("allowed_repos");
        if allowed_repos.is_empty() {
            p.push(problem(
                &allowed_key,
                "is empty, so every repository would be refused; list globs over owner/name \
                 such as \"acme/*\", or leave it out to allow all (\"*/*\")",
            ));
        }
        for (i, pattern) in allowed_repos.iter().enumerate() {
            let key = if self.from_env.contains_key("allowed_repos") {
                allowed_key.clone()
            } else {
                format!("allowed_repos[{i}]")
            };
            if let Err(e) = repo_glob(pattern) {
                p.push(problem(
                    key,
                    format!(
                        "{pattern:?} is not a valid glob ({}); write owner/name globs such as \
                         \"acme/*\" or \"acme/infra-*\"",
                        e.kind()
                    ),
                ));
            } else if !pattern.contains('/') {
                p.push(problem(
                    key,
                    format!(
                        "{pattern:?} has no '/', so it can never match owner/name; \
                         write e.g. \"{pattern}/*\""
                    ),
                ));
            }
        }
        allowed_repos
    }

    /// The `[limits]` table, each at least 1.
    fn limits(&self, p: &mut Vec<ConfigProblem>) -> Limits {
        let defaults = Limits::default();
        let limits = Limits {
            max_config_bytes: self.max_config_bytes.unwrap_or(defaults.max_config_bytes),
            max_stacks: self.max_stacks.unwrap_or(defaults.max_stacks),
            max_plans_per_event: self
                .max_plans_per_event
                .unwrap_or(defaults.max_plans_per_event),
            max_job_interruptions: self
                .max_job_interruptions
                .unwrap_or(defaults.max_job_interruptions),
            job_lease_secs: self.job_lease_secs.unwrap_or(defaults.job_lease_secs),
            retention_days: self.retention_days.unwrap_or(defaults.retention_days),
        };
        for (key, value, default) in [
            (
                "limits.max_config_bytes",
                limits.max_config_bytes,
                defaults.max_config_bytes,
            ),
            (
                "limits.max_stacks",
                limits.max_stacks as u64,
                defaults.max_stacks as u64,
            ),
            (
                "limits.max_plans_per_event",
                limits.max_plans_per_event as u64,
                defaults.max_plans_per_event as u64,
            ),
            (
                "limits.max_job_interruptions",
                limits.max_job_interruptions as u64,
                defaults.max_job_interruptions as u64,
            ),
            (
                "limits.job_lease_secs",
                limits.job_lease_secs,
                defaults.job_lease_secs,
            ),
            (
                "limits.retention_days",
                limits.retention_days,
                defaults.retention_days,
            ),
        ] {
            if value == 0 {
                p.push(problem(
                    key,
                    format!("must be at least 1 (the default is {default})"),
                ));
            }
        }
        limits
    }

    fn github(&self, p: &mut Vec<ConfigProblem>) -> Option<GithubConfig> {
        let api_url = self
            .api_url
            .clone()
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned())
            .trim()
            .trim_end_matches('/')
            .to_owned();
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            p.push(problem(
                self.source("github.api_url"),
                format!(
                    "{api_url:?} is not an http(s) URL; use https://api.github.com, or \
                     https://HOST/api/v3 for GitHub Enterprise Server"
                ),
            ));
        }

        let webhook_secret = match &self.webhook_secret {
            Some(s) if !s.trim().is_empty() => Some(Secret::from(s.clone())),
            _ => {
                p.push(problem(
                    "github.webhook_secret",
                    "is missing, and the server refuses to start without it: it is how webhooks \
                     are told apart from forgeries. Set `webhook_secret` under [github] or the \
                     PLANGUARD_GITHUB_WEBHOOK_SECRET variable to the secret configured on the \
                     GitHub App's webhook",
                ));
                None
            }
        };

        if self.bot_login.as_ref().is_some_and(|b| b.trim().is_empty()) {
            p.push(problem(
                "github.bot_login",
                "is empty; write the bot's login such as \"planguard[bot]\", or leave it out",
            ));
        }

        Some(GithubConfig {
            api_url,
            auth: self.github_auth(p)?,
            webhook_secret: webhook_secret?,
            bot_login: self.bot_login.clone().filter(|b| !b.trim().is_empty()),
        })
    }

    // Long on purpose: one decision table over the App and token settings; splitting it would hide which combinations are refused.
    fn github_auth(&self, p: &mut Vec<ConfigProblem>) -> Option<GithubAuth> {
        let has_key = self.private_key.is_some() || self.private_key_path.is_some();
        let has_app = self.app_id.is_some() || has_key;
        let token = self.token.as_ref().filter(|t| !t.trim().is_empty());
        if self.token.is_some() && token.is_none() {
            p.push(problem(
                self.source("github.token"),
                "is empty; set the token, or remove it and configure a GitHub App",
            ));
            return None;
        }
        match (has_app, token) {
            (false, None) => {
                p.push(problem(
                    "github",
                    "no way to authenticate to GitHub: configure a GitHub App with app_id and \
                     private_key_path (PLANGUARD_GITHUB_APP_ID, \
                     PLANGUARD_GITHUB_PRIVATE_KEY_PATH), or a token (PLANGUARD_GITHUB_TOKEN)",
                ));
                return None;
            }
            (true, Some(_)) => {
                p.push(problem(
                    "github",
                    format!(
                        "both a GitHub App ({}) and a token ({}) are configured; keep one: \
                         the App for production, or the token for a quick trial",
                        if self.app_id.is_some() {
                            self.source("github.app_id")
                        } else {
                            self.key_source()
                        },
                        self.source("github.token")
                    ),
                ));
                return None;
            }
            (false, Some(token)) => return Some(GithubAuth::Token(Secret::from(token.clone()))),
            (true, None) => {}
        }

        let app_id = match self.app_id {
            Some(0) => {
                p.push(problem(
                    self.source("github.app_id"),
                    "must be the App's id from its settings page, not 0",
                ));
                None
            }
            Some(id) => Some(id),
            None => {
                p.push(problem(
                    "github.app_id",
                    format!(
                        "is missing but a private key is set ({}); set app_id (or \
                         PLANGUARD_GITHUB_APP_ID) to the App's id from its settings page",
                        self.key_source()
                    ),
                ));
                None
            }
        };

        let pem = match (&self.private_key, &self.private_key_path) {
            (None, None) => {
                p.push(problem(
                    "github.private_key_path",
                    "is missing but app_id is set; point private_key_path (or \
                     PLANGUARD_GITHUB_PRIVATE_KEY_PATH) at the App's .pem private key",
                ));
                None
            }
            (Some(_), Some(_)) => {
                p.push(problem(
                    self.source("github.private_key"),
                    format!(
                        "is set together with {}; keep one of the two",
                        self.source("github.private_key_path")
                    ),
                ));
                None
            }
            (Some(text), None) => {
                // A PEM squeezed into one line of an env file arrives with literal "\n"s.
                let text = if !text.contains('\n') && text.contains("\\n") {
                    text.replace("\\n", "\n")
                } else {
                    text.clone()
                };
                check_rsa_pem(&text)
                    .map_err(|m| p.push(problem(self.source("github.private_key"), m)))
                    .ok()
                    .map(|()| text)
            }
            (None, Some(path)) => {
                let key = self.source("github.private_key_path");
                match std::fs::read_to_string(path) {
                    Ok(text) => check_rsa_pem(&text)
                        .map_err(|m| p.push(problem(&key, format!("{}: {m}", path.display()))))
                        .ok()
                        .map(|()| text),
                    Err(e) => {
                        p.push(problem(
                            key,
                            format!(
                                "cannot read {} ({e}); check the path and that planguard's \
                                 user may read the file",
                                path.display()
                            ),
                        ));
                        None
                    }
                }
            }
        };

        Some(GithubAuth::App {
            app_id: app_id?,
            private_key: Secret::from(pem?),
        })
    }

    fn key_source(&self) -> String {
        if self.private_key.is_some() {
            self.source("github.private_key")
        } else {
            self.source("github.private_key_path")
        }
    }
}

/// The host name (a pod's name on Kubernetes), else `planguard`.
fn default_replica() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "planguard".to_owned())
}

fn set<T>(slot: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *slot = value;
    }
}

pub(super) fn parse_env<T: FromStr>(
    var: &str,
    value: Option<String>,
    expected: &str,
    p: &mut Vec<ConfigProblem>,
) -> Option<T> {
    let value = value?;
    match value.trim().parse() {
        Ok(v) => Some(v),
        Err(_) => {
            p.push(problem(
                var,
                format!("{value:?} is not valid here; expected {expected}"),
            ));
            None
        }
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Checks that `pem` is an RSA private key in PEM form, as GitHub issues App keys.
fn check_rsa_pem(pem: &str) -> Result<(), String> {
    let begins = |label: &str| pem.contains(&format!("-----BEGIN {label}-----"));
    if begins("PUBLIC KEY") || begins("RSA PUBLIC KEY") {
        return Err(
            "is a public key; the App needs its private key, the .pem file downloaded \
                    from the App's settings page"
                .to_owned(),
        );
    }
    if begins("ENCRYPTED PRIVATE KEY") {
        return Err(
            "is encrypted with a passphrase; use the unencrypted .pem file GitHub \
                    issued (and protect it with file permissions)"
                .to_owned(),
        );
    }
    jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes())
        .map(|_| ())
        .map_err(|e| {
            format!(
                "is not an RSA private key in PEM form ({e}); use the .pem file downloaded \
                 from the GitHub App's settings page"
            )
        })
}

fn check_teams(key: &str, teams: &[String], p: &mut Vec<ConfigProblem>) {
    for (i, team) in teams.iter().enumerate() {
        let ok = team
            .split_once('/')
            .is_some_and(|(org, slug)| !org.is_empty() && !slug.is_empty() && !slug.contains('/'));
        if !ok {
            p.push(problem(
                format!("{key}[{i}]"),
                format!("{team:?} is not a team; write org/team-slug, e.g. \"acme/platform\""),
            ));
        }
    }
}

fn check_users(key: &str, users: &[String], p: &mut Vec<ConfigProblem>) {
    for (i, user) in users.iter().enumerate() {
        if user.trim().is_empty() || user.starts_with('@') || user.contains(['/', ' ']) {
            p.push(problem(
                format!("{key}[{i}]"),
                format!(
                    "{user:?} is not a GitHub login; write the login alone, e.g. \"alice\" \
                     (teams go in teams, as org/team)"
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::enforcement::EnforcementLevel;

    const KEY_PATH: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/server/test-app-key.pem"
    );
    const SECRET: &str = "s3cret-webhook-value";

    /// An environment holding exactly `vars`.
    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| vars.get(k).cloned()
    }

    fn app_toml(extra_top: &str, extra_github: &str) -> String {
        format!(
            "{extra_top}\n[github]\napp_id = 42\nprivate_key_path = {KEY_PATH:?}\n\
             webhook_secret = \"{SECRET}\"\n{extra_github}\n"
        )
    }

    fn load(text: &str, vars: &[(&str, &str)]) -> Result<ServerConfig, ConfigErrors> {
        ServerConfig::from_toml(text, "planguard.toml", env(vars))
    }

    fn keys(e: &ConfigErrors) -> Vec<&str> {
        e.problems.iter().map(|p| p.path.as_str()).collect()
    }

    fn message<'a>(e: &'a ConfigErrors, key: &str) -> &'a str {
        &e.problems
            .iter()
            .find(|p| p.path == key)
            .unwrap_or_else(|| panic!("no problem for {key} in:\n{e}"))
            .message
    }

    #[test]
    fn a_minimal_app_config_gets_every_default() {
        let c = load(&app_toml("", ""), &[]).unwrap();
        assert_eq!(c.listen, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(c.data_dir, PathBuf::from("./planguard-data"));
        assert_eq!(c.database, PathBuf::from("./planguard-data/planguard.db"));
        assert_eq!(c.workers, 4);
        assert_eq!(c.allowed_repos, ["*/*"]);
        assert_eq!(c.binary, None);
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(!c.allow_fork_prs);
        assert_eq!(c.step_timeout, Duration::from_secs(1800));
        assert_eq!(c.max_body_bytes, 26_214_400);
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.github.api_url, "https://api.github.com");
        assert_eq!(c.github.webhook_secret.expose_secret(), SECRET);
        assert!(
            matches!(&c.github.auth, GithubAuth::App { app_id: 42, private_key }
            if private_key.expose_secret().starts_with("-----BEGIN RSA PRIVATE KEY-----"))
        );
        assert_eq!(
            c.policies,
            PolicyConfig {
                builtin: true,
                paths: vec![],
                data: vec![]
            }
        );
        assert!(c.audit_token.is_none());
        assert_eq!(c.policy_owners, Owners::default());
        assert!(c.enforcement.is_empty());
    }

    #[test]
    fn limits_are_read_and_must_let_something_through() {
        let c = load(
            &app_toml(
                "[limits]\nmax_config_bytes = 1024\nmax_stacks = 5\nmax_plans_per_event = 2\n\
                 max_job_interruptions = 1",
                "",
            ),
            &[],
        )
        .unwrap();
        assert_eq!(
            c.limits,
            Limits {
                max_config_bytes: 1024,
                max_stacks: 5,
                max_plans_per_event: 2,
                max_job_interruptions: 1,
                ..Limits::default()
            }
        );
        let e = load(&app_toml("[limits]\nmax_stacks = 0\nmax_plan = 3", ""), &[]).unwrap_err();
        assert_eq!(
            message(&e, "limits.max_stacks"),
            "must be at least 1 (the default is 200)"
        );
        assert!(keys(&e).contains(&"limits.max_plan"), "{e}");
    }

    #[test]
    fn every_setting_is_read_from_the_file() {
        let text = r#"
listen = "127.0.0.1:9000"
data_dir = "/var/lib/planguard"
workers = 2
allowed_repos = ["acme/*", "other/infra"]
binary = "/usr/local/bin/tofu"
log_format = "json"
allow_fork_prs = true
step_timeout_secs = 60
max_body_bytes = 1000

[github]
api_url = "https://ghe.example.com/api/v3/"
token = "ghp_abc"
webhook_secret = "w"
bot_login = "planguard[bot]"

[policies]
builtin = false
paths = ["/etc/planguard/policies"]
data = ["/etc/planguard/accounts.yaml"]

[audit]
token = "audit-token"

[apply]
teams = ["acme/platform"]

[policy_owners]
users = ["alice"]
teams = ["acme/security"]
allow_self_approval = true

[[enforcement]]
policies = ["aws-s3-*", "tagging/"]
level = "advisory"
"#;
        let c = load(text, &[]).unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.database, PathBuf::from("/var/lib/planguard/planguard.db"));
        assert_eq!(c.workers, 2);
        assert_eq!(c.binary, Some(PathBuf::from("/usr/local/bin/tofu")));
        assert_eq!(c.log_format, LogFormat::Json);
        assert!(c.allow_fork_prs);
        assert_eq!(c.step_timeout, Duration::from_secs(60));
        assert_eq!(c.max_body_bytes, 1000);
        assert_eq!(c.github.api_url, "https://ghe.example.com/api/v3");
        assert!(matches!(&c.github.auth, GithubAuth::Token(t) if t.expose_secret() == "ghp_abc"));
        assert_eq!(c.github.bot_login.as_deref(), Some("planguard[bot]"));
        assert!(!c.policies.builtin);
        assert_eq!(c.audit_token.unwrap().expose_secret(), "audit-token");
        assert_eq!(c.apply_teams, ["acme/platform"]);
        assert_eq!(c.policy_owners.users, ["alice"]);
        assert!(c.policy_owners.allow_self_approval);
        assert_eq!(c.enforcement[0].level, EnforcementLevel::Advisory);
        assert_eq!(c.enforcement[0].policies, ["aws-s3-*", "tagging/"]);
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let text = app_toml(
            "workers = 2\nlisten = \"127.0.0.1:1\"\nallow_fork_prs = true",
            "",
        );
        let c = load(
            &text,
            &[
                ("PLANGUARD_WORKERS", "8"),
                ("PLANGUARD_LISTEN", "[::]:9090"),
                ("PLANGUARD_ALLOW_FORK_PRS", "false"),
                ("PLANGUARD_ALLOWED_REPOS", "acme/*, acme-labs/infra ,"),
                ("PLANGUARD_LOG_FORMAT", "JSON"),
                ("PLANGUARD_GITHUB_WEBHOOK_SECRET", "from-env"),
                ("PLANGUARD_AUDIT_TOKEN", "t"),
                ("PLANGUARD_DATA_DIR", "/data"),
            ],
        )
        .unwrap();
        assert_eq!(c.workers, 8);
        assert_eq!(c.listen, "[::]:9090".parse().unwrap());
        assert!(!c.allow_fork_prs);
        assert_eq!(c.allowed_repos, ["acme/*", "acme-labs/infra"]);
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.github.webhook_secret.expose_secret(), "from-env");
        assert_eq!(c.audit_token.unwrap().expose_secret(), "t");
        assert_eq!(c.database, PathBuf::from("/data/planguard.db"));
    }

    #[test]
    fn an_empty_variable_counts_as_unset() {
        let c = load(&app_toml("workers = 3", ""), &[("PLANGUARD_WORKERS", "")]).unwrap();
        assert_eq!(c.workers, 3);
    }

    #[test]
    fn the_file_is_optional_when_the_environment_supplies_everything() {
        let vars = [
            ("PLANGUARD_GITHUB_TOKEN", "ghp_x"),
            ("PLANGUARD_GITHUB_WEBHOOK_SECRET", "w"),
            ("PLANGUARD_GITHUB_API_URL", "https://ghe.example.com/api/v3"),
            ("PLANGUARD_BINARY", "terraform"),
            ("PLANGUARD_STEP_TIMEOUT_SECS", "90"),
            ("PLANGUARD_DATABASE", "/db/pg.db"),
        ];
        let c = ServerConfig::load(None, env(&vars)).unwrap();
        assert!(matches!(c.github.auth, GithubAuth::Token(_)));
        assert_eq!(c.github.api_url, "https://ghe.example.com/api/v3");
        assert_eq!(c.binary, Some(PathBuf::from("terraform")));
        assert_eq!(c.step_timeout, Duration::from_secs(90));
        assert_eq!(c.database, PathBuf::from("/db/pg.db"));
    }

    #[test]
    fn an_app_can_be_configured_from_the_environment_alone() {
        let pem = std::fs::read_to_string(KEY_PATH).unwrap();
        let one_line = pem.trim_end().replace('\n', "\\n");
        for key in [pem.as_str(), one_line.as_str()] {
            let vars = [
                ("PLANGUARD_GITHUB_APP_ID", "7"),
                ("PLANGUARD_GITHUB_PRIVATE_KEY", key),
                ("PLANGUARD_GITHUB_WEBHOOK_SECRET", "w"),
            ];
            let c = ServerConfig::load(None, env(&vars)).unwrap();
            assert!(matches!(c.github.auth, GithubAuth::App { app_id: 7, .. }));
        }
    }

    #[test]
    fn a_key_from_the_environment_replaces_the_files_key() {
        let text = "[github]\napp_id = 1\nprivate_key_path = \"/nonexistent/app.pem\"\n\
                    webhook_secret = \"w\"";
        let c = load(text, &[("PLANGUARD_GITHUB_PRIVATE_KEY_PATH", KEY_PATH)]).unwrap();
        assert!(matches!(c.github.auth, GithubAuth::App { app_id: 1, .. }));
    }

    #[test]
    fn a_missing_webhook_secret_stops_the_server_and_says_how_to_set_it() {
        let text = "[github]\ntoken = \"ghp_x\"";
        let e = load(text, &[]).unwrap_err();
        assert_eq!(keys(&e), ["github.webhook_secret"]);
        let m = message(&e, "github.webhook_secret");
        assert!(m.contains("refuses to start"), "{m}");
        assert!(m.contains("`webhook_secret` under [github]"), "{m}");
        assert!(m.contains("PLANGUARD_GITHUB_WEBHOOK_SECRET"), "{m}");
        // And an empty one is no better.
        let e = load("[github]\ntoken = \"x\"\nwebhook_secret = \" \"", &[]).unwrap_err();
        assert_eq!(keys(&e), ["github.webhook_secret"]);
    }

    #[test]
    fn github_needs_exactly_one_way_to_authenticate() {
        let e = load("[github]\nwebhook_secret = \"w\"", &[]).unwrap_err();
        assert_eq!(keys(&e), ["github"]);
        assert!(message(&e, "github").contains("no way to authenticate"));

        let both = app_toml("", "token = \"ghp_x\"");
        let e = load(&both, &[]).unwrap_err();
        assert_eq!(keys(&e), ["github"]);
        assert!(message(&e, "github").contains("both a GitHub App (github.app_id) and a token"));

        let e = load(&app_toml("", ""), &[("PLANGUARD_GITHUB_TOKEN", "ghp_x")]).unwrap_err();
        assert!(message(&e, "github").contains("and a token (PLANGUARD_GITHUB_TOKEN)"));
    }

    #[test]
    fn an_app_needs_both_its_id_and_its_key() {
        let e = load("[github]\napp_id = 5\nwebhook_secret = \"w\"", &[]).unwrap_err();
        assert_eq!(keys(&e), ["github.private_key_path"]);
        assert!(message(&e, "github.private_key_path").contains("is missing but app_id is set"));

        let text = format!("[github]\nprivate_key_path = {KEY_PATH:?}\nwebhook_secret = \"w\"");
        let e = load(&text, &[]).unwrap_err();
        assert_eq!(keys(&e), ["github.app_id"]);
    }

    #[test]
    fn an_unreadable_key_file_is_reported_with_its_path() {
        let text = "[github]\napp_id = 5\nprivate_key_path = \"/nonexistent/app.pem\"\n\
                    webhook_secret = \"w\"";
        let e = load(text, &[]).unwrap_err();
        let m = message(&e, "github.private_key_path");
        assert!(m.starts_with("cannot read /nonexistent/app.pem ("), "{m}");
    }

    #[test]
    fn a_key_that_is_not_an_rsa_pem_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a key at all").unwrap();
        let text = format!(
            "[github]\napp_id = 5\nprivate_key_path = {:?}\nwebhook_secret = \"w\"",
            garbage.display().to_string()
        );
        let e = load(&text, &[]).unwrap_err();
        let m = message(&e, "github.private_key_path");
        assert!(m.contains("is not an RSA private key in PEM form"), "{m}");

        let public = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n";
        let vars = [
            ("PLANGUARD_GITHUB_APP_ID", "5"),
            ("PLANGUARD_GITHUB_PRIVATE_KEY", public),
            ("PLANGUARD_GITHUB_WEBHOOK_SECRET", "w"),
        ];
        let e = ServerConfig::load(None, env(&vars)).unwrap_err();
        assert!(message(&e, "PLANGUARD_GITHUB_PRIVATE_KEY").starts_with("is a public key"));
    }

    #[test]
    fn out_of_range_values_are_reported() {
        let text = app_toml(
            "workers = 0\nlisten = \"localhost:8080\"\nallowed_repos = [\"acme/[x\", \"acme\"]\n\
             step_timeout_secs = 0\nmax_body_bytes = 0",
            "api_url = \"ghe.example.com\"",
        );
        let e = load(&text, &[]).unwrap_err();
        assert_eq!(
            keys(&e),
            [
                "listen",
                "workers",
                "allowed_repos[0]",
                "allowed_repos[1]",
                "step_timeout_secs",
                "max_body_bytes",
                "github.api_url"
            ],
            "{e}"
        );
        assert!(message(&e, "workers").starts_with("must be at least 1"));
        assert!(message(&e, "listen").contains("\"localhost:8080\" is not an address"));
        assert!(message(&e, "allowed_repos[0]").contains("is not a valid glob"));
        assert!(message(&e, "allowed_repos[1]").contains("write e.g. \"acme/*\""));
    }

    #[test]
    fn unknown_keys_are_named_with_the_known_ones() {
        let text = app_toml("listn = \"x\"\n[polices]\nbuiltin = true", "");
        let e = load(&text, &[]).unwrap_err();
        assert_eq!(keys(&e), ["listn", "polices"], "{e}");
        let m = message(&e, "listn");
        assert!(m.starts_with("unknown key. Did you mean `listen`?"), "{m}");
        assert!(
            m.contains("listen, data_dir, database, replica, workers"),
            "{m}"
        );

        let e = load(&app_toml("", "appid = 3"), &[]).unwrap_err();
        let m = message(&e, "github.appid");
        assert!(m.contains("Did you mean `app_id`?"), "{m}");
        assert!(
            m.contains("The keys of [github] are: api_url, app_id, private_key"),
            "{m}"
        );
    }

    #[test]
    fn wrong_types_name_the_key_path() {
        let text = app_toml(
            "workers = \"four\"\n[[enforcement]]\npolicies = [\"a\"]\nlevel = \"advisory\"\n\
             [[enforcement]]\npolicies = [\"b\"]\nlevel = \"mandatory\"\n\
             [[enforcement]]\npolicies = [\"c\"]\nlevel = \"advisory\"\nscope = \"x\"\n\
             [policy_owners]\nallow_self_approval = \"no\"",
            "",
        );
        let e = load(&text, &[]).unwrap_err();
        assert_eq!(
            keys(&e),
            [
                "workers",
                "policy_owners.allow_self_approval",
                "enforcement[1].level",
            ],
            "{e}"
        );
        assert!(
            message(&e, "workers").contains("invalid type: string \"four\""),
            "{e}"
        );
        assert!(message(&e, "enforcement[1].level").contains("unknown variant `mandatory`"));
    }

    #[test]
    fn unknown_keys_inside_enforcement_rules_are_reported() {
        let text = app_toml(
            "[[enforcement]]\npolicies = [\"c\"]\nlevel = \"advisory\"\nscope = \"x\"",
            "",
        );
        let e = load(&text, &[]).unwrap_err();
        assert_eq!(keys(&e), ["enforcement[0].scope"], "{e}");
        assert!(
            message(&e, "enforcement[0].scope").contains("unknown field `scope`"),
            "{e}"
        );
    }

    #[test]
    fn invalid_enforcement_patterns_are_located() {
        let text = app_toml(
            "[[enforcement]]\npolicies = [\"ok\", \"aws-[s3\"]\nlevel = \"advisory\"",
            "",
        );
        let e = load(&text, &[]).unwrap_err();
        assert_eq!(keys(&e), ["enforcement[0].policies[1]"], "{e}");
    }

    #[test]
    fn environment_values_that_do_not_parse_name_the_variable() {
        let vars = [
            ("PLANGUARD_WORKERS", "four"),
            ("PLANGUARD_ALLOW_FORK_PRS", "maybe"),
            ("PLANGUARD_STEP_TIMEOUT_SECS", "30m"),
            ("PLANGUARD_GITHUB_APP_ID", "my-app"),
            ("PLANGUARD_LOG_FORMAT", "xml"),
            ("PLANGUARD_LISTEN", "8080"),
        ];
        let e = load(&app_toml("", ""), &vars).unwrap_err();
        assert_eq!(
            keys(&e),
            [
                "PLANGUARD_WORKERS",
                "PLANGUARD_LOG_FORMAT",
                "PLANGUARD_ALLOW_FORK_PRS",
                "PLANGUARD_STEP_TIMEOUT_SECS",
                "PLANGUARD_GITHUB_APP_ID",
                "PLANGUARD_LISTEN",
            ],
            "{e}"
        );
        assert_eq!(
            message(&e, "PLANGUARD_WORKERS"),
            "\"four\" is not valid here; expected a whole number such as 4"
        );
    }

    #[test]
    fn every_problem_is_collected_and_printed_one_per_line() {
        let text = "workers = 0\nlisten = \"nowhere\"\n[github]\napi_url = \"ftp://x\"\n\
                    [apply]\nteams = [\"platform\"]\n[policy_owners]\nusers = [\"@alice\"]";
        let e = load(text, &[]).unwrap_err();
        assert_eq!(
            keys(&e),
            [
                "listen",
                "workers",
                "github.api_url",
                "github.webhook_secret",
                "github",
                "apply.teams[0]",
                "policy_owners.users[0]",
            ],
            "{e}"
        );
        let text = e.to_string();
        assert_eq!(text.lines().count(), 7);
        assert!(
            text.lines().all(|l| l.starts_with("planguard.toml: ")),
            "{text}"
        );
        assert!(text.starts_with("planguard.toml: listen: \"nowhere\" is not an address"));
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let e = load("workers = 4\nlisten = \n", &[]).unwrap_err();
        assert_eq!(e.problems.len(), 1, "{e}");
        assert!(e.problems[0].path.starts_with("line 2, column"), "{e}");
        assert!(e.problems[0]
            .message
            .ends_with("(the file is not valid TOML)"));
    }

    #[test]
    fn an_unreadable_file_says_so() {
        let e = ServerConfig::load(Some(Path::new("/nonexistent/planguard.toml")), env(&[]))
            .unwrap_err();
        assert_eq!(e.origin, "/nonexistent/planguard.toml");
        assert!(e
            .to_string()
            .starts_with("/nonexistent/planguard.toml: cannot read the config file"));
    }

    #[test]
    fn debug_never_prints_a_secret() {
        let pem = std::fs::read_to_string(KEY_PATH).unwrap();
        let text = format!("{}\n[audit]\ntoken = \"audit-xyz\"", app_toml("", ""));
        let c = load(&text, &[]).unwrap();
        let printed = format!("{c:?} {c:#?} {:?}", c.github.webhook_secret);
        assert!(!printed.contains(SECRET));
        assert!(!printed.contains("audit-xyz"));
        assert!(!printed.contains("PRIVATE KEY"));
        assert!(!printed.contains(pem.lines().nth(1).unwrap()));
        assert!(
            printed.contains("webhook_secret: SecretBox<str>([REDACTED])"),
            "{printed}"
        );

        let token = load("[github]\ntoken = \"ghp_tok\"\nwebhook_secret = \"w\"", &[]).unwrap();
        assert!(!format!("{token:?}").contains("ghp_tok"));
    }

    #[test]
    fn allowed_repos_are_globs_over_owner_and_name() {
        let c = load(
            &app_toml("allowed_repos = [\"acme/*\", \"other/infra\"]", ""),
            &[],
        )
        .unwrap();
        let allowed = |r: &str| c.repo_allowed(&r.parse().unwrap());
        assert!(allowed("acme/network"));
        assert!(allowed("ACME/Network"), "GitHub names are case-insensitive");
        assert!(allowed("other/infra"));
        assert!(!allowed("other/app"));
        assert!(!allowed("acme-labs/x"));
        let all = load(&app_toml("", ""), &[]).unwrap();
        assert!(all.repo_allowed(&"anyone/anything".parse().unwrap()));
    }

    #[test]
    fn the_example_config_loads() {
        let vars = [
            ("PLANGUARD_GITHUB_WEBHOOK_SECRET", "from-the-environment"),
            ("PLANGUARD_GITHUB_PRIVATE_KEY_PATH", KEY_PATH),
        ];
        let c = ServerConfig::from_toml(EXAMPLE_CONFIG, "example", env(&vars))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(c.github.auth, GithubAuth::App { .. }));
        assert!(
            !EXAMPLE_CONFIG.contains("webhook_secret ="),
            "the example holds no secret"
        );
        assert!(!c.enforcement.is_empty());
    }

    #[test]
    fn sandbox_is_on_by_default_off_is_accepted_and_anything_else_is_a_problem() {
        let c = load(&app_toml("", ""), &[]).unwrap();
        assert_eq!(c.sandbox, SandboxMode::On);
        let c = load(&app_toml("sandbox = \"off\"", ""), &[]).unwrap();
        assert_eq!(c.sandbox, SandboxMode::Off);
        let c = load(
            &app_toml("sandbox = \"off\"", ""),
            &[("PLANGUARD_SANDBOX", "on")],
        )
        .unwrap();
        assert_eq!(c.sandbox, SandboxMode::On);

        let e = load(&app_toml("sandbox = \"maybe\"", ""), &[]).unwrap_err();
        assert_eq!(keys(&e), vec!["sandbox"]);
        assert!(message(&e, "sandbox").contains("maybe"), "{e}");
        let e = load(&app_toml("", ""), &[("PLANGUARD_SANDBOX", "maybe")]).unwrap_err();
        assert_eq!(keys(&e), vec!["PLANGUARD_SANDBOX"]);
    }
}
