//! Comment commands: who may run them and what they do.
//!
//! - `plan [-p STACK]...`: re-plan (all of the PR's stacks, or those named).
//! - `apply [-p STACK]...`: queue an apply job; the gate runs there ([`super::apply`]).
//! - `approve_policies [-p STACK] [--policy ID]...`: a policy owner approves soft-mandatory
//!   findings of the current plans (bound to each plan's hash).
//! - `unlock [-p STACK]`: release this PR's locks.
//! - `cancel [-p STACK]`: kill running work and drop queued work, releasing the stacks.
//! - `help`.
//!
//! Apply, unlock and cancel need write permission on the repository (or membership of an
//! apply team); approvals need a policy owner. Every refusal says who may do it instead, and
//! every action lands in the audit log.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::replay::SaidComment;
use super::report::{StackState, StoredStack};
use super::{JobError, Outcome, Services};
use crate::serve::command::{self, Command, Parsed};
use crate::serve::domain::{CommitSha, Login, PrNumber, RepoName, StackName};
use crate::serve::enforcement::EnforcementLevel;
use crate::serve::replies::{ApprovalRefusal, ApprovedSet, Reply};
use crate::serve::repo_config::RepoConfig;
use crate::serve::runner::workdir;
use crate::serve::store::{
    now, Approval, AuditEntry, JobId, JobKind, JobState, LockKey, NewJob, PrRecord,
};
use crate::serve::vcs::Permission;
use crate::serve::webhook::CommentEvent;

/// The payload of an apply job.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ApplyJob {
    /// The stacks asked for; empty means every planned stack of the PR.
    pub stacks: Vec<StackName>,
    pub actor: String,
    /// The comment that asked, checked again when the job runs (absent in jobs queued by
    /// older versions).
    #[serde(default)]
    pub comment: Option<SaidComment>,
}

impl Services {
    pub(super) async fn handle_comment(
        &self,
        c: &CommentEvent,
        job: JobId,
    ) -> Result<Outcome, JobError> {
        let (repo, number) = (&c.repo, c.number);
        // A comment drives one action at most, and only as it was written ([`super::replay`]).
        let said = SaidComment::from(c);
        let cmd = match command::parse(&c.body) {
            Parsed::NotACommand => return Ok(Outcome::Done),
            Parsed::Invalid(_) if !self.first_delivery(c, "comment", job).await? => {
                return Ok(Outcome::Done)
            }
            Parsed::Command(cmd) if !self.first_delivery(c, cmd.name(), job).await? => {
                return Ok(Outcome::Done)
            }
            Parsed::Invalid(e) => {
                let error = e.to_string();
                self.reply(repo, number, &Reply::InvalidCommand { error })
                    .await?;
                return Ok(Outcome::Done);
            }
            Parsed::Command(cmd) => cmd,
        };
        if let Some(refusal) = self.comment_refusal(repo, number, &said, false).await? {
            self.refuse_comment(repo, number, &said, cmd.name(), refusal)
                .await?;
            return Ok(Outcome::Done);
        }
        let Some(pr) = self.store.pr(repo, number).await? else {
            self.reply(repo, number, &Reply::PrUnknown).await?;
            return Ok(Outcome::Done);
        };
        if !pr.open {
            self.reply(repo, number, &Reply::PrClosed).await?;
            return Ok(Outcome::Done);
        }
        tracing::info!(command = cmd.name(), actor = %c.author, "comment command");
        match cmd {
            Command::Help => self.reply(repo, number, &Reply::Help).await?,
            Command::Plan { stacks } => self.cmd_plan(&pr, &c.author, stacks).await?,
            Command::Apply { stacks } => {
                self.enqueue(NewJob {
                    kind: JobKind::Apply,
                    repo: repo.clone(),
                    pr: number,
                    stack: None,
                    lock_key: Some(format!("apply|{repo}|{}", number.0)),
                    payload: serde_json::to_value(ApplyJob {
                        stacks,
                        actor: c.author.0.clone(),
                        comment: Some(said),
                    })
                    .map_err(|e| JobError::Permanent(e.to_string()))?,
                })
                .await?;
            }
            Command::Unlock { stack } => self.cmd_unlock(&pr, &c.author, stack).await?,
            Command::Cancel { stack } => self.cmd_cancel(&pr, &c.author, stack).await?,
            Command::ApprovePolicies { stack, policies } => {
                self.cmd_approve(&pr, &c.author, stack, policies).await?
            }
        }
        Ok(Outcome::Done)
    }

    /// Whether `user` may apply, unlock or cancel: write permission or an apply team.
    pub(super) async fn may_apply(&self, repo: &RepoName, user: &Login) -> Result<bool, JobError> {
        if self.vcs.permission(repo, user).await? >= Permission::Write {
            return Ok(true);
        }
        for team in &self.config.apply_teams {
            if self.vcs.team_member(team, user).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Refuses `action` (apply, unlock, cancel) to someone without write permission or an
    /// apply team: records it and says so on the PR. Returns whether it was refused.
    pub(super) async fn refused_without_write(
        &self,
        pr: &PrRecord,
        actor: &Login,
        action: &str,
        stack: Option<&StackName>,
    ) -> Result<bool, JobError> {
        if self.may_apply(&pr.repo, actor).await? {
            return Ok(false);
        }
        self.audit_action(
            pr,
            &actor.0,
            action,
            stack,
            None,
            "refused: no write permission",
        )
        .await?;
        let reply = Reply::NoPermission {
            user: actor.clone(),
            action: action.to_owned(),
            apply_teams: self.config.apply_teams.clone(),
        };
        self.reply(&pr.repo, pr.pr, &reply).await?;
        Ok(true)
    }

    pub(super) async fn audit_action(
        &self,
        pr: &PrRecord,
        actor: &str,
        action: &str,
        stack: Option<&StackName>,
        plan_hash: Option<&str>,
        outcome: &str,
    ) -> Result<(), JobError> {
        self.audit_entry(
            &pr.repo,
            pr.pr,
            actor,
            action,
            (stack, Some(&pr.head), plan_hash),
            outcome,
        )
        .await
    }

    /// Writes one audit entry; `at` is (stack, commit, plan hash), each where known.
    pub(super) async fn audit_entry(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        actor: &str,
        action: &str,
        at: (Option<&StackName>, Option<&CommitSha>, Option<&str>),
        outcome: &str,
    ) -> Result<(), JobError> {
        let (stack, sha, plan_hash) = at;
        self.store
            .audit(&AuditEntry {
                id: 0,
                at: now(),
                actor: actor.to_owned(),
                action: action.to_owned(),
                repo: repo.to_string(),
                pr: pr.0,
                stack: stack.map(|s| s.to_string()),
                sha: sha.map(|s| s.to_string()),
                plan_hash: plan_hash.map(str::to_owned),
                outcome: outcome.to_owned(),
            })
            .await?;
        Ok(())
    }

    /// Checks out the PR head into its source working copy and reads the effective
    /// configuration: `planguard.yaml` at the head, merged with the trusted branch's by
    /// [`crate::serve::trust::resolve`] (what grants access comes only from the trusted side).
    pub(super) async fn config_at_head(
        &self,
        pr: &PrRecord,
    ) -> Result<(RepoConfig, PathBuf), JobError> {
        let src = self.work_dir(&pr.repo, pr.pr).join("_source");
        let token = self.vcs.clone_token(&pr.repo).await?;
        let (url, head, specs, workflows, dir) = (
            pr.clone_url.clone(),
            pr.head.clone(),
            workdir::refspecs(pr.pr.0, &pr.head_ref, None),
            self.workflows.clone(),
            src.clone(),
        );
        let limits = self.config_limits();
        let head_config = tokio::task::spawn_blocking(move || -> Result<_, JobError> {
            workdir::checkout(&url, token.as_deref(), &dir, &specs, &head)?;
            Ok(RepoConfig::load_limited(&dir, &workflows, &limits))
        })
        .await
        .map_err(|e| JobError::Permanent(format!("working copy task: {e}")))??;
        match head_config {
            Ok(c) => Ok((self.effective_config(pr, &c).await?.config, src)),
            Err(e) => Err(JobError::Permanent(e.to_string())),
        }
    }

    /// The effective configuration of a PR whose head declares `head`.
    pub(super) async fn effective_config(
        &self,
        pr: &PrRecord,
        head: &RepoConfig,
    ) -> Result<crate::serve::trust::Resolved, JobError> {
        let trusted = self.trusted_config(pr).await?;
        Ok(crate::serve::trust::resolve(
            &crate::serve::trust::Sources {
                repo: &pr.repo,
                trusted: trusted.as_ref(),
                head,
                registry: &self.config.accounts,
                allow_custom_workflows: self.config.allow_custom_workflows,
            },
        ))
    }

    /// The branch whose `planguard.yaml` and CODEOWNERS are trusted for this PR, and whether
    /// the PR's base is that branch or another protected one (only then may it apply). `None`
    /// when the repository's default branch is unknown.
    pub(super) fn trusted_branch(&self, pr: &PrRecord) -> Option<(String, bool)> {
        if pr.default_branch.is_empty() {
            return None;
        }
        let protected = pr.base_ref == pr.default_branch
            || self.config.protected_branches.contains(&pr.base_ref);
        Some(if protected {
            (pr.base_ref.clone(), true)
        } else {
            (pr.default_branch.clone(), false)
        })
    }

    /// Files as they are at the tip of the trusted branch, fetched from the base repository
    /// (never from a fork); `None` where absent.
    pub(super) async fn files_at_trusted(
        &self,
        pr: &PrRecord,
        names: &[&str],
    ) -> Result<Vec<Option<String>>, JobError> {
        let Some((branch, _)) = self.trusted_branch(pr) else {
            return Ok(names.iter().map(|_| None).collect());
        };
        let url = if !pr.base_clone_url.is_empty() {
            pr.base_clone_url.clone()
        } else if !pr.from_fork {
            pr.clone_url.clone()
        } else {
            return Ok(names.iter().map(|_| None).collect());
        };
        let src = self.work_dir(&pr.repo, pr.pr).join("_trusted");
        let token = self.vcs.clone_token(&pr.repo).await?;
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        tokio::task::spawn_blocking(move || -> Result<Vec<Option<String>>, JobError> {
            let local = format!("refs/remotes/trusted/{branch}");
            let spec = format!("+refs/heads/{branch}:{local}");
            let repo = workdir::fetch(&url, token.as_deref(), &src, &[spec])?;
            let tree = repo
                .find_reference(&local)
                .and_then(|r| r.peel_to_commit())
                .and_then(|c| c.tree())
                .map_err(|e| {
                    JobError::Permanent(format!(
                        "the trusted branch `{branch}` cannot be read: {}",
                        e.message()
                    ))
                })?;
            Ok(names
                .iter()
                .map(|name| {
                    let entry = tree.get_path(std::path::Path::new(name)).ok()?;
                    let blob = repo.find_blob(entry.id()).ok()?;
                    Some(String::from_utf8_lossy(blob.content()).into_owned())
                })
                .collect())
        })
        .await
        .map_err(|e| JobError::Permanent(format!("working copy task: {e}")))?
    }

    /// `planguard.yaml` as it is on the trusted branch (`None` when it has none, or an invalid
    /// one: then every stack gets the strict defaults and no repository-declared credentials).
    pub(super) async fn trusted_config(
        &self,
        pr: &PrRecord,
    ) -> Result<Option<RepoConfig>, JobError> {
        let files = self
            .files_at_trusted(
                pr,
                &[
                    crate::serve::repo_config::FILE_NAME,
                    crate::serve::repo_config::ALT_FILE_NAME,
                ],
            )
            .await?;
        Ok(match files.into_iter().flatten().next() {
            Some(text) => match RepoConfig::parse(&text, None, &self.workflows) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "planguard.yaml on the trusted branch is invalid; stacks get the strict defaults");
                    None
                }
            },
            None => None,
        })
    }

    /// The trusted configuration, or the strict defaults: enforcement rules and policy owners
    /// come from here, never from the PR.
    pub(super) async fn config_at_base(&self, pr: &PrRecord) -> Result<RepoConfig, JobError> {
        Ok(self
            .trusted_config(pr)
            .await?
            .unwrap_or_else(RepoConfig::strict))
    }

    /// The stacks a command names, or those the PR has (or all of the config's).
    pub(super) fn pick_stacks(
        &self,
        config: &RepoConfig,
        rows: &[StackName],
        asked: &[StackName],
    ) -> Result<Vec<StackName>, Reply> {
        let unknown: Vec<StackName> = asked
            .iter()
            .filter(|s| config.stack(s).is_none())
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return Err(Reply::UnknownStacks {
                unknown,
                known: config.stacks.iter().map(|s| s.name.clone()).collect(),
            });
        }
        Ok(if !asked.is_empty() {
            asked.to_vec()
        } else if !rows.is_empty() {
            rows.to_vec()
        } else {
            config.stacks.iter().map(|s| s.name.clone()).collect()
        })
    }

    async fn cmd_plan(
        &self,
        pr: &PrRecord,
        actor: &Login,
        asked: Vec<StackName>,
    ) -> Result<(), JobError> {
        if pr.from_fork && !self.config.allow_fork_prs {
            self.reply(&pr.repo, pr.pr, &Reply::ForkPlanRefused).await?;
            return Ok(());
        }
        let (config, _) = match self.config_at_head(pr).await {
            Ok(c) => c,
            Err(JobError::Permanent(e)) => {
                self.reply(&pr.repo, pr.pr, &Reply::PlanConfigError { error: e })
                    .await?;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let rows: Vec<StackName> = self
            .store
            .stacks(&pr.repo, pr.pr)
            .await?
            .into_iter()
            .map(|r| r.stack)
            .collect();
        let stacks = match self.pick_stacks(&config, &rows, &asked) {
            Ok(s) => s,
            Err(reply) => {
                self.reply(&pr.repo, pr.pr, &reply).await?;
                return Ok(());
            }
        };
        let targets: Vec<(StackName, String, String)> = stacks
            .iter()
            .filter_map(|n| config.stack(n))
            .map(|s| (s.name.clone(), s.dir.clone(), s.workspace.clone()))
            .collect();
        self.queue_plans(&pr.repo, pr.pr, &pr.head, &targets, &actor.0)
            .await
    }

    /// Releases this PR's locks (of one stack or all) and wakes what waits on them.
    async fn release(
        &self,
        pr: &PrRecord,
        stack: Option<&StackName>,
    ) -> Result<Vec<StackName>, JobError> {
        let mut released = Vec::new();
        for (rec, stored) in self.stored_stacks(&pr.repo, pr.pr).await? {
            if stack.is_some_and(|s| s != &rec.stack) {
                continue;
            }
            let key = LockKey {
                repo: pr.repo.clone(),
                stack: rec.stack.clone(),
                workspace: stored.workspace.clone(),
            };
            if self.store.lock(&key).await?.is_some_and(|l| l.pr == pr.pr) {
                self.store.unlock(&key).await?;
                self.store.wake(&key.as_text()).await?;
                released.push(rec.stack.clone());
            }
        }
        if !released.is_empty() {
            self.wake.notify_waiters();
        }
        Ok(released)
    }

    async fn cmd_unlock(
        &self,
        pr: &PrRecord,
        actor: &Login,
        stack: Option<StackName>,
    ) -> Result<(), JobError> {
        if self
            .refused_without_write(pr, actor, "unlock", stack.as_ref())
            .await?
        {
            return Ok(());
        }
        let released = self.release(pr, stack.as_ref()).await?;
        for s in &released {
            self.audit_action(pr, &actor.0, "unlock", Some(s), None, "released")
                .await?;
        }
        self.reply(&pr.repo, pr.pr, &Reply::Unlocked { released })
            .await
    }

    async fn cmd_cancel(
        &self,
        pr: &PrRecord,
        actor: &Login,
        stack: Option<StackName>,
    ) -> Result<(), JobError> {
        if self
            .refused_without_write(pr, actor, "cancel", stack.as_ref())
            .await?
        {
            return Ok(());
        }
        let killed = self.cancel_running(&pr.repo, pr.pr, stack.as_ref());
        let mut dropped = 0;
        for job in self
            .store
            .active_jobs(&pr.repo, pr.pr, stack.as_ref())
            .await?
        {
            if job.kind != JobKind::Event && job.state != JobState::Running {
                self.store
                    .cancel(job.id, &format!("cancelled by {actor}"))
                    .await?;
                dropped += 1;
            }
        }
        // Queued or waiting stacks show as cancelled; a running one says so when it stops.
        for (rec, stored) in self.stored_stacks(&pr.repo, pr.pr).await? {
            if stack.as_ref().is_some_and(|s| s != &rec.stack) {
                continue;
            }
            if matches!(
                stored.state,
                StackState::Queued | StackState::WaitingForLock { .. }
            ) {
                self.set_stack(
                    &pr.repo,
                    pr.pr,
                    &rec.stack,
                    &rec.sha,
                    &StoredStack {
                        state: StackState::Skipped {
                            reason: format!("Cancelled by {actor}."),
                        },
                        ..stored
                    },
                )
                .await?;
            }
        }
        let released = self.release(pr, stack.as_ref()).await?;
        self.audit_action(
            pr,
            &actor.0,
            "cancel",
            stack.as_ref(),
            None,
            &format!("{killed} running job(s) killed, {dropped} queued job(s) dropped, {} lock(s) released", released.len()),
        ).await?;
        self.refresh_comment(&pr.repo, pr.pr).await?;
        let reply = Reply::Cancelled {
            killed,
            dropped,
            released,
        };
        self.reply(&pr.repo, pr.pr, &reply).await
    }

    /// Whether `user` is a policy owner (server or repository owners, users or teams).
    async fn is_policy_owner(&self, config: &RepoConfig, user: &Login) -> Result<bool, JobError> {
        let owners = &self.config.policy_owners;
        if owners
            .users
            .iter()
            .chain(&config.policy_owners.users)
            .any(|u| u.eq_ignore_ascii_case(&user.0))
        {
            return Ok(true);
        }
        for team in owners.teams.iter().chain(&config.policy_owners.teams) {
            if self.vcs.team_member(team, user).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Who may approve findings, for messages.
    pub(super) fn owners_list(&self, config: &RepoConfig) -> String {
        let o = &self.config.policy_owners;
        let all: BTreeSet<String> = o
            .users
            .iter()
            .chain(&config.policy_owners.users)
            .chain(&o.teams)
            .chain(&config.policy_owners.teams)
            .map(|u| format!("@{u}"))
            .collect();
        if all.is_empty() {
            "nobody: no policy owners are configured (`[policy_owners]` in the server config, or `policy_owners` in planguard.yaml)".into()
        } else {
            all.into_iter().collect::<Vec<_>>().join(", ")
        }
    }

    async fn cmd_approve(
        &self,
        pr: &PrRecord,
        actor: &Login,
        stack: Option<StackName>,
        only: Vec<String>,
    ) -> Result<(), JobError> {
        if let Some((outcome, why)) = self.approval_refusal(pr, actor).await? {
            self.audit_action(
                pr,
                &actor.0,
                "approve_policies",
                stack.as_ref(),
                None,
                outcome,
            )
            .await?;
            return self
                .reply(&pr.repo, pr.pr, &Reply::ApprovalRefused(why))
                .await;
        }
        let mut approved = Vec::new();
        let mut hard = Vec::new();
        for (rec, stored) in self.stored_stacks(&pr.repo, pr.pr).await? {
            if stack.as_ref().is_some_and(|s| s != &rec.stack) {
                continue;
            }
            if let Some(set) = self
                .approve_stack(pr, actor, &rec.stack, &stored.state, &only, &mut hard)
                .await?
            {
                approved.push(set);
            }
        }
        if !hard.is_empty() {
            let hard: Vec<String> = hard
                .iter()
                .map(|(policy, stack)| format!("`{policy}` in `{stack}`"))
                .collect();
            self.audit_action(
                pr,
                &actor.0,
                "approve_policies",
                stack.as_ref(),
                None,
                &format!("refused: hard-mandatory {}", hard.join(", ")),
            )
            .await?;
        }
        self.refresh_comment(&pr.repo, pr.pr).await?;
        self.policy_check(&pr.repo, pr.pr, &pr.head).await?;
        let reply = Reply::PolicyApprovals {
            actor: actor.clone(),
            approved,
            hard,
            named_policies: !only.is_empty(),
        };
        self.reply(&pr.repo, pr.pr, &reply).await
    }

    /// Why `actor` may not approve findings on this PR (the audit outcome and the refusal),
    /// if so: only policy owners may, and not on their own PR unless the server allows it.
    async fn approval_refusal(
        &self,
        pr: &PrRecord,
        actor: &Login,
    ) -> Result<Option<(&'static str, ApprovalRefusal)>, JobError> {
        let config = self.config_at_base(pr).await?;
        let owners = self.owners_list(&config);
        Ok(if !self.is_policy_owner(&config, actor).await? {
            Some((
                "refused: not a policy owner",
                ApprovalRefusal::NotPolicyOwner {
                    actor: actor.clone(),
                    owners,
                },
            ))
        } else if actor.0.eq_ignore_ascii_case(&pr.author)
            && !self.config.policy_owners.allow_self_approval
        {
            Some((
                "refused: own pull request",
                ApprovalRefusal::OwnPullRequest {
                    actor: actor.clone(),
                    owners,
                },
            ))
        } else {
            None
        })
    }

    /// Approves the outstanding soft-mandatory findings of one planned stack (only those of
    /// the policies in `only`, when it names any), bound to its plan's hash, and audits it.
    /// Hard-mandatory ones cannot be approved: they are added to `hard`.
    async fn approve_stack(
        &self,
        pr: &PrRecord,
        actor: &Login,
        stack: &StackName,
        state: &StackState,
        only: &[String],
        hard: &mut Vec<(String, StackName)>,
    ) -> Result<Option<ApprovedSet>, JobError> {
        let StackState::Planned { plan_hash, .. } = state else {
            return Ok(None);
        };
        let already = self.approved(&pr.repo, pr.pr, stack, state).await?;
        let mut ids = Vec::new();
        for b in state.blocking(&already) {
            if !only.is_empty() && !only.contains(&b.policy_id) {
                continue;
            }
            if b.level == EnforcementLevel::HardMandatory {
                hard.push((b.policy_id.clone(), stack.clone()));
                continue;
            }
            let approval = Approval {
                stack: stack.clone(),
                plan_hash: plan_hash.clone(),
                policy_id: b.policy_id.clone(),
                approver: actor.0.clone(),
                at: now(),
            };
            self.store.approve(&pr.repo, pr.pr, &approval).await?;
            ids.push(b.policy_id.clone());
        }
        if ids.is_empty() {
            return Ok(None);
        }
        self.audit_action(
            pr,
            &actor.0,
            "approve_policies",
            Some(stack),
            Some(plan_hash),
            &format!("override: {}", ids.join(", ")),
        )
        .await?;
        Ok(Some(ApprovedSet {
            policies: ids,
            stack: stack.clone(),
            plan_hash: plan_hash.clone(),
        }))
    }
}
