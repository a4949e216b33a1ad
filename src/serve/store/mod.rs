//! Durable state of the server: jobs, deliveries, locks, plans, comments, check runs,
//! approvals and the audit log.
//!
//! The seam is a set of small async role traits ([`DeliveryStore`], [`JobStore`],
//! [`LockStore`], [`PlanStore`], [`ReportStore`], [`ApprovalStore`], [`AuditStore`]) that
//! [`Store`] gathers. [`SqlStore`] implements them all on sqlx, on either backend: SQLite (a
//! file, the embedded default) or PostgreSQL (a `postgres://` URL; several replicas may share
//! it). Schemas are versioned migrations, one directory per backend, run at start-up. The
//! store knows nothing of GitHub or `tofu`: it keeps rows.
//!
//! Jobs are the unit of durable work. A webhook becomes a job row before the HTTP answer; a
//! replica's worker claims it (`queued` → `running`) under a *lease* it renews while the job
//! runs. A job whose lease expired (its replica died) is interrupted: [`JobStore::recover`]
//! requeues it, or fails it once it was interrupted too often, and an apply is never run twice.
//! Plan and apply jobs carry a *lock key* (repo, stack, workspace): the claim never hands out a
//! job whose key already has a running job, so one stack never runs twice at once, on any
//! replica.

mod error;
mod sql;

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::serve::domain::{CommitSha, PrNumber, RepoName, StackName};

pub use error::StoreError;
pub use sql::{Backend, Database, SqlStore, StoreOptions};

pub type Result<T> = std::result::Result<T, StoreError>;

pub type JobId = i64;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// A webhook event: decides what to do and enqueues stack jobs.
    Event,
    /// Plan one stack of one PR at one commit.
    Plan,
    /// Apply one or more stacks of one PR.
    Apply,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Event => "event",
            JobKind::Plan => "plan",
            JobKind::Apply => "apply",
        }
    }
    fn parse(s: &str) -> Result<JobKind> {
        Ok(match s {
            "event" => JobKind::Event,
            "plan" => JobKind::Plan,
            "apply" => JobKind::Apply,
            other => return Err(StoreError::Permanent(format!("unknown job kind {other:?}"))),
        })
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    /// Waiting for a stack lock another PR holds.
    Waiting,
    Done,
    Failed,
    Cancelled,
    /// Replaced by a newer job for the same stack (a newer push).
    Superseded,
}

impl JobState {
    pub const ALL: [JobState; 7] = [
        JobState::Queued,
        JobState::Running,
        JobState::Waiting,
        JobState::Done,
        JobState::Failed,
        JobState::Cancelled,
        JobState::Superseded,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Waiting => "waiting",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
            JobState::Superseded => "superseded",
        }
    }
    fn parse(s: &str) -> Result<JobState> {
        JobState::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| StoreError::Permanent(format!("unknown job state {s:?}")))
    }
}

/// A job to insert.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: JobKind,
    pub repo: RepoName,
    pub pr: PrNumber,
    pub stack: Option<StackName>,
    pub lock_key: Option<String>,
    /// The job's own data, as JSON (the worker owns its shape).
    pub payload: serde_json::Value,
}

/// A stored job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: JobId,
    pub kind: JobKind,
    pub repo: RepoName,
    pub pr: PrNumber,
    pub stack: Option<StackName>,
    pub lock_key: Option<String>,
    pub payload: serde_json::Value,
    pub state: JobState,
    pub attempts: u32,
    /// How often a run of this job ended without its handler returning: a panic, or a stop of
    /// the server (a crash, a kill) while it was running. Bounded by the worker (see
    /// [`Store::recover`] and [`Store::crashed`]), so a job that kills its server cannot loop.
    pub interruptions: u32,
    pub error: Option<String>,
    /// The replica that claimed it last (while `running`: the one running it).
    pub owner: Option<String>,
}

/// What happened to a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    Queued(JobId),
    Duplicate,
}

/// The key of a stack lock: one per repository, stack and workspace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LockKey {
    pub repo: RepoName,
    pub stack: StackName,
    pub workspace: String,
}

impl LockKey {
    /// The text form stored in job rows.
    pub fn as_text(&self) -> String {
        format!("{}|{}|{}", self.repo, self.stack, self.workspace)
    }
}

/// A held lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lock {
    pub key: LockKey,
    pub pr: PrNumber,
    pub sha: CommitSha,
    pub acquired_at: i64,
}

/// The answer to a lock request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockOutcome {
    /// Taken now, or already held by this PR.
    Held,
    /// Another PR holds it.
    HeldBy(Lock),
}

/// A PR as the server last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrRecord {
    pub repo: RepoName,
    pub pr: PrNumber,
    pub head: CommitSha,
    pub base: CommitSha,
    pub head_ref: String,
    /// The branch the PR merges into (where the gate's settings are read).
    #[serde(default)]
    pub base_ref: String,
    pub clone_url: String,
    /// The base repository's clone URL (where the trusted branch is fetched from).
    #[serde(default)]
    pub base_clone_url: String,
    /// The base repository's default branch.
    #[serde(default)]
    pub default_branch: String,
    pub author: String,
    pub from_fork: bool,
    pub installation: Option<u64>,
    pub html_url: String,
    pub open: bool,
}

/// The latest state of one stack of one PR: what the PR comment shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackRecord {
    pub repo: RepoName,
    pub pr: PrNumber,
    pub stack: StackName,
    pub sha: CommitSha,
    /// The rendered state (the worker owns its shape).
    pub state: serde_json::Value,
    pub updated_at: i64,
}

/// A saved plan, keyed by (repo, PR, stack, head SHA).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRecord {
    pub repo: RepoName,
    pub pr: PrNumber,
    pub stack: StackName,
    pub sha: CommitSha,
    pub plan_file: String,
    pub plan_json: String,
    /// sha256 of the binary plan file: what approvals and applies are bound to.
    pub plan_hash: String,
    /// The findings report as JSON.
    pub report: String,
    /// Set once the plan was applied (it cannot be applied again).
    pub applied: bool,
    pub created_at: i64,
}

/// A policy approval bound to the plan it approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub stack: StackName,
    pub plan_hash: String,
    pub policy_id: String,
    pub approver: String,
    pub at: i64,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    #[serde(default)]
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub actor: String,
    /// plan, apply, approve_policies, unlock, cancel, lock_released, ...
    pub action: String,
    pub repo: String,
    pub pr: u64,
    pub stack: Option<String>,
    pub sha: Option<String>,
    pub plan_hash: Option<String>,
    pub outcome: String,
}

/// Filters of the audit query.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub repo: Option<String>,
    pub pr: Option<u64>,
    /// The newest `limit` entries are returned, oldest first.
    pub limit: usize,
}

/// What retention removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub jobs: u64,
    pub deliveries: u64,
    pub plans: u64,
}

/// Webhook deliveries, each stored once.
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Records a delivery and its job in one transaction; a delivery id seen before (by any
    /// replica) is a duplicate and stores nothing.
    async fn accept_delivery(
        &self,
        delivery: &str,
        event: &str,
        job: Option<NewJob>,
    ) -> Result<Accepted> {
        let mut out = self
            .accept_deliveries(vec![(delivery.to_owned(), event.to_owned(), job)])
            .await?;
        out.pop()
            .ok_or_else(|| StoreError::Permanent("no answer for the delivery".into()))
    }
    /// [`DeliveryStore::accept_delivery`] for many deliveries at once, in one transaction, in
    /// order. The webhook intake batches deliveries that arrive together.
    async fn accept_deliveries(
        &self,
        batch: Vec<(String, String, Option<NewJob>)>,
    ) -> Result<Vec<Accepted>>;
}

/// The job queue, its leases and its recovery.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Inserts a job.
    async fn enqueue(&self, job: NewJob) -> Result<JobId>;
    /// Marks older queued or waiting plan jobs of this PR and stack as superseded.
    async fn supersede(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
        keep: JobId,
    ) -> Result<usize>;
    /// Claims a runnable job for this replica, under a fresh lease: queued, due, and with no
    /// running job on its lock key. Among those, fairly between pull requests: a job of the
    /// PR with the fewest running jobs, then of the PR whose last job started longest ago,
    /// then the oldest. So a PR that queued a thousand jobs gets no more workers than a PR
    /// that queued one.
    async fn claim(&self) -> Result<Option<Job>>;
    /// Extends the lease of a job this replica claimed (`job` as [`JobStore::claim`] returned
    /// it); false when the claim is no longer this replica's (its lease expired and the job
    /// was requeued, or another replica took it over, or this replica claimed it afresh).
    async fn renew(&self, job: &Job) -> Result<bool>;
    async fn job(&self, id: JobId) -> Result<Option<Job>>;
    /// Ends a job. `job` is the row as the caller last saw it, and the write is conditional on
    /// it: a claim (`running`) ends only while it is still this replica's same claim (same
    /// owner, same attempt), a queued or waiting job only while it is still so. Otherwise
    /// nothing changes and the answer is [`StoreError::Conflict`]: a replica whose lease
    /// expired never overwrites the job another replica took over.
    async fn finish(&self, job: &Job, state: JobState, error: Option<&str>) -> Result<()>;
    /// Cancels an active (queued, waiting or running) job, whoever runs it: a running job's
    /// replica learns it at its next lease renewal and stops the job. A job that already ended
    /// is left alone.
    async fn cancel(&self, id: JobId, why: &str) -> Result<()>;
    /// Puts a claimed job back in the queue, due after `delay_secs` (conditional on the claim
    /// as [`JobStore::finish`] is).
    async fn retry(&self, job: &Job, delay_secs: i64, error: &str) -> Result<()>;
    /// Parks a claimed job until its lock key is released (conditional on the claim as
    /// [`JobStore::finish`] is).
    async fn wait_for_lock(&self, job: &Job) -> Result<()>;
    /// Requeues the jobs waiting on this lock key; returns their ids.
    async fn wake(&self, lock_key: &str) -> Result<Vec<JobId>>;
    /// Running jobs that were interrupted: those whose lease expired (their replica died),
    /// and, with `restarted`, those this replica was running before it restarted. Each counts
    /// an interruption; then, in one transaction, apply jobs and jobs interrupted
    /// `max_interruptions` times or more end `failed` (an apply is never run twice: its stacks
    /// may be partly applied), and the rest are requeued. Returns them all, with their new
    /// state.
    async fn recover(&self, max_interruptions: u32, restarted: bool) -> Result<Vec<Job>>;
    /// A run of a running job ended without an answer (its handler panicked): counts an
    /// interruption, then fails the job when it reached `max_interruptions`, else requeues it
    /// due after `delay_secs`. Returns the job's new state.
    async fn crashed(
        &self,
        id: JobId,
        error: &str,
        max_interruptions: u32,
        delay_secs: i64,
    ) -> Result<JobState>;
    /// Active (queued, running, waiting) jobs of a PR, optionally of one stack.
    async fn active_jobs(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: Option<&StackName>,
    ) -> Result<Vec<Job>>;
    /// Jobs per state.
    async fn job_counts(&self) -> Result<BTreeMap<JobState, u64>>;
}

/// Stack locks: one row per (repo, stack, workspace).
#[async_trait]
pub trait LockStore: Send + Sync {
    async fn try_lock(&self, key: &LockKey, pr: PrNumber, sha: &CommitSha) -> Result<LockOutcome>;
    async fn lock(&self, key: &LockKey) -> Result<Option<Lock>>;
    /// Releases one lock whoever holds it; returns the holder.
    async fn unlock(&self, key: &LockKey) -> Result<Option<Lock>>;
    /// Releases every lock of a PR; returns them.
    async fn release_pr(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<Lock>>;
    /// Takes the hold `key` for `token` until `until` (Unix seconds), unless another token
    /// holds it and it has not expired; returns whether `token` holds it now. A hold is a
    /// short, expiring lock between replicas: it serialises the updates of one thing on GitHub
    /// (a PR comment, a check run), so two replicas never both create it. A replica that dies
    /// holding one delays the others until it expires.
    async fn try_hold(&self, key: &str, token: &str, until: i64) -> Result<bool>;
    /// Releases the hold `key` if `token` still holds it.
    async fn release_hold(&self, key: &str, token: &str) -> Result<()>;
}

/// Saved plans: their records, and the binary plan files themselves, so a plan made on one
/// replica can be applied on another.
#[async_trait]
pub trait PlanStore: Send + Sync {
    async fn put_plan(&self, plan: &PlanRecord) -> Result<()>;
    /// The newest plan of a stack of a PR.
    async fn latest_plan(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
    ) -> Result<Option<PlanRecord>>;
    async fn mark_applied(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
        sha: &CommitSha,
    ) -> Result<()>;
    /// Plan records of a PR (for cleanup).
    async fn plans(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<PlanRecord>>;
    /// Stores the bytes of the binary plan file of a plan.
    async fn put_plan_file(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
        sha: &CommitSha,
        data: &[u8],
    ) -> Result<()>;
    /// The bytes of the binary plan file of a plan.
    async fn plan_file(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
        sha: &CommitSha,
    ) -> Result<Option<Vec<u8>>>;
}

/// What the PR comment and the check runs are rebuilt from: PRs, stacks, comment and check
/// run ids.
#[async_trait]
pub trait ReportStore: Send + Sync {
    async fn put_pr(&self, pr: &PrRecord) -> Result<()>;
    async fn pr(&self, repo: &RepoName, pr: PrNumber) -> Result<Option<PrRecord>>;
    async fn put_stack(&self, rec: &StackRecord) -> Result<()>;
    async fn stacks(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<StackRecord>>;
    async fn delete_stacks(&self, repo: &RepoName, pr: PrNumber) -> Result<()>;
    async fn comment_ids(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<u64>>;
    async fn set_comment_ids(&self, repo: &RepoName, pr: PrNumber, ids: &[u64]) -> Result<()>;
    async fn check_run(&self, repo: &RepoName, sha: &CommitSha, name: &str) -> Result<Option<u64>>;
    async fn set_check_run(
        &self,
        repo: &RepoName,
        sha: &CommitSha,
        name: &str,
        id: u64,
    ) -> Result<()>;
}

/// Policy approvals, and which job acted on which comment.
#[async_trait]
pub trait ApprovalStore: Send + Sync {
    async fn approve(&self, repo: &RepoName, pr: PrNumber, approval: &Approval) -> Result<()>;
    async fn approvals(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
        plan_hash: &str,
    ) -> Result<Vec<Approval>>;
    /// Records that comment `comment_id` of `repo` drives the action of job `job`, atomically
    /// and before anything is done. Returns whether `job` holds it: true when it is recorded
    /// now or was by the same job (a retry), false when another job acted on it already (the
    /// comment's delivery was replayed).
    async fn claim_comment(&self, repo: &RepoName, comment_id: u64, job: JobId) -> Result<bool>;
}

/// The audit log (never pruned).
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn audit(&self, entry: &AuditEntry) -> Result<()>;
    async fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>>;
}

/// The server's durable state: every role, plus health and retention.
#[async_trait]
pub trait Store:
    DeliveryStore
    + JobStore
    + LockStore
    + PlanStore
    + ReportStore
    + ApprovalStore
    + AuditStore
    + Send
    + Sync
    + 'static
{
    /// Cheap check that the database answers (for `/readyz`).
    async fn ping(&self) -> Result<()>;
    /// Deletes finished jobs, deliveries, and the plans of closed PRs, older than
    /// `older_than_secs`. The audit log is kept.
    async fn prune(&self, older_than_secs: i64) -> Result<Pruned>;
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
