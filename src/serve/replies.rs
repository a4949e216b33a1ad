//! Every one-off text the server posts on a pull request: command replies, refusals, errors,
//! apply results and notices.
//!
//! The worker decides *what* to say and builds a [`Reply`] from typed data; this module owns
//! *how* it reads, so every wording lives here and each variant has a snapshot test. The one
//! long-lived planguard comment (stack states, findings, plan diffs) is laid out by
//! [`crate::serve::pr_comment`]; the invalid-`planguard.yaml` text that replaces it is here
//! ([`Reply::InvalidConfig`]) because it is a message, not a report. Check-run titles and the
//! audit log's outcomes are not PR texts and stay with their callers.

use std::fmt::Write as _;

use crate::serve::domain::{CommitSha, Login, StackName};
use crate::serve::gate::Unmet;
use crate::serve::pr_comment::MARKER;
use crate::serve::store::JobKind;

/// A text the server posts on a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `planguard help`.
    Help,
    /// A `planguard ...` comment that does not parse (the parser's message).
    InvalidCommand { error: String },
    /// A command on a pull request planguard has no record of.
    PrUnknown,
    /// A command on a closed pull request.
    PrClosed,
    /// An apply job that runs after the pull request was closed.
    ApplyOnClosedPr,
    /// A command's comment cannot drive it ([`CommentRefusal`]).
    CommentRefused {
        action: String,
        refusal: CommentRefusal,
    },
    /// `action` (apply, unlock, cancel) by someone without write permission or an apply team.
    NoPermission {
        user: Login,
        action: String,
        apply_teams: Vec<String>,
    },
    /// The configuration at the head cannot be read when applying.
    ApplyConfigError { error: String },
    /// The configuration at the head cannot be read when planning on command.
    PlanConfigError { error: String },
    /// A command names stacks the repository does not have.
    UnknownStacks {
        unknown: Vec<StackName>,
        known: Vec<StackName>,
    },
    /// `planguard apply` with nothing planned; `failed` are stacks whose apply failed.
    NothingToApply { failed: Vec<StackName> },
    /// The apply gate refused: every unmet requirement of every stack asked for.
    ApplyRefused {
        actor: Login,
        targets: Vec<StackName>,
        head: CommitSha,
        unmet: Vec<Unmet>,
    },
    /// What an apply did, stack by stack, in the order it went.
    ApplyResults {
        actor: Login,
        results: Vec<ApplyResult>,
        unsandboxed: bool,
    },
    /// `planguard plan` on a fork's pull request when the server does not plan forks.
    ForkPlanRefused,
    /// A fork's pull request opened or pushed when the server does not plan forks.
    ForkNotPlannedAutomatically,
    /// `planguard.yaml` at the head is invalid: replaces the planguard comment.
    InvalidConfig { head: CommitSha, error: String },
    /// The pull request changes `planguard.yaml` settings that are read from the trusted
    /// branch only; `notes` says which.
    SettingsNotUsedYet { notes: Vec<String> },
    /// One event would queue more than `limits.max_plans_per_event` plans.
    TooManyPlans {
        asked: usize,
        max: usize,
        left: Vec<StackName>,
    },
    /// `planguard unlock`: the stacks released (none: nothing was held).
    Unlocked { released: Vec<StackName> },
    /// `planguard cancel`.
    Cancelled {
        killed: usize,
        dropped: usize,
        released: Vec<StackName>,
    },
    /// `planguard approve_policies` by someone who may not.
    ApprovalRefused(ApprovalRefusal),
    /// `planguard approve_policies`: what was approved and what cannot be.
    PolicyApprovals {
        actor: Login,
        approved: Vec<ApprovedSet>,
        /// (policy id, stack) of hard-mandatory findings, which cannot be approved.
        hard: Vec<(String, StackName)>,
        /// Whether the comment named policies (`--policy`).
        named_policies: bool,
    },
    /// A restart interrupted work on this pull request.
    Restarted {
        resumed: Vec<JobSubject>,
        notes: Vec<RestartNote>,
    },
    /// A job failed for good.
    JobFailed { kind: JobKind, why: String },
}

/// Why a command's comment cannot drive it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentRefusal {
    Deleted,
    OtherAuthor,
    Edited,
    OlderThanPlan,
}

/// Why someone's `approve_policies` does not count; `owners` lists who may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalRefusal {
    NotPolicyOwner { actor: Login, owners: String },
    OwnPullRequest { actor: Login, owners: String },
}

/// What an apply did with one stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyResult {
    Applied(StackName),
    Failed(StackName),
    /// Not tried: a stack it depends on did not apply.
    Skipped {
        stack: StackName,
        dependency: StackName,
    },
    /// Not applied: its saved plan is not the one that was reviewed.
    NotApplied {
        stack: StackName,
        why: StalePlan,
    },
}

/// Why a stack's saved plan may not be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StalePlan {
    /// A newer plan of the stack is queued or running.
    NewerPlanComing,
    /// The plan file no longer hashes to what was planned.
    FileChanged,
}

/// Policies approved on one stack's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovedSet {
    pub policies: Vec<String>,
    pub stack: StackName,
    pub plan_hash: String,
}

/// What a job was doing, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobSubject {
    Plan(StackName),
    Apply,
    Webhook,
}

/// What became of interrupted work that is not simply running again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestartNote {
    /// The apply had not started applying any stack.
    ApplyNotStarted,
    /// The apply was applying these stacks, now marked apply failed.
    ApplyInterrupted { stacks: Vec<StackName> },
    /// A job failed for good.
    Failed { subject: JobSubject, why: String },
}

/// What the PR comment and apply results say when steps run without the sandbox.
pub const UNSANDBOXED_NOTE: &str = "\n> [!WARNING]\n> Steps ran **without a sandbox** \
    (`sandbox = \"off\"` in the server configuration): the pull request's code could read what \
    the server's user can.\n";

/// What an apply interrupted by a restart leaves in its stack's row, check and comment.
pub const INTERRUPTED_APPLY: &str = "planguard stopped (a restart or crash) while this \
    stack was applying, so the apply may be partly done. Comment `planguard plan` to see where \
    the stack stands, then apply the new plan.";

/// Why a job that panicked stopped (the panic's message).
pub fn crashed(panic: &str) -> String {
    format!("planguard crashed while running this job: {panic}")
}

/// [`crashed`], once the job was interrupted `times` times, the limit.
pub fn crashed_too_often(crash: &str, times: u32) -> String {
    format!("{crash} (it was interrupted {times} times, the limit `limits.max_job_interruptions`)")
}

/// Why a job interrupted `times` times by restarts is not run again.
pub fn interrupted_too_often(times: u32, max: u32) -> String {
    format!(
        "it was interrupted {times} times (a restart or a crash each time; the limit is \
         `limits.max_job_interruptions` = {max}), so it is not run again"
    )
}

/// What a plan job that failed for good leaves in its stack's section.
pub fn plan_failed(why: &str) -> String {
    format!("planguard could not plan this stack: {why}")
}

/// Items as a comma-separated list of Markdown code spans: `a`, `b`.
pub fn code_list<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "is" or "are", for `n` things.
fn is_are(n: usize) -> &'static str {
    if n == 1 {
        "is"
    } else {
        "are"
    }
}

impl StalePlan {
    /// Why `stack` is not applied (also the audit log's reason).
    pub fn text(self, stack: &StackName) -> String {
        match self {
            StalePlan::NewerPlanComing => {
                format!("a new plan of `{stack}` is queued or running; apply after it")
            }
            StalePlan::FileChanged => format!(
                "the saved plan file of `{stack}` changed since it was planned; comment \
                 `planguard plan -p {stack}`"
            ),
        }
    }
}

impl std::fmt::Display for JobSubject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobSubject::Plan(stack) => write!(f, "the plan of `{stack}`"),
            JobSubject::Apply => f.write_str("an apply"),
            JobSubject::Webhook => f.write_str("the handling of a webhook"),
        }
    }
}

impl Reply {
    /// The Markdown text of the reply.
    pub fn render(&self) -> String {
        match self {
            Reply::Help => HELP.to_owned(),
            Reply::InvalidCommand { error } => format!("### :grey_question: planguard\n\n{error}"),
            Reply::PrUnknown => {
                "planguard has not seen this pull request yet: it starts when a \
                PR is opened or pushed. Push a commit (or close and reopen the PR), then try again."
                    .to_owned()
            }
            Reply::PrClosed => {
                "This pull request is closed; planguard does nothing more on it.".to_owned()
            }
            Reply::ApplyOnClosedPr => "This pull request is closed; nothing is applied.".to_owned(),
            Reply::CommentRefused { action, refusal } => comment_refused(action, *refusal),
            Reply::NoPermission {
                user,
                action,
                apply_teams,
            } => no_permission(user, action, apply_teams),
            Reply::ApplyConfigError { error } => {
                format!("### :boom: planguard: apply refused\n\n{error}")
            }
            Reply::PlanConfigError { error } => format!("### :boom: planguard\n\n{error}"),
            Reply::UnknownStacks { unknown, known } => format!(
                "{} {} not a stack of this repository. Its stacks are {}.",
                code_list(unknown),
                is_are(unknown.len()),
                code_list(known)
            ),
            Reply::NothingToApply { failed } => nothing_to_apply(failed),
            Reply::ApplyRefused {
                actor,
                targets,
                head,
                unmet,
            } => apply_refused(actor, targets, head, unmet),
            Reply::ApplyResults {
                actor,
                results,
                unsandboxed,
            } => apply_results(actor, results, *unsandboxed),
            Reply::ForkPlanRefused => "This pull request comes from a fork, and this server \
                does not plan fork PRs (`allow_fork_prs` is off)."
                .to_owned(),
            Reply::ForkNotPlannedAutomatically => "### planguard: not planned automatically\n\n\
                This pull request comes from a fork. Planning runs the PR's code (for example \
                through `external` data sources), so planguard does not plan fork PRs on its \
                own. A maintainer can review the code and set `allow_fork_prs = true` on the \
                server to plan fork PRs."
                .to_owned(),
            Reply::InvalidConfig { head, error } => format!(
                "{MARKER}\n### :boom: planguard: `planguard.yaml` is invalid\n\n\
                 Nothing was planned for {}. Fix these problems and push:\n\n```\n{}\n```\n",
                head.short(),
                error.replace("```", "'''")
            ),
            Reply::SettingsNotUsedYet { notes } => settings_not_used_yet(notes),
            Reply::TooManyPlans { asked, max, left } => too_many_plans(*asked, *max, left),
            Reply::Unlocked { released } => unlocked(released),
            Reply::Cancelled {
                killed,
                dropped,
                released,
            } => format!(
                "### :stop_sign: planguard: cancelled\n\n{killed} running job(s) killed, \
                 {dropped} queued job(s) dropped; released {}.",
                if released.is_empty() {
                    "no lock".to_owned()
                } else {
                    code_list(released)
                }
            ),
            Reply::ApprovalRefused(refusal) => approval_refused(refusal),
            Reply::PolicyApprovals {
                actor,
                approved,
                hard,
                named_policies,
            } => policy_approvals(actor, approved, hard, *named_policies),
            Reply::Restarted { resumed, notes } => restarted(resumed, notes),
            Reply::JobFailed { kind, why } => format!(
                "### :boom: planguard could not finish\n\nThe {} job for this pull request \
                 failed: {why}\n\nFix the cause and comment the command again (or push); the \
                 server log has the details.",
                kind.as_str()
            ),
        }
    }
}

const HELP: &str = "\
**planguard commands.** Comment on the pull request; only the first line of a comment is read.

| comment | what it does |
|---|---|
| `planguard plan [-p STACK]...` | Plan the stacks this pull request changes, or only the stacks named. |
| `planguard apply [-p STACK]...` | Apply the planned stacks, or only the stacks named. |
| `planguard unlock [-p STACK]` | Release this pull request's locks, or only the lock on one stack. |
| `planguard approve_policies [-p STACK] [--policy ID]...` | Approve failed policies, or only the policies named, on every stack or one. |
| `planguard cancel [-p STACK]` | Cancel this pull request's queued and running jobs, or only one stack's. |
| `planguard help` | Show this message. |

`-p STACK` may also be written `-p=STACK`, `--stack STACK` or `--stack=STACK`, and \
`--policy ID` as `--policy=ID`. Name several stacks with `-p` once per stack: \
`planguard plan -p network -p dns`.
";

fn comment_refused(action: &str, refusal: CommentRefusal) -> String {
    let why = match refusal {
        CommentRefusal::Deleted => {
            "The comment that asked for it was deleted before planguard \
            acted on it. To run the command, post it again in a new comment."
        }
        CommentRefusal::OtherAuthor => {
            "GitHub says the comment that asked for it was written by \
            someone other than the delivery said, so planguard does not act on it."
        }
        CommentRefusal::Edited => {
            "The comment that asked for it was edited after it was posted, \
            and no longer says what planguard received. planguard acts only on a command as it \
            was first written: post the command again in a new comment."
        }
        CommentRefusal::OlderThanPlan => {
            "The `planguard apply` comment was posted before the \
            newest plan of this pull request was made, so it cannot apply a plan its author had \
            not seen. Review the current plan, then comment `planguard apply` again."
        }
    };
    format!("### :no_entry: planguard: {action} refused\n\n{why}\n\nNothing was done.\n")
}

fn no_permission(user: &Login, action: &str, apply_teams: &[String]) -> String {
    let teams = if apply_teams.is_empty() {
        String::new()
    } else {
        let teams: Vec<String> = apply_teams.iter().map(|t| format!("@{t}")).collect();
        format!(" or membership of {}", teams.join(", "))
    };
    format!(
        "### :no_entry: planguard: {action} refused\n\n{user} cannot {action} here: that needs \
         write permission on the repository{teams}. Ask someone who has it."
    )
}

fn nothing_to_apply(failed: &[StackName]) -> String {
    if failed.is_empty() {
        return "There is no planned stack to apply. Comment `planguard plan` first.".to_owned();
    }
    format!(
        "There is no planned stack to apply: the apply of {} failed or was interrupted (the PR \
         comment says why), so it may be partly applied. Comment `planguard plan` to see where \
         it stands, then apply the new plan.",
        code_list(failed)
    )
}

fn apply_refused(
    actor: &Login,
    targets: &[StackName],
    head: &CommitSha,
    unmet: &[Unmet],
) -> String {
    let mut body = format!(
        "### :no_entry: planguard: apply refused\n\n{actor} asked to apply {} at {}. Not yet:\n\n",
        code_list(targets),
        head.short()
    );
    for u in unmet {
        let _ = writeln!(body, "- **{}**: {}", u.requirement, u.message);
    }
    body.push_str("\nNothing was applied.\n");
    body
}

fn apply_results(actor: &Login, results: &[ApplyResult], unsandboxed: bool) -> String {
    let lines: Vec<String> = results
        .iter()
        .map(|r| match r {
            ApplyResult::Applied(stack) => format!("- :rocket: `{stack}` applied"),
            ApplyResult::Failed(stack) => format!("- :boom: `{stack}` failed to apply"),
            ApplyResult::Skipped { stack, dependency } => {
                format!("- :fast_forward: `{stack}` skipped: `{dependency}` did not apply")
            }
            ApplyResult::NotApplied { stack, why } => {
                format!("- :no_entry: `{stack}` not applied: {}", why.text(stack))
            }
        })
        .collect();
    format!(
        "### planguard: apply by {actor}\n\n{}\n{}",
        lines.join("\n"),
        if unsandboxed { UNSANDBOXED_NOTE } else { "" }
    )
}

fn settings_not_used_yet(notes: &[String]) -> String {
    let mut body = String::from(
        "### planguard: settings from this pull request are not used yet\n\n\
         Stack settings that grant access (directories, accounts, credentials, backends, \
         var files, workflows and the apply gate) are read from the default branch, \
         never from a pull request. Until this change is merged:\n\n",
    );
    for note in notes {
        let _ = writeln!(body, "- {note}");
    }
    body
}

fn too_many_plans(asked: usize, max: usize, left: &[StackName]) -> String {
    const LISTED: usize = 20;
    let mut names = code_list(left.iter().take(LISTED));
    if left.len() > LISTED {
        let _ = write!(names, " and {} more", left.len() - LISTED);
    }
    format!(
        "### :warning: planguard: too many stacks to plan at once\n\n\
         This would plan {asked} stacks, but planguard queues at most {max} plans per push, \
         pull request opening or `planguard plan` comment (server limit \
         `limits.max_plans_per_event` = {max}). The first {max} are queued; these {} are not: \
         {names}.\n\n\
         Plan them with `planguard plan -p <stack>` once the queued plans finish, or ask the \
         server's operator to raise `max_plans_per_event` in the `[limits]` section of its \
         configuration.",
        left.len()
    )
}

fn unlocked(released: &[StackName]) -> String {
    if released.is_empty() {
        return "This pull request holds no lock to release.".to_owned();
    }
    format!(
        "### :unlock: planguard: unlocked\n\nReleased {}. This PR's plan of {} can no longer be \
         applied; comment `planguard plan` to lock and plan again.",
        code_list(released),
        if released.len() == 1 { "it" } else { "them" }
    )
}

fn approval_refused(refusal: &ApprovalRefusal) -> String {
    let why = match refusal {
        ApprovalRefusal::NotPolicyOwner { actor, owners } => format!(
            "{actor} is not a policy owner, so this approval does not count. Policy owners: \
             {owners}."
        ),
        ApprovalRefusal::OwnPullRequest { actor, owners } => format!(
            "{actor} opened this pull request and cannot approve its own findings. Another \
             policy owner must: {owners}."
        ),
    };
    format!("### :no_entry: planguard: approval refused\n\n{why}")
}

fn policy_approvals(
    actor: &Login,
    approved: &[ApprovedSet],
    hard: &[(String, StackName)],
    named_policies: bool,
) -> String {
    let mut body = String::from("### planguard: policy approvals\n\n");
    if approved.is_empty() {
        body.push_str("Nothing was approved: no soft-mandatory finding is outstanding");
        body.push_str(if named_policies {
            " for the policies named.\n"
        } else {
            ".\n"
        });
    } else {
        let sets: Vec<String> = approved
            .iter()
            .map(|a| {
                format!(
                    "{} in `{}` (plan `{}`)",
                    code_list(&a.policies),
                    a.stack,
                    &a.plan_hash[..12.min(a.plan_hash.len())]
                )
            })
            .collect();
        let _ = writeln!(
            body,
            "{actor} approved {}. An approval holds for that plan only: a new plan with new \
             findings needs a new approval.",
            sets.join("; ")
        );
    }
    if !hard.is_empty() {
        let hard: Vec<String> = hard
            .iter()
            .map(|(policy, stack)| format!("`{policy}` in `{stack}`"))
            .collect();
        let _ = writeln!(
            body,
            "\n:no_entry: {} {} hard-mandatory and cannot be overridden; fix the change and push.",
            hard.join(", "),
            is_are(hard.len())
        );
    }
    body
}

fn restarted(resumed: &[JobSubject], notes: &[RestartNote]) -> String {
    let mut body = String::from(
        "### :arrows_counterclockwise: planguard restarted\n\nplanguard stopped while it was \
         working on this pull request.",
    );
    if !resumed.is_empty() {
        let resumed: Vec<String> = resumed.iter().map(ToString::to_string).collect();
        let _ = write!(
            body,
            " It is running again: {}. Results appear here as usual.",
            resumed.join(", ")
        );
    }
    if !notes.is_empty() {
        let notes: Vec<String> = notes.iter().map(restart_note).collect();
        body.push_str("\n\n");
        body.push_str(&notes.join("\n"));
    }
    body
}

fn restart_note(note: &RestartNote) -> String {
    match note {
        RestartNote::ApplyNotStarted => "- The apply that was running did not start applying any \
            stack; nothing was applied by it. Comment `planguard apply` again."
            .to_owned(),
        RestartNote::ApplyInterrupted { stacks } => {
            let one = stacks.len() == 1;
            format!(
                "- The apply was interrupted while applying {}: {} may be partly applied, so {} \
                 marked **apply failed** and not applied again. Comment `planguard plan` to see \
                 where {} now, then `planguard apply` the new plan. Stacks that apply had not \
                 reached are still planned.",
                code_list(stacks),
                if one { "it" } else { "they" },
                if one { "it is" } else { "they are" },
                if one { "it stands" } else { "they stand" },
            )
        }
        RestartNote::Failed { subject, why } => format!("- {subject} failed: {why}."),
    }
}

#[cfg(test)]
mod tests;
