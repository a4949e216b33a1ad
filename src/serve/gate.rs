//! The apply gate: whether a stack may be applied now, and if not, what is missing.
//!
//! Everything here is a pure function of facts the worker gathers (reviews, permissions, the
//! saved plan, the lock, GitHub's mergeability), so the rules are tested in a table without a
//! server. Each unmet requirement comes back with what to do about it; the refusal comment
//! lists them all at once, so nobody has to discover them one by one.

use crate::serve::domain::{CommitSha, Login, StackName};
use crate::serve::enforcement::EnforcementLevel;
use crate::serve::repo_config::Requirement;

/// An approving review, reduced to what the gate needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub reviewer: Login,
    /// The commit the review was given on.
    pub commit: Option<CommitSha>,
    /// Whether the reviewer is one of the people whose approval counts (team or code owner
    /// when the stack asks for that; always true otherwise).
    pub eligible: bool,
}

/// A finding that blocks an apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockingFinding {
    pub policy_id: String,
    pub level: EnforcementLevel,
}

/// GitHub's view of whether the PR can merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mergeable {
    Yes,
    /// Not mergeable, with GitHub's reason (`dirty`, `behind`, a failing check, ...).
    No(String),
    /// GitHub has not computed it yet.
    Unknown,
}

/// What the gate knows about one stack.
#[derive(Debug, Clone)]
pub struct StackFacts {
    pub stack: StackName,
    pub requirements: Vec<Requirement>,
    pub approvals_needed: u32,
    /// Describes who may approve, for messages ("members of @acme/platform").
    pub approvers_hint: Option<String>,
    /// The commit of the stack's saved plan, if any.
    pub planned_sha: Option<CommitSha>,
    /// Whether this PR holds the stack's lock.
    pub lock_held: bool,
    /// Whether the saved plan was applied already.
    pub applied: bool,
    /// Whether the last plan failed.
    pub plan_errored: bool,
    pub blocking: Vec<BlockingFinding>,
    pub owners_hint: String,
    /// Code-owner groups (of the stack's directory and of the PR's changed files) with no
    /// approval on the head from one of their owners yet; each needs one.
    pub missing_code_owners: Vec<Vec<String>>,
    /// Why the stack may not be applied at all, whatever the approvals (e.g. a PR whose base
    /// is not a trusted branch, or a stack the server refuses to run).
    pub refused: Option<String>,
}

/// What the gate knows about the PR and the commenter.
#[derive(Debug, Clone)]
pub struct PrFacts {
    pub author: Login,
    pub head: CommitSha,
    /// The latest approving review of each reviewer (stale ones included; the gate decides).
    pub approvals: Vec<Approval>,
    pub mergeable: Mergeable,
}

/// One unmet requirement, with what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    pub requirement: &'static str,
    pub message: String,
}

/// The requirements `stack` does not meet.
// Long on purpose: one block per apply requirement, in the order the refusal lists them.
pub fn unmet(pr: &PrFacts, s: &StackFacts) -> Vec<Unmet> {
    let mut out = Vec::new();
    let has = |r: Requirement| s.requirements.contains(&r);
    let stack = &s.stack;
    if let Some(why) = &s.refused {
        out.push(Unmet {
            requirement: "trusted",
            message: why.clone(),
        });
    }
    // A plan is always required: there is nothing to apply otherwise.
    match &s.planned_sha {
        None if s.plan_errored => out.push(Unmet {
            requirement: "plan",
            message: format!(
                "the last plan of `{stack}` failed; fix it and push, or comment `planguard plan -p {stack}`"
            ),
        }),
        None => out.push(Unmet {
            requirement: "plan",
            message: format!("`{stack}` has no saved plan; comment `planguard plan -p {stack}`"),
        }),
        Some(_) if s.applied => out.push(Unmet {
            requirement: "plan",
            message: format!(
                "the plan of `{stack}` was applied already; comment `planguard plan -p {stack}` to plan again"
            ),
        }),
        Some(sha) if has(Requirement::PlanFresh) && sha != &pr.head => out.push(Unmet {
            requirement: "plan_fresh",
            message: format!(
                "the saved plan of `{stack}` is of {}, not of the head {}; wait for the new plan, or comment `planguard plan -p {stack}`",
                sha.short(),
                pr.head.short()
            ),
        }),
        Some(_) => {}
    }
    if has(Requirement::PlanFresh) && s.planned_sha.is_some() && !s.lock_held {
        out.push(Unmet {
            requirement: "plan_fresh",
            message: format!(
                "this PR no longer holds the lock of `{stack}`; comment `planguard plan -p {stack}` to take it and plan again"
            ),
        });
    }
    if has(Requirement::Approved) {
        let current: Vec<&Approval> = pr
            .approvals
            .iter()
            .filter(|a| a.reviewer != pr.author && a.eligible)
            .filter(|a| a.commit.as_ref() == Some(&pr.head))
            .collect();
        let n = current.len() as u32;
        if n < s.approvals_needed {
            let mut why = Vec::new();
            if pr.approvals.iter().any(|a| a.reviewer == pr.author) {
                why.push(format!("{}'s own approval does not count", pr.author));
            }
            let stale: Vec<String> = pr
                .approvals
                .iter()
                .filter(|a| a.reviewer != pr.author && a.commit.as_ref() != Some(&pr.head))
                .map(|a| a.reviewer.to_string())
                .collect();
            if !stale.is_empty() {
                why.push(format!(
                    "the approval of {} is stale: it was given before the last push",
                    stale.join(", ")
                ));
            }
            let ineligible: Vec<String> = pr
                .approvals
                .iter()
                .filter(|a| a.reviewer != pr.author && !a.eligible)
                .map(|a| a.reviewer.to_string())
                .collect();
            if !ineligible.is_empty() {
                why.push(format!(
                    "{} may not approve this stack",
                    ineligible.join(", ")
                ));
            }
            let who = s
                .approvers_hint
                .as_deref()
                .map(|h| format!(" from {h}"))
                .unwrap_or_default();
            out.push(Unmet {
                requirement: "approved",
                message: format!(
                    "`{stack}` needs {} approving review(s){who} on {} by someone other than the author; it has {n}{}",
                    s.approvals_needed,
                    pr.head.short(),
                    if why.is_empty() { String::new() } else { format!(" ({})", why.join("; ")) }
                ),
            });
        }
    }
    if has(Requirement::Approved) {
        for group in &s.missing_code_owners {
            out.push(Unmet {
                requirement: "approved",
                message: format!(
                    "`{stack}` needs an approving review on {} from a code owner: {}",
                    pr.head.short(),
                    group
                        .iter()
                        .map(|o| format!("@{o}"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            });
        }
    }
    if has(Requirement::PoliciesPassed) {
        for b in &s.blocking {
            let message = match b.level {
                EnforcementLevel::HardMandatory => format!(
                    "`{}` is hard-mandatory in `{stack}`: it cannot be overridden; fix the change and push",
                    b.policy_id
                ),
                _ => format!(
                    "`{}` is soft-mandatory in `{stack}`: fix it and push, or a policy owner ({}) comments `planguard approve_policies -p {stack}`",
                    b.policy_id, s.owners_hint
                ),
            };
            out.push(Unmet {
                requirement: "policies_passed",
                message,
            });
        }
    }
    if has(Requirement::Mergeable) {
        match &pr.mergeable {
            Mergeable::Yes => {}
            Mergeable::No(why) => out.push(Unmet {
                requirement: "mergeable",
                message: format!("GitHub says the PR cannot be merged ({why}); resolve that first"),
            }),
            Mergeable::Unknown => out.push(Unmet {
                requirement: "mergeable",
                message: "GitHub has not finished checking whether the PR can be merged; try again in a moment".into(),
            }),
        }
    }
    out
}

/// GitHub's mergeability, ignoring planguard's own checks: `planguard/apply: *` is pending
/// until the apply (counting it would deadlock), and `planguard/plan: *` and
/// `planguard/policy` are judged by their own requirements. `other_checks` are (name,
/// conclusion) of the head's check runs; a `None` conclusion means still running.
pub fn mergeable(
    mergeable: Option<bool>,
    state: &str,
    other_checks: &[(String, Option<String>)],
) -> Mergeable {
    match mergeable {
        None => return Mergeable::Unknown,
        Some(false) => {
            return Mergeable::No(if state.is_empty() {
                "conflicts".into()
            } else {
                state.into()
            })
        }
        Some(true) => {}
    }
    match state {
        "dirty" => Mergeable::No("merge conflicts".into()),
        "behind" => Mergeable::No("the branch is behind its base; update it".into()),
        "draft" => Mergeable::No("the PR is a draft".into()),
        // Blocked by branch protection: acceptable when what is missing is planguard's own
        // checks, i.e. every other check passed.
        "blocked" | "unstable" => {
            let failing: Vec<String> = other_checks
                .iter()
                .filter(|(name, _)| !name.starts_with("planguard/"))
                .filter(|(_, c)| !matches!(c.as_deref(), Some("success" | "neutral" | "skipped")))
                .map(|(name, c)| format!("`{name}` is {}", c.as_deref().unwrap_or("pending")))
                .collect();
            if failing.is_empty() {
                Mergeable::Yes
            } else {
                Mergeable::No(failing.join(", "))
            }
        }
        _ => Mergeable::Yes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(c: char) -> CommitSha {
        c.to_string().repeat(40).parse().unwrap()
    }
    fn login(s: &str) -> Login {
        Login(s.into())
    }
    fn pr(approvals: Vec<Approval>) -> PrFacts {
        PrFacts {
            author: login("alice"),
            head: sha('b'),
            approvals,
            mergeable: Mergeable::Yes,
        }
    }
    fn approval(who: &str, on: char) -> Approval {
        Approval {
            reviewer: login(who),
            commit: Some(sha(on)),
            eligible: true,
        }
    }
    fn stack() -> StackFacts {
        StackFacts {
            stack: "network".parse().unwrap(),
            requirements: Requirement::ALL.to_vec(),
            approvals_needed: 1,
            approvers_hint: None,
            planned_sha: Some(sha('b')),
            lock_held: true,
            applied: false,
            plan_errored: false,
            blocking: Vec::new(),
            owners_hint: "@sec".into(),
            missing_code_owners: Vec::new(),
            refused: None,
        }
    }
    fn reqs(u: &[Unmet]) -> Vec<&'static str> {
        u.iter().map(|u| u.requirement).collect()
    }

    #[test]
    fn the_gate_in_a_table() {
        let soft = BlockingFinding {
            policy_id: "p".into(),
            level: EnforcementLevel::SoftMandatory,
        };
        let hard = BlockingFinding {
            policy_id: "h".into(),
            level: EnforcementLevel::HardMandatory,
        };
        #[rustfmt::skip]
        let cases: Vec<(&str, PrFacts, StackFacts, Vec<&str>)> = vec![
            ("approved on the head", pr(vec![approval("bob", 'b')]), stack(), vec![]),
            ("no approval", pr(vec![]), stack(), vec!["approved"]),
            ("the author's own approval", pr(vec![approval("alice", 'b')]), stack(), vec!["approved"]),
            ("a stale approval", pr(vec![approval("bob", 'a')]), stack(), vec!["approved"]),
            ("an ineligible approver", pr(vec![Approval { eligible: false, ..approval("bob", 'b') }]), stack(), vec!["approved"]),
            ("two needed, one given", pr(vec![approval("bob", 'b')]), StackFacts { approvals_needed: 2, ..stack() }, vec!["approved"]),
            ("two given", pr(vec![approval("bob", 'b'), approval("carol", 'b')]), StackFacts { approvals_needed: 2, ..stack() }, vec![]),
            ("plan of an older commit", pr(vec![approval("bob", 'b')]), StackFacts { planned_sha: Some(sha('a')), ..stack() }, vec!["plan_fresh"]),
            ("lock lost", pr(vec![approval("bob", 'b')]), StackFacts { lock_held: false, ..stack() }, vec!["plan_fresh"]),
            ("already applied", pr(vec![approval("bob", 'b')]), StackFacts { applied: true, ..stack() }, vec!["plan"]),
            ("no plan", pr(vec![approval("bob", 'b')]), StackFacts { planned_sha: None, ..stack() }, vec!["plan"]),
            ("soft-mandatory finding", pr(vec![approval("bob", 'b')]), StackFacts { blocking: vec![soft.clone()], ..stack() }, vec!["policies_passed"]),
            ("hard-mandatory finding", pr(vec![approval("bob", 'b')]), StackFacts { blocking: vec![hard.clone()], ..stack() }, vec!["policies_passed"]),
            ("not mergeable", PrFacts { mergeable: Mergeable::No("dirty".into()), ..pr(vec![approval("bob", 'b')]) }, stack(), vec!["mergeable"]),
            ("requirements switched off", pr(vec![]), StackFacts { requirements: vec![], blocking: vec![soft], ..stack() }, vec![]),
            ("a code owner group without approval", pr(vec![approval("bob", 'b')]), StackFacts { missing_code_owners: vec![vec!["prod-owner".into()]], ..stack() }, vec!["approved"]),
            ("refused even with every requirement off", pr(vec![]), StackFacts { requirements: vec![], refused: Some("the base is not trusted".into()), ..stack() }, vec!["trusted"]),
            ("everything missing", PrFacts { mergeable: Mergeable::Unknown, ..pr(vec![]) }, StackFacts { planned_sha: Some(sha('a')), blocking: vec![hard], ..stack() }, vec!["plan_fresh", "approved", "policies_passed", "mergeable"]),
        ];
        for (name, p, s, want) in cases {
            assert_eq!(reqs(&unmet(&p, &s)), want, "{name}");
        }
    }

    #[test]
    fn refusals_say_what_to_do() {
        let u = unmet(
            &pr(vec![approval("alice", 'b'), approval("bob", 'a')]),
            &stack(),
        );
        assert!(
            u[0].message
                .contains("@alice's own approval does not count"),
            "{}",
            u[0].message
        );
        assert!(u[0].message.contains("@bob is stale"), "{}", u[0].message);
        let hard = StackFacts {
            blocking: vec![BlockingFinding {
                policy_id: "h".into(),
                level: EnforcementLevel::HardMandatory,
            }],
            ..stack()
        };
        assert!(unmet(&pr(vec![approval("bob", 'b')]), &hard)[0]
            .message
            .contains("cannot be overridden"));
    }

    #[test]
    fn planguards_own_apply_check_never_blocks_mergeability() {
        let checks = |v: &[(&str, Option<&str>)]| -> Vec<(String, Option<String>)> {
            v.iter()
                .map(|(n, c)| (n.to_string(), c.map(str::to_owned)))
                .collect()
        };
        assert_eq!(mergeable(Some(true), "clean", &[]), Mergeable::Yes);
        assert_eq!(mergeable(None, "", &[]), Mergeable::Unknown);
        assert!(matches!(
            mergeable(Some(false), "dirty", &[]),
            Mergeable::No(_)
        ));
        assert!(matches!(
            mergeable(Some(true), "behind", &[]),
            Mergeable::No(_)
        ));
        let ok = checks(&[
            ("ci", Some("success")),
            ("planguard/apply: network", None),
            ("planguard/policy", Some("failure")),
        ]);
        assert_eq!(mergeable(Some(true), "blocked", &ok), Mergeable::Yes);
        let failing = checks(&[("ci", Some("failure"))]);
        assert_eq!(
            mergeable(Some(true), "blocked", &failing),
            Mergeable::No("`ci` is failure".into())
        );
    }
}
