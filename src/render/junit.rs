//! JUnit XML: one test suite per plan, one test case per evaluated policy.
//!
//! A policy with error findings fails its test case (every finding listed in the failure
//! body); warnings are written to `system-out`; a policy error or an unreadable plan is an
//! `<error>`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::check::Report;
use crate::policy::{Finding, Level};

/// Escapes text for XML content and attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

fn line(f: &Finding) -> String {
    match &f.address {
        Some(a) => format!("{a}: {} [{}:{}]", f.message, f.file, f.line),
        None => format!("{} [{}:{}]", f.message, f.file, f.line),
    }
}

pub fn junit(report: &Report) -> String {
    let mut suites = String::new();
    let (mut all_tests, mut all_failures, mut all_errors) = (0, 0, 0);
    for plan in &report.plans {
        let mut cases = String::new();
        let (mut tests, mut failures, mut errors) = (0, 0, 0);
        if let Some(e) = &plan.error {
            tests += 1;
            errors += 1;
            let _ = writeln!(
                cases,
                "    <testcase name=\"read plan\" classname=\"{}\">\n      <error message=\"unusable input\">{}</error>\n    </testcase>",
                esc(&plan.name),
                esc(e)
            );
        }
        let mut by_policy: BTreeMap<&str, Vec<&Finding>> = plan
            .evaluation
            .evaluated
            .iter()
            .map(|id| (id.as_str(), Vec::new()))
            .collect();
        for f in &plan.evaluation.findings {
            by_policy.entry(&f.policy_id).or_default().push(f);
        }
        for (id, findings) in &by_policy {
            tests += 1;
            let _ = writeln!(
                cases,
                "    <testcase name=\"{}\" classname=\"{}\">",
                esc(id),
                esc(&plan.name)
            );
            let errs: Vec<&&Finding> = findings
                .iter()
                .filter(|f| f.level == Level::Error)
                .collect();
            let warns: Vec<&&Finding> = findings
                .iter()
                .filter(|f| f.level == Level::Warning)
                .collect();
            let policy_failures: Vec<_> = plan
                .evaluation
                .failures
                .iter()
                .filter(|f| f.policy_id == *id)
                .collect();
            if !policy_failures.is_empty() {
                errors += 1;
                let body: Vec<String> = policy_failures
                    .iter()
                    .map(|f| format!("{}:{}: {}", f.file, f.line, f.message))
                    .collect();
                let _ = writeln!(
                    cases,
                    "      <error message=\"policy error\">{}</error>",
                    esc(&body.join("\n"))
                );
            } else if !errs.is_empty() {
                failures += 1;
                let body: Vec<String> = errs.iter().map(|f| line(f)).collect();
                let _ = writeln!(
                    cases,
                    "      <failure message=\"{} error finding(s)\" type=\"{}\">{}</failure>",
                    errs.len(),
                    esc(id),
                    esc(&body.join("\n"))
                );
            }
            if !warns.is_empty() {
                let body: Vec<String> = warns
                    .iter()
                    .map(|f| format!("warning: {}", line(f)))
                    .collect();
                let _ = writeln!(
                    cases,
                    "      <system-out>{}</system-out>",
                    esc(&body.join("\n"))
                );
            }
            cases.push_str("    </testcase>\n");
        }
        all_tests += tests;
        all_failures += failures;
        all_errors += errors;
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">\n{cases}  </testsuite>\n",
            esc(&plan.name)
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"planguard\" tests=\"{all_tests}\" failures=\"{all_failures}\" errors=\"{all_errors}\">\n{suites}</testsuites>\n"
    )
}
