//! Plan JSON to regorus values, read directly instead of through serde's visitor.
//!
//! The changes a library policy sees are converted from the plan's text once per check: at
//! 100,000 resources that is about 75 MB of JSON. Through regorus's `Deserialize` (a visitor
//! call per value, an entries `Vec` grown and then copied for every object, a fresh key table
//! for every call) it took about a sixth of a check's CPU. [`parse`] builds the same values
//! with one allocation per array and object and per distinct string: every object key and
//! every short string value of a text is shared (in a plan most string values repeat within a
//! slice of a few hundred changes of one type: types, actions, provider names, tag values; at
//! 100,000 resources 85% of them).
//!
//! It is exact or it declines: text it does not read exactly as `Value::from_json_str` does
//! (a number with a fraction or exponent it cannot delegate, a lone surrogate, nesting near
//! serde_json's limit, anything that is not JSON) makes it return `None`, and the caller
//! converts that text with `Value::from_json_str`. The tests hold the two to the same values
//! on the corpus and on the JSON edge cases.

use std::borrow::Cow;

use regorus::value::Object;
use regorus::{Rc, Value};
use rustc_hash::FxHashSet;

use crate::plan::scan::string_stop;

/// Nesting past this declines: serde_json refuses nesting of 128, and no plan comes close.
const DEPTH_LIMIT: usize = 100;

/// Strings up to this many bytes are shared; longer ones (policy documents, scripts) rarely
/// repeat.
const SHARED_LEN: usize = 64;

/// The value of `text`, or `None` where `Value::from_json_str` must decide.
pub fn parse(text: &str) -> Option<Value> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
        strings: FxHashSet::default(),
        entries: Vec::new(),
        items: Vec::new(),
    };
    let value = parser.value()?;
    parser.skip_space();
    (parser.pos == parser.bytes.len()).then_some(value)
}

struct Parser<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    depth: usize,
    /// Object keys and short string values, shared by every value of the text.
    strings: FxHashSet<Rc<str>>,
    /// Entries of the objects being read, innermost last: an object's entries are taken off
    /// the end into a `Vec` of exact size once it is complete.
    entries: Vec<(Value, Value)>,
    /// Items of the arrays being read, the same way.
    items: Vec<Value>,
}

impl<'t> Parser<'t> {
    fn skip_space(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.pos += usize::from(found);
        found
    }

    fn value(&mut self) -> Option<Value> {
        match self.peek()? {
            b'{' => self.nested(Self::object),
            b'[' => self.nested(Self::array),
            b'"' => {
                let text = self.string()?;
                Some(Value::String(if text.len() <= SHARED_LEN {
                    self.shared(&text)
                } else {
                    text.as_ref().into()
                }))
            }
            b'n' => self.literal("null", Value::Null),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn nested(&mut self, read: fn(&mut Self) -> Option<Value>) -> Option<Value> {
        if self.depth == DEPTH_LIMIT {
            return None;
        }
        self.depth += 1;
        self.pos += 1;
        let value = read(self);
        self.depth -= 1;
        value
    }

    fn literal(&mut self, word: &str, value: Value) -> Option<Value> {
        let end = self.pos + word.len();
        (self.bytes.get(self.pos..end)? == word.as_bytes()).then(|| {
            self.pos = end;
            value
        })
    }

    fn object(&mut self) -> Option<Value> {
        if self.eat(b'}') {
            return Some(Value::new_object());
        }
        let start = self.entries.len();
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            let key = self.shared(&key);
            // regorus reads an object whose first key is serde_json's number token as a number.
            if self.entries.len() == start && key.as_ref() == "$serde_json::private::Number" {
                return None;
            }
            if !self.eat(b':') {
                return None;
            }
            let value = self.value()?;
            self.entries.push((Value::String(key), value));
            if self.eat(b',') {
                continue;
            }
            if self.eat(b'}') {
                break;
            }
            return None;
        }
        let entries: Vec<(Value, Value)> = self.entries.drain(start..).collect();
        Some(Object::from_entries(entries).into_value())
    }

    fn array(&mut self) -> Option<Value> {
        let start = self.items.len();
        if !self.eat(b']') {
            loop {
                let item = self.value()?;
                self.items.push(item);
                if self.eat(b',') {
                    continue;
                }
                if self.eat(b']') {
                    break;
                }
                return None;
            }
        }
        let items: Vec<Value> = self.items.drain(start..).collect();
        Some(Value::from(items))
    }

    /// `text` as a string shared with every equal one read before.
    fn shared(&mut self, text: &str) -> Rc<str> {
        if let Some(shared) = self.strings.get(text) {
            return shared.clone();
        }
        let text: Rc<str> = text.into();
        self.strings.insert(text.clone());
        text
    }

    /// The string at the cursor (its opening quote), borrowed from the text when it has no
    /// escapes.
    fn string(&mut self) -> Option<Cow<'t, str>> {
        let start = self.pos + 1;
        let end = string_stop(self.bytes, start);
        match *self.bytes.get(end)? {
            b'"' => {
                self.pos = end + 1;
                return self.text.get(start..end).map(Cow::Borrowed);
            }
            b'\\' => {}
            _ => return None,
        }
        let mut decoded = String::from(self.text.get(start..end)?);
        let mut pos = end;
        loop {
            match *self.bytes.get(pos)? {
                b'"' => {
                    self.pos = pos + 1;
                    return Some(Cow::Owned(decoded));
                }
                b'\\' => {
                    let escape = *self.bytes.get(pos + 1)?;
                    pos += 2;
                    let c = match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let (c, next) = self.unicode_escape(pos)?;
                            pos = next;
                            c
                        }
                        _ => return None,
                    };
                    decoded.push(c);
                }
                0..=0x1f => return None,
                _ => {
                    let run = pos;
                    pos = string_stop(self.bytes, pos);
                    decoded.push_str(self.text.get(run..pos)?);
                }
            }
        }
    }

    /// The character of a `\u` escape whose hex digits start at `pos`, and the position after
    /// it: a surrogate pair is one character; a lone surrogate declines (serde_json refuses it).
    fn unicode_escape(&self, pos: usize) -> Option<(char, usize)> {
        let first = self.hex4(pos)?;
        match first {
            0xD800..=0xDBFF => {
                if self.bytes.get(pos + 4..pos + 6)? != b"\\u" {
                    return None;
                }
                let second = self.hex4(pos + 6)?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return None;
                }
                let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                Some((char::from_u32(c)?, pos + 10))
            }
            0xDC00..=0xDFFF => None,
            _ => Some((char::from_u32(first)?, pos + 4)),
        }
    }

    fn hex4(&self, pos: usize) -> Option<u32> {
        let digits = self.text.get(pos..pos + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(digits, 16).ok()
    }

    /// A number: a plain integer of up to 18 digits is read here, as the visitor would (a
    /// non-negative one as `u64`, a negative one as `i64`); any other number is read by
    /// serde_json, which is what decides it in `Value::from_json_str`.
    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        let negative = self.bytes[start] == b'-';
        let digits_start = start + usize::from(negative);
        let mut end = digits_start;
        while self.bytes.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        let digits = end - digits_start;
        let plain = matches!(
            self.bytes.get(end),
            None | Some(b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t')
        ) && (1..=18).contains(&digits)
            && (digits == 1 || self.bytes[digits_start] != b'0');
        if plain {
            let magnitude: u64 = self.text.get(digits_start..end)?.parse().ok()?;
            self.pos = end;
            return match (negative, magnitude) {
                (false, n) => Some(Value::from(n)),
                // serde_json reads `-0` as the float -0.0.
                (true, 0) => self.delegated_number(start, end),
                (true, n) => Some(Value::from(-i64::try_from(n).ok()?)),
            };
        }
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.bytes.get(end) {
            end += 1;
        }
        self.delegated_number(start, end)
    }

    fn delegated_number(&mut self, start: usize, end: usize) -> Option<Value> {
        let number: serde_json::Number = serde_json::from_str(self.text.get(start..end)?).ok()?;
        self.pos = end;
        if let Some(n) = number.as_u64() {
            Some(Value::from(n))
        } else if let Some(n) = number.as_i64() {
            Some(Value::from(n))
        } else {
            let f = number.as_f64()?;
            f.is_finite().then(|| Value::from(f))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both ways of reading `text` agree: the same value, and the same JSON written back.
    fn agrees(text: &str) {
        let fast = parse(text);
        let serde = Value::from_json_str(text).ok();
        match (&fast, &serde) {
            (Some(a), Some(b)) => {
                assert_eq!(a, b, "{text}");
                assert_eq!(a.to_json_str().ok(), b.to_json_str().ok(), "{text}");
            }
            (None, _) => {}
            (Some(a), None) => panic!("{text} read as {a} where regorus refuses it"),
        }
    }

    #[test]
    fn short_strings_and_keys_are_shared_long_strings_are_not() {
        let long = "x".repeat(SHARED_LEN + 1);
        let text = format!(
            r#"[{{"env": "prod", "doc": "{long}"}}, {{"env": "prod", "doc": "{long}"}}, "env"]"#
        );
        let value = parse(&text).expect("plain JSON is read");
        let string_at = |path: &[&str]| -> Rc<str> {
            let mut v = &value;
            for key in path {
                v = match key.parse::<usize>() {
                    Ok(i) => &v[i],
                    Err(_) => &v[*key],
                };
            }
            match v {
                Value::String(s) => s.clone(),
                other => panic!("{path:?} is {other}"),
            }
        };
        assert!(Rc::ptr_eq(
            &string_at(&["0", "env"]),
            &string_at(&["1", "env"])
        ));
        assert!(!Rc::ptr_eq(
            &string_at(&["0", "doc"]),
            &string_at(&["1", "doc"])
        ));
        // A key and an equal string value are one string too.
        let Value::Object(first) = &value[0] else {
            panic!("not an object")
        };
        let (key, _) = first
            .iter()
            .find(|(k, _)| **k == Value::from("env"))
            .unwrap();
        let Value::String(key) = key else {
            panic!("key is not a string")
        };
        assert!(Rc::ptr_eq(key, &string_at(&["2"])));
    }

    /// The JSON files under `dir`, at any depth.
    fn json_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                json_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_corpus_and_fixture_plan_reads_as_regorus_reads_it() {
        let mut files = Vec::new();
        json_files(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata"),
            &mut files,
        );
        assert!(
            files.len() > 100,
            "expected the corpus, found {} files",
            files.len()
        );
        for path in files {
            // A few fixtures are deliberately not UTF-8; those never reach a conversion.
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            agrees(&text);
            if Value::from_json_str(&text).is_ok() {
                assert!(parse(&text).is_some(), "declined {}", path.display());
            }
        }
    }

    #[test]
    fn strings_with_escapes_and_unicode_read_as_regorus_reads_them() {
        for text in [
            r#""plain""#,
            r#""quote \" backslash \\ slash \/ controls \b\f\n\r\t""#,
            r#""\u00e9t\u00E9 \u20ac \ud83d\ude00 tail""#,
            r#""raw é € 😀""#,
            r#"{"k\u0065y": 1, "key": 2}"#,
            r#"["\u0000", "a\u001fb"]"#,
        ] {
            agrees(text);
            assert!(parse(text).is_some(), "declined {text}");
        }
        // What serde_json refuses is declined, never read another way.
        for text in [
            r#""lone \ud83d leading""#,
            r#""lone \ude00 trailing""#,
            r#""bad \x escape""#,
            "\"raw\ncontrol\"",
            r#""unterminated"#,
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn numbers_read_as_serde_json_reads_them() {
        for text in [
            "0",
            "-1",
            "123456789012345678",
            "-123456789012345678",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "-0",
            "1.5",
            "-0.0",
            "1e3",
            "2.5E-3",
            "0.1",
            "[1,2.0,-3,4e0]",
        ] {
            agrees(text);
            assert!(parse(text).is_some(), "declined {text}");
        }
        let negative_zero = parse("-0").expect("reads");
        assert_eq!(
            serde_json::to_string(&negative_zero).expect("writes"),
            "-0.0"
        );
        for text in ["01", "-", "1.", "1e400", "+1", "1e", ".5"] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn objects_keep_the_last_of_a_repeated_key_and_sort_their_keys() {
        let text = r#"{"b": 1, "a": {"y": [], "x": {}}, "b": 2}"#;
        agrees(text);
        let value = parse(text).expect("reads");
        assert_eq!(value["b"], Value::from(2u64));
        let written = serde_json::to_string(&value).expect("writes");
        assert_eq!(written, r#"{"a":{"x":{},"y":[]},"b":2}"#);
    }

    #[test]
    fn what_is_not_json_or_is_too_deep_is_left_to_regorus() {
        for text in [
            "",
            "  ",
            "[1,]",
            "{\"a\" 1}",
            "{\"a\": 1,}",
            "[1] [2]",
            "nul",
            "{1: 2}",
            r#"{"$serde_json::private::Number": "1"}"#,
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
        let deep = format!(
            "{}{}",
            "[".repeat(DEPTH_LIMIT + 1),
            "]".repeat(DEPTH_LIMIT + 1)
        );
        assert_eq!(parse(&deep), None);
        let allowed = format!("{}{}", "[".repeat(DEPTH_LIMIT), "]".repeat(DEPTH_LIMIT));
        agrees(&allowed);
        assert!(parse(&allowed).is_some());
    }

    #[test]
    fn whitespace_anywhere_json_allows_it() {
        let text = " \t\r\n{ \"a\" \n: [ 1 , { } , \"x\" ] , \"b\":null }\n ";
        agrees(text);
        assert!(parse(text).is_some());
    }
}
