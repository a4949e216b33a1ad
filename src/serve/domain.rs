//! Domain values the server passes around once input has been parsed at the edge.
//!
//! Webhooks, comments and `planguard.yaml` become these types as they arrive; code past the
//! edge never handles raw JSON or unchecked strings for repositories, pull requests, commits
//! or stacks. Each type validates on construction and displays as GitHub shows it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A value that did not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?} is not valid: {why}")]
pub struct InvalidValue {
    pub what: &'static str,
    pub value: String,
    pub why: &'static str,
}

fn invalid(what: &'static str, value: &str, why: &'static str) -> InvalidValue {
    InvalidValue {
        what,
        value: value.to_owned(),
        why,
    }
}

/// `owner/name` of a repository.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoName {
    owner: String,
    name: String,
}

impl RepoName {
    pub fn owner(&self) -> &str {
        &self.owner
    }
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl FromStr for RepoName {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        match s.split_once('/') {
            Some((o, n)) if ok(o) && ok(n) && n != "." && n != ".." => Ok(RepoName {
                owner: o.to_owned(),
                name: n.to_owned(),
            }),
            _ => Err(invalid("repository", s, "expected owner/name")),
        }
    }
}

impl TryFrom<String> for RepoName {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<RepoName> for String {
    fn from(r: RepoName) -> String {
        r.to_string()
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A pull request number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PrNumber(pub u64);

impl fmt::Display for PrNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A full, lower-case hex commit id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CommitSha(String);

impl CommitSha {
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The first seven characters, as GitHub shows commits.
    pub fn short(&self) -> &str {
        &self.0[..7.min(self.0.len())]
    }
}

impl FromStr for CommitSha {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if (s.len() == 40 || s.len() == 64) && s.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(CommitSha(s.to_ascii_lowercase()))
        } else {
            Err(invalid(
                "commit",
                s,
                "expected a 40- or 64-character hex SHA (SHA-1 or SHA-256)",
            ))
        }
    }
}

impl TryFrom<String> for CommitSha {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<CommitSha> for String {
    fn from(c: CommitSha) -> String {
        c.0
    }
}

impl fmt::Display for CommitSha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stack's name from `planguard.yaml` (or its directory when discovered): letters, digits,
/// `-`, `_`, `.` and `/`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StackName(String);

impl StackName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as one file name, for the stack's directories (working copy, plans): `%` and
    /// `/` are percent-encoded (`envs/prod` gives `envs%2Fprod`), and so are the dots of a
    /// name that would otherwise be `.` or `..`, and a leading `_` (file names that start
    /// with `_`, such as a PR's `_source` clone, are planguard's own). Distinct names give
    /// distinct file names, so no two stacks share a directory (`a/b` and `a__b` once did).
    pub fn path_component(&self) -> String {
        if self.0.chars().all(|c| c == '.') && self.0.len() <= 2 {
            return "%2E".repeat(self.0.len());
        }
        let mut out = String::with_capacity(self.0.len() + 2);
        for (i, c) in self.0.chars().enumerate() {
            match c {
                '%' => out.push_str("%25"),
                '/' => out.push_str("%2F"),
                '_' if i == 0 => out.push_str("%5F"),
                c => out.push(c),
            }
        }
        out
    }
}

impl FromStr for StackName {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !s.is_empty()
            && s.len() <= 100
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
            && !s.split('/').any(|p| p.is_empty() || p == "..")
        {
            Ok(StackName(s.to_owned()))
        } else {
            Err(invalid(
                "stack name",
                s,
                "use letters, digits, '-', '_', '.' and '/' (up to 100)",
            ))
        }
    }
}

impl TryFrom<String> for StackName {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<StackName> for String {
    fn from(s: StackName) -> String {
        s.0
    }
}

impl fmt::Display for StackName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A GitHub login.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Login(pub String);

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_at_the_edge() {
        assert_eq!("acme/infra".parse::<RepoName>().unwrap().name(), "infra");
        assert!("acme".parse::<RepoName>().is_err());
        assert!("acme/../x".parse::<RepoName>().is_err());
        assert!("a/b/c".parse::<RepoName>().is_err());
        assert!("0123456789abcdef0123456789abcdef01234567"
            .parse::<CommitSha>()
            .is_ok());
        assert!("main".parse::<CommitSha>().is_err());
        assert!("network".parse::<StackName>().is_ok());
        assert!("envs/prod".parse::<StackName>().is_ok());
        assert!("../prod".parse::<StackName>().is_err());
        assert!("a b".parse::<StackName>().is_err());
    }

    #[test]
    fn distinct_stack_names_are_distinct_file_names() {
        let names = [
            "a/b",
            "a__b",
            "a_b",
            "a%2Fb",
            "a",
            "b",
            ".",
            "x/.",
            "...",
            "root",
            "envs/prod",
            "envs__prod",
            "envs/prod/eu",
            "envs/prod__eu",
            "envs__prod/eu",
            "_source",
            "%5Fsource",
            "_trusted",
            "__b",
        ];
        let mut seen = std::collections::BTreeMap::new();
        for n in names {
            // Some of these are not valid stack names today; the encoding must not rely on it.
            let component = StackName(n.to_owned()).path_component();
            assert!(
                !component.is_empty()
                    && !component.contains('/')
                    && component != "."
                    && component != ".."
                    && !component.starts_with('_'),
                "{n:?} gives {component:?}, not one file name"
            );
            if let Some(other) = seen.insert(component.clone(), n) {
                panic!("{other:?} and {n:?} both give {component:?}");
            }
        }
        assert_eq!(
            "envs/prod".parse::<StackName>().unwrap().path_component(),
            "envs%2Fprod"
        );
        assert_eq!(
            "network".parse::<StackName>().unwrap().path_component(),
            "network"
        );
    }
}
