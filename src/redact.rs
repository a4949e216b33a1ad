//! Redaction of sensitive values before anything is printed or posted.
//!
//! A plan marks values sensitive in `before_sensitive`/`after_sensitive` (per resource and
//! output) and in the configuration's variable declarations. [`Redactor::from_plan`] collects
//! the actual values under those markers, and [`Redactor::redact`] replaces every occurrence in
//! text with `(sensitive value)`. Policy messages are the main risk: a rule that interpolates
//! `rc.change.after.password` into its message must not leak it.
//!
//! Values shorter than [`MIN_LEN`] characters are not collected: redacting every `1` or `true`
//! would destroy the output and such values are not secrets.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde_json::Value as J;

use crate::plan::Plan;

/// The replacement text.
pub const MASK: &str = "(sensitive value)";
/// Shortest value that is redacted.
pub const MIN_LEN: usize = 4;

/// Known sensitive values of one plan.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so that a secret containing another is replaced whole.
    secrets: Vec<String>,
}

impl Redactor {
    /// Collects the sensitive values of a plan.
    pub fn from_plan(plan: &Plan<'_>) -> Redactor {
        let mut found = BTreeSet::new();
        let parse = |raw: Option<&serde_json::value::RawValue>| {
            raw.and_then(|r| serde_json::from_str::<J>(r.get()).ok())
        };
        // Only markers that contain `true` mark anything; most changes have none, and their
        // values are then never parsed.
        let marks_something = |raw: Option<&serde_json::value::RawValue>| {
            raw.is_some_and(|r| r.get().contains("true"))
        };
        for rc in plan.resource_changes.iter().chain(&plan.resource_drift) {
            for (value, marks) in [
                (rc.change.before, rc.change.before_sensitive),
                (rc.change.after, rc.change.after_sensitive),
            ] {
                if !marks_something(marks) {
                    continue;
                }
                if let (Some(v), Some(m)) = (parse(value), parse(marks)) {
                    collect_marked(&v, &m, &mut found);
                }
            }
        }
        for change in plan.output_changes.values() {
            for (value, marks) in [
                (change.before, change.before_sensitive),
                (change.after, change.after_sensitive),
            ] {
                if let (Some(v), Some(m)) = (parse(value), parse(marks)) {
                    collect_marked(&v, &m, &mut found);
                }
            }
        }
        if let Some(pv) = &plan.planned_values {
            for raw in pv.outputs.values() {
                if let Ok(o) = serde_json::from_str::<J>(raw.get()) {
                    if o["sensitive"] == J::Bool(true) {
                        collect_all(&o["value"], &mut found);
                    }
                }
            }
        }
        // Variables declared `sensitive = true` in the root module.
        let declared = plan
            .configuration
            .as_ref()
            .and_then(|c| c.root_module.as_ref())
            .and_then(|m| parse(m.variables));
        if let (Some(J::Object(decls)), Some(vars)) = (declared, &plan.variables) {
            for (name, decl) in decls {
                if decl["sensitive"] == J::Bool(true) {
                    if let Some(v) = vars.get(name.as_str()).and_then(|v| parse(v.value)) {
                        collect_all(&v, &mut found);
                    }
                }
            }
        }
        let mut secrets: Vec<String> = found
            .into_iter()
            .filter(|s| s.chars().count() >= MIN_LEN)
            .collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        Redactor { secrets }
    }

    /// Adds literal secrets (credentials, tokens) to redact as well; short ones are ignored.
    pub fn with_secrets<'s>(mut self, extra: impl IntoIterator<Item = &'s str>) -> Redactor {
        self.secrets.extend(
            extra
                .into_iter()
                .filter(|s| s.chars().count() >= MIN_LEN)
                .map(str::to_owned),
        );
        self.secrets
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        self.secrets.dedup();
        self
    }

    /// Whether there is anything to redact.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Replaces every known sensitive value in `text`.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), MASK));
            }
        }
        out
    }
}

/// Collects the values under `true` markers of a sensitivity structure.
fn collect_marked(value: &J, marks: &J, out: &mut BTreeSet<String>) {
    match (value, marks) {
        (_, J::Bool(true)) => collect_all(value, out),
        (J::Object(v), J::Object(m)) => {
            for (k, mark) in m {
                if let Some(child) = v.get(k) {
                    collect_marked(child, mark, out);
                }
            }
        }
        (J::Array(v), J::Array(m)) => {
            for (child, mark) in v.iter().zip(m) {
                collect_marked(child, mark, out);
            }
        }
        _ => {}
    }
}

fn collect_all(value: &J, out: &mut BTreeSet<String>) {
    match value {
        J::String(s) => {
            out.insert(s.clone());
        }
        J::Number(n) => {
            out.insert(n.to_string());
        }
        J::Array(items) => items.iter().for_each(|i| collect_all(i, out)),
        J::Object(map) => map.values().for_each(|i| collect_all(i, out)),
        J::Null | J::Bool(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_marked_values_and_sensitive_variables() {
        let json = r#"{"format_version":"1.2",
          "variables":{"db_password":{"value":"hunter2-secret"},"region":{"value":"eu-west-1"}},
          "resource_changes":[{"address":"aws_db_instance.x","type":"aws_db_instance","name":"x",
            "change":{"actions":["create"],"after":{"password":"s3cr3t-pw","tags":{"k":"visible"},"nested":[{"token":"tok-123456"}]},
            "after_sensitive":{"password":true,"nested":[{"token":true}]}}}],
          "configuration":{"root_module":{"variables":{"db_password":{"sensitive":true},"region":{}}}}}"#;
        let plan = crate::plan::parse("p", json).unwrap();
        let r = Redactor::from_plan(&plan);
        let out =
            r.redact("pw=s3cr3t-pw tok=tok-123456 var=hunter2-secret region=eu-west-1 tag=visible");
        assert_eq!(out, "pw=(sensitive value) tok=(sensitive value) var=(sensitive value) region=eu-west-1 tag=visible");
    }
}
