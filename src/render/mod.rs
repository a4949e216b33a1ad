//! Report formats: what `check` prints and what the PR bot posts.
//!
//! Every renderer is a pure function from a [`Report`] to text, so tests snapshot them
//! directly. Findings arrive already redacted by [`crate::check`].

pub mod diff;
mod github;
mod json;
mod junit;
pub mod markdown;
mod sarif;
mod text;

use crate::check::Report;

pub use markdown::{markdown, split_markdown, MAX_COMMENT};

/// Output formats of `planguard check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Grouped by resource, for people (coloured on a terminal).
    #[default]
    Text,
    /// Machine-readable findings.
    Json,
    /// For pull request comments.
    Markdown,
    /// SARIF 2.1.0 for GitHub code scanning.
    Sarif,
    /// JUnit XML for CI test reports.
    Junit,
    /// GitHub Actions workflow commands (`::error ...`).
    Github,
}

/// Renders a report. `color` applies to text only.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Text => text::text(report, color),
        Format::Json => json::json(report),
        Format::Markdown => markdown(report),
        Format::Sarif => sarif::sarif(report),
        Format::Junit => junit::junit(report),
        Format::Github => github::github(report),
    }
}

/// Writes the report in `format` to `out`: what [`render`] returns, except that the JSON
/// document is written in the pieces it is made of in parallel, never whole in memory.
pub fn write(
    report: &Report,
    format: Format,
    color: bool,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write(report, out),
        _ => out.write_all(render(report, format, color).as_bytes()),
    }
}

/// The one-line summary every format shares.
pub fn summary_line(report: &Report) -> String {
    let t = report.totals();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = vec![
        plural(t.plans, "plan", "plans"),
        plural(t.errors, "error", "errors"),
        plural(t.warnings, "warning", "warnings"),
    ];
    if t.exempted > 0 {
        parts.push(plural(t.exempted, "exception", "exceptions"));
    }
    if t.policy_failures > 0 {
        parts.push(plural(t.policy_failures, "policy error", "policy errors"));
    }
    if t.unreadable_plans > 0 {
        parts.push(plural(
            t.unreadable_plans,
            "unreadable plan",
            "unreadable plans",
        ));
    }
    parts.join(", ")
}
