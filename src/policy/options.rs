//! The built-in library's settings (`data.planguard.config`): their schema, and checking what a
//! user sets against it.
//!
//! `policies/options.schema.json` is the one description of the settings. It is embedded here,
//! written by `planguard policies export`, rendered into the catalogue (`planguard policies
//! docs`), and used to check data files before anything is evaluated, so a setting of the wrong
//! type is a clear error instead of a Rego error deep in a helper or a silently changed verdict
//! (`s3_require_kms: "true"` is not `true`).
//!
//! Keys the schema does not list are left to the user's own policies, as documented, except a
//! near miss of a library setting (`required_tag`): that is almost certainly a typo that would
//! silently switch the setting off, so it is an error with the name meant.
//!
//! The checker understands the subset of JSON Schema the file uses: `type` (boolean, string,
//! integer, array, object), `items`, `additionalProperties`, `anyOf`, `minimum`, `maximum`, and
//! the `pattern` `^[0-9]+$`. A test keeps the file within that subset.

use std::sync::OnceLock;

use serde_json::Value;

/// The schema, as shipped in `policies/`.
pub const SCHEMA: &str = include_str!("../../policies/options.schema.json");

/// The schema's file name in `policies/` and in an export.
pub const SCHEMA_FILE: &str = "options.schema.json";

/// The one `pattern` the checker knows.
const DIGITS: &str = "^[0-9]+$";

/// One library setting, as the schema describes it.
#[derive(Debug, Clone)]
pub struct LibraryOption {
    pub name: String,
    pub description: String,
    /// What a value must be, in words ("a list of tag keys (strings)").
    pub expected: String,
    /// A line of YAML setting it.
    pub example: String,
    /// The value the library uses when it is not set.
    pub default: Value,
    schema: Value,
}

impl LibraryOption {
    /// Whether `value` has the shape the setting needs.
    pub fn accepts(&self, value: &Value) -> bool {
        matches(&self.schema, value)
    }
}

/// Why a library setting is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionProblem {
    #[error(
        "`planguard.config.{name}` is not a library setting; did you mean `{meant}`? (Keys for \
         your own policies must not be this close to a library setting's name.)"
    )]
    NearMiss { name: String, meant: String },
    #[error(
        "library setting `planguard.config.{name}` must be {expected}, but it is {found}. Write \
         it as e.g. `{example}`"
    )]
    WrongType {
        name: String,
        expected: String,
        found: String,
        example: String,
    },
}

/// The settings, by name.
pub fn options() -> &'static [LibraryOption] {
    static OPTIONS: OnceLock<Vec<LibraryOption>> = OnceLock::new();
    OPTIONS.get_or_init(|| parse(SCHEMA).expect("policies/options.schema.json is valid"))
}

/// Checks one setting a user wrote under `planguard.config`.
pub fn check(name: &str, value: &Value) -> Result<(), OptionProblem> {
    let all = options();
    let Some(option) = all.iter().find(|o| o.name == name) else {
        return match crate::suggest::closest(name, all.iter().map(|o| o.name.as_str())) {
            Some(meant) => Err(OptionProblem::NearMiss {
                name: name.to_owned(),
                meant: meant.to_owned(),
            }),
            None => Ok(()),
        };
    };
    if option.accepts(value) {
        return Ok(());
    }
    Err(OptionProblem::WrongType {
        name: name.to_owned(),
        expected: option.expected.clone(),
        found: describe(value),
        example: option.example.clone(),
    })
}

/// The settings as a Markdown table, for the catalogue.
pub fn markdown_table() -> String {
    let mut out = String::from("| setting | type | default | what it does |\n|---|---|---|---|\n");
    for o in options() {
        out.push_str(&format!(
            "| `{}` | {} | `{}` | {} |\n",
            o.name,
            o.expected,
            o.default,
            o.description.replace('|', "\\|")
        ));
    }
    out
}

/// A value for messages: its kind and (the start of) its JSON.
pub fn describe(v: &Value) -> String {
    let kind = match v {
        Value::Null => return "null (empty)".into(),
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    };
    let mut text = v.to_string();
    if text.chars().count() > 60 {
        text = text.chars().take(60).collect::<String>() + "...";
    }
    format!("{kind}: {text}")
}

fn parse(schema: &str) -> Result<Vec<LibraryOption>, String> {
    let doc: Value = serde_json::from_str(schema).map_err(|e| e.to_string())?;
    let props = doc
        .get("properties")
        .and_then(Value::as_object)
        .ok_or("no `properties`")?;
    let text = |s: &Value, key: &str, name: &str| -> Result<String, String> {
        s.get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("`{name}` has no `{key}`"))
    };
    props
        .iter()
        .map(|(name, s)| {
            Ok(LibraryOption {
                name: name.clone(),
                description: text(s, "description", name)?,
                expected: text(s, "x-expected", name)?,
                example: text(s, "x-example", name)?,
                default: s
                    .get("default")
                    .cloned()
                    .ok_or_else(|| format!("`{name}` has no `default`"))?,
                schema: s.clone(),
            })
        })
        .collect()
}

/// Whether `v` matches `schema` (the subset in the module doc).
fn matches(schema: &Value, v: &Value) -> bool {
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
        if !any.iter().any(|s| matches(s, v)) {
            return false;
        }
    }
    let typed = match schema.get("type").and_then(Value::as_str) {
        None => true,
        Some("boolean") => v.is_boolean(),
        Some("string") => v.is_string(),
        Some("integer") => v.is_u64() || v.is_i64(),
        Some("array") => v.is_array(),
        Some("object") => v.is_object(),
        Some(_) => false,
    };
    if !typed {
        return false;
    }
    let number = v.as_f64();
    let bound = |key: &str, ok: fn(f64, f64) -> bool| match (
        schema.get(key).and_then(Value::as_f64),
        number,
    ) {
        (Some(limit), Some(n)) => ok(n, limit),
        _ => true,
    };
    if !bound("minimum", |n, l| n >= l) || !bound("maximum", |n, l| n <= l) {
        return false;
    }
    if let (Some(pattern), Some(s)) = (schema.get("pattern").and_then(Value::as_str), v.as_str()) {
        if pattern != DIGITS || s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), v.as_array()) {
        if !list.iter().all(|x| matches(items, x)) {
            return false;
        }
    }
    if let (Some(values), Some(map)) = (schema.get("additionalProperties"), v.as_object()) {
        if values.is_object() && !map.values().all(|x| matches(values, x)) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests;
