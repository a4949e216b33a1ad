//! One snapshot per reply, so a reviewer sees every change to what the bot says.

use super::*;

fn stack(name: &str) -> StackName {
    name.parse().unwrap()
}

fn stacks(names: &[&str]) -> Vec<StackName> {
    names.iter().map(|n| stack(n)).collect()
}

fn sha() -> CommitSha {
    "0123456789abcdef0123456789abcdef01234567".parse().unwrap()
}

fn alice() -> Login {
    Login("alice".into())
}

#[test]
fn help_lists_every_command() {
    insta::assert_snapshot!(Reply::Help.render());
}

#[test]
fn invalid_command_quotes_the_parser() {
    insta::assert_snapshot!(Reply::InvalidCommand {
        error: "`planguard aply` is not a planguard command. Did you mean `planguard apply`?"
            .into()
    }
    .render());
}

#[test]
fn a_pull_request_planguard_has_not_seen() {
    insta::assert_snapshot!(Reply::PrUnknown.render());
}

#[test]
fn a_command_on_a_closed_pull_request() {
    insta::assert_snapshot!(Reply::PrClosed.render());
}

#[test]
fn an_apply_that_runs_after_the_pull_request_closed() {
    insta::assert_snapshot!(Reply::ApplyOnClosedPr.render());
}

#[test]
fn every_comment_refusal() {
    let all = [
        CommentRefusal::Deleted,
        CommentRefusal::OtherAuthor,
        CommentRefusal::Edited,
        CommentRefusal::OlderThanPlan,
    ];
    let text: Vec<String> = all
        .into_iter()
        .map(|refusal| {
            Reply::CommentRefused {
                action: "apply".into(),
                refusal,
            }
            .render()
        })
        .collect();
    insta::assert_snapshot!(text.join("\n---\n"));
}

#[test]
fn no_permission_names_the_apply_teams() {
    insta::assert_snapshot!(Reply::NoPermission {
        user: alice(),
        action: "unlock".into(),
        apply_teams: vec!["acme/platform".into(), "acme/sre".into()],
    }
    .render());
}

#[test]
fn no_permission_without_apply_teams() {
    insta::assert_snapshot!(Reply::NoPermission {
        user: alice(),
        action: "apply".into(),
        apply_teams: vec![],
    }
    .render());
}

#[test]
fn apply_refused_when_the_configuration_is_unreadable() {
    insta::assert_snapshot!(Reply::ApplyConfigError {
        error: "planguard.yaml: stacks[0].dir: `../x` leaves the repository".into()
    }
    .render());
}

#[test]
fn plan_on_command_when_the_configuration_is_unreadable() {
    insta::assert_snapshot!(Reply::PlanConfigError {
        error: "planguard.yaml: stacks[0].dir: `../x` leaves the repository".into()
    }
    .render());
}

#[test]
fn unknown_stacks_list_the_known_ones() {
    insta::assert_snapshot!(Reply::UnknownStacks {
        unknown: stacks(&["netwrk"]),
        known: stacks(&["network", "dns"]),
    }
    .render());
}

#[test]
fn nothing_to_apply_before_any_plan() {
    insta::assert_snapshot!(Reply::NothingToApply { failed: vec![] }.render());
}

#[test]
fn nothing_to_apply_after_a_failed_apply() {
    insta::assert_snapshot!(Reply::NothingToApply {
        failed: stacks(&["network"])
    }
    .render());
}

#[test]
fn apply_refused_lists_every_unmet_requirement() {
    insta::assert_snapshot!(Reply::ApplyRefused {
        actor: alice(),
        targets: stacks(&["network", "dns"]),
        head: sha(),
        unmet: vec![
            Unmet {
                requirement: "approved",
                message: "`network` needs 1 approval on 0123456 (has 0).".into(),
            },
            Unmet {
                requirement: "mergeable",
                message: "GitHub says the pull request cannot be merged yet.".into(),
            },
        ],
    }
    .render());
}

#[test]
fn apply_results_of_every_kind_unsandboxed() {
    insta::assert_snapshot!(Reply::ApplyResults {
        actor: alice(),
        results: vec![
            ApplyResult::Applied(stack("network")),
            ApplyResult::Failed(stack("dns")),
            ApplyResult::Skipped {
                stack: stack("app"),
                dependency: stack("dns"),
            },
            ApplyResult::NotApplied {
                stack: stack("db"),
                why: StalePlan::NewerPlanComing,
            },
            ApplyResult::NotApplied {
                stack: stack("cache"),
                why: StalePlan::FileChanged,
            },
        ],
        unsandboxed: true,
    }
    .render());
}

#[test]
fn apply_results_in_the_sandbox() {
    insta::assert_snapshot!(Reply::ApplyResults {
        actor: alice(),
        results: vec![ApplyResult::Applied(stack("network"))],
        unsandboxed: false,
    }
    .render());
}

#[test]
fn fork_plan_refused_on_command() {
    insta::assert_snapshot!(Reply::ForkPlanRefused.render());
}

#[test]
fn fork_not_planned_automatically() {
    insta::assert_snapshot!(Reply::ForkNotPlannedAutomatically.render());
}

#[test]
fn invalid_config_replaces_the_comment_and_defuses_fences() {
    insta::assert_snapshot!(Reply::InvalidConfig {
        head: sha(),
        error: "planguard.yaml:3:5: unknown field `stacs`, did you mean `stacks`?\n```".into(),
    }
    .render());
}

#[test]
fn settings_from_the_pull_request_are_not_used_yet() {
    insta::assert_snapshot!(Reply::SettingsNotUsedYet {
        notes: vec![
            "stack `network`: `dir` changes from `infra/net` to `infra/network`".into(),
            "stack `dns` is new: it is not planned until merged".into(),
        ]
    }
    .render());
}

#[test]
fn the_plan_limit_reply_names_the_limit_and_the_stacks_left_out() {
    let left: Vec<StackName> = (2..30).map(|i| stack(&format!("s{i}"))).collect();
    insta::assert_snapshot!(Reply::TooManyPlans {
        asked: 30,
        max: 2,
        left
    }
    .render());
}

#[test]
fn unlocked_one_stack() {
    insta::assert_snapshot!(Reply::Unlocked {
        released: stacks(&["network"])
    }
    .render());
}

#[test]
fn unlock_with_no_lock_held() {
    insta::assert_snapshot!(Reply::Unlocked { released: vec![] }.render());
}

#[test]
fn cancelled_counts_what_stopped() {
    insta::assert_snapshot!(Reply::Cancelled {
        killed: 1,
        dropped: 2,
        released: stacks(&["network", "dns"]),
    }
    .render());
}

#[test]
fn approval_refused_to_someone_not_a_policy_owner() {
    insta::assert_snapshot!(Reply::ApprovalRefused(ApprovalRefusal::NotPolicyOwner {
        actor: alice(),
        owners: "@acme/security, @bob".into(),
    })
    .render());
}

#[test]
fn approval_refused_on_ones_own_pull_request() {
    insta::assert_snapshot!(Reply::ApprovalRefused(ApprovalRefusal::OwnPullRequest {
        actor: alice(),
        owners: "@acme/security, @bob".into(),
    })
    .render());
}

#[test]
fn policy_approvals_with_a_hard_mandatory_finding() {
    insta::assert_snapshot!(Reply::PolicyApprovals {
        actor: alice(),
        approved: vec![ApprovedSet {
            policies: vec!["aws-s3-public-access".into(), "aws-ebs-encryption".into()],
            stack: stack("network"),
            plan_hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        }],
        hard: vec![("aws-iam-admin".into(), stack("dns"))],
        named_policies: false,
    }
    .render());
}

#[test]
fn policy_approvals_with_nothing_outstanding_for_the_policies_named() {
    insta::assert_snapshot!(Reply::PolicyApprovals {
        actor: alice(),
        approved: vec![],
        hard: vec![],
        named_policies: true,
    }
    .render());
}

#[test]
fn restarted_with_resumed_interrupted_and_failed_work() {
    insta::assert_snapshot!(Reply::Restarted {
        resumed: vec![JobSubject::Plan(stack("network")), JobSubject::Webhook],
        notes: vec![
            RestartNote::ApplyNotStarted,
            RestartNote::ApplyInterrupted {
                stacks: stacks(&["dns"]),
            },
            RestartNote::ApplyInterrupted {
                stacks: stacks(&["db", "cache"]),
            },
            RestartNote::Failed {
                subject: JobSubject::Apply,
                why: interrupted_too_often(3, 3),
            },
        ],
    }
    .render());
}

#[test]
fn a_job_that_failed_for_good() {
    insta::assert_snapshot!(Reply::JobFailed {
        kind: JobKind::Plan,
        why: crashed_too_often(&crashed("index out of bounds"), 3),
    }
    .render());
}
