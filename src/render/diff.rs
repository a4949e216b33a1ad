//! The plan diff of a PR comment: a Terraform-like, readable view of a plan's resource changes.
//!
//! This module owns turning the raw `before`/`after` JSON of each resource change into lines
//! for a ```` ```diff ```` block (the caller adds the fence). It does not read plans, evaluate
//! policies or lay out the comment.
//!
//! Every line starts with a marker GitHub's diff highlighting understands, then the text
//! indented two spaces per level:
//!
//! | marker | meaning | colour on GitHub |
//! |---|---|---|
//! | `+` | created, or an attribute added | green |
//! | `-` | destroyed, or an attribute removed | red |
//! | `!` | a replaced resource, and the attributes that force the replacement | orange |
//! | `~` | updated in place, and changed attributes | none |
//! | `.` | removed from state without being destroyed (`forget`) | none |
//! | ` ` | context: unchanged lines and "hidden" notes | none |
//!
//! A closing brace or bracket carries the marker of the line that opened it, so a created
//! resource is green from top to bottom. Each resource starts with a `#` comment that says what
//! happens to it. No-op and read changes are skipped.
//!
//! Values: unknown values print as `(known after apply)` and values under a sensitivity marker
//! as `(sensitive value)`; both are read from the plan's marker structures (`true` for a whole
//! value, or objects and arrays of markers). Creates and destroys show every non-null
//! attribute; updates and replacements show only what changes, with a count of the unchanged
//! attributes. Multi-line strings print as heredocs, and a changed one as a line diff. Keys are
//! sorted. Every string value goes through the [`Redactor`] before it is formatted, and the
//! whole text once more at the end, so a secret copied into an unmarked attribute is still
//! masked.

use std::borrow::Cow;

use serde_json::Value as J;

use crate::plan::{Actions, Mode, Plan, Raw, ResourceChange};
use crate::redact::{Redactor, MASK};

const UNKNOWN: &str = "(known after apply)";
/// Unchanged lines kept around each change of a multi-line string.
const CONTEXT: usize = 3;
/// Largest LCS table (before × after items); longer inputs are shown as removed then added.
const MAX_LCS_CELLS: usize = 4_000_000;

static NULL: J = J::Null;

/// Renders the resource changes of a plan as the body of a `diff` code block.
pub fn render_diff(plan: &Plan<'_>, redactor: &Redactor) -> String {
    let mut out = String::new();
    for rc in plan
        .resource_changes
        .iter()
        .filter(|rc| !matches!(rc.change.actions, Actions::NoOp | Actions::Read))
    {
        if !out.is_empty() {
            out.push('\n');
        }
        resource(&mut out, rc, redactor);
    }
    redactor.redact(&out).into_owned()
}

/// One output line before it is written: a marker, a nesting depth and the text.
struct Line {
    mark: char,
    depth: usize,
    text: String,
}

impl Line {
    fn new(mark: char, depth: usize, text: impl Into<String>) -> Line {
        Line {
            mark,
            depth,
            text: text.into(),
        }
    }
}

/// One side of a change: the value with its unknown and sensitivity markers at the same place.
#[derive(Clone, Copy)]
struct Side<'v> {
    value: &'v J,
    unknown: &'v J,
    sensitive: &'v J,
}

impl<'v> Side<'v> {
    fn key(self, k: &str) -> Side<'v> {
        Side {
            value: self.value.get(k).unwrap_or(&NULL),
            unknown: self.unknown.get(k).unwrap_or(&NULL),
            sensitive: self.sensitive.get(k).unwrap_or(&NULL),
        }
    }

    fn index(self, i: usize) -> Side<'v> {
        Side {
            value: self.value.get(i).unwrap_or(&NULL),
            unknown: self.unknown.get(i).unwrap_or(&NULL),
            sensitive: self.sensitive.get(i).unwrap_or(&NULL),
        }
    }

    fn is_unknown(self) -> bool {
        self.unknown == &J::Bool(true)
    }

    fn is_sensitive(self) -> bool {
        self.sensitive == &J::Bool(true)
    }

    /// Whether there is anything to show: a value, or something unknown inside.
    fn is_present(self) -> bool {
        !self.value.is_null() || marks_any(self.unknown)
    }
}

/// Whether a marker structure marks anything.
fn marks_any(marks: &J) -> bool {
    match marks {
        J::Bool(b) => *b,
        J::Array(items) => items.iter().any(marks_any),
        J::Object(map) => map.values().any(marks_any),
        _ => false,
    }
}

/// What the diff needs besides the values.
struct Ctx<'r> {
    redactor: &'r Redactor,
    /// `replace_paths`: the attribute paths that force a replacement.
    replace_paths: Vec<Vec<J>>,
}

fn parse(raw: Option<Raw<'_>>) -> J {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
        .unwrap_or(J::Null)
}

fn resource(out: &mut String, rc: &ResourceChange<'_>, redactor: &Redactor) {
    let c = &rc.change;
    let (before, after) = (parse(c.before), parse(c.after));
    let (unknown, before_sensitive, after_sensitive) = (
        parse(c.after_unknown),
        parse(c.before_sensitive),
        parse(c.after_sensitive),
    );
    let replace_paths = match parse(c.replace_paths) {
        J::Array(paths) => paths
            .into_iter()
            .filter_map(|p| match p {
                J::Array(steps) => Some(steps),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let ctx = Ctx {
        redactor,
        replace_paths,
    };
    let old = Side {
        value: &before,
        unknown: &NULL,
        sensitive: &before_sensitive,
    };
    let new = Side {
        value: &after,
        unknown: &unknown,
        sensitive: &after_sensitive,
    };

    let deposed = rc
        .deposed
        .as_deref()
        .map(|d| format!(" (deposed object {d})"))
        .unwrap_or_default();
    let (mark, what) = match c.actions {
        Actions::Create => ('+', "will be created"),
        Actions::Update => ('~', "will be updated in-place"),
        Actions::Delete => ('-', "will be destroyed"),
        Actions::DeleteThenCreate | Actions::CreateThenDelete => ('!', "must be replaced"),
        Actions::Forget => (
            '.',
            "will be removed from state; the object itself is not destroyed",
        ),
        Actions::CreateThenForget | Actions::ForgetThenCreate => (
            '!',
            "will be created anew; the old object is removed from state, not destroyed",
        ),
        Actions::NoOp | Actions::Read => return,
    };
    let mut lines = vec![Line::new('#', 0, format!("{}{deposed} {what}", rc.address))];
    if let Some(reason) = reason(rc) {
        lines.push(Line::new('#', 0, format!("({reason})")));
    }
    if let Some(prev) = rc.previous_address.as_deref() {
        lines.push(Line::new('#', 0, format!("(moved from {prev})")));
    }
    let keyword = match rc.mode {
        Mode::Managed => "resource",
        Mode::Data => "data",
        Mode::Ephemeral => "ephemeral",
    };
    lines.push(Line::new(
        mark,
        0,
        format!("{keyword} \"{}\" \"{}\" {{", rc.kind, rc.name),
    ));
    let body = match c.actions {
        Actions::Create => object_entries(new, '+', 1, &ctx),
        Actions::Delete | Actions::Forget => object_entries(old, mark, 1, &ctx),
        _ if !old.is_present() => object_entries(new, '+', 1, &ctx),
        _ if !new.is_present() => object_entries(old, '-', 1, &ctx),
        _ => match changed(old, new, 1, &mut Vec::new(), &ctx) {
            Some(entries) => entries,
            None => vec![Line::new(' ', 1, "# (no attribute changes)")],
        },
    };
    if body.is_empty() {
        lines.push(Line::new(' ', 1, "# (no attribute values in the plan)"));
    }
    lines.extend(body);
    lines.push(Line::new(mark, 0, "}"));
    for l in lines {
        let text = if l.mark == '#' {
            format!("# {}", l.text)
        } else {
            format!("{} {}{}", l.mark, "  ".repeat(l.depth), l.text)
        };
        out.push_str(text.trim_end());
        out.push('\n');
    }
}

/// Terraform's explanation of why an action was chosen, for the reasons worth a line.
fn reason(rc: &ResourceChange<'_>) -> Option<String> {
    Some(match rc.action_reason.as_deref()? {
        "delete_because_no_resource_config" => {
            format!("because {} is not in the configuration", rc.address)
        }
        "delete_because_no_module" => "because its module is not in the configuration".into(),
        "delete_because_count_index" => "because its index is out of range for count".into(),
        "delete_because_each_key" => "because its key is not in for_each".into(),
        "delete_because_wrong_repetition" => {
            "because count or for_each changed how the resource is repeated".into()
        }
        "delete_because_no_move_target" => "because the move target does not exist".into(),
        "replace_because_tainted" => "because it is tainted".into(),
        "replace_by_request" => "because -replace asked for it".into(),
        "replace_by_triggers" => "because of replace_triggered_by".into(),
        _ => return None,
    })
}

/// An attribute name as Terraform prints it: bare when it is an identifier, quoted otherwise.
fn key_text(k: &str) -> String {
    let mut chars = k.chars();
    let ident = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ident {
        k.to_owned()
    } else {
        J::String(k.to_owned()).to_string()
    }
}

/// Sorted keys present on either side.
fn keys(sides: &[Side<'_>]) -> Vec<String> {
    let mut keys: Vec<String> = sides
        .iter()
        .flat_map(|s| [s.value, s.unknown])
        .filter_map(J::as_object)
        .flat_map(|m| m.keys().cloned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Prefixes the first line of each attribute with its name, aligning the `=` signs.
fn with_keys(entries: Vec<(String, Vec<Line>)>) -> Vec<Line> {
    let width = entries
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    for (k, mut lines) in entries {
        if let Some(first) = lines.first_mut() {
            first.text = format!("{k:width$} = {}", first.text);
        }
        out.extend(lines);
    }
    out
}

fn hidden(n: usize, what: &str, depth: usize) -> Option<Line> {
    let s = if n == 1 { "" } else { "s" };
    (n > 0).then(|| Line::new(' ', depth, format!("# ({n} unchanged {what}{s} hidden)")))
}

/// The attributes of an object, every one shown (creates and destroys).
fn object_entries(side: Side<'_>, mark: char, depth: usize, ctx: &Ctx<'_>) -> Vec<Line> {
    if side.is_unknown() || side.is_sensitive() {
        let what = if side.is_unknown() { UNKNOWN } else { MASK };
        return vec![Line::new(
            mark,
            depth,
            format!("# (all attributes: {what})"),
        )];
    }
    let entries = keys(&[side])
        .into_iter()
        .filter(|k| side.key(k).is_present())
        .map(|k| {
            let lines = value(side.key(&k), mark, depth, ctx);
            (key_text(&k), lines)
        })
        .collect();
    with_keys(entries)
}

/// A whole value. The first line holds the start of the value, at `depth`.
fn value(side: Side<'_>, mark: char, depth: usize, ctx: &Ctx<'_>) -> Vec<Line> {
    if side.is_unknown() {
        return vec![Line::new(mark, depth, UNKNOWN)];
    }
    if side.is_sensitive() {
        return vec![Line::new(mark, depth, MASK)];
    }
    match side.value {
        J::Object(_) => {
            let inner = object_entries(side, mark, depth + 1, ctx);
            bracketed("{", inner, "}", mark, depth)
        }
        J::Array(items) => {
            let len = items.len().max(side.unknown.as_array().map_or(0, Vec::len));
            let mut inner = Vec::new();
            for i in 0..len {
                inner.extend(element(value(side.index(i), mark, depth + 1, ctx)));
            }
            bracketed("[", inner, "]", mark, depth)
        }
        J::String(s) => string(s, mark, depth, ctx),
        other => vec![Line::new(mark, depth, other.to_string())],
    }
}

/// An array element: its last line gets the separating comma.
fn element(mut lines: Vec<Line>) -> Vec<Line> {
    if let Some(last) = lines.last_mut() {
        last.text.push(',');
    }
    lines
}

fn bracketed(open: &str, inner: Vec<Line>, close: &str, mark: char, depth: usize) -> Vec<Line> {
    if inner.is_empty() {
        return vec![Line::new(mark, depth, format!("{open}{close}"))];
    }
    let mut lines = vec![Line::new(mark, depth, open)];
    lines.extend(inner);
    lines.push(Line::new(mark, depth, close));
    lines
}

fn redacted<'s>(s: &'s str, ctx: &Ctx<'_>) -> Cow<'s, str> {
    ctx.redactor.redact(s)
}

/// A string: quoted on one line, or a heredoc when it has several lines.
fn string(s: &str, mark: char, depth: usize, ctx: &Ctx<'_>) -> Vec<Line> {
    let s = redacted(s, ctx);
    if s == MASK {
        return vec![Line::new(mark, depth, MASK)];
    }
    if !s.contains('\n') {
        return vec![Line::new(
            mark,
            depth,
            J::String(s.into_owned()).to_string(),
        )];
    }
    let mut lines = vec![Line::new(mark, depth, "<<-EOT")];
    lines.extend(
        heredoc_lines(&s)
            .into_iter()
            .map(|l| Line::new(mark, depth + 1, l)),
    );
    lines.push(Line::new(mark, depth, "EOT"));
    lines
}

fn heredoc_lines(s: &str) -> Vec<&str> {
    s.strip_suffix('\n')
        .unwrap_or(s)
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .collect()
}

/// One value as a single line, for `old -> new`.
fn inline(side: Side<'_>, ctx: &Ctx<'_>) -> String {
    if side.is_unknown() {
        return UNKNOWN.to_owned();
    }
    if side.is_sensitive() {
        return MASK.to_owned();
    }
    match side.value {
        J::String(s) => {
            let s = redacted(s, ctx);
            if s == MASK {
                MASK.to_owned()
            } else {
                J::String(s.into_owned()).to_string()
            }
        }
        other => other.to_string(),
    }
}

/// The change between two values at `path`, or `None` when they are the same. Each returned
/// line group is one attribute or element: a type change gives two, the old and the new.
fn diff(
    old: Side<'_>,
    new: Side<'_>,
    depth: usize,
    path: &mut Vec<J>,
    ctx: &Ctx<'_>,
) -> Option<Vec<Vec<Line>>> {
    let (b, a) = (old.value, new.value);
    if new.is_unknown() {
        if b.is_null() {
            return Some(vec![vec![Line::new('+', depth, UNKNOWN)]]);
        }
        let mut lines = value(old, '-', depth, ctx);
        let (first, last) = (0, lines.len() - 1);
        lines[first].mark = '~';
        lines[last].mark = '~';
        lines[last].text.push_str(" -> ");
        lines[last].text.push_str(UNKNOWN);
        return Some(vec![lines]);
    }
    if old.is_sensitive() || new.is_sensitive() {
        if b == a && old.is_sensitive() == new.is_sensitive() && !marks_any(new.unknown) {
            return None;
        }
        let mark = match (b.is_null(), a.is_null()) {
            (true, _) => '+',
            (_, true) => '-',
            _ => '~',
        };
        return Some(vec![vec![Line::new(mark, depth, MASK)]]);
    }
    if b == a && !marks_any(new.unknown) {
        return None;
    }
    if b.is_null() {
        return Some(vec![value(new, '+', depth, ctx)]);
    }
    if !new.is_present() {
        let mut lines = value(old, '-', depth, ctx);
        if let Some(last) = lines.last_mut() {
            last.text.push_str(" -> null");
        }
        return Some(vec![lines]);
    }
    match (b, a) {
        (J::Object(_), J::Object(_)) => changed(old, new, depth + 1, path, ctx)
            .map(|inner| vec![bracketed("{", inner, "}", '~', depth)]),
        (J::Array(bs), J::Array(as_)) => {
            let inner = if bs.len() == as_.len() {
                paired_elements(old, new, as_.len(), depth + 1, path, ctx)
            } else {
                aligned_elements(old, new, depth + 1, ctx)
            };
            Some(vec![bracketed("[", inner, "]", '~', depth)])
        }
        (J::String(x), J::String(y)) if x.contains('\n') || y.contains('\n') => {
            Some(vec![string_diff(x, y, depth, ctx)])
        }
        (J::Object(_) | J::Array(_), _) | (_, J::Object(_) | J::Array(_)) => Some(vec![
            value(old, '-', depth, ctx),
            value(new, '+', depth, ctx),
        ]),
        _ => Some(vec![vec![Line::new(
            '~',
            depth,
            format!("{} -> {}", inline(old, ctx), inline(new, ctx)),
        )]]),
    }
}

/// The changed attributes of two objects, with a count of the unchanged ones; `None` when
/// nothing shown differs.
fn changed(
    old: Side<'_>,
    new: Side<'_>,
    depth: usize,
    path: &mut Vec<J>,
    ctx: &Ctx<'_>,
) -> Option<Vec<Line>> {
    let mut entries = Vec::new();
    let mut same = 0;
    for k in keys(&[old, new]) {
        path.push(J::String(k.clone()));
        match diff(old.key(&k), new.key(&k), depth, path, ctx) {
            Some(groups) => {
                let forces = ctx.replace_paths.contains(path);
                for mut lines in groups {
                    if forces {
                        mark_forcing(&mut lines);
                    }
                    entries.push((key_text(&k), lines));
                }
            }
            None => same += usize::from(!old.key(&k).value.is_null()),
        }
        path.pop();
    }
    if entries.is_empty() {
        return None;
    }
    let mut lines = with_keys(entries);
    lines.extend(hidden(same, "attribute", depth));
    Some(lines)
}

/// Colours an attribute that forces the replacement and says so.
fn mark_forcing(lines: &mut [Line]) {
    for l in lines.iter_mut().filter(|l| l.mark == '~') {
        l.mark = '!';
    }
    if let Some(first) = lines.first_mut() {
        first.text.push_str(" # forces replacement");
    }
}

/// Two arrays of the same length, element by element.
fn paired_elements(
    old: Side<'_>,
    new: Side<'_>,
    len: usize,
    depth: usize,
    path: &mut Vec<J>,
    ctx: &Ctx<'_>,
) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut same = 0;
    for i in 0..len {
        path.push(J::from(i));
        match diff(old.index(i), new.index(i), depth, path, ctx) {
            Some(groups) => {
                let forces = ctx.replace_paths.contains(path);
                for mut group in groups {
                    if forces {
                        mark_forcing(&mut group);
                    }
                    lines.extend(element(group));
                }
            }
            None => same += 1,
        }
        path.pop();
    }
    lines.extend(hidden(same, "element", depth));
    lines
}

/// Two arrays of different lengths: the elements removed and added, matched by a longest
/// common subsequence so that the elements both keep are not repeated.
fn aligned_elements(old: Side<'_>, new: Side<'_>, depth: usize, ctx: &Ctx<'_>) -> Vec<Line> {
    let n_old = old.value.as_array().map_or(0, Vec::len);
    let n_new = new.value.as_array().map_or(0, Vec::len);
    let same_element = |i: usize, j: usize| {
        let (o, n) = (old.index(i), new.index(j));
        o.value == n.value && !marks_any(n.unknown) && o.is_sensitive() == n.is_sensitive()
    };
    let mut lines = Vec::new();
    let mut same = 0;
    for step in align(n_old, n_new, same_element) {
        match step {
            Step::Same(..) => same += 1,
            Step::Removed(i) => lines.extend(element(value(old.index(i), '-', depth, ctx))),
            Step::Added(j) => lines.extend(element(value(new.index(j), '+', depth, ctx))),
        }
    }
    lines.extend(hidden(same, "element", depth));
    lines
}

/// A changed multi-line string, as a line diff inside a heredoc with a little context.
fn string_diff(old: &str, new: &str, depth: usize, ctx: &Ctx<'_>) -> Vec<Line> {
    let (old, new) = (redacted(old, ctx), redacted(new, ctx));
    let (a, b) = (heredoc_lines(&old), heredoc_lines(&new));
    let script = align(a.len(), b.len(), |i, j| a[i] == b[j]);
    let changes: Vec<usize> = script
        .iter()
        .enumerate()
        .filter(|(_, s)| !matches!(s, Step::Same(..)))
        .map(|(n, _)| n)
        .collect();
    let near_change = |n: usize| changes.iter().any(|&c| c.abs_diff(n) <= CONTEXT);
    let mut lines = vec![Line::new('~', depth, "<<-EOT")];
    let mut skipped = 0;
    for (n, step) in script.iter().enumerate() {
        let line = match *step {
            Step::Same(..) if !near_change(n) => {
                skipped += 1;
                continue;
            }
            Step::Same(i, _) => Line::new(' ', depth + 1, a[i]),
            Step::Removed(i) => Line::new('-', depth + 1, a[i]),
            Step::Added(j) => Line::new('+', depth + 1, b[j]),
        };
        lines.extend(hidden(std::mem::take(&mut skipped), "line", depth + 1));
        lines.push(line);
    }
    lines.extend(hidden(skipped, "line", depth + 1));
    lines.push(Line::new('~', depth, "EOT"));
    lines
}

/// One step of an edit script from the old items to the new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Same(usize, usize),
    Removed(usize),
    Added(usize),
}

/// An edit script from `n_old` items to `n_new` items by longest common subsequence.
/// Inputs too large for the table are shown as all removed, then all added.
fn align(n_old: usize, n_new: usize, same: impl Fn(usize, usize) -> bool) -> Vec<Step> {
    if n_old.saturating_mul(n_new) > MAX_LCS_CELLS {
        return (0..n_old)
            .map(Step::Removed)
            .chain((0..n_new).map(Step::Added))
            .collect();
    }
    // lcs[i][j]: length of the longest common subsequence of old[i..] and new[j..].
    let width = n_new + 1;
    let mut lcs = vec![0u32; (n_old + 1) * width];
    for i in (0..n_old).rev() {
        for j in (0..n_new).rev() {
            lcs[i * width + j] = if same(i, j) {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut steps = Vec::with_capacity(n_old.max(n_new));
    while i < n_old || j < n_new {
        if i < n_old && j < n_new && same(i, j) {
            steps.push(Step::Same(i, j));
            i += 1;
            j += 1;
        } else if i < n_old && (j == n_new || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1]) {
            // Removals before additions, so an edit reads `- old` then `+ new`.
            steps.push(Step::Removed(i));
            i += 1;
        } else {
            steps.push(Step::Added(j));
            j += 1;
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(json: &str) -> String {
        let plan = crate::plan::parse("test", json).unwrap();
        render_diff(&plan, &Redactor::from_plan(&plan))
    }

    fn fixture(name: &str) -> String {
        let path = format!("{}/testdata/comment/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn terraform_plan() {
        let out = render(&fixture("terraform-plan.json"));
        assert!(!out.contains("correct-horse-battery"), "{out}");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn every_kind_of_change() {
        let long = "a long description that goes on and on, because some providers ask for whole \
                    paragraphs here and nobody wants them cut in the middle of a sentence";
        let json = r##"{"format_version":"1.2","resource_changes":[
          {"address":"module.app.aws_instance.web[\"blue\"]","module_address":"module.app",
           "type":"aws_instance","name":"web","index":"blue",
           "change":{"actions":["create"],"before":null,
             "after":{"ami":"ami-123","instance_type":"t3.micro","monitoring":null,
               "user_data":"#!/bin/bash\necho hello\n","description":"LONG",
               "tags":{"Name":"web","kubernetes.io/role":"node"},
               "ebs_block_device":[{"device_name":"/dev/sdb","volume_size":20}],
               "empty_list":[],"empty_map":{}},
             "after_unknown":{"id":true,"arn":true,"private_ip":true,
               "ebs_block_device":[{"volume_id":true}],"tags":{}},
             "before_sensitive":false,"after_sensitive":{"tags":{},"ebs_block_device":[{}]}}},
          {"address":"aws_security_group.main","type":"aws_security_group","name":"main",
           "change":{"actions":["update"],
             "before":{"name":"main","description":"d","old_attr":"gone","egress":["a","b"],
               "ingress":[{"cidr_blocks":["10.0.0.0/8"],"from_port":22,"to_port":22}],
               "tags":{"env":"dev","team":"x"},"tags_all":{"env":"dev","team":"x"},
               "policy":"l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nl11\n"},
             "after":{"name":"main","description":"d","old_attr":null,"egress":["a","c","b"],
               "ingress":[{"cidr_blocks":["10.0.0.0/8","192.168.0.0/16"],"from_port":22,"to_port":2222}],
               "tags":{"env":"prod","team":"x","new":"y"},"added":5,"single":"one",
               "policy":"l1\nl2\nl3\nl4\nl5\nl6 changed\nl7\nl8\nl9\nl10\nl11\n"},
             "after_unknown":{"tags_all":true},
             "before_sensitive":{},"after_sensitive":{}}},
          {"address":"aws_db_instance.db","type":"aws_db_instance","name":"db",
           "action_reason":"replace_because_cannot_update",
           "change":{"actions":["create","delete"],
             "before":{"id":"db-1","engine_version":"14","port":5432,"password":"pw-before-1"},
             "after":{"engine_version":"15","port":5432,"password":"pw-before-1"},
             "after_unknown":{"id":true},
             "before_sensitive":{"password":true},"after_sensitive":{"password":true},
             "replace_paths":[["engine_version"]]}},
          {"address":"aws_iam_user.old","type":"aws_iam_user","name":"old",
           "action_reason":"delete_because_no_resource_config",
           "change":{"actions":["delete"],"before":{"name":"old","path":"/","tags":null},
             "after":null,"before_sensitive":{},"after_sensitive":false}},
          {"address":"aws_instance.renamed","type":"aws_instance","name":"renamed",
           "previous_address":"aws_instance.old_name",
           "change":{"actions":["update"],"before":{"ami":"ami-1","tags":{"a":"1"}},
             "after":{"ami":"ami-1","tags":{"a":"2"}}}},
          {"address":"aws_instance.db","type":"aws_instance","name":"db","deposed":"5f0a9c1e",
           "change":{"actions":["delete"],"before":{"ami":"ami-old"},"after":null}},
          {"address":"aws_instance.kept","type":"aws_instance","name":"kept",
           "change":{"actions":["forget"],"before":{"ami":"ami-kept"},"after":null}},
          {"address":"aws_s3_bucket.legacy","type":"aws_s3_bucket","name":"legacy",
           "change":{"actions":["create"]}},
          {"address":"aws_s3_bucket.same","type":"aws_s3_bucket","name":"same",
           "change":{"actions":["no-op"],"before":{"bucket":"same"},"after":{"bucket":"same"}}},
          {"address":"data.aws_ami.ubuntu","mode":"data","type":"aws_ami","name":"ubuntu",
           "change":{"actions":["read"],"before":null,"after":{"most_recent":true}}}
        ]}"##
        .replace("LONG", long);
        let out = render(&json);
        assert!(out.contains(long), "long strings are kept whole");
        assert!(!out.contains("aws_s3_bucket.same") && !out.contains("ubuntu"));
        insta::assert_snapshot!(out);
    }

    #[test]
    fn sensitive_values_never_appear() {
        let json = r#"{"format_version":"1.2","resource_changes":[
          {"address":"aws_db_instance.a","type":"aws_db_instance","name":"a",
           "change":{"actions":["create"],"before":null,
             "after":{"password":"s3cr3t-create","nested":[{"token":"tok-123456","ok":"visible"}],
               "whole_map":{"k":"map-secret-1"},"copy":"prefix s3cr3t-create suffix",
               "pem":"-----BEGIN KEY-----\nMIIsecretline\n-----END KEY-----\n",
               "pem_copy":"-----BEGIN KEY-----\nMIIsecretline\n-----END KEY-----\n"},
             "after_unknown":{},
             "after_sensitive":{"password":true,"nested":[{"token":true}],"whole_map":true,"pem":true}}},
          {"address":"aws_db_instance.b","type":"aws_db_instance","name":"b",
           "change":{"actions":["update"],
             "before":{"password":"old-pass-1","list":["el-secret-1","plain"],"quoted":"q\"uote-secret"},
             "after":{"password":"new-pass-2","list":["el-secret-2","plain"],"quoted":"q\"uote-secret2"},
             "before_sensitive":{"password":true,"list":[true,false],"quoted":true},
             "after_sensitive":{"password":true,"list":[true,false],"quoted":true}}},
          {"address":"aws_db_instance.c","type":"aws_db_instance","name":"c",
           "change":{"actions":["delete"],"before":{"password":"whole-object-pw","user":"u"},
             "after":null,"before_sensitive":true,"after_sensitive":false}}
        ]}"#;
        let out = render(json);
        for secret in [
            "s3cr3t-create",
            "tok-123456",
            "map-secret-1",
            "MIIsecretline",
            "old-pass-1",
            "new-pass-2",
            "el-secret",
            "uote-secret",
            "whole-object-pw",
        ] {
            assert!(!out.contains(secret), "{secret} leaked:\n{out}");
        }
        assert!(out.contains("visible"), "{out}");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn edit_scripts_remove_before_they_add() {
        let (a, b) = (["x", "y", "z"], ["x", "q", "z", "w"]);
        let steps = align(a.len(), b.len(), |i, j| a[i] == b[j]);
        assert_eq!(
            steps,
            [
                Step::Same(0, 0),
                Step::Removed(1),
                Step::Added(1),
                Step::Same(2, 2),
                Step::Added(3)
            ]
        );
    }
}
