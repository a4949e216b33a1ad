//! JSON output: the report's plans, findings, exceptions and policy errors, plus totals.
//!
//! The document is serde's pretty JSON of the report. A plan's change list and findings are
//! nearly all of it (30 MB at 100,000 changes, a tenth of a second on one thread after the
//! evaluation), so they are written in parallel and spliced into the rest of the document,
//! which is written without them. The result is byte for byte what serde writes for the
//! whole report at once (a test holds the two together).

use std::io::Write;

use rayon::prelude::*;
use serde::Serialize;

use crate::check::{PlanReport, Report, Totals};
use crate::policy::Evaluation;

/// The document: serialised straight from the report (building a `serde_json::Value` of a
/// plan with 100,000 changes first took longer than writing it).
#[derive(Serialize)]
struct Document<'a> {
    plans: &'a [PlanReport],
    summary: Totals,
}

/// The indentation of a plan's keys: the document's object, its `plans` array, the plan.
const PLAN_KEY_INDENT: &str = "      ";

/// Elements written by one task.
const CHUNK: usize = 2048;

pub fn json(report: &Report) -> String {
    let mut out = Vec::new();
    write_json(report, &mut out, CHUNK).expect("writing to memory");
    String::from_utf8(out).expect("serde writes UTF-8")
}

/// Writes [`json`]'s document to `out` in the pieces it is made of, so that it is never
/// whole in memory.
pub fn write(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    write_json(report, out, CHUNK)
}

fn write_json(report: &Report, out: &mut impl Write, chunk: usize) -> std::io::Result<()> {
    let outlines: Vec<PlanReport> = report.plans.iter().map(outline).collect();
    let (outline_text, lists) = rayon::join(
        || {
            serde_json::to_string_pretty(&Document {
                plans: &outlines,
                summary: report.totals(),
            })
            .expect("report serialises")
        },
        || {
            report
                .plans
                .par_iter()
                .map(|p| {
                    rayon::join(
                        || pretty_array(&p.changes, chunk),
                        || pretty_array(&p.evaluation.findings, chunk),
                    )
                })
                .collect::<Vec<_>>()
        },
    );
    // Every newline of pretty JSON is layout (a newline in a string is written `\n`), so each
    // plan's empty lists are found by their line, in the order the plans were written.
    let mut rest = outline_text.as_str();
    for (changes, findings) in &lists {
        for (key, list) in [("changes", changes), ("findings", findings)] {
            let empty = format!("\n{PLAN_KEY_INDENT}\"{key}\": []");
            let at = rest
                .find(&empty)
                .expect("each plan's outline lists its key");
            let (before, after) = rest.split_at(at + empty.len() - "[]".len());
            out.write_all(before.as_bytes())?;
            for piece in list {
                out.write_all(piece.as_bytes())?;
            }
            rest = &after["[]".len()..];
        }
    }
    out.write_all(rest.as_bytes())?;
    out.write_all(b"\n")
}

/// `plan` without its change list and findings. (Every field is named, so that a field added
/// to the report is a compile error here until it is carried.)
fn outline(plan: &PlanReport) -> PlanReport {
    let PlanReport {
        name,
        error,
        format_version,
        terraform_version,
        counts,
        changes: _,
        evaluation,
        phases: _,
    } = plan;
    let Evaluation {
        findings: _,
        exempted,
        failures,
        policies,
        evaluated,
        timings: _,
    } = evaluation;
    PlanReport {
        name: name.clone(),
        error: error.clone(),
        format_version: format_version.clone(),
        terraform_version: terraform_version.clone(),
        counts: *counts,
        changes: Vec::new(),
        evaluation: Evaluation {
            findings: Vec::new(),
            exempted: exempted.clone(),
            failures: failures.clone(),
            policies: *policies,
            evaluated: evaluated.clone(),
            timings: Default::default(),
        },
        phases: Vec::new(),
    }
}

/// `items` as serde's pretty JSON writes them as the value of a plan's key, in pieces.
fn pretty_array<T: Serialize + Sync>(items: &[T], chunk: usize) -> Vec<String> {
    if items.is_empty() {
        return vec!["[]".to_owned()];
    }
    let element_indent = format!("{PLAN_KEY_INDENT}  ");
    let chunks: Vec<String> = items
        .par_chunks(chunk.max(1))
        .map(|chunk| {
            let mut out = String::new();
            for item in chunk {
                if !out.is_empty() {
                    out.push_str(",\n");
                }
                let text = serde_json::to_string_pretty(item).expect("report serialises");
                for (i, line) in text.split('\n').enumerate() {
                    if i > 0 {
                        out.push('\n');
                    }
                    out.push_str(&element_indent);
                    out.push_str(line);
                }
            }
            out
        })
        .collect();
    let mut pieces = Vec::with_capacity(chunks.len() * 2 + 1);
    for (i, chunk) in chunks.into_iter().enumerate() {
        pieces.push(if i == 0 { "[\n" } else { ",\n" }.to_owned());
        pieces.push(chunk);
    }
    pieces.push(format!("\n{PLAN_KEY_INDENT}]"));
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::ChangeLine;
    use crate::policy::{Finding, Level, PolicyFailure};

    fn finding(i: usize) -> Finding {
        Finding {
            policy_id: format!("policy-{}", i % 3),
            rule: "deny".into(),
            level: if i % 2 == 0 {
                Level::Error
            } else {
                Level::Warning
            },
            message: format!("aws_s3_bucket.b{i}: a \"quoted\"\nmessage \\ on two lines"),
            address: (i % 4 != 0).then(|| format!("aws_s3_bucket.b{i}")),
            file: "p.rego".into(),
            line: 7,
            metadata: (i % 5 == 0).then(|| r#"{"a": [1, {"b": "\n"}]}"#.into()),
        }
    }

    fn plan(name: &str, changes: usize, findings: usize) -> PlanReport {
        PlanReport {
            name: name.into(),
            error: None,
            format_version: Some("1.2".into()),
            terraform_version: None,
            counts: Default::default(),
            changes: (0..changes)
                .map(|i| ChangeLine {
                    address: format!("aws_s3_bucket.b{i}"),
                    symbol: "+",
                    verb: "create",
                })
                .collect(),
            evaluation: Evaluation {
                findings: (0..findings).map(finding).collect(),
                failures: vec![PolicyFailure {
                    policy_id: "p".into(),
                    rule: None,
                    file: "p.rego".into(),
                    line: 1,
                    // A plan's keys written inside a message do not confuse the splice.
                    message: "\n      \"changes\": []".into(),
                }],
                policies: 3,
                evaluated: vec!["policy-0".into()],
                ..Default::default()
            },
            phases: Vec::new(),
        }
    }

    #[test]
    fn the_document_is_what_serde_writes_for_the_whole_report() {
        let mut unusable = plan("broken.json", 0, 0);
        unusable.error = Some("not a plan".into());
        let report = Report {
            plans: vec![
                plan("a.json", 7, 11),
                unusable,
                plan("c \"changes\": [].json", 1, 0),
            ],
            policies: Default::default(),
            duration: Default::default(),
        };
        let whole = serde_json::to_string_pretty(&Document {
            plans: &report.plans,
            summary: report.totals(),
        })
        .unwrap()
            + "\n";
        for chunk in [1, 2, 3, 100] {
            let mut out = Vec::new();
            write_json(&report, &mut out, chunk).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), whole, "chunks of {chunk}");
        }
        assert_eq!(json(&report), whole);
    }
}
