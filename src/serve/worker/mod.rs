//! Carrying out jobs: the worker pool and one handler per job kind.
//!
//! Workers claim jobs from the [`Store`] (never two of one stack at once) and hand each to its
//! handler:
//!
//! - [`event`]: a webhook event. A PR opened or pushed becomes one plan job per affected stack;
//!   a PR closed releases its locks, cleans up, and starts what was queued behind them; a
//!   comment becomes a command.
//! - [`plan`]: one stack of one PR at one commit, in its own working copy: lock, steps, policy
//!   evaluation, the saved plan.
//! - [`apply`]: the apply gate and the applies themselves.
//! - [`report`]: the PR comment and check runs, always rebuilt from the store, so they are
//!   right after any crash.
//!
//! Handlers decide what to tell a PR; every one-off text is a [`crate::serve::replies::Reply`],
//! rendered there, and posted with `Services::reply`.
//!
//! A job that fails on something transient (GitHub unreachable, a fetch error) is retried with
//! backoff; anything else is reported on the PR and the job ends `failed`. A job is never
//! dropped: until a handler returns, the row stays `running` and a restart requeues it.
//!
//! A job that panics or whose server stopped under it (a crash, a kill) counts an
//! *interruption*. A panic is caught per job, so the worker lives on; the job is retried until
//! it was interrupted `limits.max_job_interruptions` times, then it fails and the PR is told.
//! An apply job is never run again after a restart: its stacks may be partly applied, so
//! [`Services::recover`] marks the stacks it was applying as failed and says so.

mod apply;
mod command;
mod event;
mod lease;
mod plan;
mod replay;
mod report;
mod working_copy;

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn, Instrument};

use crate::policy::PolicySet;
use crate::serve::config::ServerConfig;
use crate::serve::domain::{PrNumber, RepoName, StackName};
use crate::serve::metrics::Metrics;
use crate::serve::replies::{self, JobSubject, Reply, RestartNote, INTERRUPTED_APPLY};
use crate::serve::runner::workdir::WorkdirError;
use crate::serve::runner::PlanRunner;
use crate::serve::store::{Job, JobId, JobKind, JobState, NewJob, Store, StoreError};
use crate::serve::vcs::{VcsError, VcsHost};
use crate::serve::webhook::Event;
use crate::serve::workflow::Workflows;

pub use report::{StackState, StoredStack};

/// Everything a worker needs, shared by all of them and by the HTTP handlers.
pub struct Services {
    pub config: ServerConfig,
    pub store: Arc<dyn Store>,
    pub vcs: Arc<dyn VcsHost>,
    pub runner: Arc<dyn PlanRunner>,
    pub policies: PolicySet,
    pub workflows: Workflows,
    /// The `tofu` or `terraform` executable.
    pub binary: PathBuf,
    pub metrics: Metrics,
    /// Wakes idle workers when a job is queued.
    pub wake: Notify,
    /// Where webhook handlers store deliveries.
    pub intake: crate::serve::intake::Intake,
    running: Mutex<HashMap<JobId, RunningJob>>,
    /// Serialises updates of one PR comment or one check (key: what is updated).
    update_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A job in progress, for `cancel`.
struct RunningJob {
    kind: JobKind,
    repo: RepoName,
    pr: PrNumber,
    stack: Option<StackName>,
    cancel: CancellationToken,
}

/// The payload of an event job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventJob {
    pub delivery: String,
    pub event: Event,
}

/// The payload of a plan job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanJob {
    pub sha: crate::serve::domain::CommitSha,
    pub workspace: String,
    /// Who or what asked: `autoplan`, or the commenter.
    pub actor: String,
}

/// Why a job stopped early.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth retrying later.
    #[error("{0}")]
    Transient(String),
    /// Retrying will not help.
    #[error("{0}")]
    Permanent(String),
}

impl From<StoreError> for JobError {
    /// Only a transient store failure (the database down or busy) is worth a retry.
    fn from(e: StoreError) -> Self {
        if e.is_transient() {
            JobError::Transient(e.to_string())
        } else {
            JobError::Permanent(e.to_string())
        }
    }
}

impl From<VcsError> for JobError {
    fn from(e: VcsError) -> Self {
        if e.is_transient() {
            JobError::Transient(e.to_string())
        } else {
            JobError::Permanent(e.to_string())
        }
    }
}

impl From<WorkdirError> for JobError {
    fn from(e: WorkdirError) -> Self {
        match e {
            WorkdirError::Fetch { .. } | WorkdirError::Io { .. } => {
                JobError::Transient(e.to_string())
            }
            _ => JobError::Permanent(e.to_string()),
        }
    }
}

/// How a handler ended a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Reported on the PR; the job ends `failed`.
    Failed(String),
    /// Parked until a lock is released.
    Waiting,
    Cancelled,
}

/// Retries of a transient failure before the job fails.
const MAX_ATTEMPTS: u32 = 6;

impl Services {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: ServerConfig,
        store: Arc<dyn Store>,
        vcs: Arc<dyn VcsHost>,
        runner: Arc<dyn PlanRunner>,
        policies: PolicySet,
        workflows: Workflows,
        binary: PathBuf,
    ) -> Services {
        Services {
            intake: crate::serve::intake::Intake::start(store.clone()),
            config,
            store,
            vcs,
            runner,
            policies,
            workflows,
            binary,
            metrics: Metrics::default(),
            wake: Notify::new(),
            running: Mutex::new(HashMap::new()),
            update_locks: Mutex::new(HashMap::new()),
        }
    }

    /// The lock that serialises updates of one thing on GitHub (a comment, a check run), so
    /// two jobs never both create it.
    pub(crate) fn update_lock(&self, key: String) -> Arc<tokio::sync::Mutex<()>> {
        self.update_locks
            .lock()
            .unwrap()
            .entry(key)
            .or_default()
            .clone()
    }

    /// Queues a job and wakes a worker.
    pub async fn enqueue(&self, job: NewJob) -> Result<JobId, StoreError> {
        let id = self.store.enqueue(job).await?;
        self.wake.notify_waiters();
        Ok(id)
    }

    /// Cancels running plan and apply jobs of a PR (of one stack, or all); returns how many.
    pub fn cancel_running(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: Option<&StackName>,
    ) -> usize {
        let running = self.running.lock().unwrap();
        let mut n = 0;
        for job in running.values() {
            if job.kind != JobKind::Event
                && &job.repo == repo
                && job.pr == pr
                && (stack.is_none() || job.stack.as_ref() == stack)
            {
                job.cancel.cancel();
                n += 1;
            }
        }
        n
    }

    /// The data directory's parts.
    pub fn work_dir(&self, repo: &RepoName, pr: PrNumber) -> PathBuf {
        self.config
            .data_dir
            .join("work")
            .join(repo.owner())
            .join(repo.name())
            .join(pr.0.to_string())
    }

    pub fn plans_dir(&self, repo: &RepoName, pr: PrNumber) -> PathBuf {
        self.config
            .data_dir
            .join("plans")
            .join(repo.owner())
            .join(repo.name())
            .join(pr.0.to_string())
    }

    /// Requeues jobs a crash, a restart (`restarted`: at startup, this replica's own) or a
    /// dead replica (an expired lease) interrupted, and says so in the log. A job interrupted
    /// too often, and any apply job, ends `failed` instead; the stacks an interrupted apply
    /// was applying are marked failed (their result is unknown). [`Services::report_resumed`]
    /// then tells each PR.
    pub async fn recover(&self, restarted: bool) -> Result<Vec<Job>, StoreError> {
        let jobs = self
            .store
            .recover(self.config.limits.max_job_interruptions, restarted)
            .await?;
        for job in &jobs {
            let requeued = job.state == JobState::Queued;
            warn!(
                job = job.id,
                kind = job.kind.as_str(),
                repo = %job.repo,
                pr = job.pr.0,
                stack = job.stack.as_ref().map(|s| s.as_str()),
                interruptions = job.interruptions,
                "job was interrupted by a restart; {}",
                if requeued { "running it again" } else { "it failed" }
            );
            if job.kind == JobKind::Apply {
                if let Err(e) = self.mark_interrupted_applies(job).await {
                    error!(job = job.id, error = %e, "cannot mark interrupted applies");
                }
            }
        }
        Ok(jobs)
    }

    /// Claims and runs one job, if any is runnable. Returns whether one ran.
    pub async fn run_one(self: &Arc<Self>) -> bool {
        match self.store.claim().await {
            Ok(Some(job)) => {
                self.execute(job).await;
                true
            }
            Ok(None) => false,
            Err(e) => {
                error!(error = %e, "cannot claim a job");
                false
            }
        }
    }

    async fn execute(self: &Arc<Self>, job: Job) {
        let started = Instant::now();
        let cancel = CancellationToken::new();
        self.running.lock().unwrap().insert(
            job.id,
            RunningJob {
                kind: job.kind,
                repo: job.repo.clone(),
                pr: job.pr,
                stack: job.stack.clone(),
                cancel: cancel.clone(),
            },
        );
        let span = tracing::info_span!(
            "job",
            id = job.id,
            kind = job.kind.as_str(),
            repo = %job.repo,
            pr = job.pr.0,
            stack = job.stack.as_ref().map(|s| s.as_str()).unwrap_or("")
        );
        let lease = self.keep_lease(&job, cancel.clone());
        let result = CatchPanic(Box::pin(async {
            info!(attempt = job.attempts, "started");
            // The App installation serving the repository, remembered from its PR (a job
            // resumed after a restart has no webhook to learn it from).
            if let Ok(Some(pr)) = self.store.pr(&job.repo, job.pr).await {
                if let Some(inst) = pr.installation {
                    self.vcs.note_installation(&job.repo, inst);
                }
            }
            match job.kind {
                JobKind::Event => self.handle_event(&job).await,
                JobKind::Plan => self.handle_plan(&job, &cancel).await,
                JobKind::Apply => self.handle_apply(&job, &cancel).await,
            }
        }))
        .instrument(span.clone())
        .await;
        lease.abort();
        self.running.lock().unwrap().remove(&job.id);
        let _enter = span.enter();
        let mut failure = None;
        let result = match result {
            Ok(r) => r,
            Err(panic) => {
                self.job_panicked(&job, &panic).await;
                self.metrics.job(job.kind.as_str(), started.elapsed());
                return;
            }
        };
        let stored = match result {
            Ok(Outcome::Done) => self.store.finish(&job, JobState::Done, None).await,
            Ok(Outcome::Cancelled) => self.store.finish(&job, JobState::Cancelled, None).await,
            Ok(Outcome::Waiting) => self.store.wait_for_lock(&job).await,
            Ok(Outcome::Failed(why)) => {
                warn!(error = %why, "job failed");
                self.store.finish(&job, JobState::Failed, Some(&why)).await
            }
            Err(JobError::Transient(why)) if job.attempts < MAX_ATTEMPTS => {
                let delay = 2i64.pow(job.attempts.min(8));
                warn!(error = %why, retry_in_secs = delay, "transient failure; will retry");
                self.store.retry(&job, delay, &why).await
            }
            Err(e) => {
                error!(error = %e, "job failed");
                failure = Some(e.to_string());
                self.store
                    .finish(&job, JobState::Failed, Some(&e.to_string()))
                    .await
            }
        };
        match stored {
            Ok(()) => {}
            Err(StoreError::Conflict(e)) => {
                // The lease expired and another replica took the job over: its run counts.
                warn!(error = %e, "the job is no longer this replica's; dropping this result");
                failure = None;
            }
            // The row stays `running`; the next start requeues it.
            Err(e) => error!(error = %e, "cannot record the job's end"),
        }
        if let Some(why) = failure {
            if let Err(e) = self.report_failure(&job, &why).await {
                warn!(error = %e, "cannot report the failure on the pull request");
            }
        }
        info!(took_ms = started.elapsed().as_millis() as u64, "finished");
        self.metrics.job(job.kind.as_str(), started.elapsed());
    }
}

/// A future whose panic is caught and returned as its message, so one job's panic ends that
/// job only, not its worker.
struct CatchPanic<'a, T>(Pin<Box<dyn Future<Output = T> + Send + 'a>>);

impl<T> Future for CatchPanic<'_, T> {
    type Output = Result<T, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

/// The text a panic was raised with.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

impl Services {
    /// A job's handler panicked: counts an interruption and retries the job after a pause, or
    /// fails it for good once it was interrupted too often and reports that on the PR.
    async fn job_panicked(&self, job: &Job, panic: &str) {
        let why = replies::crashed(panic);
        let max = self.config.limits.max_job_interruptions;
        let delay = 2i64.pow(job.interruptions.min(8));
        match self.store.crashed(job.id, &why, max, delay).await {
            Ok(JobState::Failed) => {
                error!(
                    panic,
                    interruptions = job.interruptions + 1,
                    "job panicked; it failed"
                );
                let why = replies::crashed_too_often(&why, job.interruptions + 1);
                if let Err(e) = self.report_failure(job, &why).await {
                    warn!(error = %e, "cannot report the failure on the pull request");
                }
            }
            Ok(_) => {
                error!(panic, retry_in_secs = delay, "job panicked; will retry");
            }
            Err(e) => error!(panic, error = %e, "job panicked; cannot record it"),
        }
    }

    /// Marks the stacks an apply job was applying when the server stopped as failed: nobody
    /// knows how far `apply` got. Store-only, so it is done before any worker starts; the
    /// check and the PR are told by [`Services::report_resumed`].
    async fn mark_interrupted_applies(&self, job: &Job) -> Result<(), JobError> {
        for (rec, stored) in self.stored_stacks(&job.repo, job.pr).await? {
            if !matches!(stored.state, StackState::Applying) {
                continue;
            }
            self.set_stack(
                &job.repo,
                job.pr,
                &rec.stack,
                &rec.sha,
                &StoredStack {
                    state: StackState::ApplyFailed {
                        output: INTERRUPTED_APPLY.to_owned(),
                    },
                    ..stored
                },
            )
            .await?;
            self.store
                .audit(&crate::serve::store::AuditEntry {
                    id: 0,
                    at: crate::serve::store::now(),
                    actor: "planguard".into(),
                    action: "apply".into(),
                    repo: job.repo.to_string(),
                    pr: job.pr.0,
                    stack: Some(rec.stack.to_string()),
                    sha: Some(rec.sha.to_string()),
                    plan_hash: self
                        .store
                        .latest_plan(&job.repo, job.pr, &rec.stack)
                        .await?
                        .filter(|p| p.sha == rec.sha)
                        .map(|p| p.plan_hash),
                    outcome: "failed: interrupted by a restart".into(),
                })
                .await?;
        }
        Ok(())
    }

    /// After a restart failed an interrupted apply: completes the apply checks of the stacks
    /// it left failed, refreshes the PR comment, and returns those stacks.
    async fn close_interrupted_applies(
        &self,
        repo: &RepoName,
        pr: PrNumber,
    ) -> Result<Vec<StackName>, JobError> {
        let mut stacks = Vec::new();
        for (rec, stored) in self.stored_stacks(repo, pr).await? {
            if matches!(&stored.state, StackState::ApplyFailed { output } if output == INTERRUPTED_APPLY)
            {
                let name = format!("planguard/apply: {}", rec.stack);
                if self.store.check_run(repo, &rec.sha, &name).await?.is_some() {
                    let check = report::failed_check(
                        name,
                        &rec.sha,
                        "Interrupted by a restart",
                        INTERRUPTED_APPLY.into(),
                    );
                    self.set_check(repo, check).await?;
                }
                stacks.push(rec.stack);
            }
        }
        self.refresh_comment(repo, pr).await?;
        Ok(stacks)
    }
}

impl Services {
    /// Tells each PR whose work a restart interrupted what became of it: running again, or
    /// failed (an apply, or a job interrupted too often), with what to do next.
    pub async fn report_resumed(&self, jobs: Vec<Job>) {
        let mut by_pr: std::collections::BTreeMap<(RepoName, PrNumber), Vec<&Job>> =
            std::collections::BTreeMap::new();
        for job in &jobs {
            by_pr
                .entry((job.repo.clone(), job.pr))
                .or_default()
                .push(job);
        }
        for ((repo, pr), jobs) in by_pr {
            let mut resumed = Vec::new();
            let mut notes = Vec::new();
            for job in jobs {
                let what = match (job.kind, &job.stack) {
                    (JobKind::Plan, Some(stack)) => JobSubject::Plan(stack.clone()),
                    (JobKind::Apply, _) => JobSubject::Apply,
                    _ => JobSubject::Webhook,
                };
                if job.state == JobState::Queued {
                    resumed.push(what);
                } else if job.kind == JobKind::Apply {
                    let stacks = match self.close_interrupted_applies(&repo, pr).await {
                        Ok(s) => s,
                        Err(e) => {
                            warn!(error = %e, %repo, pr = pr.0, "cannot close interrupted applies");
                            Vec::new()
                        }
                    };
                    notes.push(if stacks.is_empty() {
                        RestartNote::ApplyNotStarted
                    } else {
                        RestartNote::ApplyInterrupted { stacks }
                    });
                } else {
                    let why = replies::interrupted_too_often(
                        job.interruptions,
                        self.config.limits.max_job_interruptions,
                    );
                    if let Err(e) = self.report_failure(job, &why).await {
                        warn!(error = %e, "cannot report the failure on the pull request");
                    }
                    notes.push(RestartNote::Failed { subject: what, why });
                }
            }
            let reply = Reply::Restarted { resumed, notes };
            if let Err(e) = self.reply(&repo, pr, &reply).await {
                warn!(error = %e, %repo, pr = pr.0, "cannot report resumed work");
            }
        }
    }

    /// Tells the PR that a job failed for good, so nothing is left showing "running".
    async fn report_failure(&self, job: &Job, why: &str) -> Result<(), JobError> {
        if let (JobKind::Plan, Some(stack)) = (job.kind, &job.stack) {
            if let Some((rec, stored)) = self
                .stored_stacks(&job.repo, job.pr)
                .await?
                .into_iter()
                .find(|(r, _)| &r.stack == stack)
            {
                let state = StackState::Errored {
                    step: "planguard".into(),
                    output: replies::plan_failed(why),
                };
                self.set_stack(
                    &job.repo,
                    job.pr,
                    stack,
                    &rec.sha,
                    &StoredStack {
                        state: state.clone(),
                        ..stored
                    },
                )
                .await?;
                self.refresh_comment(&job.repo, job.pr).await?;
                return self.plan_check(&job.repo, stack, &rec.sha, &state).await;
            }
        }
        let reply = Reply::JobFailed {
            kind: job.kind,
            why: why.to_owned(),
        };
        self.reply(&job.repo, job.pr, &reply).await
    }
}

/// Runs `workers` workers (and the [`lease`] upkeep) until `shutdown`; then waits for running jobs to finish, up to
/// `drain`. Jobs still running after that stay `running` in the store and are resumed by the
/// next start.
pub async fn run_workers(services: Arc<Services>, shutdown: CancellationToken, drain: Duration) {
    let mut tasks = tokio::task::JoinSet::new();
    let upkeep = tokio::spawn(lease::upkeep(services.clone(), shutdown.clone()));
    for n in 0..services.config.workers.max(1) {
        let s = services.clone();
        let stop = shutdown.clone();
        tasks.spawn(async move {
            loop {
                if stop.is_cancelled() {
                    break;
                }
                if s.run_one().await {
                    continue;
                }
                tokio::select! {
                    _ = s.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = stop.cancelled() => break,
                }
            }
            tracing::debug!(worker = n, "stopped");
        });
    }
    shutdown.cancelled().await;
    upkeep.abort();
    if tokio::time::timeout(drain, async { while tasks.join_next().await.is_some() {} })
        .await
        .is_err()
    {
        warn!(
            drain_secs = drain.as_secs(),
            "jobs still running at shutdown; they will be resumed on the next start"
        );
        tasks.abort_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_job_future_ends_with_its_message_not_the_worker() {
        let calm = CatchPanic(Box::pin(async { 7 })).await;
        assert_eq!(calm, Ok(7));
        let owned = CatchPanic(Box::pin(async {
            tokio::task::yield_now().await;
            let stack = "network";
            if !stack.is_empty() {
                panic!("index out of bounds in {stack}");
            }
        }))
        .await;
        assert_eq!(owned, Err("index out of bounds in network".to_owned()));
        let fixed: Result<(), String> = CatchPanic(Box::pin(async { panic!("fixed text") })).await;
        assert_eq!(fixed, Err("fixed text".to_owned()));
    }
}
