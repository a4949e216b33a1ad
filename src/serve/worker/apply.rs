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
use super::report::{tail, StackState, StoredStack};
use super::{JobError, Outcome, Services};
use crate::serve::codeowners::CodeOwners;
use crate::serve::domain::{Login, StackName};
use crate::serve::gate::{self, BlockingFinding, PrFacts, StackFacts, Unmet};
use crate::serve::replies::{ApplyResult, Reply, StalePlan, INTERRUPTED_APPLY};
use crate::serve::repo_config::{GateSettings, RepoConfig, StackConfig};
use crate::serve::store::{Job, LockKey, PrRecord, StackRecord};
use crate::serve::vcs::{Check, CheckStatus, Conclusion, PullRequest, Review};
use crate::serve::workflow::StepKind;

/// The stored rows of a PR's stacks, by name.
type Rows = BTreeMap<StackName, (StackRecord, StoredStack)>;

/// One apply job, as its steps need it.
struct Applying<'a> {
    job: &'a Job,
    cancel: &'a CancellationToken,
    pr: &'a PrRecord,
    /// Who asked (the audit log's actor).
    actor: &'a str,
}

/// What the gate judges an apply against, gathered once per apply job.
struct Scene {
    /// The effective configuration at the PR's head.
    config: RepoConfig,
    /// The trusted branch's configuration (policy owners).
    base: RepoConfig,
    codeowners: CodeOwners,
    /// Why nothing may apply because of the branch the PR merges into, if so.
    untrusted_base: Option<String>,
    /// The files the PR changes.
    changed: Vec<String>,
    rows: Rows,
}

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
        let Some(live) = self.apply_may_start(&mut pr, &req, &actor).await? else {
            return Ok(Outcome::Done);
        };
        let Some(scene) = self.apply_scene(&pr).await? else {
            return Ok(Outcome::Done);
        };
        let Some(targets) = self.apply_targets(&pr, &scene, &req.stacks).await? else {
            return Ok(Outcome::Done);
        };
        let refusals = self.judge_gate(&pr, &live, &scene, &targets).await?;
        if !refusals.is_empty() {
            self.refuse_apply(&pr, actor, targets, refusals).await?;
            return Ok(Outcome::Done);
        }
        let failed = self.fail_still_applying(&pr, &scene.rows).await?;
        let applying = Applying {
            job,
            cancel,
            pr: &pr,
            actor: &req.actor,
        };
        let results = self
            .apply_in_order(&applying, &scene, &targets, failed)
            .await?;
        let reply = Reply::ApplyResults {
            actor,
            results,
            unsandboxed: self.unsandboxed(),
        };
        self.reply(&pr.repo, pr.pr, &reply).await?;
        Ok(Outcome::Done)
    }

    /// Whether the apply may start at all: the comment that asked still says so (and is newer
    /// than the newest plan), the PR is open, and the actor may apply. Otherwise says why on
    /// the PR and returns `None`. Moves `pr.head` to GitHub's live view, which the gate judges.
    async fn apply_may_start(
        &self,
        pr: &mut PrRecord,
        req: &ApplyJob,
        actor: &Login,
    ) -> Result<Option<PullRequest>, JobError> {
        if let Some(said) = &req.comment {
            if let Some(refusal) = self.comment_refusal(&pr.repo, pr.pr, said, true).await? {
                self.refuse_comment(&pr.repo, pr.pr, said, "apply", refusal)
                    .await?;
                return Ok(None);
            }
        }
        let live = self.vcs.pull_request(&pr.repo, pr.pr).await?;
        if !live.open {
            self.reply(&pr.repo, pr.pr, &Reply::ApplyOnClosedPr).await?;
            return Ok(None);
        }
        pr.head = live.head.clone();
        if self.refused_without_write(pr, actor, "apply", None).await? {
            return Ok(None);
        }
        Ok(Some(live))
    }

    /// Gathers the configuration (the head's, and the trusted branch's for what gates the
    /// apply), CODEOWNERS, the changed files and the stored stacks. `None` when the head's
    /// configuration cannot be read, which the PR is told.
    async fn apply_scene(&self, pr: &PrRecord) -> Result<Option<Scene>, JobError> {
        let config = match self.config_at_head(pr).await {
            Ok((c, _source)) => c,
            Err(JobError::Permanent(error)) => {
                self.reply(&pr.repo, pr.pr, &Reply::ApplyConfigError { error })
                    .await?;
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        // What gates the apply is read from the trusted branch, never from the PR.
        let base = self.config_at_base(pr).await?;
        let codeowners = CodeOwners::parse(
            &self
                .files_at_trusted(pr, &[".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"])
                .await?
                .into_iter()
                .flatten()
                .next()
                .unwrap_or_default(),
        );
        let untrusted_base = self.untrusted_base(pr);
        let changed = self.changed_in_pr(pr).await?;
        let rows = self
            .stored_stacks(&pr.repo, pr.pr)
            .await?
            .into_iter()
            .map(|(r, s)| (r.stack.clone(), (r, s)))
            .collect();
        Ok(Some(Scene {
            config,
            base,
            codeowners,
            untrusted_base,
            changed,
            rows,
        }))
    }

    /// Why this PR may not apply because of the branch it merges into, if so.
    fn untrusted_base(&self, pr: &PrRecord) -> Option<String> {
        match self.trusted_branch(pr) {
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
        }
    }

    /// The stacks to apply: those asked for, or every planned one. `None` when there are
    /// none or an unknown one is named, which the PR is told.
    async fn apply_targets(
        &self,
        pr: &PrRecord,
        scene: &Scene,
        asked: &[StackName],
    ) -> Result<Option<Vec<StackName>>, JobError> {
        let in_state = |planned: bool| -> Vec<StackName> {
            scene
                .rows
                .iter()
                .filter(|(_, (_, s))| match s.state {
                    StackState::Planned { .. } => planned,
                    StackState::ApplyFailed { .. } => !planned,
                    _ => false,
                })
                .map(|(n, _)| n.clone())
                .collect()
        };
        let planned = in_state(true);
        if asked.is_empty() && planned.is_empty() {
            let failed = in_state(false);
            self.reply(&pr.repo, pr.pr, &Reply::NothingToApply { failed })
                .await?;
            return Ok(None);
        }
        match self.pick_stacks(&scene.config, &planned, asked) {
            Ok(t) => Ok(Some(t)),
            Err(reply) => {
                self.reply(&pr.repo, pr.pr, &reply).await?;
                Ok(None)
            }
        }
    }

    /// Judges every target stack by the gate, from facts gathered once: what each misses.
    async fn judge_gate(
        &self,
        pr: &PrRecord,
        live: &PullRequest,
        scene: &Scene,
        targets: &[StackName],
    ) -> Result<Vec<(StackName, Unmet)>, JobError> {
        let reviews = self.vcs.reviews(&pr.repo, pr.pr).await?;
        let mut latest: BTreeMap<Login, Review> = BTreeMap::new();
        for r in reviews {
            if r.state != "COMMENTED" && r.state != "PENDING" {
                latest.insert(r.user.clone(), r);
            }
        }
        let checks = self.vcs.check_runs(&pr.repo, &pr.head).await?;
        let mergeable = gate::mergeable(live.mergeable, &live.mergeable_state, &checks);
        let mut refusals = Vec::new();
        for name in targets {
            let stack = scene.config.stack(name).expect("checked above");
            let settings = scene.config.gate(name);
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
            let missing_code_owners = if settings.approvals.codeowners {
                self.missing_code_owners(pr, live, scene, stack, &approvals)
                    .await?
            } else {
                Vec::new()
            };
            let facts = PrFacts {
                author: live.author.clone(),
                head: pr.head.clone(),
                approvals,
                mergeable: mergeable.clone(),
            };
            let stored = scene.rows.get(name).map(|(_, s)| s);
            let s = self
                .stack_facts(pr, stack, &settings, stored, &scene.base, &scene.codeowners)
                .await?;
            let s = StackFacts {
                missing_code_owners,
                refused: scene
                    .untrusted_base
                    .clone()
                    .or_else(|| stack.refused.clone()),
                ..s
            };
            for u in gate::unmet(&facts, &s) {
                refusals.push((name.clone(), u));
            }
        }
        Ok(refusals)
    }

    /// The CODEOWNERS groups of the stack's changes that no owner approved at the head
    /// (the PR's author does not count).
    async fn missing_code_owners(
        &self,
        pr: &PrRecord,
        live: &PullRequest,
        scene: &Scene,
        stack: &StackConfig,
        approvals: &[gate::Approval],
    ) -> Result<Vec<Vec<String>>, JobError> {
        let on_head: Vec<&Login> = approvals
            .iter()
            .filter(|a| a.reviewer != live.author && a.commit.as_ref() == Some(&pr.head))
            .map(|a| &a.reviewer)
            .collect();
        let mut missing = Vec::new();
        for group in scene
            .codeowners
            .groups(&stack.dir, scene.changed.iter().map(String::as_str))
        {
            if !self.any_owner(&group, &on_head).await? {
                missing.push(group);
            }
        }
        Ok(missing)
    }

    /// Refuses the whole apply: audits each stack's unmet requirements and lists them all.
    async fn refuse_apply(
        &self,
        pr: &PrRecord,
        actor: Login,
        targets: Vec<StackName>,
        refusals: Vec<(StackName, Unmet)>,
    ) -> Result<(), JobError> {
        for name in &targets {
            let why: Vec<&str> = refusals
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, u)| u.requirement)
                .collect();
            if !why.is_empty() {
                self.audit_apply(
                    pr,
                    &actor.0,
                    Some(name),
                    None,
                    &format!("refused: {}", why.join(", ")),
                )
                .await?;
            }
        }
        let reply = Reply::ApplyRefused {
            actor,
            targets,
            head: pr.head.clone(),
            unmet: refusals.into_iter().map(|(_, u)| u).collect(),
        };
        self.reply(&pr.repo, pr.pr, &reply).await
    }

    /// A stack still `applying` was interrupted by a restart: its result is unknown, so it
    /// counts as failed and its dependents wait. Returns those stacks.
    async fn fail_still_applying(
        &self,
        pr: &PrRecord,
        rows: &Rows,
    ) -> Result<BTreeSet<StackName>, JobError> {
        let mut failed = BTreeSet::new();
        for (name, (rec, stored)) in rows {
            if !matches!(stored.state, StackState::Applying) {
                continue;
            }
            failed.insert(name.clone());
            self.audit_apply(
                pr,
                "planguard",
                Some(name),
                None,
                "failed: interrupted by a restart",
            )
            .await?;
            let state = StackState::ApplyFailed {
                output: INTERRUPTED_APPLY.to_owned(),
            };
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
        }
        Ok(failed)
    }

    /// Applies the targets in dependency order; a failure skips what depends on it. `failed`
    /// starts with the stacks already known to have failed.
    async fn apply_in_order(
        &self,
        at: &Applying<'_>,
        scene: &Scene,
        targets: &[StackName],
        mut failed: BTreeSet<StackName>,
    ) -> Result<Vec<ApplyResult>, JobError> {
        let mut results = Vec::new();
        for (n, name) in scene.config.apply_order(targets).iter().enumerate() {
            let stack = scene.config.stack(name).expect("checked above");
            let result = match stack.depends_on.iter().find(|d| failed.contains(*d)) {
                Some(dep) => self.skip_stack(at, name, dep).await?,
                None => {
                    let row = scene.rows.get(name).expect("planned");
                    self.apply_one(at, n, stack, row).await?
                }
            };
            if !matches!(result, ApplyResult::Applied(_)) {
                failed.insert(name.clone());
            }
            results.push(result);
        }
        Ok(results)
    }

    /// Skips `name` because `dep`, which it depends on, did not apply.
    async fn skip_stack(
        &self,
        at: &Applying<'_>,
        name: &StackName,
        dep: &StackName,
    ) -> Result<ApplyResult, JobError> {
        let (pr, actor) = (at.pr, at.actor);
        self.audit_apply(
            pr,
            actor,
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
        Ok(ApplyResult::Skipped {
            stack: name.clone(),
            dependency: dep.clone(),
        })
    }

    /// Applies one stack's saved plan (the `n`th of the job), exactly the reviewed one, and
    /// records the result.
    async fn apply_one(
        &self,
        at: &Applying<'_>,
        n: usize,
        stack: &StackConfig,
        (rec, stored): &(StackRecord, StoredStack),
    ) -> Result<ApplyResult, JobError> {
        let (pr, actor, name) = (at.pr, at.actor, &stack.name);
        let plan = self
            .store
            .latest_plan(&pr.repo, pr.pr, name)
            .await?
            .ok_or_else(|| JobError::Permanent(format!("no saved plan of {name}")))?;
        if let Some(why) = self.stale_plan(pr, name, &plan).await? {
            self.audit_apply(
                pr,
                actor,
                Some(name),
                Some(&plan.plan_hash),
                &format!("refused: {}", why.text(name)),
            )
            .await?;
            return Ok(ApplyResult::NotApplied {
                stack: name.clone(),
                why,
            });
        }
        let row = |state| StoredStack {
            state,
            ..stored.clone()
        };
        self.set_stack(&pr.repo, pr.pr, name, &rec.sha, &row(StackState::Applying))
            .await?;
        self.refresh_comment(&pr.repo, pr.pr).await?;
        self.set_check(
            &pr.repo,
            apply_check(name, &pr.head, CheckStatus::InProgress, "Applying".into()),
        )
        .await?;
        let scratch = super::plan::Scratch::create(&self.config.data_dir, at.job.id, n)?;
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
            match self.restore_working_copy(pr, &run, at.cancel).await? {
                Some(init_failed) => (false, init_failed),
                None => self.apply_stack(&run, at.cancel).await,
            }
        };
        let (state, result) = if ok {
            self.store
                .mark_applied(&pr.repo, pr.pr, name, &plan.sha)
                .await?;
            let state = StackState::Applied {
                output: output.clone(),
            };
            (state, ApplyResult::Applied(name.clone()))
        } else {
            let state = StackState::ApplyFailed {
                output: output.clone(),
            };
            (state, ApplyResult::Failed(name.clone()))
        };
        self.audit_apply(
            pr,
            actor,
            Some(name),
            Some(&plan.plan_hash),
            if ok { "applied" } else { "failed" },
        )
        .await?;
        self.set_stack(&pr.repo, pr.pr, name, &rec.sha, &row(state))
            .await?;
        self.refresh_comment(&pr.repo, pr.pr).await?;
        self.set_check(&pr.repo, applied_check(name, &pr.head, ok, &output))
            .await?;
        Ok(result)
    }

    /// Why a saved plan is not the reviewed one any more, if so: the file must still hash to
    /// what was planned and approved, and no newer plan of the stack may be on its way.
    async fn stale_plan(
        &self,
        pr: &PrRecord,
        name: &StackName,
        plan: &crate::serve::store::PlanRecord,
    ) -> Result<Option<StalePlan>, JobError> {
        let bytes = self.saved_plan_file(plan).await?;
        let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        let planning = self
            .store
            .active_jobs(&pr.repo, pr.pr, Some(name))
            .await?
            .iter()
            .any(|j| j.kind == crate::serve::store::JobKind::Plan);
        Ok(if planning {
            Some(StalePlan::NewerPlanComing)
        } else if hash != plan.plan_hash {
            Some(StalePlan::FileChanged)
        } else {
            None
        })
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

/// The apply check of a stack once its apply ended, with the end of the output.
fn applied_check(
    stack: &StackName,
    sha: &crate::serve::domain::CommitSha,
    ok: bool,
    output: &str,
) -> Check {
    let (status, title) = if ok {
        (CheckStatus::Completed(Conclusion::Success), "Applied")
    } else {
        (CheckStatus::Completed(Conclusion::Failure), "Apply failed")
    };
    let mut check = apply_check(stack, sha, status, title.to_owned());
    check.text = Some(format!(
        "```\n{}\n```",
        tail(output, 200).replace("```", "'''")
    ));
    check
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
