//! The PR comment and the check runs, rebuilt from the store.
//!
//! Each stack's latest state is a row ([`StoredStack`]); the comment is a pure rendering of
//! all rows of the PR ([`crate::serve::pr_comment`]), written over the same comment ids every
//! time (one comment, split into parts at GitHub's limit). Rebuilding from rows means a crash
//! between two updates never leaves a stale or duplicated comment behind. Updates of one PR
//! are serialised so two stacks finishing together cannot interleave.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{JobError, Services};
use crate::check::PlanReport;
use crate::policy::Level;
use crate::serve::domain::{CommitSha, PrNumber, RepoName, StackName};
use crate::serve::enforcement::{self, EnforcementLevel};
use crate::serve::pr_comment::{self, CommentContext, FindingGate, StackView};
use crate::serve::replies::Reply;
use crate::serve::store::{now, Approval, StackRecord};
use crate::serve::vcs::{Check, CheckStatus, Conclusion};

pub use crate::serve::stack::StackState;

/// One stack row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredStack {
    pub dir: String,
    pub workspace: String,
    #[serde(flatten)]
    pub state: StackState,
}

impl Services {
    /// Stores a stack's state.
    pub(super) async fn set_stack(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
        sha: &CommitSha,
        stored: &StoredStack,
    ) -> Result<(), JobError> {
        self.store
            .put_stack(&StackRecord {
                repo: repo.clone(),
                pr,
                stack: stack.clone(),
                sha: sha.clone(),
                state: serde_json::to_value(stored)
                    .map_err(|e| JobError::Permanent(e.to_string()))?,
                updated_at: now(),
            })
            .await?;
        Ok(())
    }

    /// The stored stacks of a PR.
    pub(super) async fn stored_stacks(
        &self,
        repo: &RepoName,
        pr: PrNumber,
    ) -> Result<Vec<(StackRecord, StoredStack)>, JobError> {
        let mut out = Vec::new();
        for rec in self.store.stacks(repo, pr).await? {
            match serde_json::from_value::<StoredStack>(rec.state.clone()) {
                Ok(s) => out.push((rec, s)),
                Err(e) => tracing::warn!(stack = %rec.stack, error = %e, "unreadable stack row"),
            }
        }
        Ok(out)
    }

    /// Policy ids approved for the stack's current plan.
    pub(super) async fn approved(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
        state: &StackState,
    ) -> Result<BTreeSet<String>, JobError> {
        let StackState::Planned { plan_hash, .. } = state else {
            return Ok(BTreeSet::new());
        };
        Ok(self
            .store
            .approvals(repo, pr, stack, plan_hash)
            .await?
            .into_iter()
            .map(|a| a.policy_id)
            .collect())
    }

    async fn views(
        &self,
        repo: &RepoName,
        pr: PrNumber,
    ) -> Result<(Vec<StackView>, Option<CommitSha>), JobError> {
        let mut views = Vec::new();
        let mut head = None;
        for (rec, stored) in self.stored_stacks(repo, pr).await? {
            head = Some(rec.sha.clone());
            let approvals = match &stored.state {
                StackState::Planned { plan_hash, .. } => {
                    self.store
                        .approvals(repo, pr, &rec.stack, plan_hash)
                        .await?
                }
                _ => Vec::new(),
            };
            let gates = match &stored.state {
                StackState::Planned {
                    report,
                    levels,
                    owners,
                    ..
                } => finding_gates(report, levels, owners, &approvals),
                _ => Vec::new(),
            };
            views.push(StackView {
                name: rec.stack.to_string(),
                dir: stored.dir,
                workspace: stored.workspace,
                sha: rec.sha.to_string(),
                state: stored.state,
                gates,
            });
        }
        Ok((views, head))
    }

    /// Rebuilds the PR comment from the stored stacks and writes it in place.
    pub(super) async fn refresh_comment(
        &self,
        repo: &RepoName,
        pr: PrNumber,
    ) -> Result<(), JobError> {
        let _hold = self.hold(format!("comment {repo}#{}", pr.0)).await?;
        let (views, head) = self.views(repo, pr).await?;
        if views.is_empty() {
            return Ok(());
        }
        let head = self
            .store
            .pr(repo, pr)
            .await?
            .map(|p| p.head)
            .or(head)
            .expect("a stack row has a sha");
        // Only built-in policies have a page in planguard's docs to link to.
        let policies = self
            .policies
            .catalogue()
            .iter()
            .filter(|(_, file)| file.starts_with(crate::policy::BUILTIN_PREFIX))
            .map(|(m, _)| (m.id.clone(), m.clone()))
            .collect();
        let repo_text = repo.to_string();
        let mut parts = pr_comment::render(
            &CommentContext {
                repo: &repo_text,
                pr: pr.0,
                head_sha: head.as_str(),
            },
            &views,
            &policies,
        );
        if let Some(last) = parts.last_mut().filter(|_| self.unsandboxed()) {
            last.push_str(crate::serve::replies::UNSANDBOXED_NOTE);
        }
        self.write_comment(repo, pr, &parts).await
    }

    /// Whether steps run without the sandbox (`sandbox = "off"`), which the PR comment and
    /// apply results say.
    pub(super) fn unsandboxed(&self) -> bool {
        self.config.sandbox == crate::serve::config::SandboxMode::Off
    }

    /// Writes `parts` over the PR's planguard comment: updates existing parts, creates missing
    /// ones, deletes surplus ones. A part someone deleted is created again.
    pub(super) async fn write_comment(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        parts: &[String],
    ) -> Result<(), JobError> {
        let existing = self.store.comment_ids(repo, pr).await?;
        let mut ids = Vec::with_capacity(parts.len());
        for (i, body) in parts.iter().enumerate() {
            let id = match existing.get(i) {
                Some(id) => match self.vcs.update_comment(repo, *id, body).await {
                    Ok(()) => *id,
                    Err(e) if e.is_not_found() => self.vcs.create_comment(repo, pr, body).await?,
                    Err(e) => return Err(e.into()),
                },
                None => self.vcs.create_comment(repo, pr, body).await?,
            };
            ids.push(id);
            // Record progress part by part, so a retry never posts a part twice.
            let mut known = ids.clone();
            known.extend(existing.iter().skip(ids.len()));
            self.store.set_comment_ids(repo, pr, &known).await?;
        }
        for id in existing.iter().skip(parts.len()) {
            self.vcs.delete_comment(repo, *id).await?;
        }
        self.store.set_comment_ids(repo, pr, &ids).await?;
        Ok(())
    }

    /// Sets (creates or updates) a check for a commit.
    pub(super) async fn set_check(&self, repo: &RepoName, check: Check) -> Result<(), JobError> {
        let _hold = self
            .hold(format!("check {repo}@{} {}", check.head_sha, check.name))
            .await?;
        let existing = self
            .store
            .check_run(repo, &check.head_sha, &check.name)
            .await?;
        if let Some(id) = self.vcs.set_check(repo, existing, &check).await? {
            self.store
                .set_check_run(repo, &check.head_sha, &check.name, id)
                .await?;
        }
        Ok(())
    }

    /// The `planguard/plan: <stack>` check from a stack's state.
    pub(super) async fn plan_check(
        &self,
        repo: &RepoName,
        stack: &StackName,
        sha: &CommitSha,
        state: &StackState,
    ) -> Result<(), JobError> {
        let (status, title, summary, text) = match state {
            StackState::Queued | StackState::WaitingForLock { .. } => (
                CheckStatus::Queued,
                "Queued".to_owned(),
                match state {
                    StackState::WaitingForLock { holder_pr, holder_url } => format!(
                        "The stack is locked by [#{holder_pr}]({holder_url}); this plan runs when the lock is released."
                    ),
                    _ => "Waiting for a worker.".to_owned(),
                },
                None,
            ),
            StackState::Running | StackState::Applying => (
                CheckStatus::InProgress,
                "Running".to_owned(),
                "planguard is running this stack's steps.".to_owned(),
                None,
            ),
            StackState::Planned { report, .. } => {
                let c = &report.counts;
                (
                    CheckStatus::Completed(Conclusion::Success),
                    format!(
                        "{} to add, {} to change, {} to destroy, {} to replace",
                        c.create, c.update, c.delete, c.replace
                    ),
                    "The plan succeeded. Policy results are in the `planguard/policy` check and the PR comment.".to_owned(),
                    None,
                )
            }
            StackState::Errored { step, output } => (
                CheckStatus::Completed(Conclusion::Failure),
                format!("`{step}` failed"),
                format!("The `{step}` step failed. Fix the error and push, or comment `planguard plan -p {stack}` to retry."),
                Some(format!("```\n{}\n```", tail(output, 200).replace("```", "'''"))),
            ),
            StackState::Skipped { reason } => (
                CheckStatus::Completed(Conclusion::Skipped),
                "Skipped".to_owned(),
                reason.clone(),
                None,
            ),
            StackState::Applied { .. } | StackState::ApplyFailed { .. } => return Ok(()),
        };
        self.set_check(
            repo,
            Check {
                name: format!("planguard/plan: {stack}"),
                head_sha: sha.clone(),
                status,
                title,
                summary,
                text,
                annotations: Vec::new(),
                details_url: None,
            },
        )
        .await
    }

    /// The `planguard/policy` check: every stack of the PR at `sha`.
    pub(super) async fn policy_check(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        sha: &CommitSha,
    ) -> Result<(), JobError> {
        let stacks = self.stored_stacks(repo, pr).await?;
        let mut pending = 0;
        let mut blocking = Vec::new();
        let mut errors = 0;
        let mut warnings = 0;
        let mut annotations = Vec::new();
        for (rec, stored) in &stacks {
            if &rec.sha != sha {
                continue;
            }
            match &stored.state {
                StackState::Planned {
                    report,
                    annotations: notes,
                    ..
                } => {
                    let approved = self.approved(repo, pr, &rec.stack, &stored.state).await?;
                    for b in stored.state.blocking(&approved) {
                        blocking.push(format!(
                            "`{}` in `{}` ({})",
                            b.policy_id, rec.stack, b.level
                        ));
                    }
                    for f in &report.evaluation.findings {
                        match f.level {
                            Level::Error => errors += 1,
                            Level::Warning => warnings += 1,
                        }
                    }
                    annotations.extend(notes.iter().cloned());
                }
                StackState::Errored { .. } | StackState::Skipped { .. } => {}
                StackState::Applied { .. } | StackState::ApplyFailed { .. } => {}
                _ => pending += 1,
            }
        }
        let (status, title) = if pending > 0 {
            (
                CheckStatus::InProgress,
                format!("{pending} stack(s) still planning"),
            )
        } else if !blocking.is_empty() {
            (
                CheckStatus::Completed(Conclusion::Failure),
                format!("{} blocking policy finding(s)", blocking.len()),
            )
        } else {
            (
                CheckStatus::Completed(Conclusion::Success),
                format!("{errors} error(s) (none blocking), {warnings} warning(s)"),
            )
        };
        let mut summary = String::new();
        if blocking.is_empty() {
            summary.push_str("No policy finding blocks an apply.\n");
        } else {
            summary.push_str("These findings block an apply until they are fixed or approved:\n\n");
            for b in &blocking {
                summary.push_str(&format!("- {b}\n"));
            }
        }
        self.set_check(
            repo,
            Check {
                name: "planguard/policy".into(),
                head_sha: sha.clone(),
                status,
                title,
                summary,
                text: None,
                annotations,
                details_url: None,
            },
        )
        .await
    }

    /// Posts a one-off comment (command replies and refusals).
    pub(super) async fn reply(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        reply: &Reply,
    ) -> Result<(), JobError> {
        let body = reply.render();
        for part in crate::render::split_markdown(&body, crate::render::MAX_COMMENT) {
            self.vcs.create_comment(repo, pr, &part).await?;
        }
        Ok(())
    }
}

/// A completed, failed check run with a title and summary only.
pub(super) fn failed_check(name: String, sha: &CommitSha, title: &str, summary: String) -> Check {
    Check {
        name,
        head_sha: sha.clone(),
        status: CheckStatus::Completed(Conclusion::Failure),
        title: title.to_owned(),
        summary,
        text: None,
        annotations: Vec::new(),
        details_url: None,
    }
}

/// The last `lines` lines of `text`.
pub(super) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].join("\n")
}

/// How the gate treats each policy with an error finding: its level, who approved it, who may.
fn finding_gates(
    report: &PlanReport,
    levels: &BTreeMap<String, EnforcementLevel>,
    owners: &[String],
    approvals: &[Approval],
) -> Vec<FindingGate> {
    let mut gates: Vec<FindingGate> = Vec::new();
    for f in &report.evaluation.findings {
        if f.level != Level::Error || gates.iter().any(|g| g.policy_id == f.policy_id) {
            continue;
        }
        let level = enforcement::level_of(levels, &f.policy_id);
        let approved_by = approvals
            .iter()
            .filter(|a| a.policy_id == f.policy_id)
            .map(|a| format!("@{}", a.approver))
            .collect::<Vec<_>>();
        gates.push(FindingGate {
            policy_id: f.policy_id.clone(),
            level,
            approved_by: (!approved_by.is_empty() && level == EnforcementLevel::SoftMandatory)
                .then(|| approved_by.join(", ")),
            approvers: owners.join(", "),
        });
    }
    gates
}
