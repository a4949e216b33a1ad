//! Loading policies and data into a ready-to-evaluate [`PolicySet`].
//!
//! Loading collects every problem it finds (syntax errors, malformed metadata, calls to
//! builtins regorus lacks, duplicate ids) instead of stopping at the first, so one run shows
//! the user everything to fix.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use regorus::Engine;

use super::ast::{self, InputUse, ModuleFacts};
use super::meta::{self, PolicyMeta, Scope};
use super::options;
use super::RuleKind;
use crate::plan::read::read_text;

/// The most bytes read from one policy or data file (which may be a pipe).
const MAX_FILE_BYTES: u64 = crate::plan::DEFAULT_MAX_INPUT_BYTES;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// Where built-in policy files are shown as coming from.
pub const BUILTIN_PREFIX: &str = "builtin:policies/";

/// A policy file's name (as reported) and text.
#[derive(Debug, Clone)]
pub struct PolicySource {
    pub file: String,
    pub text: String,
    pub builtin: bool,
}

/// The embedded library, optionally with its `_test.rego` files.
pub fn builtin_sources(with_tests: bool) -> Vec<PolicySource> {
    embedded::BUILTIN_POLICIES
        .iter()
        .filter(|(name, _)| with_tests || !is_test_file(name))
        .map(|(name, text)| PolicySource {
            file: format!("{BUILTIN_PREFIX}{name}"),
            text: (*text).to_owned(),
            builtin: true,
        })
        .collect()
}

/// Whether a policy file holds Rego unit tests: `*_test.rego` (OPA's convention) or
/// `*.test.rego` (used by some libraries). conftest does not evaluate them, and neither does
/// `check`; `planguard test` loads them.
pub fn is_test_file(name: &str) -> bool {
    name.ends_with("_test.rego") || name.ends_with(".test.rego")
}

/// What to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Load the embedded library.
    pub builtin: bool,
    /// Policy files or directories (searched recursively for `.rego`).
    pub paths: Vec<PathBuf>,
    /// JSON or YAML data files or directories, merged into `data`.
    pub data_files: Vec<PathBuf>,
    /// Extra data merged last (the server passes the stack's context here).
    pub extra_data: Option<serde_json::Value>,
    /// Only evaluate user packages with these names (conftest `--namespace`); empty means all.
    pub namespaces: Vec<String>,
    /// Accept Rego v0 syntax.
    pub rego_v0: bool,
    /// Include `_test.rego` files (for `planguard test`).
    pub with_tests: bool,
    /// The time limit of one evaluation (and of compiling the policies).
    pub timeout: Duration,
    /// The memory limit of one evaluation, in bytes ([`super::memory`]).
    pub memory_limit: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            builtin: true,
            paths: Vec::new(),
            data_files: Vec::new(),
            extra_data: None,
            namespaces: Vec::new(),
            rego_v0: false,
            with_tests: false,
            timeout: Duration::from_secs(30),
            memory_limit: super::memory::DEFAULT_LIMIT,
        }
    }
}

/// A problem with a policy or data file, located as precisely as known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct LoadError {
    pub file: String,
    pub line: Option<u32>,
    pub message: String,
}

/// A rule that produces findings.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub kind: RuleKind,
    pub file: String,
    pub line: u32,
    /// How many definitions it has across the package's files.
    pub definitions: u32,
    /// Whether every definition is a partial set rule: then shares of its definitions may be
    /// evaluated apart and their values unioned (see `eval::whole_groups`).
    pub partial_set: bool,
}

/// A package with conftest rules: the unit of evaluation.
#[derive(Debug, Clone)]
pub struct Package {
    /// Package path without `data.`.
    pub name: String,
    pub meta: Option<PolicyMeta>,
    pub rules: Vec<Rule>,
    pub has_exception: bool,
    pub input: InputUse,
    pub builtin: bool,
}

impl Package {
    /// The id findings carry.
    pub fn policy_id(&self) -> &str {
        self.meta.as_ref().map_or(&self.name, |m| &m.id)
    }

    /// Whether the engine may evaluate this package on type-indexed slices of the plan.
    pub fn is_indexed(&self) -> bool {
        self.builtin && self.meta.as_ref().is_some_and(|m| m.scope != Scope::Plan)
    }
}

/// Loaded, analysed policies plus data, ready to evaluate.
#[derive(Clone)]
pub struct PolicySet {
    pub(super) engine: Engine,
    pub(super) packages: Vec<Package>,
    pub(super) test_rules: Vec<Rule>,
    /// What the modules that are not evaluated themselves (helper packages such as
    /// `planguard.lib`) read from `input` on behalf of their callers.
    pub(super) helper_input: InputUse,
    pub(super) catalogue: Vec<(PolicyMeta, String)>,
    /// A copy of `engine` that has analysed its modules, made at the first evaluation (see
    /// `PolicySet::prepared_engine`).
    pub(super) prepared: std::sync::OnceLock<Engine>,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet")
            .field("packages", &self.packages.len())
            .finish()
    }
}

impl PolicySet {
    /// Loads policies and data, reporting every problem found.
    pub fn load(opts: &LoadOptions) -> Result<PolicySet, Vec<LoadError>> {
        let mut errors = Vec::new();
        let mut sources = if opts.builtin {
            builtin_sources(opts.with_tests)
        } else {
            Vec::new()
        };
        for path in &opts.paths {
            match collect_files(path, &["rego"]) {
                Ok(files) if files.is_empty() => errors.push(LoadError {
                    file: path.display().to_string(),
                    line: None,
                    message: "no .rego files here; pass a policy file or a directory of them"
                        .into(),
                }),
                Ok(files) => {
                    for f in files {
                        if !opts.with_tests && is_test_file(&f.to_string_lossy()) {
                            continue;
                        }
                        match read_text(&f, MAX_FILE_BYTES) {
                            Ok(text) => sources.push(PolicySource {
                                file: f.display().to_string(),
                                text,
                                builtin: false,
                            }),
                            Err(message) => errors.push(LoadError {
                                file: f.display().to_string(),
                                line: None,
                                message,
                            }),
                        }
                    }
                }
                Err(e) => errors.push(LoadError {
                    file: path.display().to_string(),
                    line: None,
                    message: e,
                }),
            }
        }
        Self::from_sources(sources, opts, errors)
    }

    /// Loads user policies (no built-in library) from `(file, text)` pairs; a unit test's
    /// fixture, so a policy that does not load panics with its errors.
    #[cfg(test)]
    pub(crate) fn from_user_texts(files: impl IntoIterator<Item = (String, String)>) -> PolicySet {
        let sources = files
            .into_iter()
            .map(|(file, text)| PolicySource {
                file,
                text,
                builtin: false,
            })
            .collect();
        let opts = LoadOptions {
            builtin: false,
            ..LoadOptions::default()
        };
        Self::from_sources(sources, &opts, Vec::new()).unwrap_or_else(|e| panic!("{e:?}"))
    }

    /// Loads the given sources (used by tests and by [`PolicySet::load`]).
    // Long on purpose: the engine is set up, fed and inspected in one pass so every error of every source is collected; a split would pass the half-built engine and the error list around.
    pub fn from_sources(
        sources: Vec<PolicySource>,
        opts: &LoadOptions,
        mut errors: Vec<LoadError>,
    ) -> Result<PolicySet, Vec<LoadError>> {
        let mut engine = Engine::new();
        engine.set_rego_v0(opts.rego_v0);
        engine.set_strict_builtin_errors(true);
        if let Err(e) = super::native::register(&mut engine) {
            errors.push(LoadError {
                file: "<builtins>".into(),
                line: None,
                message: e.to_string(),
            });
        }
        let mut metas: BTreeMap<String, (Option<PolicyMeta>, bool)> = BTreeMap::new();
        for src in &sources {
            let meta = match meta::parse(&src.text) {
                Ok(m) => m,
                Err(message) => {
                    errors.push(located(&src.file, &message));
                    None
                }
            };
            match engine.add_policy(src.file.clone(), src.text.clone()) {
                Ok(_) => {
                    metas.insert(src.file.clone(), (meta, src.builtin));
                }
                Err(e) => errors.push(regorus_error(&src.file, &e.to_string())),
            }
        }
        match load_data(&opts.data_files, opts.builtin) {
            Ok(data) => {
                if let Err(e) = engine.add_data(data) {
                    errors.push(LoadError {
                        file: "--data".into(),
                        line: None,
                        message: e.to_string(),
                    });
                }
            }
            Err(mut es) => errors.append(&mut es),
        }
        if let Some(extra) = &opts.extra_data {
            if let Err(e) = engine.add_data(regorus::Value::from(extra.clone())) {
                errors.push(LoadError {
                    file: "<context>".into(),
                    line: None,
                    message: e.to_string(),
                });
            }
        }
        let facts = match engine
            .get_ast_as_json()
            .map_err(|e| e.to_string())
            .and_then(|j| ast::analyse(&j))
        {
            Ok(f) => f,
            Err(message) => {
                errors.push(LoadError {
                    file: "<policies>".into(),
                    line: None,
                    message,
                });
                Vec::new()
            }
        };
        for m in &facts {
            let builtin_without_meta = matches!(metas.get(&m.file), Some((None, true)));
            if builtin_without_meta && m.rules.iter().any(|r| RuleKind::of(&r.name).is_some()) {
                errors.push(LoadError {
                    file: m.file.clone(),
                    line: None,
                    message: "a built-in policy with deny/warn rules needs a METADATA block with custom.id".into(),
                });
            }
        }
        for (i, bad) in ast::bad_calls(&facts) {
            let message = if bad.v0_only {
                format!(
                    "calls `{}`, a builtin OPA 1.0 removed from Rego v1. Use its replacement, or load \
                     the policy as Rego v0 with --rego-v0 (without `import rego.v1`)",
                    bad.name
                )
            } else if bad.stub {
                format!(
                    "calls `{}`, which regorus does not implement (it would always be undefined, so the \
                     rule would silently pass). Pass the data the policy needs with --data instead",
                    bad.name
                )
            } else {
                format!(
                    "calls `{}`, which is neither a function defined in the loaded policies nor a builtin \
                     regorus supports. Check the spelling and imports, or load the file that defines it",
                    bad.name
                )
            };
            errors.push(LoadError {
                file: facts[i].file.clone(),
                line: Some(bad.line),
                message,
            });
        }
        let (packages, test_rules, helper_input) = build_packages(&facts, &metas, opts);
        let mut catalogue = Vec::new();
        let mut seen = BTreeSet::new();
        for (file, (meta, _)) in &metas {
            if let Some(m) = meta {
                if !seen.insert(m.id.clone()) {
                    errors.push(LoadError {
                        file: file.clone(),
                        line: None,
                        message: format!("duplicate policy id `{}`", m.id),
                    });
                }
                catalogue.push((m.clone(), file.clone()));
            }
        }
        catalogue.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut set = PolicySet {
            engine,
            packages,
            test_rules,
            helper_input,
            catalogue,
            prepared: std::sync::OnceLock::new(),
        };
        set.engine
            .set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
                limit: opts.timeout,
                check_interval: std::num::NonZeroU32::new(64).expect("non-zero"),
            });
        super::memory::install(opts.memory_limit);
        // Compile now, under the time and memory limits: a policy that makes compiling blow up
        // is refused here, at its location, instead of failing every evaluation after it.
        let compiled = super::memory::with_budget(|| set.engine.eval_query("true".into(), false));
        if let Err(e) = compiled {
            return Err(vec![compile_error(&e.to_string(), opts)]);
        }
        Ok(set)
    }

    /// A copy with `data` merged in (the server's per-stack context). Loading stays shared:
    /// the engine clone shares compiled policies.
    pub fn with_data(&self, data: &serde_json::Value) -> Result<PolicySet, String> {
        let mut set = self.clone();
        set.engine
            .add_data(regorus::Value::from(data.clone()))
            .map_err(|e| format!("stack context data: {e}"))?;
        Ok(set)
    }

    /// The catalogue: metadata of every loaded policy that has it, by id, with its file.
    pub fn catalogue(&self) -> &[(PolicyMeta, String)] {
        &self.catalogue
    }
}

fn build_packages(
    facts: &[ModuleFacts],
    metas: &BTreeMap<String, (Option<PolicyMeta>, bool)>,
    opts: &LoadOptions,
) -> (Vec<Package>, Vec<Rule>, InputUse) {
    let mut packages: BTreeMap<String, Package> = BTreeMap::new();
    let mut tests = Vec::new();
    for m in facts {
        let (meta, builtin) = metas.get(&m.file).cloned().unwrap_or((None, false));
        for r in &m.rules {
            if r.name.starts_with("test_") {
                tests.push(Rule {
                    name: format!("data.{}.{}", m.package, r.name),
                    kind: RuleKind::Deny,
                    file: m.file.clone(),
                    line: r.line,
                    definitions: r.definitions,
                    partial_set: r.partial_set,
                });
            }
        }
        if !builtin && !opts.namespaces.is_empty() && !opts.namespaces.contains(&m.package) {
            continue;
        }
        let pkg = packages
            .entry(m.package.clone())
            .or_insert_with(|| Package {
                name: m.package.clone(),
                meta: None,
                rules: Vec::new(),
                has_exception: false,
                input: InputUse::None,
                builtin,
            });
        if meta.is_some() {
            pkg.meta = meta;
        }
        pkg.input.merge(&m.input);
        for r in &m.rules {
            if r.name == "exception" {
                pkg.has_exception = true;
            }
            if let Some(kind) = RuleKind::of(&r.name) {
                match pkg.rules.iter_mut().find(|x| x.name == r.name) {
                    Some(known) => {
                        known.definitions += r.definitions;
                        known.partial_set &= r.partial_set;
                    }
                    None => pkg.rules.push(Rule {
                        name: r.name.clone(),
                        kind,
                        file: m.file.clone(),
                        line: r.line,
                        definitions: r.definitions,
                        partial_set: r.partial_set,
                    }),
                }
            }
        }
    }
    let evaluated: BTreeSet<&str> = packages
        .values()
        .filter(|p| !p.rules.is_empty())
        .map(|p| p.name.as_str())
        .collect();
    let mut helper_input = InputUse::None;
    for m in facts
        .iter()
        .filter(|m| !evaluated.contains(m.package.as_str()) && !is_test_file(&m.file))
    {
        helper_input.merge(&m.input);
    }
    let packages = packages
        .into_values()
        .filter(|p| !p.rules.is_empty())
        .collect();
    (packages, tests, helper_input)
}

/// Recursively lists files with the given extensions, sorted; anything that is not a directory
/// (a file, or a pipe such as `<(...)` or `/dev/stdin`) is returned as is. Symbolic links are
/// followed, but each directory is walked once (by device and inode), so a link cycle ends.
pub(crate) fn collect_files(path: &Path, exts: &[&str]) -> Result<Vec<PathBuf>, String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut visited = std::collections::HashSet::new();
    visited.insert((meta.dev(), meta.ino()));
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let p = entry.path();
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            // A dangling link has no metadata: it is skipped, like other unreadable entries.
            let Ok(meta) = std::fs::metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                // A directory seen before (through a link cycle or a second link) is not
                // walked again.
                if visited.insert((meta.dev(), meta.ino())) {
                    stack.push(p);
                }
            } else if p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| exts.contains(&e))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads data files; a directory's files are placed under their relative directory path,
/// as `opa` and `conftest` do.
fn load_data(paths: &[PathBuf], builtin: bool) -> Result<regorus::Value, Vec<LoadError>> {
    let mut root = serde_json::Value::Object(Default::default());
    let mut errors = Vec::new();
    for path in paths {
        let files = match collect_files(path, &["json", "yaml", "yml"]) {
            Ok(f) => f,
            Err(message) => {
                errors.push(LoadError {
                    file: path.display().to_string(),
                    line: None,
                    message,
                });
                continue;
            }
        };
        for file in files {
            let name = file.display().to_string();
            let text = match read_text(&file, MAX_FILE_BYTES) {
                Ok(t) => t,
                Err(message) => {
                    errors.push(LoadError {
                        file: name,
                        line: None,
                        message,
                    });
                    continue;
                }
            };
            let is_json = file.extension().and_then(|e| e.to_str()) == Some("json");
            let value: Result<serde_json::Value, (Option<u32>, String)> = if is_json {
                serde_json::from_str(&text).map_err(|e| (Some(e.line() as u32), e.to_string()))
            } else {
                yaml_serde::from_str(&text)
                    .map_err(|e| (e.location().map(|l| l.line() as u32), e.to_string()))
            };
            let value = match value {
                Ok(v @ serde_json::Value::Object(_)) => v,
                Ok(_) => {
                    errors.push(LoadError {
                        file: name,
                        line: None,
                        message: "data must be an object at the top level".into(),
                    });
                    continue;
                }
                Err((line, message)) => {
                    errors.push(LoadError {
                        file: name,
                        line,
                        message,
                    });
                    continue;
                }
            };
            let prefix: Vec<String> = if path.is_dir() {
                file.parent()
                    .and_then(|p| p.strip_prefix(path).ok())
                    .map(|rel| {
                        rel.components()
                            .map(|c| c.as_os_str().to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            if builtin {
                errors.extend(check_library_options(&name, &prefix, &value));
            }
            let mut target = &mut root;
            for key in prefix {
                target = target
                    .as_object_mut()
                    .expect("data nodes are objects")
                    .entry(key)
                    .or_insert_with(|| serde_json::Value::Object(Default::default()));
            }
            if let Err(message) = merge(target, value) {
                errors.push(LoadError {
                    file: name,
                    line: None,
                    message,
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(regorus::Value::from(root))
    } else {
        Err(errors)
    }
}

/// Checks the library settings a data file sets (`planguard.config`, wherever the file's
/// directory places it) before any policy reads them.
fn check_library_options(
    file: &str,
    prefix: &[String],
    value: &serde_json::Value,
) -> Vec<LoadError> {
    let error = |message: String| LoadError {
        file: file.to_owned(),
        line: None,
        message,
    };
    // Where `planguard.config` is in this file: the prefix of its directory comes first.
    let wanted = ["planguard", "config"];
    let mut node = value;
    for (i, key) in wanted.iter().enumerate() {
        if let Some(dir_key) = prefix.get(i) {
            if dir_key != key {
                return Vec::new();
            }
            continue;
        }
        match node.get(key) {
            Some(v) => node = v,
            None => return Vec::new(),
        }
        if i == 0 && !node.is_object() {
            return vec![error(format!(
                "`planguard` must be a map (of `config` and `stack`), but it is {}",
                options::describe(node)
            ))];
        }
    }
    // A file deeper than `planguard/config/` holds the value of one setting.
    let settings: Vec<(&str, &serde_json::Value)> = match prefix.get(2) {
        Some(name) if prefix.len() == 3 => vec![(name.as_str(), node)],
        Some(_) => return Vec::new(),
        None => match node.as_object() {
            Some(map) => map.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            None => {
                return vec![error(format!(
                    "`planguard.config` must be a map of library settings (e.g. \
                     `planguard: {{config: {{required_tags: [Owner]}}}}`), but it is {}; it \
                     would be ignored",
                    options::describe(node)
                ))]
            }
        },
    };
    settings
        .into_iter()
        .filter_map(|(name, v)| options::check(name, v).err())
        .map(|problem| error(problem.to_string()))
        .collect()
}

fn merge(target: &mut serde_json::Value, value: serde_json::Value) -> Result<(), String> {
    match (target, value) {
        (serde_json::Value::Object(t), serde_json::Value::Object(v)) => {
            for (k, v) in v {
                match t.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v)?,
                    Some(_) => {
                        return Err(format!("key `{k}` is defined by more than one data file"))
                    }
                    None => {
                        t.insert(k, v);
                    }
                }
            }
            Ok(())
        }
        _ => Err("data must be an object".into()),
    }
}

fn located(file: &str, message: &str) -> LoadError {
    let line = message
        .strip_prefix("line ")
        .and_then(|r| r.split(':').next())
        .and_then(|n| n.parse().ok());
    let message = match line {
        Some(_) => message
            .split_once(": ")
            .map(|(_, m)| m.to_owned())
            .unwrap_or_else(|| message.to_owned()),
        None => message.to_owned(),
    };
    LoadError {
        file: file.to_owned(),
        line,
        message,
    }
}

/// Turns a regorus diagnostic (`--> file:line:col` plus a caret display) into a located error.
/// A failure to compile the loaded policies, at the file and line regorus stopped at.
fn compile_error(text: &str, opts: &LoadOptions) -> LoadError {
    let file = text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .and_then(|loc| loc.rsplitn(3, ':').nth(2))
        .unwrap_or("<policies>");
    let mut error = regorus_error(file, text);
    if error.message.contains("exceeded time limit") {
        error.message = format!(
            "compiling the policies took longer than the {} s time limit; simplify this rule or \
             raise --timeout",
            opts.timeout.as_secs()
        );
    } else if error.message.contains("exceeded memory limit") {
        error.message = format!(
            "compiling the policies used more memory than the {} MiB limit; simplify this rule \
             or raise --memory-limit",
            opts.memory_limit >> 20
        );
    }
    error
}

pub(crate) fn regorus_error(file: &str, text: &str) -> LoadError {
    let line = text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .and_then(|loc| loc.rsplit(':').nth(1))
        .and_then(|n| n.parse().ok());
    let message = text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("error: "))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            text.lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or(text)
                .trim()
                .to_owned()
        });
    LoadError {
        file: file.to_owned(),
        line,
        message,
    }
}
