//! The account registry: which cloud credentials exist, and which directories they may serve.
//!
//! Credentials grant access, so they come only from the server's own configuration
//! (`[accounts.NAME]` tables), never from a repository: a stack gets an account's credentials
//! only when its directory (a trusted one, see [`crate::serve::trust`]) is inside the account's
//! `dirs`. Each account keeps two identities apart: `plan` credentials, meant to be read-only,
//! which plan steps see, and `apply` credentials, which only apply steps see, and only after the
//! gate has passed. An account can also raise the gate of every stack it serves (`approvals`,
//! `codeowners`, `teams`).
//!
//! This module owns the registry's types, their validation and the directory binding. It does
//! not read TOML (the server config hands it a deserialised table) and runs nothing.

use std::collections::BTreeMap;
use std::fmt;

use globset::{GlobBuilder, GlobMatcher};
use serde::Deserialize;

use crate::serve::domain::{RepoName, StackName};

/// Credentials of one identity: environment variables, an AWS profile or a role to assume.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

impl fmt::Debug for Credentials {
    /// Values are never printed: only which variables are set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("profile", &self.profile)
            .field("role_arn", &self.role_arn)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Credentials {
    /// The environment a step gets from these credentials: `env`, then `AWS_PROFILE` and
    /// `AWS_ROLE_ARN` (with a session name naming the stack).
    pub fn env(&self, stack: &StackName) -> BTreeMap<String, String> {
        let mut env = self.env.clone();
        if let Some(profile) = &self.profile {
            env.insert("AWS_PROFILE".to_owned(), profile.clone());
        }
        if let Some(role) = &self.role_arn {
            env.insert("AWS_ROLE_ARN".to_owned(), role.clone());
            env.insert("AWS_ROLE_SESSION_NAME".to_owned(), session_name(stack));
        }
        env
    }

    /// Every value that must never be posted.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        self.env.values().map(String::as_str)
    }

    fn is_empty(&self) -> bool {
        self.profile.is_none() && self.role_arn.is_none() && self.env.is_empty()
    }
}

/// AWS session names allow `[\w+=,.@-]`, 2 to 64 characters; stack names may contain `/`.
pub fn session_name(stack: &StackName) -> String {
    let mut name: String = format!("planguard-{stack}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(64);
    name
}

/// One `[accounts.NAME]` table as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    /// The 12-digit AWS account id (given to policies as `data.planguard.stack.account_id`).
    #[serde(default)]
    pub id: Option<String>,
    /// Directories (repository-relative globs) this account may serve, e.g. `"stacks/prod/**"`.
    #[serde(default)]
    pub dirs: Vec<String>,
    /// Repositories (owner/name globs) it may serve; all allowed repositories when empty.
    #[serde(default)]
    pub repos: Vec<String>,
    #[serde(default)]
    pub plan: Credentials,
    #[serde(default)]
    pub apply: Credentials,
    /// At least this many approvals to apply any stack of this account.
    #[serde(default)]
    pub approvals: Option<u32>,
    /// Approvals must include a code owner of the stack's directory and changed files.
    #[serde(default)]
    pub codeowners: bool,
    /// Approvals count only from members of these teams (`org/team`).
    #[serde(default)]
    pub teams: Vec<String>,
}

/// A validated account.
#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub id: Option<String>,
    pub dirs: Vec<String>,
    dir_globs: Vec<GlobMatcher>,
    repo_globs: Vec<GlobMatcher>,
    pub plan: Credentials,
    pub apply: Credentials,
    pub approvals: Option<u32>,
    pub codeowners: bool,
    pub teams: Vec<String>,
}

impl Account {
    /// Whether this account may serve `dir` (normalised, repository-relative) of `repo`.
    pub fn serves(&self, repo: &RepoName, dir: &str) -> bool {
        let repo = repo.to_string();
        let repo_ok =
            self.repo_globs.is_empty() || self.repo_globs.iter().any(|g| g.is_match(&repo));
        repo_ok && self.dir_globs.iter().any(|g| g.is_match(dir))
    }
}

/// Every account of the server, by name.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    accounts: BTreeMap<String, Account>,
}

/// How a stack's directory binds to the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding<'a> {
    /// No account serves the directory: the stack runs without credentials.
    None,
    Account(&'a str),
    /// The stack names an account that may not serve its directory.
    Refused(String),
}

impl Registry {
    /// Validates the `[accounts]` tables, returning problems as (key below `accounts`, message).
    // Long on purpose: one check per account key, collecting every problem; each block is independent.
    pub fn from_specs(
        specs: BTreeMap<String, AccountSpec>,
    ) -> Result<Registry, Vec<(String, String)>> {
        let mut problems = Vec::new();
        let mut accounts = BTreeMap::new();
        for (name, spec) in specs {
            let key = |k: &str| format!("accounts.{name}.{k}");
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                || name.is_empty()
            {
                problems.push((
                    format!("accounts.{name}"),
                    "an account name uses letters, digits, '-', '_' and '.'".to_owned(),
                ));
            }
            if let Some(id) = &spec.id {
                if id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit()) {
                    problems.push((
                        key("id"),
                        format!("{id:?} is not a 12-digit AWS account id; write it quoted, e.g. \"123456789012\""),
                    ));
                }
            }
            if spec.dirs.is_empty() {
                problems.push((
                    key("dirs"),
                    "is missing or empty: list the directories this account may serve, e.g. \
                     dirs = [\"stacks/prod/**\"] (credentials are bound to directories)"
                        .to_owned(),
                ));
            }
            let mut dir_globs = Vec::new();
            for (i, d) in spec.dirs.iter().enumerate() {
                let pattern = d.trim_start_matches("./").trim_end_matches('/');
                if pattern.starts_with('/') || pattern.split('/').any(|s| s == "..") {
                    problems.push((
                        format!("accounts.{name}.dirs[{i}]"),
                        format!("{d:?} must be relative to the repository root, without '..'"),
                    ));
                    continue;
                }
                // `stacks/prod` and `stacks/prod/**` both serve that directory and what is
                // below it.
                let base = pattern.strip_suffix("/**").unwrap_or(pattern);
                let candidates = if base == "**" || base.is_empty() {
                    vec!["**".to_owned()]
                } else {
                    vec![base.to_owned(), format!("{base}/**")]
                };
                for p in candidates {
                    match glob(&p) {
                        Ok(g) => dir_globs.push(g),
                        Err(e) => {
                            problems.push((
                                format!("accounts.{name}.dirs[{i}]"),
                                format!("{d:?} is not a valid glob ({e})"),
                            ));
                            break;
                        }
                    }
                }
            }
            let mut repo_globs = Vec::new();
            for (i, r) in spec.repos.iter().enumerate() {
                match GlobBuilder::new(r)
                    .literal_separator(true)
                    .case_insensitive(true)
                    .build()
                {
                    Ok(g) => repo_globs.push(g.compile_matcher()),
                    Err(e) => problems.push((
                        format!("accounts.{name}.repos[{i}]"),
                        format!("{r:?} is not a valid owner/name glob ({e})"),
                    )),
                }
            }
            for (which, creds) in [("plan", &spec.plan), ("apply", &spec.apply)] {
                for var in creds.env.keys() {
                    let valid = var.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !valid {
                        problems.push((
                            format!("accounts.{name}.{which}.env.{var}"),
                            "is not an environment variable name; use letters, digits and '_'"
                                .to_owned(),
                        ));
                    }
                }
            }
            if spec.plan.is_empty() && spec.apply.is_empty() {
                tracing::debug!(account = %name, "account has no credentials");
            }
            for t in &spec.teams {
                if t.split('/').count() != 2 {
                    problems.push((
                        key("teams"),
                        format!("{t:?} is not a team; write org/team-slug"),
                    ));
                }
            }
            accounts.insert(
                name.clone(),
                Account {
                    name,
                    id: spec.id,
                    dirs: spec.dirs,
                    dir_globs,
                    repo_globs,
                    plan: spec.plan,
                    apply: spec.apply,
                    approvals: spec.approvals,
                    codeowners: spec.codeowners,
                    teams: spec.teams,
                },
            );
        }
        if problems.is_empty() {
            Ok(Registry { accounts })
        } else {
            Err(problems)
        }
    }

    pub fn get(&self, name: &str) -> Option<&Account> {
        self.accounts.get(name)
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.accounts.keys().map(String::as_str)
    }

    /// Every secret of every account (for masking: a step of one stack must not post another's).
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        self.accounts
            .values()
            .flat_map(|a| a.plan.secrets().chain(a.apply.secrets()))
    }

    /// The account of a stack in `dir`: the one it names, if that account may serve the
    /// directory; otherwise the one account whose `dirs` hold it. Two accounts that both serve
    /// a directory the stack does not choose between are refused as ambiguous.
    pub fn bind<'a>(&'a self, repo: &RepoName, dir: &str, named: Option<&str>) -> Binding<'a> {
        if let Some(name) = named {
            return match self.accounts.get(name) {
                None => Binding::Refused(format!(
                    "names account `{name}`, which the server does not have (its accounts: {})",
                    list(self.names())
                )),
                Some(a) if a.serves(repo, dir) => Binding::Account(&a.name),
                Some(a) => Binding::Refused(format!(
                    "names account `{name}`, which may only serve {} (server config), not `{dir}`",
                    list(a.dirs.iter().map(String::as_str))
                )),
            };
        }
        let serving: Vec<&Account> = self
            .accounts
            .values()
            .filter(|a| a.serves(repo, dir))
            .collect();
        match serving.as_slice() {
            [] => Binding::None,
            [one] => Binding::Account(&one.name),
            many => Binding::Refused(format!(
                "is served by several accounts ({}); name one with `account:` on the default branch",
                list(many.iter().map(|a| a.name.as_str()))
            )),
        }
    }
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<String> = items.map(|s| format!("`{s}`")).collect();
    if v.is_empty() {
        "none".to_owned()
    } else {
        v.join(", ")
    }
}

fn glob(pattern: &str) -> Result<GlobMatcher, globset::Error> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(toml_text: &str) -> Result<Registry, Vec<(String, String)>> {
        let specs: BTreeMap<String, AccountSpec> = toml::from_str(toml_text).unwrap();
        Registry::from_specs(specs)
    }

    fn repo() -> RepoName {
        "acme/infra".parse().unwrap()
    }

    #[test]
    fn credentials_are_bound_to_their_directories() {
        let r = registry(
            r#"
[prod]
id = "111111111111"
dirs = ["stacks/prod"]
plan.env = { AWS_ACCESS_KEY_ID = "AKIAPLAN" }
apply.env = { AWS_ACCESS_KEY_ID = "AKIAAPPLY" }
[dev]
dirs = ["stacks/dev/**"]
"#,
        )
        .unwrap();
        assert_eq!(
            r.bind(&repo(), "stacks/prod", None),
            Binding::Account("prod")
        );
        assert_eq!(
            r.bind(&repo(), "stacks/prod/eu", None),
            Binding::Account("prod")
        );
        assert_eq!(r.bind(&repo(), "stacks/production", None), Binding::None);
        assert_eq!(
            r.bind(&repo(), "stacks/dev/a", None),
            Binding::Account("dev")
        );
        assert!(matches!(
            r.bind(&repo(), "stacks/dev", Some("prod")),
            Binding::Refused(m) if m.contains("may only serve `stacks/prod`")
        ));
        assert!(matches!(
            r.bind(&repo(), "stacks/prod", Some("nope")),
            Binding::Refused(m) if m.contains("does not have")
        ));
        let a = r.get("prod").unwrap();
        let name: StackName = "prod".parse().unwrap();
        assert_eq!(a.plan.env(&name)["AWS_ACCESS_KEY_ID"], "AKIAPLAN");
        assert_eq!(a.apply.env(&name)["AWS_ACCESS_KEY_ID"], "AKIAAPPLY");
        assert!(
            !format!("{a:?}").contains("AKIA"),
            "Debug never shows values"
        );
    }

    #[test]
    fn a_directory_two_accounts_serve_is_ambiguous() {
        let r = registry("[a]\ndirs = [\"stacks/**\"]\n[b]\ndirs = [\"stacks/x\"]\n").unwrap();
        assert!(matches!(
            r.bind(&repo(), "stacks/x", None),
            Binding::Refused(_)
        ));
        assert_eq!(
            r.bind(&repo(), "stacks/x", Some("b")),
            Binding::Account("b")
        );
    }

    #[test]
    fn accounts_are_validated() {
        let e = registry("[\"bad name\"]\nid = \"12\"\n[x]\ndirs = [\"../up\"]\nteams = [\"solo\"]\nplan.env = { \"A-B\" = \"v\" }\n").unwrap_err();
        let keys: Vec<&str> = e.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "accounts.bad name",
                "accounts.bad name.id",
                "accounts.bad name.dirs",
                "accounts.x.dirs[0]",
                "accounts.x.plan.env.A-B",
                "accounts.x.teams"
            ]
        );
    }

    #[test]
    fn an_account_limited_to_repositories_serves_only_them() {
        let r = registry("[a]\ndirs = [\"**\"]\nrepos = [\"acme/infra\"]\n").unwrap();
        assert_eq!(r.bind(&repo(), "x", None), Binding::Account("a"));
        assert_eq!(
            r.bind(&"other/infra".parse().unwrap(), "x", None),
            Binding::None
        );
    }
}
