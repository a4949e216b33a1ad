//! Plans: reading `show -json` output into the typed [`Plan`] model.
//!
//! This module owns the edge between bytes and the domain: it recognises the inputs people
//! hand a plan checker by mistake (an empty file, a `plan -json` log stream, wrapper text,
//! a state file, a binary or encrypted plan) and says what to run instead, and it reports a
//! malformed plan with the JSON path of the problem. It does not evaluate policies or render.

mod detect;
mod model;
pub mod read;
pub mod readable;
pub mod scan;
mod show;
mod summary;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

pub use detect::{sniff, InputKind};
pub use model::*;
pub use read::DEFAULT_MAX_INPUT_BYTES;
pub use show::{find_binary, show_json, ShowError, ShowLimits, TofuBinary, DEFAULT_SHOW_TIMEOUT};
pub use summary::ChangeCounts;

/// Why a file could not be read as a plan. Every variant says what to do instead.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{name}: cannot read: {source}")]
    Io {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{name}: the file is empty. Create the plan JSON with `tofu plan -out=tfplan && tofu show -json tfplan > plan.json`"
    )]
    Empty { name: String },
    #[error(
        "{name}: this is a `plan -json` log stream (one JSON message per line), not a plan. \
         Save the plan with `tofu plan -out=tfplan`, then run `tofu show -json tfplan > plan.json`, \
         or pass the binary `tfplan` to planguard directly"
    )]
    LogStream { name: String },
    #[error(
        "{name}: line {line} starts the plan JSON, but {bytes} bytes of other text come before it \
         (`{preview}`). This is usually the setup-terraform wrapper: set `terraform_wrapper: false` \
         in the workflow, or redirect only `show -json` output to the file"
    )]
    WrapperText {
        name: String,
        line: usize,
        bytes: usize,
        preview: String,
    },
    #[error(
        "{name}: this is a state file (version {version}), not a plan. Run `tofu plan -out=tfplan` \
         and `tofu show -json tfplan > plan.json`, then check plan.json"
    )]
    StateFile { name: String, version: u64 },
    #[error(
        "{name}: this is `show -json` output for state (it has `values` but no `resource_changes`). \
         Pass the saved plan file to show: `tofu show -json tfplan > plan.json`"
    )]
    StateJson { name: String },
    #[error(
        "{name}: this is an OpenTofu encrypted plan or state. Decrypt it with the configuration that \
         encrypted it: `planguard check {name} --chdir DIR` (runs `tofu show -json` in DIR), or \
         `tofu show -json {name} > plan.json` there"
    )]
    Encrypted { name: String },
    #[error(
        "{name}: this is a binary plan file, and reading it needs `tofu` or `terraform` on PATH: {reason}. \
         Install one, or run `tofu show -json {name} > plan.json` where the plan was made"
    )]
    NoBinary { name: String, reason: String },
    #[error("{name}: {source}")]
    Show {
        name: String,
        #[source]
        source: ShowError,
    },
    #[error(
        "{name}: the input is larger than {}, so planguard stopped reading it. Real plans are far \
         smaller; check the path. If this really is a plan, raise the limit with \
         `--max-input-bytes SIZE` (e.g. `--max-input-bytes 8G`)",
        read::human_bytes(*limit)
    )]
    TooLarge { name: String, limit: u64 },
    #[error("{name}: this file is {} text, but plan JSON must be UTF-8. {}", read::utf16_name(*big_endian), read::UTF8_FIX)]
    Utf16 { name: String, big_endian: bool },
    #[error("{name}: {}", read::binary_message())]
    Binary { name: String },
    #[error(
        "{name}: this is a JSON array{what}, not a plan. A plan is one JSON object, \
         `{{\"format_version\": \"1.2\", \"resource_changes\": [...], ...}}`: save the plan with \
         `tofu plan -out=tfplan`, then run `tofu show -json tfplan > plan.json` (or pass `tfplan` \
         to planguard directly)"
    )]
    JsonArray { name: String, what: String },
    #[error("{name}: not valid JSON: {message} (line {line}, column {column})")]
    NotJson {
        name: String,
        message: String,
        line: usize,
        column: usize,
    },
    #[error(
        "{name}: this JSON is not a plan: {what}. planguard reads the output of \
         `tofu show -json tfplan` or `terraform show -json tfplan`"
    )]
    NotAPlan { name: String, what: String },
    #[error("{name}: {path}: {message}")]
    Invalid {
        name: String,
        path: String,
        message: String,
    },
    #[error(
        "{name}: {unreadable}. Policies would see `null` there and lose what holds it, so the \
         plan is not checked; regenerate it, or correct the value in the configuration"
    )]
    Unreadable {
        name: String,
        unreadable: readable::Unreadable,
    },
}

impl PlanError {
    /// The name of the input the error is about.
    pub fn input_name(&self) -> &str {
        match self {
            PlanError::Io { name, .. }
            | PlanError::Empty { name }
            | PlanError::LogStream { name }
            | PlanError::WrapperText { name, .. }
            | PlanError::StateFile { name, .. }
            | PlanError::StateJson { name }
            | PlanError::Encrypted { name }
            | PlanError::NoBinary { name, .. }
            | PlanError::Show { name, .. }
            | PlanError::TooLarge { name, .. }
            | PlanError::Utf16 { name, .. }
            | PlanError::Binary { name }
            | PlanError::JsonArray { name, .. }
            | PlanError::NotJson { name, .. }
            | PlanError::NotAPlan { name, .. }
            | PlanError::Invalid { name, .. }
            | PlanError::Unreadable { name, .. } => name,
        }
    }
}

/// A plan's JSON text, with the name it is reported under. Parsed views borrow from it.
#[derive(Debug, Clone)]
pub struct PlanText {
    pub name: String,
    pub json: String,
}

/// How to turn a binary or encrypted plan into JSON.
#[derive(Debug, Clone)]
pub struct ShowOptions {
    /// The directory `show -json` runs in (the configuration the plan was made from).
    pub chdir: Option<PathBuf>,
    /// An explicit `tofu`/`terraform` binary; otherwise `tofu` on PATH, then `terraform`.
    pub binary: Option<PathBuf>,
    /// How long `show -json` may run before its process group is killed.
    pub timeout: Duration,
    /// The most bytes read from a plan input, or accepted from `show -json`.
    pub max_input_bytes: u64,
}

impl Default for ShowOptions {
    fn default() -> Self {
        ShowOptions {
            chdir: None,
            binary: None,
            timeout: DEFAULT_SHOW_TIMEOUT,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }
}

/// An input's bytes, read by [`PlanText::read_bytes`] and not yet classified.
#[derive(Debug)]
pub struct PlanBytes {
    name: String,
    path: PathBuf,
    bytes: Vec<u8>,
}

impl PlanBytes {
    /// The second half of [`PlanText::read`]: classifies the bytes into plan JSON.
    pub fn into_text(self, opts: &ShowOptions) -> Result<PlanText, PlanError> {
        PlanText::from_bytes(self.name, self.bytes, Some(&self.path), opts)
    }
}

impl PlanText {
    /// Reads a plan from a file, or stdin for `-`, converting binary plans with `show -json`.
    pub fn read(path: &Path, opts: &ShowOptions) -> Result<PlanText, PlanError> {
        Self::read_bytes(path, opts)?.into_text(opts)
    }

    /// The first half of [`PlanText::read`]: reads the input's bytes without classifying them
    /// (classifying can run `show -json`), so that the reading can happen on another thread.
    pub fn read_bytes(path: &Path, opts: &ShowOptions) -> Result<PlanBytes, PlanError> {
        let name = if path == Path::new("-") {
            "<stdin>".to_owned()
        } else {
            path.display().to_string()
        };
        match read::read_input(path, &name, opts.max_input_bytes) {
            Ok(input) => Ok(PlanBytes {
                name,
                path: path.to_owned(),
                bytes: input.bytes,
            }),
            Err(read::ReadError::Io(source)) => Err(PlanError::Io { name, source }),
            Err(read::ReadError::TooLarge { limit }) => Err(PlanError::TooLarge { name, limit }),
        }
    }

    /// Classifies raw bytes and produces plan JSON, or explains what the bytes are.
    pub fn from_bytes(
        name: String,
        mut bytes: Vec<u8>,
        path: Option<&Path>,
        opts: &ShowOptions,
    ) -> Result<PlanText, PlanError> {
        match sniff(&bytes) {
            InputKind::Json => {}
            InputKind::Empty => return Err(PlanError::Empty { name }),
            InputKind::Utf16 { big_endian } => return Err(PlanError::Utf16 { name, big_endian }),
            InputKind::Binary => return Err(PlanError::Binary { name }),
            InputKind::JsonArray => {
                let what = describe_array(&bytes);
                return Err(PlanError::JsonArray { name, what });
            }
            InputKind::LogStream => return Err(PlanError::LogStream { name }),
            InputKind::Wrapped { line, offset } => {
                let preview = String::from_utf8_lossy(&bytes[..offset.min(80)])
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                return Err(PlanError::WrapperText {
                    name,
                    line,
                    bytes: offset,
                    preview,
                });
            }
            InputKind::StateFile { version } => return Err(PlanError::StateFile { name, version }),
            kind @ (InputKind::BinaryPlan | InputKind::Encrypted) => {
                let encrypted = kind == InputKind::Encrypted;
                if encrypted && opts.chdir.is_none() {
                    return Err(PlanError::Encrypted { name });
                }
                // `show -json` opens the file itself: a pipe was consumed by reading it here.
                let Some(path) = path.filter(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
                else {
                    return Err(PlanError::NotAPlan {
                        name,
                        what: "it is a binary plan, and binary plans cannot be read from stdin \
                               or a pipe; pass the plan file's path"
                            .into(),
                    });
                };
                let binary = match &opts.binary {
                    Some(b) => TofuBinary::at(b.clone()),
                    None => find_binary().map_err(|e| PlanError::NoBinary {
                        name: name.clone(),
                        reason: e.to_string(),
                    })?,
                };
                let limits = ShowLimits {
                    timeout: opts.timeout,
                    max_bytes: opts.max_input_bytes,
                };
                let json =
                    show_json(&binary, path, opts.chdir.as_deref(), limits).map_err(|source| {
                        PlanError::Show {
                            name: name.clone(),
                            source,
                        }
                    })?;
                return Ok(PlanText { name, json });
            }
        }
        // PowerShell's `Out-File -Encoding utf8` writes a byte order mark; JSON has none.
        if bytes.starts_with(b"\xEF\xBB\xBF") {
            bytes.drain(..3);
        }
        match String::from_utf8(bytes) {
            Ok(json) => Ok(PlanText { name, json }),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                Err(PlanError::NotAPlan {
                    name,
                    what: format!("invalid UTF-8 at byte {at}"),
                })
            }
        }
    }

    /// Parses the text into the typed model, with JSON-path errors.
    pub fn parse(&self) -> Result<Plan<'_>, PlanError> {
        parse(&self.name, &self.json)
    }
}

/// Parses plan JSON, naming the JSON path of any problem.
pub fn parse<'a>(name: &str, json: &'a str) -> Result<Plan<'a>, PlanError> {
    // The scan for values policies could not read needs only the text, so it runs beside the
    // typed parse (at 100,000 changes it took a tenth of a second after it). A plan the typed
    // parse refuses is reported as such, whatever the scan finds.
    let (plan, unreadable) = rayon::join(
        || parse_typed(name, json),
        || readable::find_unreadable(json),
    );
    let plan = plan?;
    if let Some(unreadable) = unreadable {
        return Err(PlanError::Unreadable {
            name: name.to_owned(),
            unreadable,
        });
    }
    Ok(plan)
}

/// [`parse`] without the scan for unreadable values.
fn parse_typed<'a>(name: &str, json: &'a str) -> Result<Plan<'a>, PlanError> {
    // serde would read an array as the plan's fields in order: `["1.2"]` is not a plan.
    if json.trim_start().starts_with('[') {
        return Err(PlanError::JsonArray {
            name: name.to_owned(),
            what: describe_array(json.as_bytes()),
        });
    }
    // Tracking the JSON path costs a third of the parse; only a refused plan needs it, so it
    // is parsed again with tracking to name the path (the same input fails the same way).
    let mut de = serde_json::Deserializer::from_str(json);
    let plan = match Plan::deserialize(&mut de) {
        Ok(plan) => plan,
        Err(_) => {
            let mut tracked = serde_json::Deserializer::from_str(json);
            match serde_path_to_error::deserialize::<_, Plan<'a>>(&mut tracked) {
                Ok(plan) => {
                    de = tracked;
                    plan
                }
                Err(err) => return Err(classify_error(name, json, err)),
            }
        }
    };
    // Trailing characters after the plan object are an error, as in serde_json::from_str.
    if let Err(e) = de.end() {
        return Err(PlanError::NotJson {
            name: name.to_owned(),
            message: format!("{} after the plan object", strip_position(&e.to_string())),
            line: e.line(),
            column: e.column(),
        });
    }
    let mut plan = plan;
    let has_plan_sections = !plan.resource_changes.is_empty()
        || plan.planned_values.is_some()
        || plan.configuration.is_some()
        || plan.prior_state.is_some();
    if !has_plan_sections && looks_like_state_json(json) {
        return Err(PlanError::StateJson {
            name: name.to_owned(),
        });
    }
    if plan.format_version.is_none() && !has_plan_sections {
        let what = describe_non_plan(json).unwrap_or_else(|| "it has no plan sections".into());
        return Err(PlanError::NotAPlan {
            name: name.to_owned(),
            what,
        });
    }
    if !has_plan_sections && !has_plan_keys(json) {
        return Err(PlanError::NotAPlan {
            name: name.to_owned(),
            what: format!(
                "it has `format_version` but none of the sections of a plan ({}); it was \
                 perhaps written by hand or cut down with a filter such as jq",
                PLAN_KEYS
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    for rc in plan
        .resource_changes
        .iter_mut()
        .chain(plan.resource_drift.iter_mut())
    {
        if rc.address.is_empty() {
            rc.address = std::borrow::Cow::Owned(rc.derived_address());
        }
    }
    Ok(plan)
}

/// The top-level keys of which a plan has at least one besides `format_version`
/// (format 0.1 plans have `terraform_version` and few others).
const PLAN_KEYS: &[&str] = &[
    "terraform_version",
    "resource_changes",
    "planned_values",
    "configuration",
    "prior_state",
    "variables",
    "output_changes",
    "resource_drift",
];

/// Whether the object has one of [`PLAN_KEYS`], even empty (`"resource_changes": []` is the
/// plan of an empty configuration). Only called for documents without any plan content.
fn has_plan_keys(json: &str) -> bool {
    serde_json::from_str::<BTreeMap<String, serde::de::IgnoredAny>>(json)
        .is_ok_and(|keys| PLAN_KEYS.iter().any(|k| keys.contains_key(*k)))
}

/// What a top-level JSON array holds, for [`PlanError::JsonArray`]: ` of 3 objects with
/// keys name, asset_type (a cloud asset inventory export?)`.
fn describe_array(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(items) = serde_json::from_slice::<Vec<serde_json::Value>>(bytes) else {
        return String::new();
    };
    let n = items.len();
    let plural = if n == 1 { "" } else { "s" };
    match items.first() {
        None => " (empty)".into(),
        Some(serde_json::Value::Object(first)) => {
            let keys: Vec<_> = first.keys().take(5).map(String::as_str).collect();
            let hint = if first.contains_key("asset_type") {
                " (a cloud asset inventory export?)"
            } else if first.contains_key("format_version") {
                " (a plan inside an array: pass the plan itself)"
            } else {
                ""
            };
            format!(" of {n} object{plural} with keys {}{hint}", keys.join(", "))
        }
        Some(first) => format!(" of {n} item{plural} (the first is {})", json_kind(first)),
    }
}

fn looks_like_state_json(json: &str) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        values: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_str::<Probe>(json).is_ok_and(|p| p.values.is_some())
}

fn classify_error(
    name: &str,
    json: &str,
    err: serde_path_to_error::Error<serde_json::Error>,
) -> PlanError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let name = name.to_owned();
    match inner.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            PlanError::NotJson {
                name,
                message: strip_position(&inner.to_string()),
                line: inner.line(),
                column: inner.column(),
            }
        }
        _ if path == "." || path.is_empty() => {
            let what =
                describe_non_plan(json).unwrap_or_else(|| strip_position(&inner.to_string()));
            PlanError::NotAPlan { name, what }
        }
        _ => PlanError::Invalid {
            name,
            path,
            message: format!(
                "{} (line {}, column {})",
                strip_position(&inner.to_string()),
                inner.line(),
                inner.column()
            ),
        },
    }
}

/// Describes a top-level JSON document that is not a plan.
fn describe_non_plan(json: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    Some(match &v {
        serde_json::Value::Object(map) if !map.contains_key("format_version") => {
            let keys: Vec<_> = map.keys().take(5).map(String::as_str).collect();
            format!(
                "it has no `format_version` (top-level keys: {})",
                keys.join(", ")
            )
        }
        serde_json::Value::Object(_) => return None,
        other => format!("the document is {}, not an object", json_kind(other)),
    })
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// A plan `format_version` that planguard reads: 0.x or 1.x.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FormatVersion {
    pub major: u32,
    pub minor: u32,
}

impl fmt::Display for FormatVersion {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl<'de> Deserialize<'de> for FormatVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = FormatVersion;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a format version string such as \"1.2\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FormatVersion, E> {
                let mut parts = v.split('.');
                let major = parts.next().and_then(|p| p.parse().ok());
                let minor = parts.next().map_or(Some(0), |p| p.parse().ok());
                let (Some(major), Some(minor)) = (major, minor) else {
                    return Err(E::custom(format_args!("invalid format_version {v:?}")));
                };
                if major > 1 {
                    return Err(E::custom(format_args!(
                        "format_version {v} is newer than planguard understands (0.1 to 1.x); \
                         upgrade planguard"
                    )));
                }
                Ok(FormatVersion { major, minor })
            }
        }
        d.deserialize_str(V)
    }
}
