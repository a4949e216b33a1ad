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
//! A job that fails on something transient (GitHub unreachable, a fetch error) is retried with
//! backoff; anything else is reported on the PR and the job ends `failed`. A job is never
//! dropped: until a handler returns, the row stays `running` and a restart requeues it.

mod apply;
mod command;
mod event;
mod plan;
mod replay;
mod report;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn, Instrument};

use crate::domain::{PrNumber, RepoName, StackName};
use crate::policy::PolicySet;
use crate::runner::workdir::WorkdirError;
use crate::runner::PlanRunner;
use crate::server::config::ServerConfig;
use crate::server::metrics::Metrics;
use crate::store::{Job, JobId, JobKind, JobState, NewJob, Store, StoreError};
use crate::vcs::{VcsError, VcsHost};
use crate::webhook::Event;
use crate::workflow::Workflows;

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
    pub intake: crate::server::intake::Intake,
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
    pub sha: crate::domain::CommitSha,
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
    fn from(e: StoreError) -> Self {
        JobError::Transient(e.to_string())
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
            intake: crate::server::intake::Intake::start(store.clone()),
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
    pub fn enqueue(&self, job: NewJob) -> Result<JobId, StoreError> {
        let id = self.store.enqueue(job)?;
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

    /// At startup: requeues jobs a crash or restart interrupted, and says so in the log.
    pub fn recover(&self) -> Result<Vec<Job>, StoreError> {
        let jobs = self.store.recover()?;
        for job in &jobs {
            warn!(
                job = job.id,
                kind = job.kind.as_str(),
                repo = %job.repo,
                pr = job.pr.0,
                stack = job.stack.as_ref().map(|s| s.as_str()),
                "job was interrupted by a restart; running it again"
            );
        }
        Ok(jobs)
    }

    /// Claims and runs one job, if any is runnable. Returns whether one ran.
    pub async fn run_one(self: &Arc<Self>) -> bool {
        match self.store.claim() {
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
        let result = async {
            info!(attempt = job.attempts, "started");
            // The App installation serving the repository, remembered from its PR (a job
            // resumed after a restart has no webhook to learn it from).
            if let Ok(Some(pr)) = self.store.pr(&job.repo, job.pr) {
                if let Some(inst) = pr.installation {
                    self.vcs.note_installation(&job.repo, inst);
                }
            }
            match job.kind {
                JobKind::Event => self.handle_event(&job).await,
                JobKind::Plan => self.handle_plan(&job, &cancel).await,
                JobKind::Apply => self.handle_apply(&job, &cancel).await,
            }
        }
        .instrument(span.clone())
        .await;
        self.running.lock().unwrap().remove(&job.id);
        let _enter = span.enter();
        let mut failure = None;
        let stored = match result {
            Ok(Outcome::Done) => self.store.finish(job.id, JobState::Done, None),
            Ok(Outcome::Cancelled) => self.store.finish(job.id, JobState::Cancelled, None),
            Ok(Outcome::Waiting) => self.store.wait_for_lock(job.id),
            Ok(Outcome::Failed(why)) => {
                warn!(error = %why, "job failed");
                self.store.finish(job.id, JobState::Failed, Some(&why))
            }
            Err(JobError::Transient(why)) if job.attempts < MAX_ATTEMPTS => {
                let delay = 2i64.pow(job.attempts.min(8));
                warn!(error = %why, retry_in_secs = delay, "transient failure; will retry");
                self.store.retry(job.id, delay, &why)
            }
            Err(e) => {
                error!(error = %e, "job failed");
                failure = Some(e.to_string());
                self.store
                    .finish(job.id, JobState::Failed, Some(&e.to_string()))
            }
        };
        if let Err(e) = stored {
            // The row stays `running`; the next start requeues it.
            error!(error = %e, "cannot record the job's end");
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

impl Services {
    /// Tells each PR whose work a restart interrupted that it is running again.
    pub async fn report_resumed(&self, jobs: Vec<Job>) {
        let mut by_pr: std::collections::BTreeMap<(RepoName, PrNumber), Vec<String>> =
            std::collections::BTreeMap::new();
        for job in &jobs {
            let what = match (job.kind, &job.stack) {
                (JobKind::Plan, Some(stack)) => format!("the plan of `{stack}`"),
                (JobKind::Apply, _) => {
                    "an apply (stacks it had not finished count as failed; re-plan them)".to_owned()
                }
                _ => "the handling of a webhook".to_owned(),
            };
            by_pr
                .entry((job.repo.clone(), job.pr))
                .or_default()
                .push(what);
        }
        for ((repo, pr), work) in by_pr {
            let body = format!(
                "### :arrows_counterclockwise: planguard restarted\n\nplanguard stopped while it was working on this pull request. It is running again: {}. Results appear here as usual.",
                work.join(", ")
            );
            if let Err(e) = self.reply(&repo, pr, &body).await {
                warn!(error = %e, %repo, pr = pr.0, "cannot report resumed work");
            }
        }
    }

    /// Tells the PR that a job failed for good, so nothing is left showing "running".
    async fn report_failure(&self, job: &Job, why: &str) -> Result<(), JobError> {
        if let (JobKind::Plan, Some(stack)) = (job.kind, &job.stack) {
            if let Some((rec, stored)) = self
                .stored_stacks(&job.repo, job.pr)?
                .into_iter()
                .find(|(r, _)| &r.stack == stack)
            {
                let state = StackState::Errored {
                    step: "planguard".into(),
                    output: format!("planguard could not plan this stack: {why}"),
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
                )?;
                self.refresh_comment(&job.repo, job.pr).await?;
                return self.plan_check(&job.repo, stack, &rec.sha, &state).await;
            }
        }
        self.reply(
            &job.repo,
            job.pr,
            &format!(
                "### :boom: planguard could not finish\n\nThe {} job for this pull request failed: {why}\n\nFix the cause and comment the command again (or push); the server log has the details.",
                job.kind.as_str()
            ),
        )
        .await
    }
}

/// Runs `workers` workers until `shutdown`; then waits for running jobs to finish, up to
/// `drain`. Jobs still running after that stay `running` in the store and are resumed by the
/// next start.
pub async fn run_workers(services: Arc<Services>, shutdown: CancellationToken, drain: Duration) {
    let mut tasks = tokio::task::JoinSet::new();
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
