//! The HTTP server's limits against slow or abusive clients: the `[http]` section of the
//! server config and its `PLANGUARD_HTTP_*` overrides.
//!
//! - `header_timeout_secs`: time to send a request's line and headers, counted from when the
//!   server starts waiting for them (so it also ends an idle keep-alive connection).
//! - `body_timeout_secs`: time to send a webhook's whole body, from its headers on.
//! - `idle_timeout_secs`: a connection on which no byte moves either way for this long, while
//!   no request on it is being answered, is closed.
//! - `max_connections`: open connections; beyond it a new one gets `503` and is closed. By
//!   default the open-file limit (`RLIMIT_NOFILE`) less a quarter (at least 256) for the
//!   database, git, step processes and GitHub.
//! - `body_budget_bytes`: webhook body bytes held in memory across all requests at once (bodies
//!   are held until their signature is checked and they are parsed); a request that would go
//!   beyond it gets `503` at once. By default four times `max_body_bytes`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{parse_env, problem, ConfigProblem};

pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;
/// `body_budget_bytes` is this many times `max_body_bytes` unless set.
pub const DEFAULT_BUDGET_BODIES: usize = 4;
/// File descriptors kept for everything but client connections: at least this many...
pub const MIN_FD_HEADROOM: u64 = 256;
/// ...or this fraction of the limit (1/4), whichever is more.
pub const FD_HEADROOM_DIVISOR: u64 = 4;

/// The validated limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLimits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    /// `None`: derived from `RLIMIT_NOFILE` when the server starts ([`default_max_connections`]).
    pub max_connections: Option<usize>,
    pub body_budget_bytes: usize,
}

impl HttpLimits {
    /// The defaults for a given `max_body_bytes`.
    pub fn defaults(max_body_bytes: usize) -> HttpLimits {
        HttpLimits {
            header_timeout: Duration::from_secs(DEFAULT_HEADER_TIMEOUT_SECS),
            body_timeout: Duration::from_secs(DEFAULT_BODY_TIMEOUT_SECS),
            idle_timeout: Duration::from_secs(DEFAULT_IDLE_TIMEOUT_SECS),
            max_connections: None,
            body_budget_bytes: max_body_bytes.saturating_mul(DEFAULT_BUDGET_BODIES),
        }
    }

    /// The connection cap in force: the configured one, or [`default_max_connections`].
    pub fn connection_cap(&self) -> usize {
        self.max_connections.unwrap_or_else(default_max_connections)
    }
}

/// The open-file limit less headroom: `soft - max(256, soft / 4)`, at least 16. An unlimited
/// or unreadable limit counts as 65,536.
pub fn default_max_connections() -> usize {
    let soft = open_file_limit().unwrap_or(65_536);
    let headroom = MIN_FD_HEADROOM.max(soft / FD_HEADROOM_DIVISOR);
    soft.saturating_sub(headroom).max(16) as usize
}

/// The soft `RLIMIT_NOFILE`; `None` when unlimited or unreadable.
fn open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and reads nothing else.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    // `rlim_t` is 32 bits on some targets.
    #[allow(clippy::unnecessary_cast)]
    let soft = limit.rlim_cur as u64;
    (ok && limit.rlim_cur != libc::RLIM_INFINITY).then_some(soft)
}

/// The `[http]` section as found, before validation.
#[derive(Debug, Default)]
pub(super) struct RawLimits {
    pub header_timeout_secs: Option<u64>,
    pub body_timeout_secs: Option<u64>,
    pub idle_timeout_secs: Option<u64>,
    pub max_connections: Option<usize>,
    pub body_budget_bytes: Option<usize>,
    /// Keys whose value came from the environment, with the variable's name.
    from_env: BTreeMap<&'static str, &'static str>,
}

/// Each key with its environment variable and what a valid value looks like.
const KEYS: [(&str, &str, &str); 5] = [
    (
        "header_timeout_secs",
        "PLANGUARD_HTTP_HEADER_TIMEOUT_SECS",
        "a number of seconds such as 10",
    ),
    (
        "body_timeout_secs",
        "PLANGUARD_HTTP_BODY_TIMEOUT_SECS",
        "a number of seconds such as 30",
    ),
    (
        "idle_timeout_secs",
        "PLANGUARD_HTTP_IDLE_TIMEOUT_SECS",
        "a number of seconds such as 60",
    ),
    (
        "max_connections",
        "PLANGUARD_HTTP_MAX_CONNECTIONS",
        "a whole number such as 10000",
    ),
    (
        "body_budget_bytes",
        "PLANGUARD_HTTP_BODY_BUDGET_BYTES",
        "a number of bytes such as 104857600",
    ),
];

impl RawLimits {
    /// Environment values override the file's.
    pub(super) fn apply_env(
        &mut self,
        get: &dyn Fn(&str) -> Option<String>,
        p: &mut Vec<ConfigProblem>,
    ) {
        for (key, var, expected) in KEYS {
            let Some(value) = get(var) else { continue };
            self.from_env.insert(key, var);
            let value = Some(value);
            match key {
                "header_timeout_secs" => set(
                    &mut self.header_timeout_secs,
                    parse_env(var, value, expected, p),
                ),
                "body_timeout_secs" => set(
                    &mut self.body_timeout_secs,
                    parse_env(var, value, expected, p),
                ),
                "idle_timeout_secs" => set(
                    &mut self.idle_timeout_secs,
                    parse_env(var, value, expected, p),
                ),
                "max_connections" => set(
                    &mut self.max_connections,
                    parse_env(var, value, expected, p),
                ),
                _ => set(
                    &mut self.body_budget_bytes,
                    parse_env(var, value, expected, p),
                ),
            }
        }
    }

    fn source(&self, key: &'static str) -> String {
        match self.from_env.get(key) {
            Some(var) => (*var).to_owned(),
            None => format!("http.{key}"),
        }
    }

    /// Phase two: every value checked, defaults filled in.
    pub(super) fn validate(&self, max_body_bytes: usize, p: &mut Vec<ConfigProblem>) -> HttpLimits {
        let defaults = HttpLimits::defaults(max_body_bytes);
        let mut secs = |key: &'static str, value: Option<u64>, default: Duration| match value {
            None => default,
            Some(0) => {
                p.push(problem(
                    self.source(key),
                    format!(
                        "must be at least 1 second (the default is {})",
                        default.as_secs()
                    ),
                ));
                default
            }
            Some(s) => Duration::from_secs(s),
        };
        let header_timeout = secs(
            "header_timeout_secs",
            self.header_timeout_secs,
            defaults.header_timeout,
        );
        let body_timeout = secs(
            "body_timeout_secs",
            self.body_timeout_secs,
            defaults.body_timeout,
        );
        let idle_timeout = secs(
            "idle_timeout_secs",
            self.idle_timeout_secs,
            defaults.idle_timeout,
        );
        if self.max_connections == Some(0) {
            p.push(problem(
                self.source("max_connections"),
                "must be at least 1; leave it out to derive it from the open-file limit",
            ));
        }
        let body_budget_bytes = self.body_budget_bytes.unwrap_or(defaults.body_budget_bytes);
        if body_budget_bytes < max_body_bytes {
            p.push(problem(
                self.source("body_budget_bytes"),
                format!(
                    "is {body_budget_bytes}, less than max_body_bytes ({max_body_bytes}): a \
                     delivery of the largest allowed size could never be read; leave it out for \
                     {DEFAULT_BUDGET_BODIES} times max_body_bytes"
                ),
            ));
        }
        if body_budget_bytes > u32::MAX as usize {
            p.push(problem(
                self.source("body_budget_bytes"),
                format!("is {body_budget_bytes}; at most 4294967295 (4 GiB) is supported"),
            ));
        }
        HttpLimits {
            header_timeout,
            body_timeout,
            idle_timeout,
            max_connections: self.max_connections.filter(|n| *n > 0),
            body_budget_bytes: body_budget_bytes.min(u32::MAX as usize),
        }
    }
}

fn set<T>(slot: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *slot = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(raw: &RawLimits) -> (HttpLimits, Vec<ConfigProblem>) {
        let mut p = Vec::new();
        let limits = raw.validate(1000, &mut p);
        (limits, p)
    }

    #[test]
    fn defaults_and_overrides() {
        let (limits, p) = validate(&RawLimits::default());
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(limits, HttpLimits::defaults(1000));
        assert_eq!(limits.body_budget_bytes, 4000);

        let mut raw = RawLimits {
            header_timeout_secs: Some(5),
            ..Default::default()
        };
        let env = |var: &str| match var {
            "PLANGUARD_HTTP_HEADER_TIMEOUT_SECS" => Some("2".to_owned()),
            "PLANGUARD_HTTP_MAX_CONNECTIONS" => Some("100".to_owned()),
            _ => None,
        };
        let mut p = Vec::new();
        raw.apply_env(&env, &mut p);
        let (limits, q) = validate(&raw);
        assert!(p.is_empty() && q.is_empty(), "{p:?} {q:?}");
        assert_eq!(limits.header_timeout, Duration::from_secs(2));
        assert_eq!(limits.max_connections, Some(100));
        assert_eq!(limits.connection_cap(), 100);
    }

    #[test]
    fn problems_name_the_key_or_the_variable() {
        let raw = RawLimits {
            body_timeout_secs: Some(0),
            max_connections: Some(0),
            body_budget_bytes: Some(999),
            ..Default::default()
        };
        let (_, p) = validate(&raw);
        let keys: Vec<_> = p.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            keys,
            [
                "http.body_timeout_secs",
                "http.max_connections",
                "http.body_budget_bytes"
            ]
        );

        let mut raw = RawLimits::default();
        let env =
            |var: &str| (var == "PLANGUARD_HTTP_IDLE_TIMEOUT_SECS").then(|| "soon".to_owned());
        let mut p = Vec::new();
        raw.apply_env(&env, &mut p);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].path, "PLANGUARD_HTTP_IDLE_TIMEOUT_SECS");
    }

    #[test]
    fn the_default_cap_leaves_headroom_below_the_open_file_limit() {
        let cap = default_max_connections() as u64;
        if let Some(soft) = open_file_limit().filter(|s| *s > 2 * MIN_FD_HEADROOM) {
            assert!(cap + MIN_FD_HEADROOM <= soft, "{cap} of {soft}");
            assert!(cap >= soft / 2, "{cap} of {soft}");
        }
    }
}
