//! The one planguard comment on a pull request: every stack's state, findings and plan diff,
//! and what to do next, split at GitHub's comment limit.
//!
//! This module owns the layout of that comment and nothing else: the server decides what each
//! stack's state is, which findings are gated how and who approved them, and posts the parts.
//! Everything it is given is shown as given (the caller redacts), except that table cells are
//! escaped and command output is trimmed to its last lines, with terminal colour codes removed
//! and code fences defused.
//!
//! Layout: a marker line the server finds the comment by, a heading with the commit, one
//! summary row per stack, then a section per stack, then "Next step". When the comment is too
//! long it is split with [`split_markdown`]; part 1 keeps the summary, the other parts start
//! with [`CONTINUATION_MARKER`], and "Next step" ends the last part.
//!
//! A finding blocks when it is at the error level and its gate is not advisory, unless the gate
//! is soft-mandatory and someone approved it. A finding whose policy has no gate blocks like a
//! hard-mandatory one. Warnings never block.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::catalogue;
use crate::check::PlanReport;
use crate::policy::{Finding, Level, PolicyMeta};
use crate::render::markdown::{address_cell, cell};
use crate::render::{split_markdown, MAX_COMMENT};
use crate::serve::enforcement::{self, EnforcementLevel};
pub use crate::serve::stack::StackState;

/// The first line of the comment (and of part 1 when it is split).
pub const MARKER: &str = "<!-- planguard:pr-comment -->";
/// The first line of parts 2 and later.
pub const CONTINUATION_MARKER: &str = "<!-- planguard:pr-comment:continued -->";
/// Lines of command output shown, from the end.
const OUTPUT_LINES: usize = 60;
/// Room left in every part for the continuation header and footer.
const PART_NOTE_ROOM: usize = 256;

/// Which pull request and commit the comment is about.
#[derive(Debug, Clone, Copy)]
pub struct CommentContext<'a> {
    pub repo: &'a str,
    pub pr: u64,
    /// The full head commit; the comment shows 7 characters.
    pub head_sha: &'a str,
}

/// How a policy's findings are enforced on this stack, and whether they were approved.
#[derive(Debug, Clone)]
pub struct FindingGate {
    pub policy_id: String,
    pub level: EnforcementLevel,
    pub approved_by: Option<String>,
    /// Who may approve, as mentions: `@alice, @acme/security`.
    pub approvers: String,
}

/// One stack of the pull request.
#[derive(Debug, Clone)]
pub struct StackView {
    pub name: String,
    pub dir: String,
    pub workspace: String,
    /// The commit the stack's state is for.
    pub sha: String,
    pub state: StackState,
    /// How the gate treats each policy with an error finding (planned stacks only).
    pub gates: Vec<FindingGate>,
}

/// Renders the whole comment and splits it at GitHub's limit. Part 1 starts with the summary.
pub fn render(
    ctx: &CommentContext,
    stacks: &[StackView],
    policies: &BTreeMap<String, PolicyMeta>,
) -> Vec<String> {
    let views: Vec<View> = stacks.iter().map(View::of).collect();
    let mut md = String::new();
    summary(&mut md, ctx, &views);
    for v in &views {
        section(&mut md, ctx, v, policies);
    }
    next_step(&mut md, &views);
    let mut parts = split_markdown(&md, MAX_COMMENT - PART_NOTE_ROOM);
    mend_continuations(&mut parts);
    let n = parts.len();
    if n > 1 {
        for (i, part) in parts.iter_mut().enumerate() {
            if i > 0 {
                part.insert_str(
                    0,
                    &format!(
                        "{CONTINUATION_MARKER}\n**planguard: plan for {}**, part {} of {n}\n\n",
                        short(ctx.head_sha),
                        i + 1
                    ),
                );
            }
            if i + 1 < n {
                let _ = write!(
                    part,
                    "\n*Continued in the next comment (part {} of {n}).*\n",
                    i + 2
                );
            }
        }
    }
    parts
}

/// Makes each continuation part render on its own. [`split_markdown`] reopens `<details>`
/// blocks at the top of a part without the blank line GitHub needs before Markdown inside
/// HTML, and a table cut in two continues without its header, which leaves bare text.
fn mend_continuations(parts: &mut [String]) {
    // The header and delimiter rows of the last table seen so far.
    let mut header = String::new();
    for (i, part) in parts.iter_mut().enumerate() {
        if i > 0 {
            let mut mended = String::with_capacity(part.len() + 128);
            let mut rest = part.as_str();
            while rest.starts_with("<details>") {
                let end = rest.find('\n').map_or(rest.len(), |n| n + 1);
                mended.push_str(&rest[..end]);
                rest = &rest[end..];
                if !rest.starts_with('\n') {
                    mended.push('\n');
                }
            }
            let top: Vec<&str> = rest.lines().take(2).collect();
            if top.first().is_some_and(|l| l.starts_with('|')) && !is_table_header(&top) {
                mended.push_str(&header);
            }
            mended.push_str(rest);
            *part = mended;
        }
        let lines: Vec<&str> = part.lines().collect();
        if let Some(n) = (0..lines.len())
            .rev()
            .find(|&n| is_table_header(&lines[n..]))
        {
            header = format!("{}\n{}\n", lines[n], lines[n + 1]);
        }
    }
}

/// Whether the lines start with a table's header row and delimiter row.
fn is_table_header(lines: &[&str]) -> bool {
    matches!(lines, [head, delim, ..] if head.starts_with('|') && delim.starts_with("|--"))
}

fn short(sha: &str) -> &str {
    sha.char_indices().nth(7).map_or(sha, |(i, _)| &sha[..i])
}

/// A finding with its gate, classified.
struct Row<'a> {
    finding: &'a Finding,
    gate: Option<&'a FindingGate>,
}

impl Row<'_> {
    fn enforcement(&self) -> EnforcementLevel {
        self.gate.map_or(EnforcementLevel::DEFAULT, |g| g.level)
    }

    fn approved_by(&self) -> Option<&str> {
        self.gate.and_then(|g| g.approved_by.as_deref())
    }

    fn blocks(&self) -> bool {
        enforcement::blocks(
            self.finding.level,
            self.enforcement(),
            self.approved_by().is_some(),
        )
    }
}

/// What a stack amounts to, for its icon and the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Clean,
    Warnings,
    Blocked,
    Error,
    ApplyFailed,
    Pending,
    Locked,
    Applied,
    Skipped,
}

/// A stack with its findings sorted out.
struct View<'a> {
    stack: &'a StackView,
    rows: Vec<Row<'a>>,
    outcome: Outcome,
}

impl<'a> View<'a> {
    fn of(stack: &'a StackView) -> View<'a> {
        let mut rows = Vec::new();
        let outcome = match &stack.state {
            StackState::Queued | StackState::Running | StackState::Applying => Outcome::Pending,
            StackState::WaitingForLock { .. } => Outcome::Locked,
            StackState::Errored { .. } => Outcome::Error,
            StackState::ApplyFailed { .. } => Outcome::ApplyFailed,
            StackState::Applied { .. } => Outcome::Applied,
            StackState::Skipped { .. } => Outcome::Skipped,
            StackState::Planned { report, .. } => {
                rows = report
                    .evaluation
                    .findings
                    .iter()
                    .map(|f| Row {
                        finding: f,
                        gate: stack.gates.iter().find(|g| g.policy_id == f.policy_id),
                    })
                    .collect();
                if report.error.is_some() || !report.evaluation.failures.is_empty() {
                    Outcome::Error
                } else if rows.iter().any(Row::blocks) {
                    Outcome::Blocked
                } else if rows.is_empty() {
                    Outcome::Clean
                } else {
                    Outcome::Warnings
                }
            }
        };
        View {
            stack,
            rows,
            outcome,
        }
    }

    fn icon(&self) -> &'static str {
        match self.outcome {
            Outcome::Clean => ":white_check_mark:",
            Outcome::Warnings => ":warning:",
            Outcome::Blocked => ":x:",
            Outcome::Error | Outcome::ApplyFailed => ":boom:",
            Outcome::Pending => ":hourglass:",
            Outcome::Locked => ":lock:",
            Outcome::Applied => ":rocket:",
            Outcome::Skipped => ":fast_forward:",
        }
    }

    /// The result cell of the summary table.
    fn result(&self) -> String {
        let text = match &self.stack.state {
            StackState::Queued => "queued".to_owned(),
            StackState::Running => "running".to_owned(),
            StackState::Applying => "applying".to_owned(),
            StackState::WaitingForLock {
                holder_pr,
                holder_url,
            } => format!("waiting for the lock held by [#{holder_pr}]({holder_url})"),
            StackState::Errored { step, .. } => format!("`{}` failed", cell(step)),
            StackState::Applied { .. } => "applied".to_owned(),
            StackState::ApplyFailed { .. } => "apply failed".to_owned(),
            StackState::Skipped { .. } => "skipped".to_owned(),
            StackState::Planned { report, .. } => {
                if report.error.is_some() {
                    "unreadable plan".to_owned()
                } else if !report.evaluation.failures.is_empty() {
                    plural(
                        report.evaluation.failures.len(),
                        "policy error",
                        "policy errors",
                    )
                } else {
                    self.finding_tally()
                }
            }
        };
        format!("{} {text}", self.icon())
    }

    /// `1 blocking, 1 approved, 2 warnings`, or `no findings`.
    fn finding_tally(&self) -> String {
        let (mut blocking, mut approved, mut advisory, mut warnings) = (0, 0, 0, 0);
        for r in &self.rows {
            if r.finding.level == Level::Warning {
                warnings += 1;
            } else if r.blocks() {
                blocking += 1;
            } else if r.approved_by().is_some() {
                approved += 1;
            } else {
                advisory += 1;
            }
        }
        let parts: Vec<String> = [
            (blocking, "blocking", "blocking"),
            (approved, "approved", "approved"),
            (advisory, "advisory", "advisory"),
            (warnings, "warning", "warnings"),
        ]
        .into_iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, one, many)| plural(n, one, many))
        .collect();
        if parts.is_empty() {
            "no findings".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn summary(out: &mut String, ctx: &CommentContext, views: &[View]) {
    let _ = writeln!(
        out,
        "{MARKER}\n### planguard: plan for {}\n",
        short(ctx.head_sha)
    );
    if views.is_empty() {
        out.push_str("No stacks are affected by this pull request.\n");
        return;
    }
    out.push_str("| stack | dir | result | + | ~ | - | -/+ |\n|---|---|---|--:|--:|--:|--:|\n");
    for v in views {
        let s = v.stack;
        let counts = match &s.state {
            StackState::Planned { report, .. } if report.error.is_none() => {
                let c = &report.counts;
                format!(
                    " {} | {} | {} | {} ",
                    c.create, c.update, c.delete, c.replace
                )
            }
            _ => " | | | ".to_owned(),
        };
        let _ = writeln!(
            out,
            "| `{}` | `{}`{} | {} |{counts}|",
            cell(&s.name),
            cell(&s.dir),
            workspace_note(s),
            v.result(),
        );
    }
}

/// ` (workspace `prod`)` for stacks not in the default workspace.
fn workspace_note(s: &StackView) -> String {
    if s.workspace == "default" || s.workspace.is_empty() {
        String::new()
    } else {
        format!(" (workspace `{}`)", cell(&s.workspace))
    }
}

fn section(
    out: &mut String,
    ctx: &CommentContext,
    v: &View,
    policies: &BTreeMap<String, PolicyMeta>,
) {
    let s = v.stack;
    let _ = write!(
        out,
        "\n#### {} `{}`\n\nDirectory `{}`, workspace `{}`",
        v.icon(),
        s.name,
        s.dir,
        s.workspace
    );
    if !s.sha.is_empty() && s.sha != ctx.head_sha {
        let _ = write!(
            out,
            ", at commit {} (the pull request's head is {})",
            short(&s.sha),
            short(ctx.head_sha)
        );
    }
    out.push_str(".\n\n");
    match &s.state {
        StackState::Queued => {
            out.push_str("Queued: the plan starts when a runner is free.\n");
        }
        StackState::Running => {
            out.push_str("Running: this comment is updated when it finishes.\n");
        }
        StackState::Applying => {
            out.push_str(
                "Applying: the saved plan is being applied; this comment is updated when it \
                 finishes.\n",
            );
        }
        StackState::WaitingForLock {
            holder_pr,
            holder_url,
        } => {
            let _ = writeln!(
                out,
                "Stack `{}` is locked by [#{holder_pr}]({holder_url}); this plan is queued and \
                 runs when the lock is released.",
                s.name
            );
        }
        StackState::Errored { step, output } => {
            let _ = writeln!(out, "**`{step}` failed.**\n");
            output_block(out, output);
        }
        StackState::ApplyFailed { output } => {
            out.push_str("**Apply failed.**\n\n");
            output_block(out, output);
        }
        StackState::Applied { output } if output.trim().is_empty() => {
            out.push_str("Applied.\n");
        }
        StackState::Applied { output } => {
            out.push_str("Applied.\n\n<details><summary>Show apply output</summary>\n\n");
            output_block(out, output);
            out.push_str("\n</details>\n");
        }
        StackState::Skipped { reason } => {
            let _ = writeln!(out, "Skipped: {reason}");
        }
        StackState::Planned { report, diff, .. } => planned(out, v, report, diff, policies),
    }
}

fn planned(
    out: &mut String,
    v: &View,
    report: &PlanReport,
    diff: &str,
    policies: &BTreeMap<String, PolicyMeta>,
) {
    if let Some(err) = &report.error {
        out.push_str("**planguard could not read the plan:**\n\n");
        fenced(out, "text", err);
        return;
    }
    let c = &report.counts;
    if report.changes.is_empty() {
        out.push_str("No changes: the infrastructure matches the configuration.\n\n");
    } else {
        let _ = write!(
            out,
            "Plan: **{}** to add, **{}** to change, **{}** to destroy, **{}** to replace",
            c.create, c.update, c.delete, c.replace
        );
        if c.forget > 0 {
            let _ = write!(out, ", **{}** to forget", c.forget);
        }
        out.push_str(".\n\n");
    }
    let (errors, warnings): (Vec<&Row>, Vec<&Row>) =
        v.rows.iter().partition(|r| r.finding.level == Level::Error);
    if !errors.is_empty() {
        findings_table(out, &errors, policies);
        out.push('\n');
    }
    if !warnings.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>:warning: {}</summary>\n",
            plural(warnings.len(), "warning", "warnings")
        );
        findings_table(out, &warnings, policies);
        out.push_str("\n</details>\n\n");
    }
    let failures = &report.evaluation.failures;
    if !failures.is_empty() {
        out.push_str("**These policies could not be evaluated:**\n\n");
        for f in failures {
            let _ = writeln!(
                out,
                "- {} (`{}`, line {}): {}",
                policy_link(&f.policy_id, policies),
                f.file,
                f.line,
                cell(&f.message)
            );
        }
        out.push('\n');
    }
    let exempted: usize = report.evaluation.exempted.iter().map(|e| e.results).sum();
    if exempted > 0 {
        let _ = writeln!(
            out,
            "{} exempted by `exception` rules.\n",
            plural(exempted, "result", "results")
        );
    }
    if v.rows.is_empty() && failures.is_empty() {
        let _ = writeln!(
            out,
            "No findings from {}.\n",
            plural(report.evaluation.evaluated.len(), "policy", "policies")
        );
    }
    if !diff.trim().is_empty() {
        out.push_str("<details><summary>Show plan diff</summary>\n\n");
        fenced(out, "diff", diff);
        out.push_str("\n</details>\n");
    }
}

fn policy_link(id: &str, policies: &BTreeMap<String, PolicyMeta>) -> String {
    if policies.contains_key(id) {
        format!("[`{id}`]({})", catalogue::anchor(id))
    } else {
        format!("`{}`", cell(id))
    }
}

fn findings_table(out: &mut String, rows: &[&Row], policies: &BTreeMap<String, PolicyMeta>) {
    out.push_str("| | policy | resource | message | enforcement |\n|---|---|---|---|---|\n");
    for r in rows {
        let f = r.finding;
        let (icon, enforcement) = match (f.level, r.enforcement(), r.approved_by()) {
            (Level::Warning, ..) => (
                ":warning:",
                r.gate.map_or("warning".to_owned(), |g| g.level.to_string()),
            ),
            (_, EnforcementLevel::Advisory, _) => (":information_source:", "advisory".to_owned()),
            (_, EnforcementLevel::SoftMandatory, Some(who)) => (
                ":white_check_mark:",
                format!("soft-mandatory, approved by {}", cell(who)),
            ),
            (_, EnforcementLevel::SoftMandatory, None) => (
                ":x:",
                match r.gate.map(|g| g.approvers.trim()) {
                    Some(who) if !who.is_empty() => {
                        format!("soft-mandatory: needs approval from {}", cell(who))
                    }
                    _ => "soft-mandatory: needs approval".to_owned(),
                },
            ),
            (_, EnforcementLevel::HardMandatory, _) => {
                (":x:", "hard-mandatory: must be fixed".to_owned())
            }
        };
        let _ = writeln!(
            out,
            "| {icon} | {} | {} | {} | {enforcement} |",
            policy_link(&f.policy_id, policies),
            address_cell(f),
            cell(&f.message)
        );
    }
}

/// The last [`OUTPUT_LINES`] lines of command output in a code block.
fn output_block(out: &mut String, output: &str) {
    let clean = terminal_text(output);
    let lines: Vec<&str> = clean.lines().collect();
    if lines.iter().all(|l| l.trim().is_empty()) {
        out.push_str("There was no output.\n");
        return;
    }
    let start = lines.len().saturating_sub(OUTPUT_LINES);
    if start > 0 {
        let _ = writeln!(
            out,
            "The last {OUTPUT_LINES} of {} lines of output:\n",
            lines.len()
        );
    }
    fenced(out, "text", &lines[start..].join("\n"));
}

/// Output as a terminal would leave it: colour and cursor codes removed, and of a line
/// rewritten with carriage returns only the last version.
fn terminal_text(s: &str) -> String {
    let mut plain = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters and intermediates, then one final byte in @..~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        plain.push(c);
    }
    plain
        .split('\n')
        .map(|line| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            line.rsplit('\r').next().unwrap_or(line)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A fenced code block. A ```` ``` ```` inside would end the block early, so it is defused.
fn fenced(out: &mut String, info: &str, body: &str) {
    let _ = writeln!(
        out,
        "```{info}\n{}\n```",
        body.trim_end_matches('\n').replace("```", "'''")
    );
}

// Long on purpose: one sentence per stack outcome, in the order the comment shows them.
fn next_step(out: &mut String, views: &[View]) {
    if views.is_empty() {
        return;
    }
    let names = |o: Outcome| -> Vec<&str> {
        views
            .iter()
            .filter(|v| v.outcome == o)
            .map(|v| v.stack.name.as_str())
            .collect()
    };
    let ready: Vec<&str> = views
        .iter()
        .filter(|v| matches!(v.outcome, Outcome::Clean | Outcome::Warnings))
        .map(|v| v.stack.name.as_str())
        .collect();
    let waiting = views
        .iter()
        .filter(|v| matches!(v.outcome, Outcome::Pending | Outcome::Locked))
        .count();
    let mut steps: Vec<String> = Vec::new();
    for name in names(Outcome::Error) {
        steps.push(format!(
            "`{name}`: fix the error and push, or comment `planguard plan -p {name}` to retry."
        ));
    }
    for name in names(Outcome::ApplyFailed) {
        steps.push(format!(
            "`{name}`: fix the error and push, or comment `planguard apply -p {name}` to retry \
             the apply."
        ));
    }
    for v in views.iter().filter(|v| v.outcome == Outcome::Blocked) {
        let name = &v.stack.name;
        let mut soft: BTreeMap<&str, &str> = BTreeMap::new();
        let mut hard: Vec<&str> = Vec::new();
        for r in v.rows.iter().filter(|r| r.blocks()) {
            let id = r.finding.policy_id.as_str();
            match (r.enforcement(), r.gate) {
                (EnforcementLevel::SoftMandatory, Some(g)) => {
                    soft.insert(id, g.approvers.trim());
                }
                _ if !hard.contains(&id) => hard.push(id),
                _ => {}
            }
        }
        for (id, who) in soft {
            if who.is_empty() {
                steps.push(format!(
                    "`{name}`: `{id}` is soft-mandatory, but no policy owner is configured to \
                     approve it (`[policy_owners]` on the server or `policy_owners` in \
                     planguard.yaml); fix it and push."
                ));
                continue;
            }
            steps.push(format!(
                "`{name}`: `{id}` is soft-mandatory: {} may approve it by commenting \
                 `planguard approve_policies -p {name}`, or fix it and push.",
                cell(who)
            ));
        }
        for id in hard {
            steps.push(format!(
                "`{name}`: `{id}` is hard-mandatory: it must be fixed in the code, then push."
            ));
        }
    }
    let problems = !steps.is_empty();
    let applying: Vec<&str> = views
        .iter()
        .filter(|v| matches!(v.stack.state, StackState::Applying))
        .map(|v| v.stack.name.as_str())
        .collect();
    let waiting = waiting - applying.len();
    for name in &applying {
        steps.push(format!(
            "`{name}` is applying; this comment is updated when it finishes."
        ));
    }
    if waiting > 0 {
        steps.push(if waiting == 1 {
            "1 stack is not planned yet; this comment is updated when it finishes.".to_owned()
        } else {
            format!(
                "{waiting} stacks are not planned yet; this comment is updated when they finish."
            )
        });
    }
    match ready.as_slice() {
        [] => {}
        [one] if !problems && waiting == 0 => {
            steps.push(format!("Comment `planguard apply` to apply `{one}`."));
        }
        _ if !problems && waiting == 0 => steps.push(
            "Comment `planguard apply` to apply all stacks, or `planguard apply -p <stack>` to \
             apply one."
                .to_owned(),
        ),
        some => {
            for name in some {
                steps.push(format!(
                    "`{name}` is ready: comment `planguard apply -p {name}` to apply it on its own."
                ));
            }
        }
    }
    if steps.is_empty() {
        let done = if views.iter().all(|v| v.outcome == Outcome::Applied) {
            "Every stack is applied."
        } else {
            "Nothing to apply."
        };
        steps.push(done.to_owned());
    }
    out.push_str("\n#### Next step\n\n");
    if let [only] = steps.as_slice() {
        let _ = writeln!(out, "{only}");
    } else {
        for s in steps {
            let _ = writeln!(out, "- {s}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check_one;
    use crate::plan::PlanText;
    use crate::policy::PolicySet;
    use crate::redact::Redactor;
    use crate::render::diff::render_diff;

    const HEAD: &str = "4f2c9e1b7a3d5e6f8091a2b3c4d5e6f708192a3b";
    const CTX: CommentContext<'static> = CommentContext {
        repo: "acme/infra",
        pr: 42,
        head_sha: HEAD,
    };

    fn fixture(name: &str) -> String {
        let path = format!("{}/testdata/comment/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The two policies of `testdata/comment`: `s3-encryption` (with catalogue metadata) and
    /// `comment.owner_tag` (a plain conftest policy).
    fn policy_set() -> PolicySet {
        PolicySet::from_user_texts(
            ["s3-encryption.rego", "owner-tag.rego"]
                .into_iter()
                .map(|f| (format!("testdata/comment/{f}"), fixture(f))),
        )
    }

    fn catalogue(set: &PolicySet) -> BTreeMap<String, PolicyMeta> {
        set.catalogue()
            .iter()
            .map(|(m, _)| (m.id.clone(), m.clone()))
            .collect()
    }

    /// A stack's state and its gates.
    struct Section(StackState, Vec<FindingGate>);

    impl From<StackState> for Section {
        fn from(state: StackState) -> Section {
            Section(state, Vec::new())
        }
    }

    /// Checks and diffs a plan the way the server does.
    fn planned(name: &str, json: String, set: &PolicySet, gates: Vec<FindingGate>) -> Section {
        let plan = crate::plan::parse(name, &json).unwrap();
        let diff = render_diff(&plan, &Redactor::from_plan(&plan));
        let text = PlanText {
            name: name.to_owned(),
            json: json.clone(),
        };
        let levels = gates
            .iter()
            .map(|g| (g.policy_id.clone(), g.level))
            .collect();
        let state = StackState::Planned {
            report: Box::new(check_one(Ok(text), set)),
            diff,
            plan_hash: String::new(),
            levels,
            owners: Vec::new(),
            annotations: Vec::new(),
        };
        Section(state, gates)
    }

    fn stack(name: &str, section: impl Into<Section>) -> StackView {
        let Section(state, gates) = section.into();
        StackView {
            name: name.to_owned(),
            dir: format!("stacks/{name}"),
            workspace: "default".to_owned(),
            sha: HEAD.to_owned(),
            state,
            gates,
        }
    }

    fn gates(approved_by: Option<&str>) -> Vec<FindingGate> {
        vec![
            FindingGate {
                policy_id: "s3-encryption".to_owned(),
                level: EnforcementLevel::SoftMandatory,
                approved_by: approved_by.map(str::to_owned),
                approvers: "@alice, @acme/security".to_owned(),
            },
            FindingGate {
                policy_id: "comment.owner_tag".to_owned(),
                level: EnforcementLevel::Advisory,
                approved_by: None,
                approvers: String::new(),
            },
        ]
    }

    fn two_stacks(approved_by: Option<&str>) -> Vec<String> {
        let set = policy_set();
        let stacks = [
            stack(
                "network",
                planned(
                    "stacks/network/tfplan",
                    fixture("terraform-plan.json"),
                    &set,
                    gates(None),
                ),
            ),
            stack(
                "data",
                planned(
                    "stacks/data/tfplan",
                    fixture("data-plan.json"),
                    &set,
                    gates(approved_by),
                ),
            ),
        ];
        render(&CTX, &stacks, &catalogue(&set))
    }

    fn one_part(parts: Vec<String>) -> String {
        assert_eq!(parts.len(), 1, "{parts:#?}");
        parts.into_iter().next().unwrap()
    }

    #[test]
    fn clean_stack_and_stack_needing_approval() {
        let md = one_part(two_stacks(None));
        assert!(md.starts_with(MARKER));
        for secret in ["correct-horse-battery", "pw-0ld-d4t4", "pw-n3w-d4t4"] {
            assert!(!md.contains(secret), "{secret} leaked");
        }
        insta::assert_snapshot!(md);
    }

    #[test]
    fn approved_finding_no_longer_blocks() {
        let md = one_part(two_stacks(Some("@alice")));
        assert!(md.contains("approved by @alice"));
        assert!(md.contains("Comment `planguard apply` to apply all stacks"));
        insta::assert_snapshot!(md);
    }

    #[test]
    fn queued_running_and_waiting_for_a_lock() {
        let stacks = [
            stack("network", StackState::Queued),
            stack(
                "data",
                StackState::WaitingForLock {
                    holder_pr: 12,
                    holder_url: "https://github.com/acme/infra/pull/12".to_owned(),
                },
            ),
            StackView {
                workspace: "prod".to_owned(),
                ..stack("app", StackState::Running)
            },
        ];
        insta::assert_snapshot!(one_part(render(&CTX, &stacks, &BTreeMap::new())));
    }

    #[test]
    fn an_applying_stack_shows_as_applying() {
        let stacks = [stack("network", StackState::Applying)];
        let text = one_part(render(&CTX, &stacks, &BTreeMap::new()));
        assert!(
            !text.contains("queued") && !text.contains("Queued"),
            "{text}"
        );
        assert!(
            text.contains("Applying: the saved plan is being applied"),
            "{text}"
        );
        insta::assert_snapshot!(text);
    }

    #[test]
    fn errored_stack_shows_the_end_of_the_output() {
        let mut output = String::from("\u{1b}[0m\u{1b}[1mInitializing the backend...\u{1b}[0m\n");
        for i in 1..=70 {
            let _ = writeln!(
                output,
                "- Installing provider {i}...\r- Installed provider {i}"
            );
        }
        output.push_str(
            "\u{1b}[31m╷\u{1b}[0m\n│ Error: Failed to query available provider packages\n│\n\
             │ Could not retrieve the list of available versions for provider hashicorp/aws:\n\
             │ ```no fence can close the block early```\n╵\n",
        );
        let set = policy_set();
        let stacks = [
            StackView {
                sha: "0123456789abcdef".to_owned(),
                ..stack(
                    "data",
                    StackState::Errored {
                        step: "init".to_owned(),
                        output,
                    },
                )
            },
            stack(
                "network",
                planned(
                    "stacks/network/tfplan",
                    fixture("terraform-plan.json"),
                    &set,
                    Vec::new(),
                ),
            ),
        ];
        let md = one_part(render(&CTX, &stacks, &catalogue(&set)));
        assert!(!md.contains('\u{1b}') && !md.contains('\r'));
        assert_eq!(md.matches("```").count() % 2, 0);
        insta::assert_snapshot!(md);
    }

    #[test]
    fn applied_failed_and_skipped_stacks() {
        let stacks = [
            stack(
                "network",
                StackState::Applied {
                    output: "terraform_data.new: Creating...\nterraform_data.new: Creation complete after 0s [id=a1b2]\n\nApply complete! Resources: 1 added, 0 changed, 0 destroyed.\n".to_owned(),
                },
            ),
            stack(
                "data",
                StackState::ApplyFailed {
                    output: "aws_db_instance.main: Modifying...\n╷\n│ Error: modifying RDS DB Instance (data-main): InvalidParameterCombination\n╵\n".to_owned(),
                },
            ),
            stack(
                "legacy",
                StackState::Skipped {
                    reason: "no files in `stacks/legacy` changed".to_owned(),
                },
            ),
        ];
        insta::assert_snapshot!(one_part(render(&CTX, &stacks, &BTreeMap::new())));
    }

    #[test]
    fn every_stack_applied() {
        let stacks = [stack(
            "network",
            StackState::Applied {
                output: String::new(),
            },
        )];
        insta::assert_snapshot!(one_part(render(&CTX, &stacks, &BTreeMap::new())));
    }

    /// A plan of `n` buckets; every tenth has no encryption, so `s3-encryption` finds it.
    fn huge_plan(n: usize) -> String {
        let changes: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                let sse = if i % 10 == 0 {
                    serde_json::json!([])
                } else {
                    serde_json::json!([{"rule": [{"apply_server_side_encryption_by_default":
                        [{"sse_algorithm": "aws:kms"}]}]}])
                };
                serde_json::json!({
                    "address": format!("aws_s3_bucket.bucket_{i:04}"),
                    "mode": "managed", "type": "aws_s3_bucket", "name": format!("bucket_{i:04}"),
                    "change": {"actions": ["create"], "before": null,
                        "after": {"bucket": format!("acme-bucket-{i:04}"), "tags": {"owner": "data"},
                            "server_side_encryption_configuration": sse},
                        "after_unknown": {"arn": true, "id": true}}
                })
            })
            .collect();
        serde_json::json!({"format_version": "1.2", "resource_changes": changes}).to_string()
    }

    #[test]
    fn huge_plan_splits_into_parts_that_each_render() {
        let set = policy_set();
        let stacks = [
            stack(
                "data",
                planned("stacks/data/tfplan", huge_plan(3000), &set, gates(None)),
            ),
            stack("network", StackState::Queued),
        ];
        let parts = render(&CTX, &stacks, &catalogue(&set));
        assert!(parts.len() > 2, "{} parts", parts.len());
        assert!(parts[0].starts_with(MARKER));
        for (i, p) in parts.iter().enumerate() {
            assert!(p.chars().count() <= MAX_COMMENT, "part {i}: {}", p.len());
            assert_eq!(p.matches("```").count() % 2, 0, "fences in part {i}");
            assert_eq!(
                p.matches("<details>").count(),
                p.matches("</details>").count(),
                "details in part {i}"
            );
            if i > 0 {
                assert!(p.starts_with(CONTINUATION_MARKER), "part {i}");
            }
        }
        for (i, p) in parts.iter().enumerate() {
            assert_renders_alone(p, i);
        }
        let all = parts.concat();
        for i in 0..3000 {
            let created = format!("# aws_s3_bucket.bucket_{i:04} will be created\n");
            assert_eq!(
                all.matches(&created).count(),
                1,
                "bucket_{i:04} in the diff"
            );
        }
        assert_eq!(all.matches("| :x: | [`s3-encryption`]").count(), 300);
        assert!(parts.last().unwrap().contains("#### Next step"));
        // What a reader sees where the parts meet: the end of part 1, the start of part 2 (in
        // the findings table), the start of the first part that continues the diff, and the end.
        let head = |p: &str, n: usize| p.lines().take(n).collect::<Vec<_>>().join("\n");
        let tail = |p: &str, n: usize| {
            let lines: Vec<&str> = p.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        };
        let (k, in_diff) = parts
            .iter()
            .enumerate()
            .find(|(_, p)| p.lines().take(8).any(|l| l == "```diff"))
            .expect("a part that continues the diff");
        let seams = format!(
            "{}\n[...]\n{}\n\n===== part 2 of {n} =====\n{}\n[...]\n\n===== part {} of {n} =====\n{}\n[...]\n\n===== part {n} of {n} =====\n[...]\n{}\n",
            head(&parts[0], 16),
            tail(&parts[0], 4),
            head(&parts[1], 7),
            k + 1,
            head(in_diff, 9),
            tail(parts.last().unwrap(), 16),
            n = parts.len(),
        );
        insta::assert_snapshot!(seams);
    }

    /// Checks what GitHub needs to render a part by itself: every table starts with its header,
    /// and Markdown inside `<details>` is set off by a blank line.
    fn assert_renders_alone(part: &str, i: usize) {
        let lines: Vec<&str> = part.lines().collect();
        let mut in_fence = false;
        for (n, line) in lines.iter().enumerate() {
            if line.starts_with("```") {
                in_fence = !in_fence;
            }
            if in_fence {
                continue;
            }
            let starts_table = line.starts_with('|') && (n == 0 || !lines[n - 1].starts_with('|'));
            assert!(
                !starts_table || is_table_header(&lines[n..]),
                "part {i}, line {n}: a table without its header: {line}"
            );
            if line.starts_with("<details>") {
                assert_eq!(lines.get(n + 1), Some(&""), "part {i}, line {n}: {line}");
            }
        }
    }

    #[test]
    fn terminal_output_is_cleaned() {
        assert_eq!(
            terminal_text("\u{1b}[1;31mred\u{1b}[0m\n10%\r50%\r100%\r\nend"),
            "red\n100%\nend"
        );
        assert_eq!(short(HEAD), "4f2c9e1");
        assert_eq!(short("abc"), "abc");
    }
}
