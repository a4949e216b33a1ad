//! GitHub Actions workflow commands: `::error`/`::warning` annotations.
//!
//! Findings are annotated on the plan file with the policy id as title; policy errors are
//! annotated on the policy file at the failing line, so they show up in the PR's diff view
//! when the policy lives in the repository.

use std::fmt::Write as _;

use super::summary_line;
use crate::check::Report;
use crate::policy::Level;

/// Escapes a workflow command's message.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn prop(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn github(report: &Report) -> String {
    let mut out = String::new();
    for plan in &report.plans {
        if let Some(e) = &plan.error {
            let _ = writeln!(
                out,
                "::error file={},title=planguard: unusable input::{}",
                prop(&plan.name),
                data(e)
            );
        }
        for f in &plan.evaluation.findings {
            let cmd = match f.level {
                Level::Error => "error",
                Level::Warning => "warning",
            };
            let msg = match &f.address {
                Some(a) if !f.message.contains(a.as_str()) => format!("{a}: {}", f.message),
                _ => f.message.clone(),
            };
            let _ = writeln!(
                out,
                "::{cmd} file={},title={}::{}",
                prop(&plan.name),
                prop(&f.policy_id),
                data(&msg)
            );
        }
        for f in &plan.evaluation.failures {
            let _ = writeln!(
                out,
                "::error file={},line={},title={}::{}",
                prop(&f.file),
                f.line,
                prop(&format!("planguard policy error ({})", f.policy_id)),
                data(&f.message)
            );
        }
    }
    let _ = writeln!(out, "{}", summary_line(report));
    out
}
