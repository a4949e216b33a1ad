//! The state of one stack of a pull request: what is stored for it, what its PR comment section
//! and check runs are rendered from, and which of its findings block an apply.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::check::PlanReport;
use crate::policy::Level;
use crate::serve::enforcement::{self, EnforcementLevel};
use crate::serve::vcs::Annotation;

/// A stack's state as stored: what the comment and checks are built from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StackState {
    Queued,
    WaitingForLock {
        holder_pr: u64,
        holder_url: String,
    },
    Running,
    Planned {
        report: Box<PlanReport>,
        diff: String,
        plan_hash: String,
        /// Enforcement level of each policy with an error finding.
        levels: BTreeMap<String, EnforcementLevel>,
        /// Who may approve soft-mandatory findings (`@user`, `@org/team`).
        owners: Vec<String>,
        /// Findings located in the stack's files, for check annotations.
        #[serde(default)]
        annotations: Vec<Annotation>,
    },
    Errored {
        step: String,
        output: String,
    },
    Applying,
    Applied {
        output: String,
    },
    ApplyFailed {
        output: String,
    },
    Skipped {
        reason: String,
    },
}

/// A finding that blocks an apply until it is approved (soft) or fixed (hard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocking {
    pub policy_id: String,
    pub level: EnforcementLevel,
}

impl StackState {
    /// Error findings of a planned stack that are not advisory and not approved.
    pub fn blocking(&self, approved: &BTreeSet<String>) -> Vec<Blocking> {
        let StackState::Planned { report, levels, .. } = self else {
            return Vec::new();
        };
        let mut out: Vec<Blocking> = Vec::new();
        for f in report
            .evaluation
            .findings
            .iter()
            .filter(|f| f.level == Level::Error)
        {
            let level = enforcement::level_of(levels, &f.policy_id);
            let approved = approved.contains(&f.policy_id);
            if enforcement::blocks(f.level, level, approved)
                && !out.iter().any(|b| b.policy_id == f.policy_id)
            {
                out.push(Blocking {
                    policy_id: f.policy_id.clone(),
                    level,
                });
            }
        }
        out
    }
}
