//! JSON output: the report's plans, findings, exceptions and policy errors, plus totals.

use crate::check::Report;

pub fn json(report: &Report) -> String {
    let value = serde_json::json!({
        "plans": report.plans,
        "summary": report.totals(),
    });
    let mut s = serde_json::to_string_pretty(&value).expect("report serialises");
    s.push('\n');
    s
}
