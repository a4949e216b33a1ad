//! What policies can read of a plan, checked at the edge.
//!
//! Policies see the plan as regorus values: numbers are 64-bit integers or `f64`, and regorus
//! reads JSON nested at most 128 levels deep. JSON beyond either limit is valid, so the typed
//! parse accepts it, but a value that cannot be converted would reach policies as `null` and
//! the resource change holding it would vanish from `input.resource_changes`, with its
//! findings. [`find_unreadable`] scans the plan text once for such values so that
//! [`super::parse`] refuses the plan, naming the JSON path, instead of losing a change.
//!
//! The scan does not validate syntax: on text that is not JSON its answer means nothing, but
//! it returns one without panicking.

use std::fmt;

/// The deepest nesting accepted anywhere in a plan. Real plans nest a few dozen levels.
/// Policies receive each top-level section, and each resource change inside a one-level
/// array, converted on its own, so a converted value nests at most this deep: within
/// regorus's limit of 128 (which a change 125 levels deep already exceeded).
pub const MAX_DEPTH: usize = 120;

/// Paths longer than this many characters are shown with their middle elided.
const MAX_PATH_CHARS: usize = 160;

/// A value policies could not read, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// JSON path from the top of the plan, e.g. `resource_changes[0].change.after.size`.
    pub path: String,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A number outside the range of `f64`, as written in the plan.
    NumberOutOfRange(String),
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::NumberOutOfRange(n) => write!(
                f,
                "`{}`: the number {n} is outside the range policies can read (about ±1.8e308)",
                self.path
            ),
            Problem::TooDeep => write!(
                f,
                "`{}`: the value is nested more than {MAX_DEPTH} levels deep, deeper than policies can read",
                self.path
            ),
        }
    }
}

/// One open object or array on the way to the current value.
enum Frame<'a> {
    Object { key: &'a str, expect_key: bool },
    Array { index: usize },
}

/// The first value of `json` that policies could not read, if any.
pub fn find_unreadable(json: &str) -> Option<Unreadable> {
    let bytes = json.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            open @ (b'{' | b'[') => {
                if stack.len() == MAX_DEPTH {
                    return Some(unreadable(&stack, Problem::TooDeep));
                }
                stack.push(if open == b'{' {
                    Frame::Object {
                        key: "",
                        expect_key: true,
                    }
                } else {
                    Frame::Array { index: 0 }
                });
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                i += 1;
            }
            b',' => {
                match stack.last_mut() {
                    Some(Frame::Array { index }) => *index += 1,
                    Some(Frame::Object { expect_key, .. }) => *expect_key = true,
                    None => {}
                }
                i += 1;
            }
            b'"' => {
                let end = string_end(bytes, i + 1);
                if let Some(Frame::Object { key, expect_key }) = stack.last_mut() {
                    if *expect_key {
                        // (`get`: the scan runs beside the typed parse, on text that may not
                        // be JSON, where a string can end the text unclosed.)
                        *key = json.get(i + 1..end - 1).unwrap_or_default();
                        *expect_key = false;
                    }
                }
                i = end;
            }
            b'-' | b'0'..=b'9' => {
                let end = i + bytes[i..]
                    .iter()
                    .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .unwrap_or(bytes.len() - i);
                let number = &json[i..end];
                if may_overflow(number) && number.parse::<f64>().is_ok_and(f64::is_infinite) {
                    return Some(unreadable(
                        &stack,
                        Problem::NumberOutOfRange(number.to_owned()),
                    ));
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    None
}

/// Whether `number` could be outside the range of `f64`: only with an exponent, or with as
/// many characters as the largest `f64` has digits (309). Nearly every number in a plan is
/// neither, and is not parsed.
fn may_overflow(number: &str) -> bool {
    number.len() >= 309 || number.bytes().any(|b| matches!(b, b'e' | b'E'))
}

/// The index just past the closing quote of the string whose contents start at `start`.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    loop {
        i = super::scan::quote_or_backslash(bytes, i);
        match bytes.get(i) {
            Some(b'"') => return i + 1,
            Some(b'\\') => i += 2,
            Some(_) => i += 1,
            None => return bytes.len(),
        }
    }
}

fn unreadable(stack: &[Frame], problem: Problem) -> Unreadable {
    let mut path = String::new();
    for frame in stack {
        match frame {
            Frame::Object { key, .. } => {
                let plain = !key.is_empty()
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if plain {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                } else {
                    path.push_str(&format!("[\"{key}\"]"));
                }
            }
            Frame::Array { index } => path.push_str(&format!("[{index}]")),
        }
    }
    Unreadable {
        path: elide_middle(path),
        problem,
    }
}

/// `path`, or its first and last parts around `…` when it is longer than [`MAX_PATH_CHARS`].
fn elide_middle(path: String) -> String {
    let chars: Vec<char> = path.chars().collect();
    if chars.len() <= MAX_PATH_CHARS {
        return path;
    }
    let head: String = chars[..MAX_PATH_CHARS / 2].iter().collect();
    let tail: String = chars[chars.len() - MAX_PATH_CHARS / 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!(
            r#"{{"a": [{{"b": 1}}, {}1{}]}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        )
    }

    #[test]
    fn a_plan_of_ordinary_values_is_readable() {
        let json = r#"{"s": "1e400 \" [[[", "n": [1, -2.5e10, 1e308, 1e-400, 123456789012345678901234567890], "k\"ey": {}}"#;
        assert_eq!(find_unreadable(json), None);
        assert_eq!(find_unreadable(&nested(MAX_DEPTH - 2)), None);
    }

    #[test]
    fn a_number_beyond_f64_is_located() {
        let json = r#"{"resource_changes": [{"x": 1}, {"change": {"after": {"size": 1e400}}}]}"#;
        let found = find_unreadable(json).expect("found");
        assert_eq!(found.path, "resource_changes[1].change.after.size");
        assert_eq!(found.problem, Problem::NumberOutOfRange("1e400".into()));
        let negative = find_unreadable(r#"{"tags": {"a b": [0, -2E+999]}}"#).expect("found");
        assert_eq!(negative.path, r#"tags["a b"][1]"#);
        // Without an exponent: 309 digits are enough to pass f64::MAX (about 1.8e308).
        let digits = "9".repeat(309);
        let long = find_unreadable(&format!(r#"{{"n": [{}, {digits}]}}"#, &digits[1..]));
        assert_eq!(long.expect("found").path, "n[1]");
    }

    #[test]
    fn nesting_beyond_the_limit_is_located() {
        let found = find_unreadable(&nested(MAX_DEPTH)).expect("found");
        assert_eq!(found.problem, Problem::TooDeep);
        assert!(found.path.starts_with("a[1][0][0]"), "{}", found.path);
        assert!(
            found.path.contains('…'),
            "a long path is elided: {}",
            found.path
        );
        assert!(
            found.path.chars().count() <= MAX_PATH_CHARS + 1,
            "{}",
            found.path
        );
    }

    #[test]
    fn a_string_ends_past_its_first_unescaped_quote() {
        // The contents start at 0; escaped quotes and backslashes fall on either side of the
        // eight-byte words the search reads.
        for (text, end) in [
            ("abc\" rest", 4),
            ("abcdefg\\\"hij\" rest", 13),
            ("abcdefg\\\\\" rest", 10),
            ("a\\\"\\\\bcdefghijk\" rest", 16),
            ("é€😀\"", 10),
            ("unterminated", 12),
            ("ends in a backslash \\", 21),
        ] {
            assert_eq!(string_end(text.as_bytes(), 0), end, "{text:?}");
        }
    }

    #[test]
    fn text_that_is_not_json_is_scanned_without_panicking() {
        // The scan runs beside the typed parse, so it also sees text the parse refuses.
        for text in [
            "{\"",
            "{\"é",
            "{\"a\": \"x",
            "{\"a\\",
            "\\",
            "]]]}}}",
            "{\"a\": 1e",
            "-",
        ] {
            assert_eq!(find_unreadable(text), None, "{text:?}");
        }
        let unclosed_deep = "[".repeat(MAX_DEPTH + 1);
        assert_eq!(
            find_unreadable(&unclosed_deep).map(|u| u.problem),
            Some(Problem::TooDeep)
        );
    }
}
