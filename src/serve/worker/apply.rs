//! Apply jobs: the gate, then `apply` of the saved plans in `depends_on` order.
//!
//! The gate ([`crate::serve::gate`]) is checked for every stack asked for, against GitHub's live view
//! of the PR (head, reviews, mergeability) and the store (saved plan, lock, approvals). If
//! anything is missing, nothing is applied and one refusal lists every unmet requirement.
//! Otherwise each stack applies its own saved plan file, never a new plan; a stack that fails
//! stops the stacks that depend on it, which are reported as skipped. An applied plan is
//! marked so it cannot be applied twice.

use std::collections::{BTreeMap, BTreeSet};

use tokio_util::sync::CancellationToken;

use super::command::ApplyJob;
use super::plan::{Phase, StackRun};
use super::report::{code_list, tail, StackState, StoredStack};
use super::{JobError, Outcome, Services};
use crate::serve::codeowners::CodeOwners;
use crate::serve::domain::{Login, StackName};
use crate::serve::gate::{self, BlockingFinding, PrFacts, StackFacts};
use crate::serve::repo_config::{GateSettings, RepoConfig, StackConfig};
use crate::serve::store::{Job, LockKey, PrRecord};
use crate::serve::vcs::{Check, CheckStatus, Conclusion};
use crate::serve::workflow::StepKind;

impl Services {
    pub(super) async fn handle_apply(
        &self,
        job: &Job,
        cancel: &CancellationToken,
    ) -> Result<Outcome, JobError> {
        let req: ApplyJob = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("unreadable apply job: {e}")))?;
        let actor = Login(req.actor.clone());
        let Some(mut pr) = self.store.pr(&job.repo, job.pr).await? else {
            return Ok(Outcome::Failed("unknown pull request".into()));
        };
        // The comment that asked must still say so, and be newer than the newest plan.
        if let Some(said) = &req.comment {
            if let Some(refusal) = self.comment_refusal(&pr.repo, pr.pr, said, true).await? {
                self.refuse_comment(&pr.repo, pr.pr, said, "apply", refusal)
                    .await?;
                return Ok(Outcome::Done);
            }
        }
        let live = self.vcs.pull_request(&pr.repo, pr.pr).await?;
        if !live.open {
            self.reply(
                &pr.repo,
                pr.pr,
                "This pull request is closed; nothing is applied.",
            )
            .await?;
            return Ok(Outcome::Done);
        }
        // The gate judges the PR as GitHub sees it now.
        pr.head = live.head.clone();
        if self
            .refused_without_write(&pr, &actor, "apply", None)
            .await?
        {
            return Ok(Outcome::Done);
        }
        let (config, _source) = match self.config_at_head(&pr).await {
            Ok(c) => c,
            Err(JobError::Permanent(e)) => {
                self.reply(
                    &pr.repo,
                    pr.pr,
                    &format!("### :boom: planguard: apply refused\n\n{e}"),
                )
                .await?;
                return Ok(Outcome::Done);
            }
            Err(e) => return Err(e),
        };
        // What gates the apply is read from the trusted branch, never from the PR.
        let base = self.config_at_base(&pr).await?;
        let codeowners = CodeOwners::parse(
            &self
                .files_at_trusted(
                    &pr,
                    &[".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"],
                )
                .await?
                .into_iter()
                .flatten()
                .next()
                .unwrap_or_default(),
        );
        let untrusted_base = match self.trusted_branch(&pr) {
            Some((_, true)) => None,
            Some((default, false)) => Some(format!(
                "this pull request merges into `{}`, which is neither the default branch `{default}` \
                 nor a protected branch (server config `protected_branches`); planguard applies only \
                 changes into trusted branches",
                pr.base_ref
            )),
            None => Some(
                "planguard does not know this repository's default branch yet; push a commit so \
                 it sees the pull request again"
                    .to_owned(),
            ),
        };
        let changed = self.changed_in_pr(&pr).await?;
        let rows: BTreeMap<StackName, (crate::serve::store::StackRecord, StoredStack)> = self
            .stored_stacks(&pr.repo, pr.pr)
            .await?
            .into_iter()
            .map(|(r, s)| (r.stack.clone(), (r, s)))
            .collect();
        let planned: Vec<StackName> = rows
            .iter()
            .filter(|(_, (_, s))| matches!(s.state, StackState::Planned { .. }))
            .map(|(n, _)| n.clone())
            .collect();
        if req.stacks.is_empty() && planned.is_empty() {
            let failed: Vec<&StackName> = rows
                .iter()
                .filter(|(_, (_, s))| matches!(s.state, StackState::ApplyFailed { .. }))
                .map(|(n, _)| n)
                .collect();
            let body = if failed.is_empty() {
                "There is no planned stack to apply. Comment `planguard plan` first.".to_owned()
            } else {
                format!(
                    "There is no planned stack to apply: the apply of {} failed or was \
                     interrupted (the PR comment says why), so it may be partly applied. \
                     Comment `planguard plan` to see where it stands, then apply the new plan.",
                    code_list(&failed)
                )
            };
            self.reply(&pr.repo, pr.pr, &body).await?;
            return Ok(Outcome::Done);
        }
        let targets = match self.pick_stacks(&config, &planned, &req.stacks) {
            Ok(t) => t,
            Err(msg) => {
                self.reply(&pr.repo, pr.pr, &msg).await?;
                return Ok(Outcome::Done);
            }
        };

        // Gather the facts once, then judge every stack.
        let reviews = self.vcs.reviews(&pr.repo, pr.pr).await?;
        let mut latest: BTreeMap<Login, crate::serve::vcs::Review> = BTreeMap::new();
        for r in reviews {
            if r.state != "COMMENTED" && r.state != "PENDING" {
                latest.insert(r.user.clone(), r);
            }
        }
        let checks = self.vcs.check_runs(&pr.repo, &pr.head).await?;
        let mergeable = gate::mergeable(live.mergeable, &live.mergeable_state, &checks);
        let mut refusals = Vec::new();
        for name in &targets {
            let stack = config.stack(name).expect("checked above");
            let settings = config.gate(name);
            let mut approvals = Vec::new();
            for (user, r) in latest.iter().filter(|(_, r)| r.state == "APPROVED") {
                approvals.push(gate::Approval {
                    reviewer: user.clone(),
                    commit: r.commit.clone(),
                    eligible: self
                        .eligible_approver(&pr.repo, &settings.approvals, user)
                        .await?,
                });
            }
            let mut missing_code_owners = Vec::new();
            if settings.approvals.codeowners {
                let on_head: Vec<&Login> = approvals
                    .iter()
                    .filter(|a| a.reviewer != live.author && a.commit.as_ref() == Some(&pr.head))
                    .map(|a| &a.reviewer)
                    .collect();
                for group in codeowners.groups(&stack.dir, changed.iter().map(String::as_str)) {
                    if !self.any_owner(&group, &on_head).await? {
                        missing_code_owners.push(group);
                    }
                }
            }
            let facts = PrFacts {
                author: live.author.clone(),
                head: pr.head.clone(),
                approvals,
                mergeable: mergeable.clone(),
            };
            let s = self
                .stack_facts(
                    &pr,
                    stack,
                    &settings,
                    rows.get(name).map(|(_, s)| s),
                    &base,
                    &codeowners,
                )
                .await?;
            let s = StackFacts {
                missing_code_owners,
                refused: untrusted_base.clone().or_else(|| stack.refused.clone()),
                ..s
            };
            for u in gate::unmet(&facts, &s) {
                refusals.push((name.clone(), u));
            }
        }
        if !refusals.is_empty() {
            let mut body = format!(
                "### :no_entry: planguard: apply refused\n\n{actor} asked to apply {} at {}. Not yet:\n\n",
                code_list(&targets),
                pr.head.short()
            );
            for (_, u) in &refusals {
                body.push_str(&format!("- **{}**: {}\n", u.requirement, u.message));
            }
            body.push_str("\nNothing was applied.\n");
            for name in &targets {
                let why: Vec<&str> = refusals
                    .iter()
                    .filter(|(n, _)| n == name)
                    .map(|(_, u)| u.requirement)
                    .collect();
                if !why.is_empty() {
                    self.audit_apply(
                        &pr,
                        &req.actor,
                        Some(name),
                        None,
                        &format!("refused: {}", why.join(", ")),
                    )
                    .await?;
                }
            }
            self.reply(&pr.repo, pr.pr, &body).await?;
            return Ok(Outcome::Done);
        }

        // Apply in dependency order; a failure skips what depends on it. A stack still
        // `applying` was interrupted by a restart: its result is unknown, so it counts as
        // failed and its dependents wait.
        let order = config.apply_order(&targets);
        let mut failed: BTreeSet<StackName> = BTreeSet::new();
        for (name, (rec, stored)) in &rows {
            if matches!(stored.state, StackState::Applying) {
                failed.insert(name.clone());
                let output = "The apply was interrupted by a restart; the stack may be partly applied. Comment `planguard plan` to see where it stands.".to_owned();
                self.audit_apply(
                    &pr,
                    "planguard",
                    Some(name),
                    None,
                    "failed: interrupted by a restart",
                )
                .await?;
                self.set_stack(
                    &pr.repo,
                    pr.pr,
                    name,
                    &rec.sha,
                    &StoredStack {
                        state: StackState::ApplyFailed { output },
                        ..stored.clone()
                    },
                )
                .await?;
            }
        }
        let mut lines = Vec::new();
        for (n, name) in order.iter().enumerate() {
            let stack = config.stack(name).expect("checked above");
            let (rec, stored) = rows.get(name).expect("planned");
            if let Some(dep) = stack.depends_on.iter().find(|d| failed.contains(*d)) {
                failed.insert(name.clone());
                lines.push(format!(
                    "- :fast_forward: `{name}` skipped: `{dep}` did not apply"
                ));
                self.audit_apply(
                    &pr,
                    &req.actor,
                    Some(name),
                    None,
                    &format!("skipped: {dep} did not apply"),
                )
                .await?;
                self.set_check(
                    &pr.repo,
                    apply_check(
                        name,
                        &pr.head,
                        CheckStatus::Completed(Conclusion::Skipped),
                        format!("Skipped: `{dep}` did not apply"),
                    ),
                )
                .await?;
                continue;
            }
            let plan = self
                .store
                .latest_plan(&pr.repo, pr.pr, name)
                .await?
                .ok_or_else(|| JobError::Permanent(format!("no saved plan of {name}")))?;
            // Exactly the reviewed plan: the file must still hash to what was planned and
            // approved, and no newer plan of the stack may be on its way.
            let bytes = self.saved_plan_file(&plan).await?;
            let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
            let planning = self
                .store
                .active_jobs(&pr.repo, pr.pr, Some(name))
                .await?
                .iter()
                .any(|j| j.kind == crate::serve::store::JobKind::Plan);
            if hash != plan.plan_hash || planning {
                failed.insert(name.clone());
                let why = if planning {
                    format!("a new plan of `{name}` is queued or running; apply after it")
                } else {
                    format!("the saved plan file of `{name}` changed since it was planned; comment `planguard plan -p {name}`")
                };
                lines.push(format!("- :no_entry: `{name}` not applied: {why}"));
                self.audit_apply(
                    &pr,
                    &req.actor,
                    Some(name),
                    Some(&plan.plan_hash),
                    &format!("refused: {why}"),
                )
                .await?;
                continue;
            }
            self.set_stack(
                &pr.repo,
                pr.pr,
                name,
                &rec.sha,
                &StoredStack {
                    state: StackState::Applying,
                    ..stored.clone()
                },
            )
            .await?;
            self.refresh_comment(&pr.repo, pr.pr).await?;
            self.set_check(
                &pr.repo,
                apply_check(name, &pr.head, CheckStatus::InProgress, "Applying".into()),
            )
            .await?;
            let scratch = super::plan::Scratch::create(&self.config.data_dir, job.id, n)?;
            let run = StackRun {
                repo: &pr.repo,
                pr: pr.pr,
                sha: &plan.sha,
                stack,
                root: self.work_dir(&pr.repo, pr.pr).join(name.path_component()),
                planfile: plan.plan_file.clone().into(),
                scratch: &scratch,
            };
            let (ok, output) = {
                let guard = self.update_lock(format!("workdir {}#{} {name}", pr.repo, pr.pr.0));
                let _busy = guard.lock().await;
                match self.restore_working_copy(&pr, &run, cancel).await? {
                    Some(init_failed) => (false, init_failed),
                    None => self.apply_stack(&run, cancel).await,
                }
            };
            let state = if ok {
                self.store
                    .mark_applied(&pr.repo, pr.pr, name, &plan.sha)
                    .await?;
                lines.push(format!("- :rocket: `{name}` applied"));
                StackState::Applied {
                    output: output.clone(),
                }
            } else {
                failed.insert(name.clone());
                lines.push(format!("- :boom: `{name}` failed to apply"));
                StackState::ApplyFailed {
                    output: output.clone(),
                }
            };
            self.audit_apply(
                &pr,
                &req.actor,
                Some(name),
                Some(&plan.plan_hash),
                if ok { "applied" } else { "failed" },
            )
            .await?;
            self.set_stack(
                &pr.repo,
                pr.pr,
                name,
                &rec.sha,
                &StoredStack {
                    state,
                    ..stored.clone()
                },
            )
            .await?;
            self.refresh_comment(&pr.repo, pr.pr).await?;
            let (status, title) = if ok {
                (
                    CheckStatus::Completed(Conclusion::Success),
                    "Applied".to_owned(),
                )
            } else {
                (
                    CheckStatus::Completed(Conclusion::Failure),
                    "Apply failed".to_owned(),
                )
            };
            let mut check = apply_check(name, &pr.head, status, title);
            check.text = Some(format!(
                "```\n{}\n```",
                tail(&output, 200).replace("```", "'''")
            ));
            self.set_check(&pr.repo, check).await?;
        }
        self.reply(
            &pr.repo,
            pr.pr,
            &format!(
                "### planguard: apply by {actor}\n\n{}\n{}",
                lines.join("\n"),
                self.unsandboxed_note().unwrap_or_default()
            ),
        )
        .await?;
        Ok(Outcome::Done)
    }

    /// Runs the workflow's apply steps on the saved plan. Returns success and the output.
    async fn apply_stack(&self, run: &StackRun<'_>, cancel: &CancellationToken) -> (bool, String) {
        let redact = crate::redact::Redactor::default()
            .with_secrets(self.secrets(run.stack).iter().map(String::as_str));
        let mut all = String::new();
        for step in &run.stack.workflow.apply {
            if step.kind == StepKind::Policy {
                continue;
            }
            let out = self
                .run_step(run, step, Phase::Apply, &run.planfile, cancel)
                .await;
            all.push_str(&out.output);
            if !out.success() {
                let text = format!("{}\n\n{}", out.describe(step.name()), tail(&all, 300));
                return (false, redact.redact(&text).into_owned());
            }
        }
        (true, redact.redact(&tail(&all, 300)).into_owned())
    }

    async fn stack_facts(
        &self,
        pr: &PrRecord,
        stack: &StackConfig,
        settings: &GateSettings,
        stored: Option<&StoredStack>,
        base: &RepoConfig,
        codeowners: &CodeOwners,
    ) -> Result<StackFacts, JobError> {
        let plan = self.store.latest_plan(&pr.repo, pr.pr, &stack.name).await?;
        let state = stored.map(|s| &s.state);
        let planned = matches!(
            state,
            Some(StackState::Planned { .. })
                | Some(StackState::Applied { .. })
                | Some(StackState::ApplyFailed { .. })
        );
        let blocking = match state {
            Some(st @ StackState::Planned { .. }) => {
                let approved = self.approved(&pr.repo, pr.pr, &stack.name, st).await?;
                st.blocking(&approved)
                    .into_iter()
                    .map(|b| BlockingFinding {
                        policy_id: b.policy_id,
                        level: b.level,
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        let key = LockKey {
            repo: pr.repo.clone(),
            stack: stack.name.clone(),
            workspace: stack.workspace.clone(),
        };
        let mut hints = Vec::new();
        if !settings.approvals.teams.is_empty() {
            hints.push(
                settings
                    .approvals
                    .teams
                    .iter()
                    .map(|t| format!("@{t}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        if settings.approvals.codeowners {
            let owners = codeowners.owners_of(&stack.dir);
            hints.push(if owners.is_empty() {
                "a code owner".into()
            } else {
                format!(
                    "code owners ({})",
                    owners
                        .iter()
                        .map(|o| format!("@{o}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
        }
        Ok(StackFacts {
            stack: stack.name.clone(),
            requirements: settings.apply_requirements.clone(),
            approvals_needed: settings.approvals.count,
            approvers_hint: (!hints.is_empty()).then(|| hints.join(" or ")),
            planned_sha: plan.as_ref().filter(|_| planned).map(|p| p.sha.clone()),
            lock_held: self.store.lock(&key).await?.is_some_and(|l| l.pr == pr.pr),
            applied: plan.as_ref().is_some_and(|p| p.applied)
                || matches!(state, Some(StackState::Applied { .. })),
            plan_errored: matches!(state, Some(StackState::Errored { .. })),
            blocking,
            owners_hint: self.owners_list(base),
            missing_code_owners: Vec::new(),
            refused: None,
        })
    }

    async fn audit_apply(
        &self,
        pr: &PrRecord,
        actor: &str,
        stack: Option<&StackName>,
        plan_hash: Option<&str>,
        outcome: &str,
    ) -> Result<(), JobError> {
        self.audit_action(pr, actor, "apply", stack, plan_hash, outcome)
            .await
    }

    /// Whether a reviewer's approval counts: write permission, or membership of one of the
    /// stack's teams when it names any. (Code owners are a separate requirement: each owner
    /// group of the stack needs one of its owners' approvals, see [`Self::any_owner`].)
    async fn eligible_approver(
        &self,
        repo: &crate::serve::domain::RepoName,
        a: &crate::serve::repo_config::Approvals,
        user: &Login,
    ) -> Result<bool, JobError> {
        if a.teams.is_empty() {
            return Ok(
                self.vcs.permission(repo, user).await? >= crate::serve::vcs::Permission::Write
            );
        }
        for team in &a.teams {
            if self.vcs.team_member(team, user).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether one of `approvers` is among `owners` (users, or members of `org/team` owners).
    async fn any_owner(&self, owners: &[String], approvers: &[&Login]) -> Result<bool, JobError> {
        for owner in owners {
            for user in approvers {
                if owner.eq_ignore_ascii_case(&user.0)
                    || (owner.contains('/') && self.vcs.team_member(owner, user).await?)
                {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// The files the PR changes (base..head), as GitHub's "files changed" lists them.
    async fn changed_in_pr(&self, pr: &PrRecord) -> Result<Vec<String>, JobError> {
        let src = self.work_dir(&pr.repo, pr.pr).join("_source");
        let (base, head) = (pr.base.clone(), pr.head.clone());
        tokio::task::spawn_blocking(move || -> Result<Vec<String>, JobError> {
            let repo = git2::Repository::open(&src)
                .map_err(|e| JobError::Permanent(format!("the PR's working copy: {e}")))?;
            Ok(crate::serve::runner::workdir::changed_files(
                &repo,
                Some(&base),
                &head,
            )?)
        })
        .await
        .map_err(|e| JobError::Permanent(format!("working copy task: {e}")))?
    }
}

fn apply_check(
    stack: &StackName,
    sha: &crate::serve::domain::CommitSha,
    status: CheckStatus,
    title: String,
) -> Check {
    Check {
        name: format!("planguard/apply: {stack}"),
        head_sha: sha.clone(),
        status,
        summary: title.clone(),
        title,
        text: None,
        annotations: Vec::new(),
        details_url: None,
    }
}

impl Services {
    /// The bytes of a saved plan file, from this replica's disk; when another replica made
    /// the plan, from the database, written back to where the plan record says it is.
    async fn saved_plan_file(
        &self,
        plan: &crate::serve::store::PlanRecord,
    ) -> Result<Vec<u8>, JobError> {
        let path = std::path::Path::new(&plan.plan_file);
        if let Ok(bytes) = std::fs::read(path) {
            return Ok(bytes);
        }
        let Some(bytes) = self
            .store
            .plan_file(&plan.repo, plan.pr, &plan.stack, &plan.sha)
            .await?
        else {
            return Ok(Vec::new());
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| JobError::Transient(format!("{}: {e}", dir.display())))?;
        }
        std::fs::write(path, &bytes)
            .map_err(|e| JobError::Transient(format!("{}: {e}", path.display())))?;
        Ok(bytes)
    }
}
