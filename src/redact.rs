//! Redaction of sensitive values before anything is printed or posted.
//!
//! A plan marks values sensitive in `before_sensitive`/`after_sensitive` (per resource and
//! output) and in the configuration's variable declarations. [`Redactor::from_plan`] collects
//! the actual values under those markers, and [`Redactor::redact`] replaces every occurrence in
//! text with `(sensitive value)`. Policy messages are the main risk: a rule that interpolates
//! `rc.change.after.password` into its message must not leak it.
//!
//! Values shorter than [`MIN_LEN`] characters are not collected: redacting every `1` or `true`
//! would destroy the output and such values are not secrets.
//!
//! Masking is also a defence in depth against code that re-encodes a secret it can see (a
//! credential in its environment, say) to slip it past an exact match. Every known value of at
//! least [`DERIVED_MIN_LEN`] characters is also masked as it appears
//!
//! - in any letter case (`upper`, `lower`, mixed),
//! - reversed (`strrev`),
//! - in hex, lower or upper case,
//! - in base64, standard or URL-safe, padded or not, and at each of the three byte alignments,
//!   so a secret encoded inside a longer string (`base64encode("x${secret}")`) is caught too.
//!
//! All forms of all values go into one Aho-Corasick automaton (leftmost-longest, ASCII case
//! insensitive), built once per [`Redactor`] on first use, so redacting is one pass over the
//! text however many values there are. Shorter values are masked only as they are, in any
//! case: their encodings would be too short to tell from ordinary text.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use serde_json::Value as J;

use crate::plan::Plan;

/// The replacement text.
pub const MASK: &str = "(sensitive value)";
/// Shortest value that is redacted.
pub const MIN_LEN: usize = 4;
/// Shortest value that is also masked encoded, reversed and in any case.
pub const DERIVED_MIN_LEN: usize = 8;

/// Known sensitive values of one plan.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so that a secret containing another is replaced whole.
    secrets: Vec<String>,
    /// Every form of every secret, built on first use (`None`: nothing to redact).
    matcher: OnceLock<Option<AhoCorasick>>,
}

impl Redactor {
    /// Collects the sensitive values of a plan.
    pub fn from_plan(plan: &Plan<'_>) -> Redactor {
        let mut found = BTreeSet::new();
        let parse = |raw: Option<&serde_json::value::RawValue>| {
            raw.and_then(|r| serde_json::from_str::<J>(r.get()).ok())
        };
        // Only markers that contain `true` mark anything; most changes have none, and their
        // values are then never parsed.
        let marks_something = |raw: Option<&serde_json::value::RawValue>| {
            raw.is_some_and(|r| r.get().contains("true"))
        };
        for rc in plan.resource_changes.iter().chain(&plan.resource_drift) {
            for (value, marks) in [
                (rc.change.before, rc.change.before_sensitive),
                (rc.change.after, rc.change.after_sensitive),
            ] {
                if !marks_something(marks) {
                    continue;
                }
                if let (Some(v), Some(m)) = (parse(value), parse(marks)) {
                    collect_marked(&v, &m, &mut found);
                }
            }
        }
        for change in plan.output_changes.values() {
            for (value, marks) in [
                (change.before, change.before_sensitive),
                (change.after, change.after_sensitive),
            ] {
                if let (Some(v), Some(m)) = (parse(value), parse(marks)) {
                    collect_marked(&v, &m, &mut found);
                }
            }
        }
        if let Some(pv) = &plan.planned_values {
            for raw in pv.outputs.values() {
                if let Ok(o) = serde_json::from_str::<J>(raw.get()) {
                    if o["sensitive"] == J::Bool(true) {
                        collect_all(&o["value"], &mut found);
                    }
                }
            }
        }
        // Variables declared `sensitive = true` in the root module.
        let declared = plan
            .configuration
            .as_ref()
            .and_then(|c| c.root_module.as_ref())
            .and_then(|m| parse(m.variables));
        if let (Some(J::Object(decls)), Some(vars)) = (declared, &plan.variables) {
            for (name, decl) in decls {
                if decl["sensitive"] == J::Bool(true) {
                    if let Some(v) = vars.get(name.as_str()).and_then(|v| parse(v.value)) {
                        collect_all(&v, &mut found);
                    }
                }
            }
        }
        let mut secrets: Vec<String> = found
            .into_iter()
            .filter(|s| s.chars().count() >= MIN_LEN)
            .collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        Redactor {
            secrets,
            matcher: OnceLock::new(),
        }
    }

    /// Adds literal secrets (credentials, tokens) to redact as well; short ones are ignored.
    pub fn with_secrets<'s>(mut self, extra: impl IntoIterator<Item = &'s str>) -> Redactor {
        self.secrets.extend(
            extra
                .into_iter()
                .filter(|s| s.chars().count() >= MIN_LEN)
                .map(str::to_owned),
        );
        self.secrets
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        self.secrets.dedup();
        self.matcher = OnceLock::new();
        self
    }

    /// Whether there is anything to redact.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Replaces every known sensitive value in `text`, in every form it is known in.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Some(ac) = self.matcher() else {
            return self.redact_exact(text);
        };
        if !ac.is_match(text) {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        ac.replace_all_with(text, &mut out, |_, _, dst| {
            dst.push_str(MASK);
            true
        });
        Cow::Owned(out)
    }

    /// The automaton of every form of every secret, built once.
    fn matcher(&self) -> Option<&AhoCorasick> {
        self.matcher
            .get_or_init(|| {
                if self.secrets.is_empty() {
                    return None;
                }
                let patterns: BTreeSet<String> = self.secrets.iter().flat_map(|s| forms(s)).collect();
                match AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&patterns)
                {
                    Ok(ac) => Some(ac),
                    Err(e) => {
                        // Only a pattern set far beyond any real one can fail to build; the
                        // exact values are still masked then.
                        tracing::warn!(error = %e, "cannot build the redaction automaton; masking exact values only");
                        None
                    }
                }
            })
            .as_ref()
    }

    /// The exact values only (when the automaton could not be built).
    fn redact_exact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), MASK));
            }
        }
        out
    }
}

/// The forms a secret is masked in: as it is, and when long enough reversed, in hex and in
/// base64 (see the module documentation). Letter case is left to the matcher.
fn forms(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_owned()];
    if secret.chars().count() < DERIVED_MIN_LEN {
        return out;
    }
    let bytes = secret.as_bytes();
    out.push(secret.chars().rev().collect());
    out.push(hex::encode(bytes));
    for alphabet in [BASE64_STANDARD, BASE64_URL_SAFE] {
        // The whole value encoded on its own, with its last partial group and padding.
        let whole = base64(bytes, alphabet);
        out.push(whole.trim_end_matches('=').to_owned());
        out.push(whole);
        // The value inside a longer encoded string: with `k` bytes before it in its first
        // group, the characters that depend on its bytes alone.
        for k in 0..3 {
            let mut buf = vec![0u8; k];
            buf.extend_from_slice(bytes);
            let enc = base64(&buf, alphabet);
            let start = [0, 2, 3][k];
            let end = 8 * buf.len() / 6;
            if end > start {
                out.push(enc[start..end].to_owned());
            }
        }
    }
    out
}

const BASE64_STANDARD: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_URL_SAFE: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 with `=` padding in the given alphabet.
fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Collects the values under `true` markers of a sensitivity structure.
fn collect_marked(value: &J, marks: &J, out: &mut BTreeSet<String>) {
    match (value, marks) {
        (_, J::Bool(true)) => collect_all(value, out),
        (J::Object(v), J::Object(m)) => {
            for (k, mark) in m {
                if let Some(child) = v.get(k) {
                    collect_marked(child, mark, out);
                }
            }
        }
        (J::Array(v), J::Array(m)) => {
            for (child, mark) in v.iter().zip(m) {
                collect_marked(child, mark, out);
            }
        }
        _ => {}
    }
}

fn collect_all(value: &J, out: &mut BTreeSet<String>) {
    match value {
        J::String(s) => {
            out.insert(s.clone());
        }
        J::Number(n) => {
            out.insert(n.to_string());
        }
        J::Array(items) => items.iter().for_each(|i| collect_all(i, out)),
        J::Object(map) => map.values().for_each(|i| collect_all(i, out)),
        J::Null | J::Bool(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_marked_values_and_sensitive_variables() {
        let json = r#"{"format_version":"1.2",
          "variables":{"db_password":{"value":"hunter2-secret"},"region":{"value":"eu-west-1"}},
          "resource_changes":[{"address":"aws_db_instance.x","type":"aws_db_instance","name":"x",
            "change":{"actions":["create"],"after":{"password":"s3cr3t-pw","tags":{"k":"visible"},"nested":[{"token":"tok-123456"}]},
            "after_sensitive":{"password":true,"nested":[{"token":true}]}}}],
          "configuration":{"root_module":{"variables":{"db_password":{"sensitive":true},"region":{}}}}}"#;
        let plan = crate::plan::parse("p", json).unwrap();
        let r = Redactor::from_plan(&plan);
        let out =
            r.redact("pw=s3cr3t-pw tok=tok-123456 var=hunter2-secret region=eu-west-1 tag=visible");
        assert_eq!(out, "pw=(sensitive value) tok=(sensitive value) var=(sensitive value) region=eu-west-1 tag=visible");
    }

    const SECRET: &str = "e2e-webhook-secret";

    fn masked(text: &str) -> String {
        Redactor::default()
            .with_secrets([SECRET, "AKIANETWORKEXAMPLE01"])
            .redact(text)
            .into_owned()
    }

    #[test]
    fn every_letter_case_is_masked() {
        for text in [
            "e2e-webhook-secret",
            "E2E-WEBHOOK-SECRET",
            "E2e-WebHook-SeCrEt",
            "akianetworkexample01",
        ] {
            assert_eq!(
                masked(&format!("k = \"{text}\"")),
                "k = \"(sensitive value)\""
            );
        }
    }

    #[test]
    fn the_reversed_value_is_masked() {
        assert_eq!(masked("x terces-koohbew-e2e y"), "x (sensitive value) y");
        assert_eq!(masked("10ELPMAXEKROWTENAIKA"), MASK);
    }

    #[test]
    fn hex_in_either_case_is_masked() {
        // `printf e2e-webhook-secret | xxd -p`
        let lower = "6532652d776562686f6f6b2d736563726574";
        assert_eq!(masked(lower), MASK);
        assert_eq!(masked(&lower.to_uppercase()), MASK);
        assert_eq!(masked(&format!("0x{lower}00")), "0x(sensitive value)00");
    }

    #[test]
    fn base64_standard_and_url_safe_padded_or_not_is_masked() {
        // `printf e2e-webhook-secret | base64`: no padding needed.
        assert_eq!(masked("ZTJlLXdlYmhvb2stc2VjcmV0"), MASK);
        // A value whose encoding has padding and `+` (`-` when URL-safe).
        let r = Redactor::default().with_secrets(["sure?>>>sure?>>>"]);
        // `printf 'sure?>>>sure?>>>' | base64`, and its URL-safe twin.
        for text in [
            "c3VyZT8+Pj5zdXJlPz4+Pg==",
            "c3VyZT8+Pj5zdXJlPz4+Pg",
            "c3VyZT8-Pj5zdXJlPz4-Pg==",
            "c3VyZT8-Pj5zdXJlPz4-Pg",
        ] {
            assert_eq!(
                r.redact(&format!("v={text};")),
                "v=(sensitive value);",
                "{text}"
            );
        }
    }

    #[test]
    fn base64_inside_a_longer_string_is_masked_at_every_alignment() {
        // `printf '%se2e-webhook-secret%s' "$prefix" "$suffix" | base64`, for prefixes of 0, 1
        // and 2 bytes (every position of the value in a 3-byte group).
        for (encoded, value_part) in [
            ("ZTJlLXdlYmhvb2stc2VjcmV0IQ==", "ZTJlLXdlYmhvb2stc2VjcmV0"),
            ("QWUyZS13ZWJob29rLXNlY3JldCEh", "UyZS13ZWJob29rLXNlY3JldC"),
            ("QUJlMmUtd2ViaG9vay1zZWNyZXQh", "lMmUtd2ViaG9vay1zZWNyZXQ"),
        ] {
            let out = masked(encoded);
            assert!(out.contains(MASK), "{encoded} -> {out}");
            assert!(!out.contains(&value_part[..12]), "{encoded} -> {out}");
            // And upper-cased on top.
            assert!(masked(&encoded.to_uppercase()).contains(MASK), "{encoded}");
        }
    }

    #[test]
    fn ordinary_text_is_untouched() {
        let text = "Terraform will perform the following actions:\n\n  # terraform_data.vpc will be created\n  + resource \"terraform_data\" \"vpc\" {\n      + id     = (known after apply)\n      + input  = { name = \"core\", cidr = \"10.0.0.0/16\" }\n    }\n\nPlan: 1 to add, 0 to change, 0 to destroy. webhook secret e2e webhook-secre ZTJlLXdlYmhv";
        let r = Redactor::default().with_secrets([SECRET, "AKIANETWORKEXAMPLE01"]);
        assert!(matches!(r.redact(text), Cow::Borrowed(t) if t == text));
        assert!(Redactor::default().redact(text) == text);
    }

    #[test]
    fn short_values_are_masked_only_as_they_are() {
        let r = Redactor::default().with_secrets(["abc123"]);
        assert_eq!(
            r.redact("abc123 ABC123 321cba"),
            "(sensitive value) (sensitive value) 321cba"
        );
    }
}
