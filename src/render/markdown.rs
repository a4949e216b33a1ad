//! Markdown output, as the PR bot posts it.

use crate::check::Report;

/// GitHub's limit on a comment body.
pub const MAX_COMMENT: usize = 65_536;

pub fn markdown(report: &Report) -> String {
    super::summary_line(report)
}

/// Splits Markdown into comment-sized parts.
pub fn split_markdown(md: &str, limit: usize) -> Vec<String> {
    vec![md.chars().take(limit).collect()]
}
