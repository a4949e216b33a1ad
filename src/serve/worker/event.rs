//! Event jobs: what a webhook asks for.
//!
//! - **PR opened, reopened or pushed**: fetch the head, read `planguard.yaml` at that commit,
//!   work out which stacks the change touches (the whole PR when opened, the pushed commits on
//!   a push), and queue one plan job per stack. A fork's PR is not planned automatically
//!   unless the server allows it: its code could run anything through `external` data sources.
//! - **PR closed or merged**: release its locks (starting the plans queued behind them),
//!   cancel its work, delete its working copies and plan files.
//! - **Comment**: a `planguard ...` command ([`super::command`]).
//! - **Review**: nothing to do now; the apply gate reads reviews when asked.

use tracing::info;

use super::report::{failed_check, StackState, StoredStack};
use super::{EventJob, JobError, Outcome, PlanJob, Services};
use crate::serve::domain::{CommitSha, PrNumber, RepoName, StackName};
use crate::serve::replies::Reply;
use crate::serve::repo_config::{RepoConfig, RepoConfigError};
use crate::serve::runner::workdir;
use crate::serve::store::{now, AuditEntry, Job, JobKind, LockKey, NewJob, PrRecord};
use crate::serve::webhook::{Event, PrAction, PullRequestEvent};

impl Services {
    pub(super) async fn handle_event(&self, job: &Job) -> Result<Outcome, JobError> {
        let ev: EventJob = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("unreadable event job: {e}")))?;
        if let Some(inst) = ev.event.installation() {
            self.vcs.note_installation(ev.event.repo(), inst);
        }
        match ev.event {
            Event::PullRequest(pr) => match pr.action {
                PrAction::Closed { merged } => self.pr_closed(&pr, merged).await,
                _ => self.pr_updated(&pr).await,
            },
            Event::Comment(c) => self.handle_comment(&c, job.id).await,
            Event::Review(_) => Ok(Outcome::Done),
        }
    }

    async fn remember_pr(&self, pr: &PullRequestEvent, open: bool) -> Result<PrRecord, JobError> {
        let rec = PrRecord {
            repo: pr.repo.clone(),
            pr: pr.number,
            head: pr.head.clone(),
            base: pr.base.clone(),
            head_ref: pr.head_ref.clone(),
            base_ref: pr.base_ref.clone(),
            clone_url: pr.clone_url.clone(),
            base_clone_url: pr.base_clone_url.clone(),
            default_branch: pr.default_branch.clone(),
            author: pr.author.0.clone(),
            from_fork: pr.from_fork,
            installation: pr.installation,
            html_url: pr.html_url.clone(),
            open,
        };
        self.store.put_pr(&rec).await?;
        Ok(rec)
    }

    async fn pr_updated(&self, ev: &PullRequestEvent) -> Result<Outcome, JobError> {
        let pr = self.remember_pr(ev, true).await?;
        if ev.from_fork && !self.config.allow_fork_prs {
            self.reply(&ev.repo, ev.number, &Reply::ForkNotPlannedAutomatically)
                .await?;
            return Ok(Outcome::Done);
        }
        // Which files changed: the whole PR when it opens, the pushed commits on a push.
        let base_for_diff = match (&ev.action, &ev.before) {
            (PrAction::Synchronize, Some(before)) => Some(before.clone()),
            _ => Some(ev.base.clone()),
        };
        let src = self.work_dir(&ev.repo, ev.number).join("_source");
        let token = self.vcs.clone_token(&ev.repo).await?;
        let (config, changed) = {
            let url = pr.clone_url.clone();
            let base_url = ev.base_clone_url.clone();
            let specs = workdir::refspecs(ev.number.0, &ev.head_ref, Some(&ev.base_ref));
            let head = ev.head.clone();
            let base_sha = ev.base.clone();
            let workflows = self.workflows.clone();
            let limits = self.config_limits();
            tokio::task::spawn_blocking(move || -> Result<_, JobError> {
                workdir::checkout(&url, token.as_deref(), &src, &specs, &head)?;
                let repo = if url != base_url {
                    // A fork: the base branch lives in the base repository.
                    workdir::fetch(&base_url, token.as_deref(), &src, &specs[2..])?
                } else {
                    git2::Repository::open(&src).map_err(|e| JobError::Permanent(e.to_string()))?
                };
                let changed = match workdir::changed_files(&repo, base_for_diff.as_ref(), &head) {
                    Ok(c) => c,
                    // `before` may be gone after a force-push: fall back to the whole PR.
                    Err(_) => workdir::changed_files(&repo, Some(&base_sha), &head)?,
                };
                Ok((RepoConfig::load_limited(&src, &workflows, &limits), changed))
            })
            .await
            .map_err(|e| JobError::Permanent(format!("working copy task: {e}")))??
        };
        let config = match config {
            Ok(c) => c,
            Err(e) => {
                self.report_invalid_config(ev, &e).await?;
                return Ok(Outcome::Failed(format!("invalid planguard.yaml: {e}")));
            }
        };
        // The head only proposes: what grants access comes from the trusted branch.
        let resolved = self.effective_config(&pr, &config).await?;
        if !resolved.ignored.is_empty()
            && changed.iter().any(|c| {
                c == crate::serve::repo_config::FILE_NAME
                    || c == crate::serve::repo_config::ALT_FILE_NAME
            })
        {
            let reply = Reply::SettingsNotUsedYet {
                notes: resolved.ignored.iter().map(ToString::to_string).collect(),
            };
            self.reply(&ev.repo, ev.number, &reply).await?;
        }
        let config = resolved.config;
        let affected: Vec<(StackName, String, String)> = config
            .affected(&changed)
            .into_iter()
            .map(|s| (s.name.clone(), s.dir.clone(), s.workspace.clone()))
            .collect();
        info!(
            changed = changed.len(),
            stacks = affected.len(),
            "planning affected stacks"
        );
        if affected.is_empty() {
            return Ok(Outcome::Done);
        }
        self.queue_plans(&ev.repo, ev.number, &ev.head, &affected, "autoplan")
            .await?;
        Ok(Outcome::Done)
    }

    /// `planguard.yaml` at the head is invalid: the PR comment says what is wrong instead of
    /// showing stacks, and the plan check fails.
    async fn report_invalid_config(
        &self,
        ev: &PullRequestEvent,
        e: &RepoConfigError,
    ) -> Result<(), JobError> {
        let body = Reply::InvalidConfig {
            head: ev.head.clone(),
            error: e.to_string(),
        }
        .render();
        {
            let _hold = self
                .hold(format!("comment {}#{}", ev.repo, ev.number.0))
                .await?;
            self.write_comment(&ev.repo, ev.number, &[body]).await?;
        }
        let check = failed_check(
            "planguard/plan".into(),
            &ev.head,
            "planguard.yaml is invalid",
            e.to_string(),
        );
        self.set_check(&ev.repo, check).await?;
        Ok(())
    }

    /// The limits on a repository's `planguard.yaml` this server applies.
    pub(super) fn config_limits(&self) -> crate::serve::repo_config::ConfigLimits {
        crate::serve::repo_config::ConfigLimits {
            max_bytes: self.config.limits.max_config_bytes,
            max_stacks: self.config.limits.max_stacks,
        }
    }

    /// Queues plans of stacks (name, dir, workspace) at `sha`: shows them queued on the PR
    /// first, then queues the jobs, so a fast worker's update is never overwritten. At most
    /// `limits.max_plans_per_event` are queued, the first in the order given; the PR is told
    /// which were left out and why.
    pub(super) async fn queue_plans(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        sha: &CommitSha,
        stacks: &[(StackName, String, String)],
        actor: &str,
    ) -> Result<(), JobError> {
        let max = self.config.limits.max_plans_per_event;
        let stacks = if stacks.len() > max {
            let (queued, left) = stacks.split_at(max);
            let reply = Reply::TooManyPlans {
                asked: stacks.len(),
                max,
                left: left.iter().map(|(name, _, _)| name.clone()).collect(),
            };
            self.reply(repo, pr, &reply).await?;
            queued
        } else {
            stacks
        };
        for (stack, dir, workspace) in stacks {
            self.set_stack(
                repo,
                pr,
                stack,
                sha,
                &StoredStack {
                    dir: dir.clone(),
                    workspace: workspace.clone(),
                    state: StackState::Queued,
                },
            )
            .await?;
        }
        self.refresh_comment(repo, pr).await?;
        for (stack, _, _) in stacks {
            self.plan_check(repo, stack, sha, &StackState::Queued)
                .await?;
        }
        for (stack, _, workspace) in stacks {
            let key = LockKey {
                repo: repo.clone(),
                stack: stack.clone(),
                workspace: workspace.clone(),
            };
            let id = self
                .enqueue(NewJob {
                    kind: JobKind::Plan,
                    repo: repo.clone(),
                    pr,
                    stack: Some(stack.clone()),
                    lock_key: Some(key.as_text()),
                    payload: serde_json::to_value(PlanJob {
                        sha: sha.clone(),
                        workspace: workspace.clone(),
                        actor: actor.to_owned(),
                    })
                    .map_err(|e| JobError::Permanent(e.to_string()))?,
                })
                .await?;
            self.store.supersede(repo, pr, stack, id).await?;
        }
        Ok(())
    }

    async fn pr_closed(&self, ev: &PullRequestEvent, merged: bool) -> Result<Outcome, JobError> {
        self.remember_pr(ev, false).await?;
        self.cancel_running(&ev.repo, ev.number, None);
        for job in self.store.active_jobs(&ev.repo, ev.number, None).await? {
            if job.kind != JobKind::Event {
                self.store
                    .cancel(job.id, "the pull request was closed")
                    .await?;
            }
        }
        let released = self
            .release_locks(
                &ev.repo,
                ev.number,
                if merged { "merged" } else { "closed" },
            )
            .await?;
        // Working copies and plan files of a closed PR are not needed again.
        for dir in [
            self.work_dir(&ev.repo, ev.number),
            self.plans_dir(&ev.repo, ev.number),
        ] {
            if let Err(e) = std::fs::remove_dir_all(&dir) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(dir = %dir.display(), error = %e, "cannot remove");
                }
            }
        }
        info!(merged, released = released, "pull request closed");
        Ok(Outcome::Done)
    }

    /// Releases every lock of a PR, records it, and wakes the plans waiting for them.
    pub(super) async fn release_locks(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        why: &str,
    ) -> Result<usize, JobError> {
        let released = self.store.release_pr(repo, pr).await?;
        for lock in &released {
            self.store
                .audit(&AuditEntry {
                    id: 0,
                    at: now(),
                    actor: "planguard".into(),
                    action: "unlock".into(),
                    repo: repo.to_string(),
                    pr: pr.0,
                    stack: Some(lock.key.stack.to_string()),
                    sha: Some(lock.sha.to_string()),
                    plan_hash: None,
                    outcome: format!("released: pull request {why}"),
                })
                .await?;
            self.store.wake(&lock.key.as_text()).await?;
        }
        if !released.is_empty() {
            self.wake.notify_waiters();
        }
        Ok(released.len())
    }
}
