//! The seam to the code host: PR comments, check runs (or commit statuses), pull request
//! state, reviews, permissions and team membership.
//!
//! [`VcsHost`] is what the worker talks to; [`GitHub`] implements it over GitHub's REST API
//! (github.com or Enterprise) with octocrab, as a GitHub App or with a token. The tests serve a
//! GitHub fake on 127.0.0.1 and point the same implementation at it, so no test double of this
//! trait is needed. Every error says which call failed and whether a retry can help.

mod github;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::serve::domain::{CommitSha, Login, PrNumber, RepoName};

pub use github::GitHub;

/// A failed call to the code host.
#[derive(Debug, thiserror::Error)]
pub enum VcsError {
    /// The host could not be reached or answered 5xx/429: retry later.
    #[error("GitHub is unreachable or failing ({call}): {message}; planguard retries the job")]
    Unavailable { call: String, message: String },
    /// The host refused the call (4xx): retrying will not help.
    #[error("GitHub refused {call} with {status}: {message}")]
    Refused {
        call: String,
        status: u16,
        message: String,
    },
    /// Authentication (App JWT, installation token) failed.
    #[error(
        "GitHub authentication failed ({call}): {message}; check the App id, key and installation"
    )]
    Auth { call: String, message: String },
    /// A list the host serves page by page is longer than planguard reads.
    #[error(
        "GitHub lists more than {limit} items for {call}; planguard reads at most that many \
         and does not decide on a partial list"
    )]
    TooMany { call: String, limit: usize },
}

impl VcsError {
    /// Whether retrying later can succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, VcsError::Unavailable { .. })
    }
    /// Whether the object does not exist (a deleted comment, say).
    pub fn is_not_found(&self) -> bool {
        matches!(self, VcsError::Refused { status: 404, .. })
    }
}

pub type Result<T> = std::result::Result<T, VcsError>;

/// Where a check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Queued,
    InProgress,
    Completed(Conclusion),
}

/// How a completed check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    Success,
    Failure,
    Neutral,
    Cancelled,
    Skipped,
    ActionRequired,
}

impl Conclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Neutral => "neutral",
            Conclusion::Cancelled => "cancelled",
            Conclusion::Skipped => "skipped",
            Conclusion::ActionRequired => "action_required",
        }
    }
}

/// A line-level note on a check run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    pub path: String,
    pub line: u32,
    /// `failure`, `warning` or `notice`.
    pub level: String,
    pub title: String,
    pub message: String,
}

/// A check run (or, in token mode, a commit status) for a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub head_sha: CommitSha,
    pub status: CheckStatus,
    pub title: String,
    pub summary: String,
    pub text: Option<String>,
    pub annotations: Vec<Annotation>,
    pub details_url: Option<String>,
}

/// A pull request as the host reports it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub head: CommitSha,
    pub author: Login,
    pub open: bool,
    pub merged: bool,
    /// `None` while GitHub is still computing it.
    pub mergeable: Option<bool>,
    /// GitHub's `mergeable_state`: clean, blocked, unstable, behind, dirty, ...
    pub mergeable_state: String,
    pub html_url: String,
}

/// A review of a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub user: Login,
    /// Upper-case as GitHub returns it: APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED.
    pub state: String,
    pub commit: Option<CommitSha>,
}

/// An issue or pull request comment as the host holds it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueComment {
    pub id: u64,
    /// `ghost` when the account was deleted.
    pub author: Login,
    pub body: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Equal to `created_at` until the comment is edited.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A user's permission on a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Permission {
    None,
    Read,
    Triage,
    Write,
    Maintain,
    Admin,
}

impl Permission {
    pub fn parse(s: &str) -> Permission {
        match s {
            "admin" => Permission::Admin,
            "maintain" => Permission::Maintain,
            "write" | "push" => Permission::Write,
            "triage" => Permission::Triage,
            "read" | "pull" => Permission::Read,
            _ => Permission::None,
        }
    }
}

/// The code host, as the worker needs it.
#[async_trait]
pub trait VcsHost: Send + Sync + 'static {
    /// Remembers which App installation serves a repository (from a webhook).
    fn note_installation(&self, repo: &RepoName, installation: u64);
    async fn create_comment(&self, repo: &RepoName, pr: PrNumber, body: &str) -> Result<u64>;
    async fn update_comment(&self, repo: &RepoName, id: u64, body: &str) -> Result<()>;
    async fn delete_comment(&self, repo: &RepoName, id: u64) -> Result<()>;
    /// An issue or pull request comment as it is now; `None` when it was deleted.
    async fn comment(&self, repo: &RepoName, id: u64) -> Result<Option<IssueComment>>;
    /// Creates or updates (when `existing` is given) a check run; in token mode sets a commit
    /// status instead and returns `None`.
    async fn set_check(
        &self,
        repo: &RepoName,
        existing: Option<u64>,
        check: &Check,
    ) -> Result<Option<u64>>;
    async fn pull_request(&self, repo: &RepoName, pr: PrNumber) -> Result<PullRequest>;
    async fn reviews(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<Review>>;
    async fn permission(&self, repo: &RepoName, user: &Login) -> Result<Permission>;
    /// Whether `user` is an active member of `org/team`.
    async fn team_member(&self, team: &str, user: &Login) -> Result<bool>;
    /// The check runs of a commit: (name, conclusion; `None` while running). Empty in token
    /// mode.
    async fn check_runs(
        &self,
        repo: &RepoName,
        sha: &CommitSha,
    ) -> Result<Vec<(String, Option<String>)>>;
    /// A token for `git fetch` over HTTPS, when the host needs one.
    async fn clone_token(&self, repo: &RepoName) -> Result<Option<String>>;
}
