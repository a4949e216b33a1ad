//! Markdown output, as the PR bot posts it, and splitting at GitHub's comment limit.
//!
//! Errors are shown in a table up front; warnings, exceptions and the list of changes sit in
//! collapsible `<details>` sections so a long report stays readable.

use std::fmt::Write as _;

use super::summary_line;
use crate::catalogue;
use crate::check::Report;
use crate::policy::{Finding, Level};

/// GitHub's limit on a comment body, in characters.
pub const MAX_COMMENT: usize = 65_536;

/// Escapes text for a Markdown table cell.
pub fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\r', "")
        .replace('\n', "<br>")
}

/// A finding's resource address as a table cell (empty when it names none).
pub fn address_cell(f: &Finding) -> String {
    f.address
        .as_deref()
        .map(|a| format!("`{}`", cell(a)))
        .unwrap_or_default()
}

fn table(out: &mut String, findings: &[&Finding], report: &Report) {
    out.push_str("| | Policy | Resource | Message |\n|---|---|---|---|\n");
    for f in findings {
        let icon = match f.level {
            Level::Error => ":x:",
            Level::Warning => ":warning:",
        };
        let policy = if report.policies.contains_key(&f.policy_id) {
            format!("[`{}`]({})", f.policy_id, catalogue::anchor(&f.policy_id))
        } else {
            format!("`{}`", f.policy_id)
        };
        let _ = writeln!(
            out,
            "| {icon} | {policy} | {} | {} |",
            address_cell(f),
            cell(&f.message)
        );
    }
}

/// Renders the report as Markdown.
// Long on purpose: the report top to bottom, section by section, like the output it writes.
pub fn markdown(report: &Report) -> String {
    let t = report.totals();
    let verdict = if t.unreadable_plans + t.policy_failures > 0 {
        ":boom: planguard could not check everything"
    } else if t.errors > 0 {
        ":x: planguard found problems"
    } else if t.warnings > 0 {
        ":warning: planguard passed with warnings"
    } else {
        ":white_check_mark: planguard passed"
    };
    let mut out = format!("### {verdict}\n\n{}\n", summary_line(report));
    for plan in &report.plans {
        let _ = write!(out, "\n#### `{}`\n\n", cell(&plan.name));
        if let Some(err) = &plan.error {
            let _ = writeln!(
                out,
                "**Unusable input:**\n\n```\n{}\n```",
                err.replace("```", "'''")
            );
            continue;
        }
        let c = &plan.counts;
        let _ = writeln!(
            out,
            "Plan: **{}** to add, **{}** to change, **{}** to destroy, **{}** to replace.\n",
            c.create, c.update, c.delete, c.replace
        );
        let errors: Vec<&Finding> = plan
            .evaluation
            .findings
            .iter()
            .filter(|f| f.level == Level::Error)
            .collect();
        let warnings: Vec<&Finding> = plan
            .evaluation
            .findings
            .iter()
            .filter(|f| f.level == Level::Warning)
            .collect();
        if !errors.is_empty() {
            table(&mut out, &errors, report);
            out.push('\n');
        }
        if !warnings.is_empty() {
            let _ = writeln!(
                out,
                "<details><summary>{} warning(s)</summary>\n",
                warnings.len()
            );
            table(&mut out, &warnings, report);
            out.push_str("\n</details>\n\n");
        }
        if !plan.evaluation.failures.is_empty() {
            out.push_str("**Policy errors** (these policies could not be evaluated):\n\n");
            for f in &plan.evaluation.failures {
                let _ = writeln!(
                    out,
                    "- `{}:{}` ({}): {}",
                    f.file,
                    f.line,
                    f.policy_id,
                    cell(&f.message)
                );
            }
            out.push('\n');
        }
        if !plan.evaluation.exempted.is_empty() {
            out.push_str("<details><summary>Exceptions</summary>\n\n");
            for e in &plan.evaluation.exempted {
                let _ = writeln!(
                    out,
                    "- `{}` `{}`: {} result(s) exempted",
                    e.policy_id, e.rule, e.results
                );
            }
            out.push_str("\n</details>\n\n");
        }
        if errors.is_empty() && warnings.is_empty() && plan.evaluation.failures.is_empty() {
            let _ = writeln!(
                out,
                "No findings from {} policies.\n",
                plan.evaluation.evaluated.len()
            );
        }
        if !plan.changes.is_empty() {
            let _ = writeln!(
                out,
                "<details><summary>{} resource change(s)</summary>\n\n```diff",
                plan.changes.len()
            );
            for ch in &plan.changes {
                let sign = match ch.symbol {
                    "+" => "+",
                    "-" => "-",
                    "-/+" | "+/-" => "!",
                    _ => "~",
                };
                let _ = writeln!(out, "{sign} {} ({})", ch.address, ch.verb);
            }
            out.push_str("```\n\n</details>\n");
        }
    }
    out
}

/// Splits Markdown into parts of at most `limit` characters, at line boundaries, closing any
/// open code fence or `<details>` block at the end of a part and reopening it in the next.
pub fn split_markdown(md: &str, limit: usize) -> Vec<String> {
    const RESERVE: usize = 64; // room for closing and reopening markup
    let limit = limit.max(RESERVE * 4);
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut len = 0usize;
    let mut fence: Option<String> = None;
    let mut details: Vec<String> = Vec::new();
    for line in md.split_inclusive('\n') {
        let mut pieces: Vec<String> = Vec::new();
        // An over-long line is cut into pieces that fit.
        let chars: Vec<char> = line.chars().collect();
        for chunk in chars.chunks(limit - RESERVE * 2) {
            pieces.push(chunk.iter().collect());
        }
        for piece in pieces {
            let n = piece.chars().count();
            if len + n + RESERVE > limit && len > 0 {
                if fence.is_some() {
                    cur.push_str("```\n");
                }
                for _ in &details {
                    cur.push_str("\n</details>\n");
                }
                parts.push(std::mem::take(&mut cur));
                for d in &details {
                    cur.push_str(d);
                    cur.push('\n');
                }
                if let Some(f) = &fence {
                    cur.push_str(f);
                    cur.push('\n');
                }
                len = cur.chars().count();
            }
            let trimmed = piece.trim();
            if trimmed.starts_with("```") {
                fence = if fence.is_some() {
                    None
                } else {
                    Some(trimmed.to_owned())
                };
            } else if fence.is_none() {
                if trimmed.starts_with("<details>") {
                    details.push(trimmed.to_owned());
                }
                if trimmed.ends_with("</details>") {
                    details.pop();
                }
            }
            cur.push_str(&piece);
            len += n;
        }
    }
    if !cur.is_empty() || parts.is_empty() {
        parts.push(cur);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_without_breaking_fences_or_details() {
        let mut md = String::from("### title\n\n<details><summary>x</summary>\n\n```diff\n");
        for i in 0..2000 {
            md.push_str(&format!("+ aws_instance.web_{i} (create)\n"));
        }
        md.push_str("```\n\n</details>\n");
        let parts = split_markdown(&md, 4096);
        assert!(parts.len() > 5);
        for p in &parts {
            assert!(p.chars().count() <= 4096, "part too long: {}", p.len());
            assert_eq!(
                p.matches("```").count() % 2,
                0,
                "unbalanced fence in part:\n{p}"
            );
            assert_eq!(
                p.matches("<details>").count(),
                p.matches("</details>").count()
            );
        }
        let rejoined: usize = parts
            .iter()
            .map(|p| p.matches("aws_instance.web_").count())
            .sum();
        assert_eq!(rejoined, 2000, "no line is lost or duplicated");
    }

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(
            split_markdown("hello\n", MAX_COMMENT),
            vec!["hello\n".to_owned()]
        );
    }
}
