//! Policies: loading Rego (the embedded library and the user's own), evaluating it against a
//! plan with regorus, and running Rego unit tests.
//!
//! Conftest compatibility is the contract: `input` is the plan JSON, rules named `deny`,
//! `violation` or `warn` (optionally `_suffixed`) produce findings in every package, a result
//! is a string or an object with `msg`, and `exception` rules exempt `deny_`/`violation_`
//! rules by suffix. What this module adds is speed and containment: it converts only the parts
//! of a plan a policy reads, evaluates the library's per-resource policies on type-indexed
//! slices in parallel, bounds each evaluation's time, and keeps one broken policy from hiding
//! the others' results. It never prints; callers render [`Evaluation`]s.

mod ast;
mod batch;
mod eval;
pub mod export;
mod input;
mod json;
mod load;
pub mod memory;
pub mod meta;
mod native;
pub mod options;
mod verify;

use serde::{Deserialize, Serialize};

pub use eval::{Evaluation, Exempted, PolicyFailure, WholePlanResults};
pub use input::{PlanInput, RawSections};
pub use load::{builtin_sources, LoadError, LoadOptions, PolicySet, PolicySource, BUILTIN_PREFIX};
pub use meta::{PolicyMeta, Scope};
pub use native::register as register_builtins;
pub use verify::{run_tests, TestOutcome, TestReport};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// The conftest rule families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    Deny,
    Violation,
    Warn,
}

impl RuleKind {
    /// Classifies a rule name: `deny`, `deny_x`, `violation_y_z`, `warn`, ...
    pub fn of(name: &str) -> Option<RuleKind> {
        let (kind, rest) = [
            ("deny", RuleKind::Deny),
            ("violation", RuleKind::Violation),
            ("warn", RuleKind::Warn),
        ]
        .into_iter()
        .find_map(|(prefix, kind)| name.strip_prefix(prefix).map(|rest| (kind, rest)))?;
        let suffix_ok = rest.is_empty()
            || rest.strip_prefix('_').is_some_and(|s| {
                !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        suffix_ok.then_some(kind)
    }

    pub fn level(self) -> Level {
        match self {
            RuleKind::Deny | RuleKind::Violation => Level::Error,
            RuleKind::Warn => Level::Warning,
        }
    }
}

/// One result of one rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Finding {
    /// The policy's catalogue id, or its package for policies without metadata.
    pub policy_id: String,
    /// The rule that produced it (`deny`, `warn_unknown`, ...).
    pub rule: String,
    pub level: Level,
    pub message: String,
    /// The resource address, when the result names one (`address` or `resource` key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The policy file and the line of the rule.
    pub file: String,
    pub line: u32,
    /// Other keys of an object result, as JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_follow_conftest() {
        for (name, kind) in [
            ("deny", Some(RuleKind::Deny)),
            ("deny_open_ssh", Some(RuleKind::Deny)),
            ("violation", Some(RuleKind::Violation)),
            ("violation_x1", Some(RuleKind::Violation)),
            ("warn", Some(RuleKind::Warn)),
            ("warn_tags_unknown", Some(RuleKind::Warn)),
            ("denied", None),
            ("deny_", None),
            ("warning", None),
            ("allow", None),
            ("exception", None),
        ] {
            assert_eq!(RuleKind::of(name), kind, "{name}");
        }
    }
}
