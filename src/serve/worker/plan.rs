//! Plan jobs: one stack of one PR at one commit, isolated.
//!
//! 1. Take the stack's lock (or park the job behind the PR holding it, and say so).
//! 2. Fetch the commit into the stack's own working copy.
//! 3. Run the workflow's plan steps (`init`, `plan -out`, `show -json`, `run` steps), each a
//!    process with only the stack's credentials in its environment.
//! 4. Evaluate the policies on the `show -json` output with the stack's context as data.
//! 5. Store the plan file, its JSON and the findings under (repo, PR, stack, SHA), then update
//!    the comment and checks.
//!
//! A failing step is not a job failure: it is a result, reported on the PR with the step's
//! output, and the job ends `done`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::report::{tail, StackState, StoredStack};
use super::{JobError, Outcome, PlanJob, Services};
use crate::check::check_one;
use crate::plan::{PlanText, ShowOptions};
use crate::policy::Level;
use crate::redact::Redactor;
use crate::serve::config::ExposeSecret as _;
use crate::serve::domain::{CommitSha, PrNumber, RepoName, StackName};
use crate::serve::enforcement::{self, level_for, EnforcementLevel};
use crate::serve::repo_config::{RepoConfig, RepoConfigError, StackConfig};
use crate::serve::runner::{workdir, Access, StepRun, StepStatus};
use crate::serve::store::{
    now, AuditEntry, Job, JobId, LockKey, LockOutcome, PlanRecord, PrRecord, StackRecord,
};
use crate::serve::vcs::Annotation;
use crate::serve::workflow::{Step, StepContext, StepKind};

/// Which credentials a step gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Plan steps: the account's plan credentials (meant to be read-only).
    Plan,
    /// Apply steps, after the gate: the account's apply credentials.
    Apply,
}

/// Checks that a stack's directory, var files and backend config files resolve (symbolic
/// links followed) inside the working copy at `root`; the error says which does not.
pub(super) fn confined(root: &Path, stack: &StackConfig) -> Result<(), String> {
    let top = root
        .canonicalize()
        .map_err(|e| format!("the working copy cannot be read: {e}"))?;
    let dir = root.join(&stack.dir);
    let inside = |what: &str, path: &Path| -> Result<(), String> {
        match path.canonicalize() {
            Ok(real) if real.starts_with(&top) => Ok(()),
            Ok(_) => Err(format!(
                "{what} leaves the repository (through a symbolic link); planguard reads only \
                 files inside the checkout"
            )),
            // A missing file is tofu's to report; it cannot point anywhere.
            Err(_) if what != "its directory" => Ok(()),
            Err(e) => Err(format!("{what} `{}` cannot be read: {e}", stack.dir)),
        }
    };
    inside("its directory", &dir)?;
    for f in &stack.var_files {
        inside(&format!("var file `{f}`"), &dir.join(f))?;
    }
    for item in stack.backend_config.iter().filter(|i| !i.contains('=')) {
        inside(&format!("backend config file `{item}`"), &dir.join(item))?;
    }
    Ok(())
}

/// Where a stack's run happens and what it may see.
pub(super) struct StackRun<'a> {
    pub repo: &'a RepoName,
    pub pr: PrNumber,
    pub sha: &'a CommitSha,
    pub stack: &'a StackConfig,
    /// The working copy's root.
    pub root: PathBuf,
    pub planfile: PathBuf,
    /// This run's own directories (HOME, TMPDIR, step output).
    pub scratch: &'a Scratch,
}

/// A run's private directories, `<data_dir>/jobs/<job>-<n>/{home,tmp,output}`: nothing is
/// shared with another job or another stack. Removed when dropped.
pub(super) struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    /// Creates them afresh (a restarted job starts clean). `n` tells apart the stacks of one
    /// apply job.
    pub fn create(data_dir: &Path, job: JobId, n: usize) -> Result<Scratch, JobError> {
        let dir = data_dir.join("jobs").join(format!("{job}-{n}"));
        let _ = std::fs::remove_dir_all(&dir);
        let scratch = Scratch { dir };
        for d in [scratch.home(), scratch.tmp(), scratch.output()] {
            std::fs::create_dir_all(&d)
                .map_err(|e| JobError::Transient(format!("cannot create {}: {e}", d.display())))?;
        }
        Ok(scratch)
    }

    pub fn home(&self) -> PathBuf {
        self.dir.join("home")
    }

    pub fn tmp(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    /// Where steps' stdout is streamed (outside the sandbox's reach).
    pub fn output(&self) -> PathBuf {
        self.dir.join("output")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl StackRun<'_> {
    pub fn cwd(&self) -> PathBuf {
        self.root.join(&self.stack.dir)
    }
}

/// One plan job: the stack, the commit, and the stack's working copy.
struct Planning<'a> {
    job: JobId,
    repo: &'a RepoName,
    pr: PrNumber,
    stack: StackName,
    req: &'a PlanJob,
    /// The stack's own working copy.
    root: PathBuf,
    /// The PR's stack rows as the job started.
    rows: Vec<StackRecord>,
}

impl Planning<'_> {
    /// The stack's row in `state`: its directory and workspace as stored (the stack's name
    /// and the job's workspace for a stack not stored yet).
    fn row(&self, state: StackState) -> StoredStack {
        let (dir, workspace) = self
            .rows
            .iter()
            .find(|r| r.stack == self.stack)
            .and_then(|r| serde_json::from_value::<StoredStack>(r.state.clone()).ok())
            .map(|s| (s.dir, s.workspace))
            .unwrap_or_else(|| (self.stack.to_string(), self.req.workspace.clone()));
        StoredStack {
            dir,
            workspace,
            state,
        }
    }
}

impl Services {
    pub(super) async fn handle_plan(
        &self,
        job: &Job,
        cancel: &CancellationToken,
    ) -> Result<Outcome, JobError> {
        let req: PlanJob = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("unreadable plan job: {e}")))?;
        let (repo, pr) = (&job.repo, job.pr);
        let stack = job
            .stack
            .clone()
            .ok_or_else(|| JobError::Permanent("plan job without a stack".into()))?;
        let Some(pr_rec) = self.store.pr(repo, pr).await? else {
            return Ok(Outcome::Failed("the pull request is unknown".into()));
        };
        if !pr_rec.open {
            return Ok(Outcome::Cancelled);
        }
        let at = Planning {
            job: job.id,
            repo,
            pr,
            root: self.work_dir(repo, pr).join(stack.path_component()),
            stack,
            req: &req,
            rows: self.store.stacks(repo, pr).await?,
        };
        if self.wait_for_lock(&at).await? {
            return Ok(Outcome::Waiting);
        }
        self.show_plan_state(&at, StackState::Running).await?;

        // One run at a time in a stack's working copy (an apply of this PR may be using it).
        let guard = self.update_lock(format!("workdir {repo}#{} {}", pr.0, at.stack));
        let _busy = guard.lock().await;
        let config = self.checkout_for_plan(&at, &pr_rec).await?;
        let Some(state) = self.plan_state(&at, &pr_rec, config, cancel).await? else {
            // Cancelled: the stack goes back to how a cancel leaves it.
            let state = StackState::Skipped {
                reason: "The plan was cancelled.".into(),
            };
            self.show_plan_state(&at, state).await?;
            return Ok(Outcome::Cancelled);
        };
        self.audit_plan(&at, &state).await?;
        self.show_plan_state(&at, state).await?;
        self.policy_check(repo, pr, &req.sha).await?;
        Ok(Outcome::Done)
    }

    /// Stores the stack's new state, and shows it in the PR comment and its check.
    async fn show_plan_state(&self, at: &Planning<'_>, state: StackState) -> Result<(), JobError> {
        let sha = &at.req.sha;
        self.set_stack(at.repo, at.pr, &at.stack, sha, &at.row(state.clone()))
            .await?;
        self.refresh_comment(at.repo, at.pr).await?;
        self.plan_check(at.repo, &at.stack, sha, &state).await
    }

    /// Takes the stack's lock. When another PR holds it, shows the stack waiting behind that
    /// PR and returns true.
    async fn wait_for_lock(&self, at: &Planning<'_>) -> Result<bool, JobError> {
        let key = LockKey {
            repo: at.repo.clone(),
            stack: at.stack.clone(),
            workspace: at.req.workspace.clone(),
        };
        let LockOutcome::HeldBy(holder) = self.store.try_lock(&key, at.pr, &at.req.sha).await?
        else {
            return Ok(false);
        };
        let holder_url = self
            .store
            .pr(at.repo, holder.pr)
            .await?
            .map(|r| r.html_url)
            .unwrap_or_else(|| format!("https://github.com/{}/pull/{}", at.repo, holder.pr.0));
        let state = StackState::WaitingForLock {
            holder_pr: holder.pr.0,
            holder_url,
        };
        self.show_plan_state(at, state).await?;
        tracing::info!(
            holder = holder.pr.0,
            "stack is locked by another PR; queued behind it"
        );
        Ok(true)
    }

    /// Checks the commit out into the stack's working copy and reads the effective
    /// configuration there (what grants access comes from the trusted branch, whatever the
    /// head says).
    async fn checkout_for_plan(
        &self,
        at: &Planning<'_>,
        pr_rec: &PrRecord,
    ) -> Result<Result<RepoConfig, RepoConfigError>, JobError> {
        let token = self.vcs.clone_token(at.repo).await?;
        let (url, root, sha, workflows) = (
            pr_rec.clone_url.clone(),
            at.root.clone(),
            at.req.sha.clone(),
            self.workflows.clone(),
        );
        let specs = workdir::refspecs(at.pr.0, &pr_rec.head_ref, None);
        let head = tokio::task::spawn_blocking(move || -> Result<_, JobError> {
            workdir::checkout(&url, token.as_deref(), &root, &specs, &sha)?;
            Ok(RepoConfig::load(&root, &workflows))
        })
        .await
        .map_err(|e| JobError::Permanent(format!("working copy task: {e}")))??;
        Ok(match head {
            Ok(head) => Ok(self.effective_config(pr_rec, &head).await?.config),
            Err(e) => Err(e),
        })
    }

    /// The stack's state after planning it under `config`: planned, errored or skipped.
    /// `None` when the plan was cancelled.
    async fn plan_state(
        &self,
        at: &Planning<'_>,
        pr_rec: &PrRecord,
        config: Result<RepoConfig, RepoConfigError>,
        cancel: &CancellationToken,
    ) -> Result<Option<StackState>, JobError> {
        let config = match config {
            Ok(config) => config,
            Err(e) => {
                return Ok(Some(StackState::Errored {
                    step: "planguard.yaml".into(),
                    output: e.to_string(),
                }))
            }
        };
        let Some(stack) = config.stack(&at.stack) else {
            return Ok(Some(StackState::Skipped {
                reason: format!(
                    "`{}` is no longer a stack at {}",
                    at.stack,
                    at.req.sha.short()
                ),
            }));
        };
        if let Some(why) = stack
            .refused
            .clone()
            .or_else(|| confined(&at.root, stack).err())
        {
            return Ok(Some(StackState::Errored {
                step: "planguard".into(),
                output: format!("planguard does not run this stack: {why}"),
            }));
        }
        let plans = self
            .plans_dir(at.repo, at.pr)
            .join(at.stack.path_component());
        std::fs::create_dir_all(&plans)
            .map_err(|e| JobError::Transient(format!("cannot create {}: {e}", plans.display())))?;
        let scratch = Scratch::create(&self.config.data_dir, at.job, 0)?;
        let run = StackRun {
            repo: at.repo,
            pr: at.pr,
            sha: &at.req.sha,
            stack,
            root: at.root.clone(),
            planfile: plans.join(format!("{}.tfplan", at.req.sha)),
            scratch: &scratch,
        };
        // Enforcement levels and owners come from the base branch.
        let base = self.config_at_base(pr_rec).await?;
        self.plan_stack(&run, &base, cancel).await
    }

    /// Records the plan in the audit log, with its findings counted.
    async fn audit_plan(&self, at: &Planning<'_>, state: &StackState) -> Result<(), JobError> {
        let outcome = match state {
            StackState::Planned { report, .. } => {
                let (e, w) =
                    report
                        .evaluation
                        .findings
                        .iter()
                        .fold((0, 0), |(e, w), f| match f.level {
                            Level::Error => (e + 1, w),
                            Level::Warning => (e, w + 1),
                        });
                format!("planned: {e} error(s), {w} warning(s)")
            }
            StackState::Errored { step, .. } => format!("errored in {step}"),
            StackState::Skipped { reason } => format!("skipped: {reason}"),
            _ => String::new(),
        };
        self.store
            .audit(&AuditEntry {
                id: 0,
                at: now(),
                actor: at.req.actor.clone(),
                action: "plan".into(),
                repo: at.repo.to_string(),
                pr: at.pr.0,
                stack: Some(at.stack.to_string()),
                sha: Some(at.req.sha.to_string()),
                plan_hash: match state {
                    StackState::Planned { plan_hash, .. } => Some(plan_hash.clone()),
                    _ => None,
                },
                outcome,
            })
            .await?;
        Ok(())
    }

    /// The environment of a stack's processes: a minimal base, the stack's credentials for the
    /// phase (plan steps never see apply credentials), and planguard's context variables.
    /// Nothing else of the server's environment.
    pub(super) fn step_env(
        &self,
        run: &StackRun<'_>,
        phase: Phase,
        planfile: &Path,
    ) -> BTreeMap<String, String> {
        let home = run.scratch.home();
        let cache = self.plugin_cache();
        let mut env = BTreeMap::new();
        env.insert(
            "PATH".to_owned(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
        );
        env.insert("HOME".to_owned(), home.display().to_string());
        env.insert("TMPDIR".to_owned(), run.scratch.tmp().display().to_string());
        env.insert("LANG".to_owned(), "C.UTF-8".to_owned());
        env.insert("TF_IN_AUTOMATION".to_owned(), "1".to_owned());
        env.insert("TF_INPUT".to_owned(), "0".to_owned());
        env.insert("CHECKPOINT_DISABLE".to_owned(), "1".to_owned());
        env.insert(
            "TF_PLUGIN_CACHE_DIR".to_owned(),
            cache.display().to_string(),
        );
        if run.stack.workspace != "default" {
            env.insert("TF_WORKSPACE".to_owned(), run.stack.workspace.clone());
        }
        let creds = match phase {
            Phase::Plan => &run.stack.credentials.plan,
            Phase::Apply => &run.stack.credentials.apply,
        };
        env.extend(creds.env(&run.stack.name));
        for (k, v) in [
            ("PLANGUARD_REPO", run.repo.to_string()),
            ("PLANGUARD_PR", run.pr.0.to_string()),
            ("PLANGUARD_SHA", run.sha.to_string()),
            ("PLANGUARD_STACK", run.stack.name.to_string()),
            ("PLANGUARD_DIR", run.stack.dir.clone()),
            ("PLANGUARD_WORKSPACE", run.stack.workspace.clone()),
            ("PLANFILE", planfile.display().to_string()),
            (
                "SHOWFILE",
                planfile.with_extension("json").display().to_string(),
            ),
        ] {
            env.insert(k.to_owned(), v);
        }
        env
    }

    /// The provider plugin cache all steps share.
    fn plugin_cache(&self) -> PathBuf {
        let cache = self.config.data_dir.join("plugin-cache");
        let _ = std::fs::create_dir_all(&cache);
        cache
    }

    /// What a step of `run` may reach in the sandbox besides the toolchain: its working copy,
    /// its HOME and TMPDIR, the stack's plan directory and the plugin cache; the tofu binary.
    fn step_access(&self, run: &StackRun<'_>) -> Access {
        let read_write = vec![
            run.root.clone(),
            run.scratch.home(),
            run.scratch.tmp(),
            self.plugin_cache(),
        ];
        let binary = std::fs::canonicalize(&self.binary).unwrap_or_else(|_| self.binary.clone());
        // The stored plan is read (by `show` and `apply`), never written: steps write theirs
        // in the working copy, and planguard stores it (see `plan_stack`).
        let mut read_only = vec![binary];
        read_only.extend(run.planfile.parent().map(Path::to_path_buf));
        Access {
            read_write,
            read_only,
        }
    }

    /// Secrets that must never appear in anything posted: the stack's credentials and the
    /// server's own.
    pub(super) fn secrets(&self, stack: &StackConfig) -> Vec<String> {
        let mut s: Vec<String> = stack.account.env.values().cloned().collect();
        s.extend(stack.credentials.plan.secrets().map(str::to_owned));
        s.extend(stack.credentials.apply.secrets().map(str::to_owned));
        s.extend(self.config.accounts.secrets().map(str::to_owned));
        if let Some(t) = &self.config.audit_token {
            s.push(t.expose_secret().to_owned());
        }
        s.push(self.config.github.webhook_secret.expose_secret().to_owned());
        match &self.config.github.auth {
            crate::serve::config::GithubAuth::Token(t) => s.push(t.expose_secret().to_owned()),
            crate::serve::config::GithubAuth::App { private_key, .. } => s.extend(
                private_key
                    .expose_secret()
                    .lines()
                    .filter(|l| l.len() > 20)
                    .map(str::to_owned),
            ),
        }
        s
    }

    /// Runs one step process.
    pub(super) async fn run_step(
        &self,
        run: &StackRun<'_>,
        step: &Step,
        phase: Phase,
        planfile: &Path,
        cancel: &CancellationToken,
    ) -> crate::serve::runner::StepOutcome {
        let bin = self.binary.display().to_string();
        let env = self.step_env(run, phase, planfile);
        let planfile = planfile.display().to_string();
        let argv = step.argv(&StepContext {
            bin: &bin,
            planfile: &planfile,
            backend_config: &run.stack.backend_config,
            var_files: &run.stack.var_files,
        });
        let span = tracing::info_span!("step", step = step.name());
        let _e = span.enter();
        // `show -json` goes straight to the plan's JSON file; other steps' stdout is only
        // kept for the job.
        let stdout_file = if step.kind == StepKind::Show {
            run.planfile.with_extension("json")
        } else {
            run.scratch.output().join(format!("{}.stdout", step.name()))
        };
        let out = self
            .runner
            .run(
                &StepRun {
                    name: step.name().to_owned(),
                    argv,
                    cwd: run.cwd(),
                    env,
                    timeout: self.config.step_timeout,
                    access: self.step_access(run),
                    stdout_file: Some(stdout_file),
                },
                cancel,
            )
            .await;
        tracing::info!(status = ?out.status, took_ms = out.duration.as_millis() as u64, "step finished");
        self.metrics.step(step.name(), out.duration);
        out
    }

    /// Runs the plan steps, then planguard's own `show -json` of the final plan file, and
    /// evaluates the policies on exactly that JSON. `None` when cancelled.
    ///
    /// Steps write the plan in the working copy; once they are done, planguard copies it to
    /// the store (where no step can write), and both `show` and a later apply read that copy,
    /// whose hash is recorded. A workflow's own `show` and `policy` steps mark where they would
    /// run but are not run in place: a step after them could otherwise swap the plan that was
    /// checked for another.
    async fn plan_stack(
        &self,
        run: &StackRun<'_>,
        config: &RepoConfig,
        cancel: &CancellationToken,
    ) -> Result<Option<StackState>, JobError> {
        let redact =
            Redactor::default().with_secrets(self.secrets(run.stack).iter().map(String::as_str));
        let scratch = run.root.join(".planguard").join("plan.tfplan");
        let _ = std::fs::remove_file(&scratch);
        std::fs::create_dir_all(scratch.parent().expect("has a parent"))
            .map_err(|e| JobError::Transient(format!("cannot prepare the plan directory: {e}")))?;
        let failed = |step: &str, out: &crate::serve::runner::StepOutcome| StackState::Errored {
            step: step.to_owned(),
            output: redact
                .redact(&format!(
                    "{}\n\n{}",
                    out.describe(step),
                    tail(&out.output, 300)
                ))
                .into_owned(),
        };
        for step in &run.stack.workflow.plan {
            if matches!(step.kind, StepKind::Show | StepKind::Policy) {
                continue;
            }
            let out = self
                .run_step(run, step, Phase::Plan, &scratch, cancel)
                .await;
            if out.status == StepStatus::Cancelled {
                return Ok(None);
            }
            if !out.success() {
                return Ok(Some(failed(step.name(), &out)));
            }
        }
        // The plan the steps left is the one checked, stored and (later) applied.
        let copied = std::fs::symlink_metadata(&scratch)
            .ok()
            .filter(|m| m.file_type().is_file())
            .map(|_| std::fs::copy(&scratch, &run.planfile));
        match copied {
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                return Err(JobError::Transient(format!(
                    "cannot store the plan file: {e}"
                )))
            }
            None => {
                return Ok(Some(StackState::Errored {
                    step: "plan".into(),
                    output: "the plan steps left no plan file (`-out={planfile}`, or $PLANFILE)"
                        .into(),
                }))
            }
        }
        let _ = std::fs::remove_file(&scratch);
        let show = run
            .stack
            .workflow
            .plan
            .iter()
            .find(|s| s.kind == StepKind::Show)
            .cloned()
            .unwrap_or_else(crate::serve::workflow::default_show);
        let out = self
            .run_step(run, &show, Phase::Plan, &run.planfile, cancel)
            .await;
        if out.status == StepStatus::Cancelled {
            return Ok(None);
        }
        if !out.success() {
            return Ok(Some(failed("show", &out)));
        }
        if out.stdout_truncated {
            return Ok(Some(StackState::Errored {
                step: "show".into(),
                output: format!(
                    "`show` printed {} bytes, more than the {} planguard reads",
                    out.stdout_len,
                    crate::serve::runner::process::MAX_STDOUT
                ),
            }));
        }
        let json = std::fs::read(run.planfile.with_extension("json"))
            .map_err(|e| JobError::Transient(format!("cannot read the plan JSON: {e}")))?;
        self.evaluate(run, config, json, &redact).await.map(Some)
    }

    /// Evaluates the policies on a stack's plan JSON and stores the plan.
    async fn evaluate(
        &self,
        run: &StackRun<'_>,
        config: &RepoConfig,
        json: Vec<u8>,
        extra: &Redactor,
    ) -> Result<StackState, JobError> {
        let set = self
            .policies
            .with_data(&run.stack.policy_data())
            .map_err(JobError::Permanent)?;
        let name = format!("{}:{}", run.stack.name, run.sha.short());
        let extra = extra.clone();
        let (report, diff) = tokio::task::spawn_blocking(move || {
            let text = PlanText::from_bytes(name, json, None, &ShowOptions::default());
            let diff = match &text {
                Ok(t) => match t.parse() {
                    Ok(plan) => {
                        let r = Redactor::from_plan(&plan);
                        extra
                            .redact(&crate::render::diff::render_diff(&plan, &r))
                            .into_owned()
                    }
                    Err(_) => String::new(),
                },
                Err(_) => String::new(),
            };
            let mut report = check_one(text, &set);
            for f in &mut report.evaluation.findings {
                f.message = extra.redact(&f.message).into_owned();
            }
            (report, diff)
        })
        .await
        .map_err(|e| JobError::Permanent(format!("policy evaluation task: {e}")))?;
        if let Some(err) = &report.error {
            return Ok(StackState::Errored {
                step: "show".into(),
                output: err.clone(),
            });
        }
        let plan_bytes = std::fs::read(&run.planfile).unwrap_or_default();
        let plan_hash = hex::encode(Sha256::digest(&plan_bytes));
        let levels = self.finding_levels(run, config, &report);
        let owners = self.owner_handles(config);
        let annotations = annotate(&run.cwd(), &run.stack.dir, &report, &levels);
        // The plan file itself goes to the database too: any replica may apply it.
        self.store
            .put_plan_file(run.repo, run.pr, &run.stack.name, run.sha, &plan_bytes)
            .await?;
        self.store
            .put_plan(&PlanRecord {
                repo: run.repo.clone(),
                pr: run.pr,
                stack: run.stack.name.clone(),
                sha: run.sha.clone(),
                plan_file: run.planfile.display().to_string(),
                plan_json: run.planfile.with_extension("json").display().to_string(),
                plan_hash: plan_hash.clone(),
                report: serde_json::to_string(&report)
                    .map_err(|e| JobError::Permanent(e.to_string()))?,
                applied: false,
                created_at: now(),
            })
            .await?;
        Ok(StackState::Planned {
            report: Box::new(report),
            diff,
            plan_hash,
            levels,
            owners,
            annotations,
        })
    }
}

impl Services {
    /// The enforcement level of each policy with an error finding.
    fn finding_levels(
        &self,
        run: &StackRun<'_>,
        config: &RepoConfig,
        report: &crate::check::PlanReport,
    ) -> BTreeMap<String, EnforcementLevel> {
        report
            .evaluation
            .findings
            .iter()
            .filter(|f| f.level == Level::Error)
            .map(|f| {
                let level = level_for(
                    &f.policy_id,
                    &f.file,
                    &self.config.policies.paths,
                    &self.config.enforcement,
                    &config.gate(&run.stack.name).enforcement,
                );
                (f.policy_id.clone(), level)
            })
            .collect()
    }

    /// The policy owners (the server's, then the repository's), as `@` handles.
    fn owner_handles(&self, config: &RepoConfig) -> Vec<String> {
        let o = &self.config.policy_owners;
        let users = o.users.iter().chain(&config.policy_owners.users);
        let teams = o.teams.iter().chain(&config.policy_owners.teams);
        let mut owners: Vec<String> = users.chain(teams).map(|u| format!("@{u}")).collect();
        owners.dedup();
        owners
    }
}

/// Places findings on the line that declares their resource (`resource "type" "name"`) in the
/// stack's `.tf` files; findings whose resource is not found there go on the first file.
fn annotate(
    cwd: &Path,
    dir: &str,
    report: &crate::check::PlanReport,
    levels: &BTreeMap<String, EnforcementLevel>,
) -> Vec<Annotation> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(cwd)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "tf"))
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path()).ok()?;
            let name = e.file_name().to_string_lossy().into_owned();
            let path = if dir == "." {
                name
            } else {
                format!("{dir}/{name}")
            };
            Some((path, text))
        })
        .collect();
    files.sort();
    let locate = |address: &str| -> Option<(String, u32)> {
        // module.x.type.name[0] → type, name
        let parts: Vec<&str> = address.split('.').collect();
        let n = parts.len();
        if n < 2 {
            return None;
        }
        let kind = parts[n - 2];
        let name = parts[n - 1].split('[').next().unwrap_or_default();
        let needle = format!("resource \"{kind}\" \"{name}\"");
        files.iter().find_map(|(path, text)| {
            text.lines()
                .position(|l| l.trim_start().starts_with(&needle))
                .map(|i| (path.clone(), i as u32 + 1))
        })
    };
    report
        .evaluation
        .findings
        .iter()
        .filter_map(|f| {
            let (path, line) = f
                .address
                .as_deref()
                .and_then(locate)
                .or_else(|| files.first().map(|(p, _)| (p.clone(), 1)))?;
            // A finding that could block (before any approval) fails the check run.
            let could_block =
                enforcement::blocks(f.level, enforcement::level_of(levels, &f.policy_id), false);
            let level = if could_block { "failure" } else { "warning" };
            Some(Annotation {
                path,
                line,
                level: level.into(),
                title: f.policy_id.clone(),
                message: match &f.address {
                    Some(a) => format!("{a}: {}", f.message),
                    None => f.message.clone(),
                },
            })
        })
        .collect()
}
