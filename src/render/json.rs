//! JSON output: the report's plans, findings, exceptions and policy errors, plus totals.

use serde::Serialize;

use crate::check::{PlanReport, Report, Totals};

/// The document: serialised straight from the report (building a `serde_json::Value` of a
/// plan with 100,000 changes first took longer than writing it).
#[derive(Serialize)]
struct Document<'a> {
    plans: &'a [PlanReport],
    summary: Totals,
}

pub fn json(report: &Report) -> String {
    let document = Document {
        plans: &report.plans,
        summary: report.totals(),
    };
    let mut s = serde_json::to_string_pretty(&document).expect("report serialises");
    s.push('\n');
    s
}
