//! `planguard.yaml`: a repository's stacks and how each is planned, applied and gated.
//!
//! Owns reading the file at the repository root (or, when there is none, discovering stacks
//! from the directories that hold `.tf` files), validating it into [`RepoConfig`], and the
//! questions the server asks of it afterwards: which stacks a change affects, in what order
//! stacks apply, which stacks depend on one. It does not run anything, talk to GitHub, or decide
//! whether an apply may go ahead; it only says what the repository asked for.
//!
//! Validation collects every problem before giving up, each named by its YAML path
//! (`stacks[1].dir`) and, where the file has it, its line (from the spans of saphyr's parser).
//! The file is first read as plain YAML, then each key is checked on its own (a wrong type in
//! one stack does not hide a missing name in another), then the stacks are checked against each other (unique names, unique
//! dir and workspace, dependencies that exist and do not form a cycle).
//!
//! Paths in the file are relative to the repository and may not leave it: a stack's `dir`, its
//! `when_modified` globs (relative to `dir`, so `../modules/**` works), and the files among its
//! `var_files` and `backend_config`. The last two matter beyond tidiness: a file outside the
//! checkout would be read on the server, and tools echo what they cannot parse.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use yaml_serde::{Mapping, Value};

use crate::serve::accounts::Credentials;
use crate::serve::config::Owners;
use crate::serve::diagnostics::{self, Problem};
use crate::serve::domain::StackName;
use crate::serve::enforcement::{self, EnforcementRule};
use crate::serve::workflow::{self, describe, Workflow, Workflows, DEFAULT_WORKFLOW};

/// The configuration file at the repository root.
pub const FILE_NAME: &str = "planguard.yaml";
/// The other spelling, also accepted (but not both at once).
pub const ALT_FILE_NAME: &str = "planguard.yml";
/// The `version:` this planguard reads.
pub const VERSION: u64 = 1;
pub const DEFAULT_WORKSPACE: &str = "default";
/// What changes trigger a stack's autoplan unless it says otherwise (relative to its dir).
pub const DEFAULT_WHEN_MODIFIED: &[&str] = &[
    "**/*.tf",
    "**/*.tf.json",
    "**/*.tfvars",
    "**/*.tfvars.json",
    ".terraform.lock.hcl",
];

/// A condition that must hold before a stack may be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// The PR has the approvals [`Approvals`] asks for.
    Approved,
    /// No blocking policy finding is left unapproved.
    PoliciesPassed,
    /// The saved plan is of the PR's current head.
    PlanFresh,
    /// GitHub says the PR can be merged.
    Mergeable,
}

impl Requirement {
    pub const ALL: [Requirement; 4] = [
        Requirement::Approved,
        Requirement::PoliciesPassed,
        Requirement::PlanFresh,
        Requirement::Mergeable,
    ];
}

/// Which reviews count towards [`Requirement::Approved`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approvals {
    pub count: u32,
    /// `org/team` slugs; when not empty, only their members' approvals count.
    pub teams: Vec<String>,
    /// Whether an approval must come from a code owner of the changed files.
    pub codeowners: bool,
}

impl Default for Approvals {
    fn default() -> Self {
        Approvals {
            count: 1,
            teams: Vec::new(),
            codeowners: false,
        }
    }
}

/// The cloud account a stack's processes work in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// The server account registry's name for it (`account: NAME`).
    pub name: Option<String>,
    /// A 12-digit AWS account id.
    pub id: Option<String>,
    pub profile: Option<String>,
    pub role_arn: Option<String>,
    /// Extra environment for the stack's processes.
    pub env: BTreeMap<String, String>,
}

impl Account {
    /// Whether credentials are written on the stack itself (only honoured on the default branch).
    pub fn has_credentials(&self) -> bool {
        self.profile.is_some() || self.role_arn.is_some() || !self.env.is_empty()
    }

    /// The credentials written on the stack itself.
    pub fn credentials(&self) -> Credentials {
        Credentials {
            profile: self.profile.clone(),
            role_arn: self.role_arn.clone(),
            env: self.env.clone(),
        }
    }
}

/// The credentials a stack runs with, as [`crate::serve::trust::resolve`] bound them: its plan steps see
/// `plan`, its apply steps `apply` (after the gate).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackCredentials {
    /// The registry account serving the stack's directory.
    pub account: Option<String>,
    pub plan: Credentials,
    pub apply: Credentials,
}

/// One stack: a directory and workspace planned and applied as a unit.
#[derive(Debug, Clone)]
pub struct StackConfig {
    pub name: StackName,
    /// Relative to the repository root, normalised: `"."` for the root, no `..`, no leading `/`.
    pub dir: String,
    pub workspace: String,
    pub environment: Option<String>,
    pub account: Account,
    /// `key=value` items or files, each becoming one `-backend-config=` argument.
    pub backend_config: Vec<String>,
    pub var_files: Vec<String>,
    pub workflow: Workflow,
    /// Globs relative to `dir`.
    pub when_modified: Vec<String>,
    pub depends_on: Vec<StackName>,
    pub autoplan: bool,
    pub apply_requirements: Vec<Requirement>,
    pub approvals: Approvals,
    pub enforcement: Vec<EnforcementRule>,
    /// Defined on the trusted branch (set by [`crate::serve::trust::resolve`]).
    pub trusted: bool,
    /// Bound by [`crate::serve::trust::resolve`]; empty until then.
    pub credentials: StackCredentials,
    /// Why the server will not run this stack (set by [`crate::serve::trust::resolve`]).
    pub refused: Option<String>,
}

impl StackConfig {
    fn with_defaults(name: StackName, dir: String, workflow: Workflow) -> StackConfig {
        StackConfig {
            name,
            dir,
            workspace: DEFAULT_WORKSPACE.to_owned(),
            environment: None,
            account: Account::default(),
            backend_config: Vec::new(),
            var_files: Vec::new(),
            workflow,
            when_modified: DEFAULT_WHEN_MODIFIED
                .iter()
                .map(|s| s.to_string())
                .collect(),
            depends_on: Vec::new(),
            autoplan: true,
            apply_requirements: Requirement::ALL.to_vec(),
            approvals: Approvals::default(),
            enforcement: Vec::new(),
            trusted: false,
            credentials: StackCredentials::default(),
            refused: None,
        }
    }

    /// The settings that gate this stack's apply.
    pub fn gate_settings(&self) -> GateSettings {
        GateSettings {
            apply_requirements: self.apply_requirements.clone(),
            approvals: self.approvals.clone(),
            enforcement: self.enforcement.clone(),
        }
    }

    pub fn set_gate(&mut self, gate: GateSettings) {
        self.apply_requirements = gate.apply_requirements;
        self.approvals = gate.approvals;
        self.enforcement = gate.enforcement;
    }

    /// What policies see as `data.planguard.stack`: name, dir, workspace, and the environment
    /// and account id when set.
    pub fn policy_data(&self) -> serde_json::Value {
        let mut stack = serde_json::Map::new();
        stack.insert("name".into(), self.name.as_str().into());
        stack.insert("dir".into(), self.dir.as_str().into());
        stack.insert("workspace".into(), self.workspace.as_str().into());
        if let Some(env) = &self.environment {
            stack.insert("environment".into(), env.as_str().into());
        }
        if let Some(id) = &self.account.id {
            stack.insert("account_id".into(), id.as_str().into());
        }
        serde_json::json!({ "planguard": { "stack": stack } })
    }

    /// Whether a change to `changed_path` (relative to the repository root) matches this
    /// stack's `when_modified` globs, which are relative to its dir.
    pub fn matches(&self, changed_path: &str) -> bool {
        self.glob_set().is_match(normalise_changed(changed_path))
    }

    fn glob_set(&self) -> GlobSet {
        let mut set = GlobSetBuilder::new();
        for pattern in &self.when_modified {
            // Patterns were checked when the file loaded; one that does not resolve or compile
            // (only possible if the fields were edited since) matches nothing.
            if let Some(glob) = resolve_glob(&self.dir, pattern)
                .ok()
                .and_then(|p| compile_glob(&p).ok())
            {
                set.add(glob);
            }
        }
        set.build().unwrap_or_else(|_| GlobSet::empty())
    }
}

/// A repository's validated configuration.
#[derive(Debug, Clone)]
pub struct RepoConfig {
    pub stacks: Vec<StackConfig>,
    /// Owners the repository adds to the server's (never `allow_self_approval`).
    pub policy_owners: Owners,
    /// True when there was no `planguard.yaml` and the stacks were found by
    /// [`RepoConfig::discover`].
    pub discovered: bool,
}

/// What a server accepts of a repository's `planguard.yaml` (see [`RepoConfig::load_limited`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigLimits {
    pub max_bytes: u64,
    pub max_stacks: usize,
}

/// Why a `planguard.yaml` was refused: every problem, each with its YAML path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} is invalid:{}", .problems.iter().map(|p| format!("\n- {p}")).collect::<String>())]
pub struct RepoConfigError {
    /// `planguard.yaml` or `planguard.yml`.
    pub file: String,
    pub problems: Vec<String>,
}

/// The settings of a stack that gate its apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateSettings {
    pub apply_requirements: Vec<Requirement>,
    pub approvals: Approvals,
    pub enforcement: Vec<crate::serve::enforcement::EnforcementRule>,
}

impl GateSettings {
    /// Makes these settings at least as strict as `other`: every requirement of either, the
    /// larger approval count, code owners if either asks, `other`'s teams when it names any,
    /// and both sets of enforcement rules.
    pub fn tighten(&mut self, other: &GateSettings) {
        for r in &other.apply_requirements {
            if !self.apply_requirements.contains(r) {
                self.apply_requirements.push(*r);
            }
        }
        self.approvals.count = self.approvals.count.max(other.approvals.count);
        self.approvals.codeowners |= other.approvals.codeowners;
        if !other.approvals.teams.is_empty() {
            self.approvals.teams = other.approvals.teams.clone();
        }
        for e in &other.enforcement {
            if !self.enforcement.contains(e) {
                self.enforcement.push(e.clone());
            }
        }
    }
}

impl Default for GateSettings {
    /// The strict defaults: every requirement, one approval, no repository enforcement rules.
    fn default() -> Self {
        GateSettings {
            apply_requirements: Requirement::ALL.to_vec(),
            approvals: Approvals::default(),
            enforcement: Vec::new(),
        }
    }
}

impl RepoConfig {
    /// No stacks and no extra owners: what the gate uses when the base branch has no valid
    /// `planguard.yaml`, so every stack gets [`GateSettings::default`].
    pub fn strict() -> RepoConfig {
        RepoConfig {
            stacks: Vec::new(),
            policy_owners: Owners::default(),
            discovered: false,
        }
    }

    /// The gate's settings of a stack: its own when this config declares it, the strict
    /// defaults otherwise.
    pub fn gate(&self, name: &StackName) -> GateSettings {
        self.stack(name)
            .map_or_else(GateSettings::default, StackConfig::gate_settings)
    }

    /// [`RepoConfig::load`] within a server's limits: a file over `limits.max_bytes` is not
    /// read, and a configuration of more than `limits.max_stacks` stacks is refused. Each
    /// refusal names the limit, its server setting and how to raise it.
    pub fn load_limited(
        root: &Path,
        workflows: &Workflows,
        limits: &ConfigLimits,
    ) -> Result<RepoConfig, RepoConfigError> {
        for file in [FILE_NAME, ALT_FILE_NAME] {
            let size = std::fs::metadata(root.join(file)).map_or(0, |m| m.len());
            if size > limits.max_bytes {
                return Err(RepoConfigError {
                    file: file.to_owned(),
                    problems: vec![format!(
                        "is {size} bytes; this server reads at most {} bytes (server limit \
                         `limits.max_config_bytes`). Make the file smaller, or ask the server's \
                         operator to raise `max_config_bytes` in the `[limits]` section of its \
                         configuration",
                        limits.max_bytes
                    )],
                });
            }
        }
        let config = RepoConfig::load(root, workflows)?;
        if config.stacks.len() > limits.max_stacks {
            return Err(RepoConfigError {
                file: FILE_NAME.to_owned(),
                problems: vec![format!(
                    "defines {} stacks; this server plans at most {} stacks per repository \
                     (server limit `limits.max_stacks`). Split the repository's stacks, or ask \
                     the server's operator to raise `max_stacks` in the `[limits]` section of \
                     its configuration",
                    config.stacks.len(),
                    limits.max_stacks
                )],
            });
        }
        Ok(config)
    }

    /// Reads `planguard.yaml` (or `planguard.yml`) at `root`, or discovers stacks when there is
    /// neither.
    pub fn load(root: &Path, workflows: &Workflows) -> Result<RepoConfig, RepoConfigError> {
        let yaml = root.join(FILE_NAME);
        let yml = root.join(ALT_FILE_NAME);
        let (file, path) = match (yaml.is_file(), yml.is_file()) {
            (false, false) => return Ok(RepoConfig::discover(root, workflows)),
            (true, true) => {
                return Err(RepoConfigError {
                    file: FILE_NAME.to_owned(),
                    problems: vec![format!(
                        "both {FILE_NAME} and {ALT_FILE_NAME} exist; keep one \
                         (planguard would not know which to follow)"
                    )],
                })
            }
            (true, false) => (FILE_NAME, yaml),
            (false, true) => (ALT_FILE_NAME, yml),
        };
        let text = std::fs::read_to_string(&path).map_err(|e| RepoConfigError {
            file: file.to_owned(),
            problems: vec![format!("cannot be read ({e})")],
        })?;
        RepoConfig::parse(&text, Some(root), workflows).map_err(|mut e| {
            e.file = file.to_owned();
            e
        })
    }

    /// Parses the text of a `planguard.yaml`. With `root`, stack directories must exist there.
    /// `workflows` are the ones stacks may name besides those the file defines.
    pub fn parse(
        yaml: &str,
        root: Option<&Path>,
        workflows: &Workflows,
    ) -> Result<RepoConfig, RepoConfigError> {
        let mut problems = Problems::new();
        let config = parse_document(yaml, root, workflows, &mut problems);
        match config {
            Some(config) if problems.is_empty() => Ok(config),
            _ => Err(RepoConfigError {
                file: FILE_NAME.to_owned(),
                problems: problems
                    .into_iter()
                    .map(|(path, message)| render_problem(yaml, &path, &message))
                    .collect(),
            }),
        }
    }

    /// Every directory under `root` holding `.tf` files becomes a stack with the default
    /// settings, named by its relative path (`root` for the repository root). Hidden
    /// directories, `.terraform` and anything under a directory named `modules` are skipped;
    /// symbolic links are not followed.
    pub fn discover(root: &Path, workflows: &Workflows) -> RepoConfig {
        let workflow = workflows
            .get(DEFAULT_WORKFLOW)
            .cloned()
            .or_else(|| Workflows::builtin().get(DEFAULT_WORKFLOW).cloned())
            .expect("the default workflow is built in");
        let mut dirs = Vec::new();
        find_stack_dirs(root, "", &mut dirs);
        let mut stacks: Vec<StackConfig> = Vec::new();
        for dir in dirs {
            let name_text = if dir == "." { "root" } else { dir.as_str() };
            let name = match name_text.parse::<StackName>() {
                Ok(name) => name,
                Err(e) => {
                    tracing::warn!(dir = %dir, "skipping a discovered stack: {e}");
                    continue;
                }
            };
            if stacks.iter().any(|s| s.name == name) {
                tracing::warn!(dir = %dir, "skipping a discovered stack: another is named {name}");
                continue;
            }
            stacks.push(StackConfig::with_defaults(name, dir, workflow.clone()));
        }
        RepoConfig {
            stacks,
            policy_owners: Owners::default(),
            discovered: true,
        }
    }

    /// The stacks to plan for a change: those with autoplan whose `when_modified` globs match a
    /// changed path, or all of them with autoplan when the change touches `planguard.yaml`.
    pub fn affected(&self, changed: &[String]) -> Vec<&StackConfig> {
        let changed: Vec<&str> = changed.iter().map(|c| normalise_changed(c)).collect();
        let config_changed = changed
            .iter()
            .any(|c| *c == FILE_NAME || *c == ALT_FILE_NAME);
        self.stacks
            .iter()
            .filter(|s| s.autoplan)
            .filter(|s| {
                config_changed || {
                    let set = s.glob_set();
                    changed.iter().any(|c| set.is_match(c))
                }
            })
            .collect()
    }

    pub fn stack(&self, name: &StackName) -> Option<&StackConfig> {
        self.stacks.iter().find(|s| &s.name == name)
    }

    /// `names` ordered so that every stack comes after those it depends on (directly or
    /// through stacks not in `names`), otherwise in the order of the file. Names of no stack
    /// here are kept, at the end.
    pub fn apply_order(&self, names: &[StackName]) -> Vec<StackName> {
        let wanted: BTreeSet<&StackName> = names.iter().collect();
        let mut order: Vec<StackName> = self
            .topological_order()
            .into_iter()
            .map(|i| &self.stacks[i].name)
            .filter(|n| wanted.contains(n))
            .cloned()
            .collect();
        let known: BTreeSet<&StackName> = self.stacks.iter().map(|s| &s.name).collect();
        let mut kept: BTreeSet<&StackName> = BTreeSet::new();
        for name in names {
            if !known.contains(name) && kept.insert(name) {
                order.push(name.clone());
            }
        }
        order
    }

    /// Every stack that depends on `name`, directly or transitively, in apply order.
    pub fn dependents(&self, name: &StackName) -> Vec<StackName> {
        let Some(start) = self.stacks.iter().position(|s| &s.name == name) else {
            return Vec::new();
        };
        let (_, dependents_of) = self.graph();
        let mut found = vec![false; self.stacks.len()];
        let mut frontier = vec![start];
        while let Some(current) = frontier.pop() {
            for &d in &dependents_of[current] {
                if d != start && !found[d] {
                    found[d] = true;
                    frontier.push(d);
                }
            }
        }
        self.topological_order()
            .into_iter()
            .filter(|&i| found[i])
            .map(|i| self.stacks[i].name.clone())
            .collect()
    }

    /// For each stack (by index): the stacks it depends on, and the stacks depending on it
    /// directly. Unknown names and a stack's dependency on itself are left out; each edge is
    /// listed once.
    fn graph(&self) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
        let index: BTreeMap<&StackName, usize> = self
            .stacks
            .iter()
            .enumerate()
            .map(|(i, s)| (&s.name, i))
            .collect();
        let mut depends_on = vec![Vec::new(); self.stacks.len()];
        let mut dependents = vec![Vec::new(); self.stacks.len()];
        for (i, s) in self.stacks.iter().enumerate() {
            let deps: BTreeSet<usize> = s
                .depends_on
                .iter()
                .filter_map(|d| index.get(d).copied())
                .filter(|&d| d != i)
                .collect();
            for d in deps {
                depends_on[i].push(d);
                dependents[d].push(i);
            }
        }
        (depends_on, dependents)
    }

    /// Indexes of all stacks, dependencies first, ties broken by position in the file. (A
    /// validated configuration has no cycles; were there one, the earliest stack left is placed
    /// as if its dependencies were met, and the order goes on from there.)
    ///
    /// Kahn's algorithm with the ready stacks in a min-heap: O((stacks + edges) log stacks),
    /// whatever the repository's file holds.
    fn topological_order(&self) -> Vec<usize> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let (depends_on, dependents) = self.graph();
        let n = self.stacks.len();
        let mut waiting: Vec<usize> = depends_on.iter().map(Vec::len).collect();
        let mut placed = vec![false; n];
        let mut ready: BinaryHeap<Reverse<usize>> =
            (0..n).filter(|&i| waiting[i] == 0).map(Reverse).collect();
        let mut order = Vec::with_capacity(n);
        // The first stack not yet placed, for breaking cycles.
        let mut unplaced = 0;
        while order.len() < n {
            let next = match ready.pop() {
                Some(Reverse(i)) if placed[i] => continue,
                Some(Reverse(i)) => i,
                None => {
                    while placed[unplaced] {
                        unplaced += 1;
                    }
                    unplaced
                }
            };
            placed[next] = true;
            order.push(next);
            for &d in &dependents[next] {
                waiting[d] = waiting[d].saturating_sub(1);
                if waiting[d] == 0 && !placed[d] {
                    ready.push(Reverse(d));
                }
            }
        }
        order
    }
}

fn find_stack_dirs(root: &Path, rel: &str, out: &mut Vec<String>) {
    let dir = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut subdirs = Vec::new();
    let mut has_tf = false;
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        if kind.is_file() && name.ends_with(".tf") {
            has_tf = true;
        } else if kind.is_dir() && !name.starts_with('.') && name != "modules" {
            subdirs.push(name);
        }
    }
    if has_tf {
        out.push(if rel.is_empty() {
            ".".to_owned()
        } else {
            rel.to_owned()
        });
    }
    subdirs.sort();
    for sub in subdirs {
        let child = if rel.is_empty() {
            sub
        } else {
            format!("{rel}/{sub}")
        };
        find_stack_dirs(root, &child, out);
    }
}

fn normalise_changed(path: &str) -> &str {
    path.trim_start_matches("./")
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// (YAML path, message) pairs; the path is empty for the document as a whole.
type Problems = Vec<(String, String)>;

fn at(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Reads one map's keys one at a time and, at the end, reports those nobody asked for.
struct Fields<'v> {
    map: &'v Mapping,
    path: String,
    /// "a stack", "account", ...: how unknown-key messages name the map.
    what: &'static str,
    known: Vec<&'static str>,
}

impl<'v> Fields<'v> {
    fn of(value: &'v Value, path: &str, what: &'static str, p: &mut Problems) -> Option<Self> {
        match value.as_mapping() {
            Some(map) => Some(Fields {
                map,
                path: path.to_owned(),
                what,
                known: Vec::new(),
            }),
            None => {
                p.push((
                    path.to_owned(),
                    format!("{what} must be a map of settings, not {}", describe(value)),
                ));
                None
            }
        }
    }

    /// The value of `key`; an empty value (`key:`) counts as absent.
    fn get(&mut self, key: &'static str) -> Option<&'v Value> {
        self.known.push(key);
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn take<T: DeserializeOwned>(&mut self, key: &'static str, p: &mut Problems) -> Option<T> {
        let value = self.get(key)?;
        typed(value, &at(&self.path, key), p)
    }

    fn path_of(&self, key: &str) -> String {
        at(&self.path, key)
    }

    fn finish(self, p: &mut Problems) {
        for key in self.map.keys() {
            let Some(name) = key.as_str() else {
                p.push((
                    self.path.clone(),
                    format!(
                        "{} has a key that is not a string ({}); keys are names",
                        self.what,
                        describe(key)
                    ),
                ));
                continue;
            };
            if self.known.contains(&name) {
                continue;
            }
            p.push((
                at(&self.path, name),
                diagnostics::unknown_key(name, &self.known, self.what),
            ));
        }
    }
}

/// Deserializes `value` as `T`, reporting a failure at the path serde reached below `path`.
fn typed<T: DeserializeOwned>(value: &Value, path: &str, p: &mut Problems) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(value.clone()) {
        Ok(v) => Some(v),
        Err(e) => {
            let below = e.path().to_string();
            let full = match below.as_str() {
                "." => path.to_owned(),
                b if b.starts_with('[') => format!("{path}{b}"),
                b => at(path, b),
            };
            p.push((full, e.into_inner().to_string()));
            None
        }
    }
}

// Long on purpose: the top-level keys of `planguard.yaml` one after another, then the checks across stacks.
fn parse_document(
    yaml: &str,
    root: Option<&Path>,
    builtin: &Workflows,
    p: &mut Problems,
) -> Option<RepoConfig> {
    let mut doc: Value = match yaml_serde::from_str(yaml) {
        Ok(v) => v,
        Err(e) => {
            p.push((String::new(), format!("is not valid YAML: {e}")));
            return None;
        }
    };
    if let Err(e) = doc.apply_merge() {
        p.push((
            String::new(),
            format!("has a YAML merge (`<<`) that cannot be applied: {e}"),
        ));
        return None;
    }
    if doc.is_null() {
        p.push((
            String::new(),
            format!(
                "is empty; write `version: 1` and a `stacks:` list, or delete {FILE_NAME} to let \
                 planguard find stacks by their .tf files"
            ),
        ));
        return None;
    }
    if !doc.is_mapping() {
        p.push((
            String::new(),
            format!(
                "must be a map with a `stacks:` list (and optionally version, workflows and \
                 policy_owners), not {}",
                describe(&doc)
            ),
        ));
        return None;
    }
    let mut top = Fields::of(&doc, "", "planguard.yaml", p)?;

    if let Some(version) = top.get("version") {
        if version.as_u64() != Some(VERSION) {
            p.push((
                "version".to_owned(),
                format!(
                    "{} is not a supported version; this planguard reads `version: {VERSION}`",
                    scalar_text(version)
                ),
            ));
        }
    }

    let mut workflows = builtin.clone();
    if let Some(defined) = top.get("workflows") {
        match defined.as_mapping() {
            None => p.push((
                "workflows".to_owned(),
                format!(
                    "must map workflow names to workflows, not {}",
                    describe(defined)
                ),
            )),
            Some(map) => {
                for (name, value) in map {
                    let Some(name) = name.as_str().filter(|n| !n.trim().is_empty()) else {
                        p.push((
                            "workflows".to_owned(),
                            format!("{} is not a workflow name; use a string", describe(name)),
                        ));
                        continue;
                    };
                    let path = at("workflows", name);
                    match workflow::parse_workflow_located(name, value) {
                        Ok(w) => workflows.insert(w),
                        Err(found) => p.extend(
                            found
                                .into_iter()
                                .map(|(sub, m)| (join_path(&path, &sub), m)),
                        ),
                    }
                }
            }
        }
    }

    let policy_owners = match top.get("policy_owners") {
        None => Owners::default(),
        Some(v) => parse_owners(v, p),
    };

    let stacks = match top.get("stacks") {
        None => {
            p.push((
                "stacks".to_owned(),
                format!(
                    "is missing; list the stacks (each with a name and a dir), or delete \
                     {FILE_NAME} to let planguard find stacks by their .tf files"
                ),
            ));
            Vec::new()
        }
        Some(Value::Sequence(items)) if items.is_empty() => {
            p.push((
                "stacks".to_owned(),
                "is empty, so nothing would ever be planned; list at least one stack".to_owned(),
            ));
            Vec::new()
        }
        Some(Value::Sequence(items)) => {
            let mut stacks = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let path = format!("stacks[{i}]");
                if let Some(stack) = parse_stack(item, &path, &workflows, root, p) {
                    stacks.push((path, stack));
                }
            }
            stacks
        }
        Some(other) => {
            p.push((
                "stacks".to_owned(),
                format!("must be a list of stacks, not {}", describe(other)),
            ));
            Vec::new()
        }
    };
    top.finish(p);

    check_stacks_together(&stacks, p);

    Some(RepoConfig {
        stacks: stacks.into_iter().map(|(_, s)| s).collect(),
        policy_owners,
        discovered: false,
    })
}

/// A value as it would be quoted in a message: strings in quotes, numbers and booleans bare.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => describe(other),
    }
}

fn join_path(base: &str, sub: &str) -> String {
    if sub.is_empty() {
        base.to_owned()
    } else if sub.starts_with('[') {
        format!("{base}{sub}")
    } else {
        at(base, sub)
    }
}

fn parse_owners(value: &Value, p: &mut Problems) -> Owners {
    let Some(mut f) = Fields::of(value, "policy_owners", "policy_owners", p) else {
        return Owners::default();
    };
    let users: Vec<String> = f.take("users", p).unwrap_or_default();
    let teams: Vec<String> = f.take("teams", p).unwrap_or_default();
    f.finish(p);
    for (i, user) in users.iter().enumerate() {
        if user.trim().is_empty() || user.starts_with('@') || user.contains(['/', ' ']) {
            p.push((
                format!("policy_owners.users[{i}]"),
                format!("{user:?} is not a GitHub login; write the login alone, e.g. \"alice\""),
            ));
        }
    }
    check_teams("policy_owners.teams", &teams, p);
    Owners {
        users,
        teams,
        allow_self_approval: false,
    }
}

fn check_teams(path: &str, teams: &[String], p: &mut Problems) {
    for (i, team) in teams.iter().enumerate() {
        let ok = team
            .split_once('/')
            .is_some_and(|(org, slug)| !org.is_empty() && !slug.is_empty() && !slug.contains('/'));
        if !ok {
            p.push((
                format!("{path}[{i}]"),
                format!("{team:?} is not a team; write org/team-slug, e.g. \"acme/platform\""),
            ));
        }
    }
}

/// One stack. `None` when it has no usable name or dir (other problems are recorded, and the
/// stack is still returned so that the checks across stacks can run).
// Long on purpose: one block per stack key, in the order of the reference docs; each block is independent.
fn parse_stack(
    item: &Value,
    path: &str,
    workflows: &Workflows,
    root: Option<&Path>,
    p: &mut Problems,
) -> Option<StackConfig> {
    let mut f = Fields::of(item, path, "a stack", p)?;

    let name = match f.get("name") {
        None => {
            p.push((
                f.path_of("name"),
                "is missing; every stack needs a unique name".to_owned(),
            ));
            None
        }
        Some(v) => match v.as_str() {
            None => {
                p.push((
                    f.path_of("name"),
                    format!("must be a string, not {}", describe(v)),
                ));
                None
            }
            Some(text) => match text.parse::<StackName>() {
                Ok(name) => Some(name),
                Err(e) => {
                    p.push((f.path_of("name"), e.to_string()));
                    None
                }
            },
        },
    };

    let dir = match f.get("dir") {
        None => {
            p.push((
                f.path_of("dir"),
                "is missing; give the stack's directory relative to the repository root \
                 (\".\" for the root)"
                    .to_owned(),
            ));
            None
        }
        Some(v) => match v.as_str() {
            None => {
                p.push((
                    f.path_of("dir"),
                    format!("must be a string, not {}", describe(v)),
                ));
                None
            }
            Some(text) => match normalise_dir(text) {
                Ok(dir) => {
                    if let Some(root) = root {
                        if let Err(m) = check_dir_exists(root, &dir) {
                            p.push((f.path_of("dir"), m));
                        }
                    }
                    Some(dir)
                }
                Err(m) => {
                    p.push((f.path_of("dir"), m));
                    None
                }
            },
        },
    };
    let dir_for_paths = dir.clone().unwrap_or_else(|| ".".to_owned());

    let workspace: String = f
        .take("workspace", p)
        .unwrap_or_else(|| DEFAULT_WORKSPACE.to_owned());
    if workspace.is_empty()
        || !workspace
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        p.push((
            f.path_of("workspace"),
            format!("{workspace:?} is not a workspace name; use letters, digits, '-', '_' and '.'"),
        ));
    }

    let environment: Option<String> = f.take("environment", p);
    if environment.as_ref().is_some_and(|e| e.trim().is_empty()) {
        p.push((
            f.path_of("environment"),
            "is empty; name the environment or leave it out".to_owned(),
        ));
    }

    let account = match f.get("account") {
        None => Account::default(),
        // The name of an account in the server's registry (credentials live there).
        Some(Value::String(name)) => Account {
            name: Some(name.trim().to_owned()),
            ..Account::default()
        },
        Some(v) => parse_account(v, &f.path_of("account"), p),
    };

    let backend_config = match f.get("backend_config") {
        None => Vec::new(),
        Some(v) => parse_backend_config(v, &f.path_of("backend_config"), &dir_for_paths, p),
    };

    let var_files: Vec<String> = f.take("var_files", p).unwrap_or_default();
    for (i, file) in var_files.iter().enumerate() {
        if let Err(m) = check_file_in_repo(&dir_for_paths, file) {
            p.push((format!("{}[{i}]", f.path_of("var_files")), m));
        }
    }

    let workflow = parse_stack_workflow(
        f.get("workflow"),
        &f.path_of("workflow"),
        workflows,
        name.as_ref(),
        p,
    );

    let when_modified: Vec<String> = f.take("when_modified", p).unwrap_or_else(|| {
        DEFAULT_WHEN_MODIFIED
            .iter()
            .map(|s| s.to_string())
            .collect()
    });
    for (i, pattern) in when_modified.iter().enumerate() {
        let problem = resolve_glob(&dir_for_paths, pattern).and_then(|resolved| {
            compile_glob(&resolved).map(|_| ()).map_err(|e| {
                format!(
                    "{pattern:?} is not a valid glob ({}); e.g. \"**/*.tf\"",
                    e.kind()
                )
            })
        });
        if let Err(m) = problem {
            p.push((format!("{}[{i}]", f.path_of("when_modified")), m));
        }
    }

    let depends_on = match f.get("depends_on") {
        None => Vec::new(),
        Some(v) => {
            let names: Vec<String> = typed(v, &f.path_of("depends_on"), p).unwrap_or_default();
            let mut parsed = Vec::new();
            for (i, n) in names.iter().enumerate() {
                match n.parse::<StackName>() {
                    Ok(n) if !parsed.contains(&n) => parsed.push(n),
                    Ok(_) => {}
                    Err(e) => p.push((format!("{}[{i}]", f.path_of("depends_on")), e.to_string())),
                }
            }
            parsed
        }
    };

    let autoplan: bool = f.take("autoplan", p).unwrap_or(true);

    let apply_requirements = match f.take::<Vec<Requirement>>("apply_requirements", p) {
        None => Requirement::ALL.to_vec(),
        Some(list) => {
            let mut unique = Vec::new();
            for r in list {
                if !unique.contains(&r) {
                    unique.push(r);
                }
            }
            unique
        }
    };

    let approvals = match f.get("approvals") {
        None => Approvals::default(),
        Some(v) => parse_approvals(v, &f.path_of("approvals"), p),
    };

    let enforcement: Vec<EnforcementRule> = f.take("enforcement", p).unwrap_or_default();
    for (below, message) in enforcement::validate(&enforcement) {
        p.push((format!("{}{below}", f.path_of("enforcement")), message));
    }

    f.finish(p);

    let mut stack = StackConfig::with_defaults(name?, dir?, workflow?);
    stack.workspace = workspace;
    stack.environment = environment;
    stack.account = account;
    stack.backend_config = backend_config;
    stack.var_files = var_files;
    stack.when_modified = when_modified;
    stack.depends_on = depends_on;
    stack.autoplan = autoplan;
    stack.apply_requirements = apply_requirements;
    stack.approvals = approvals;
    stack.enforcement = enforcement;
    Some(stack)
}

/// The stack's workflow: a name (built in or under `workflows:`), or one written inline. When
/// it cannot be had, the problem is recorded and the default stands in, so that the stack can
/// still be checked against the others.
fn parse_stack_workflow(
    value: Option<&Value>,
    path: &str,
    workflows: &Workflows,
    stack: Option<&StackName>,
    p: &mut Problems,
) -> Option<Workflow> {
    let stand_in = || {
        workflows
            .get(DEFAULT_WORKFLOW)
            .cloned()
            .or_else(|| Workflows::builtin().get(DEFAULT_WORKFLOW).cloned())
    };
    let by_name = |name: &str, p: &mut Problems| match workflows.get(name) {
        Some(w) => Some(w.clone()),
        None => {
            let known: Vec<&str> = workflows.names().collect();
            p.push((
                path.to_owned(),
                format!(
                    "unknown workflow {name:?}; the known workflows are {}, or define it under \
                     `workflows:`",
                    known.join(", ")
                ),
            ));
            stand_in()
        }
    };
    match value {
        None => by_name(DEFAULT_WORKFLOW, p),
        Some(Value::String(name)) => by_name(name, p),
        Some(inline @ Value::Mapping(_)) => {
            let name = stack.map_or_else(|| "inline".to_owned(), |s| format!("{s} (inline)"));
            match workflow::parse_workflow_located(&name, inline) {
                Ok(w) => Some(w),
                Err(found) => {
                    p.extend(found.into_iter().map(|(sub, m)| (join_path(path, &sub), m)));
                    stand_in()
                }
            }
        }
        Some(other) => {
            p.push((
                path.to_owned(),
                format!(
                    "must name a workflow or write one as {{plan: [...], apply: [...]}}, not {}",
                    describe(other)
                ),
            ));
            stand_in()
        }
    }
}

// Long on purpose: one block per account key; each block is independent.
fn parse_account(value: &Value, path: &str, p: &mut Problems) -> Account {
    let Some(mut f) = Fields::of(value, path, "account", p) else {
        return Account::default();
    };
    let id = match f.get("id") {
        None => None,
        Some(v) => {
            let text = match v {
                Value::String(s) => Some(s.trim().to_owned()),
                Value::Number(n) if n.is_u64() => Some(n.to_string()),
                _ => None,
            };
            match text {
                Some(t) if t.len() == 12 && t.chars().all(|c| c.is_ascii_digit()) => Some(t),
                Some(t) if matches!(v, Value::Number(_)) && t.len() < 12 => {
                    p.push((
                        f.path_of("id"),
                        format!(
                            "{t} is not a 12-digit AWS account id; if it starts with zeros, \
                             YAML dropped them: quote it, e.g. \"{t:0>12}\""
                        ),
                    ));
                    None
                }
                _ => {
                    p.push((
                        f.path_of("id"),
                        format!(
                            "{} is not a 12-digit AWS account id; write it as a quoted string, \
                             e.g. \"123456789012\"",
                            scalar_text(v)
                        ),
                    ));
                    None
                }
            }
        }
    };
    let profile: Option<String> = f.take("profile", p);
    let role_arn: Option<String> = f.take("role_arn", p);
    if let Some(arn) = &role_arn {
        let parts: Vec<&str> = arn.split(':').collect();
        let well_formed = parts.len() == 6
            && parts[0] == "arn"
            && parts[2] == "iam"
            && parts[5].starts_with("role/");
        if !well_formed {
            p.push((
                f.path_of("role_arn"),
                format!(
                    "{arn:?} is not an IAM role ARN; write arn:aws:iam::123456789012:role/NAME"
                ),
            ));
        } else if let Some(id) = id.as_deref().filter(|id| *id != parts[4]) {
            p.push((
                f.path_of("role_arn"),
                format!(
                    "is a role in account {} but account.id is {id}; make them agree",
                    parts[4]
                ),
            ));
        }
    }
    let mut env = BTreeMap::new();
    if let Some(v) = f.get("env") {
        let env_path = f.path_of("env");
        match v.as_mapping() {
            None => p.push((
                env_path,
                format!("must map variable names to values, not {}", describe(v)),
            )),
            Some(map) => {
                for (k, val) in map {
                    let Some(k) = k.as_str() else {
                        p.push((
                            env_path.clone(),
                            format!("{} is not a variable name", describe(k)),
                        ));
                        continue;
                    };
                    let here = at(&env_path, k);
                    let valid_name = k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !valid_name {
                        p.push((
                            here.clone(),
                            format!(
                                "{k:?} is not an environment variable name; use letters, \
                                 digits and '_'"
                            ),
                        ));
                    }
                    let owned_by = match k {
                        "AWS_PROFILE" if profile.is_some() => Some("profile"),
                        "AWS_ROLE_ARN" | "AWS_ROLE_SESSION_NAME" if role_arn.is_some() => {
                            Some("role_arn")
                        }
                        _ => None,
                    };
                    if let Some(field) = owned_by {
                        p.push((
                            here.clone(),
                            format!("is set by account.{field}; set it in one place"),
                        ));
                    }
                    match val {
                        Value::String(s) => {
                            env.insert(k.to_owned(), s.clone());
                        }
                        Value::Number(n) => {
                            env.insert(k.to_owned(), n.to_string());
                        }
                        Value::Bool(b) => {
                            env.insert(k.to_owned(), b.to_string());
                        }
                        other => {
                            p.push((here, format!("must be a string, not {}", describe(other))))
                        }
                    }
                }
            }
        }
    }
    f.finish(p);
    Account {
        name: None,
        id,
        profile,
        role_arn,
        env,
    }
}

/// A map becomes `key=value` items; a list holds files (inside the repository) or `k=v` items.
fn parse_backend_config(value: &Value, path: &str, dir: &str, p: &mut Problems) -> Vec<String> {
    let mut items = Vec::new();
    match value {
        Value::Mapping(map) => {
            for (k, v) in map {
                let Some(k) = k.as_str() else {
                    p.push((
                        path.to_owned(),
                        format!("{} is not a setting name", describe(k)),
                    ));
                    continue;
                };
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => {
                        p.push((
                            at(path, k),
                            format!(
                                "must be a string, number or boolean, not {}",
                                describe(other)
                            ),
                        ));
                        continue;
                    }
                };
                items.push(format!("{k}={text}"));
            }
        }
        Value::Sequence(_) => {
            let list: Vec<String> = typed(value, path, p).unwrap_or_default();
            for (i, item) in list.iter().enumerate() {
                if !item.contains('=') {
                    if let Err(m) = check_file_in_repo(dir, item) {
                        p.push((format!("{path}[{i}]"), m));
                    }
                }
                items.push(item.clone());
            }
        }
        other => p.push((
            path.to_owned(),
            format!(
                "must be a map of settings ({{bucket: my-state}}) or a list of files and \
                 key=value items, not {}",
                describe(other)
            ),
        )),
    }
    items
}

fn parse_approvals(value: &Value, path: &str, p: &mut Problems) -> Approvals {
    let Some(mut f) = Fields::of(value, path, "approvals", p) else {
        return Approvals::default();
    };
    let count: u32 = f.take("count", p).unwrap_or(1);
    if count == 0 {
        p.push((
            f.path_of("count"),
            "must be at least 1; to apply without approval, leave `approved` out of \
             apply_requirements"
                .to_owned(),
        ));
    }
    let teams: Vec<String> = f.take("teams", p).unwrap_or_default();
    check_teams(&f.path_of("teams"), &teams, p);
    let codeowners: bool = f.take("codeowners", p).unwrap_or(false);
    f.finish(p);
    Approvals {
        count,
        teams,
        codeowners,
    }
}

/// Stack names listed at most in a problem about an unknown dependency.
const MAX_NAMES_LISTED: usize = 30;

/// Names unique, (dir, workspace) unique, dependencies known and acyclic.
fn check_stacks_together(stacks: &[(String, StackConfig)], p: &mut Problems) {
    let mut by_name: BTreeMap<&StackName, &str> = BTreeMap::new();
    let mut by_place: BTreeMap<(&str, &str), &str> = BTreeMap::new();
    for (path, s) in stacks {
        if let Some(first) = by_name.insert(&s.name, path) {
            by_name.insert(&s.name, first);
            p.push((
                at(path, "name"),
                format!(
                    "{:?} is already the name of {first}; stack names must be unique",
                    s.name.as_str()
                ),
            ));
        }
        if let Some(first) = by_place.insert((s.dir.as_str(), s.workspace.as_str()), path) {
            by_place.insert((s.dir.as_str(), s.workspace.as_str()), first);
            p.push((
                at(path, "dir"),
                format!(
                    "{first} already plans dir {:?} in workspace {:?}; two stacks there would \
                     share state and locks. Use another workspace, or merge the two",
                    s.dir, s.workspace
                ),
            ));
        }
    }
    let names: Vec<&str> = by_name.keys().map(|n| n.as_str()).collect();
    // Listing every stack in every message would make the answer to a file of thousands of
    // stacks quadratic in size; a short list is enough to spot a typo.
    let listed = if names.len() > MAX_NAMES_LISTED {
        format!(
            "{}, … ({} more)",
            names[..MAX_NAMES_LISTED].join(", "),
            names.len() - MAX_NAMES_LISTED
        )
    } else {
        names.join(", ")
    };
    let mut unknown = 0;
    for (path, s) in stacks {
        for (i, dep) in s.depends_on.iter().enumerate() {
            if !by_name.contains_key(dep) {
                // Suggestions compare against every name: only for the first few unknowns.
                unknown += 1;
                let suggestion = (unknown <= MAX_NAMES_LISTED)
                    .then(|| crate::suggest::closest(dep.as_str(), names.iter().copied()))
                    .flatten()
                    .map(|n| format!("did you mean {n:?}? "))
                    .unwrap_or_default();
                p.push((
                    format!("{}[{i}]", at(path, "depends_on")),
                    format!(
                        "no stack is named {:?}; {suggestion}the stacks are: {listed}",
                        dep.as_str(),
                    ),
                ));
            }
        }
    }
    for cycle in find_cycles(stacks) {
        let (path, _) = &stacks[cycle[0]];
        let names: Vec<&str> = cycle
            .iter()
            .chain(std::iter::once(&cycle[0]))
            .map(|&i| stacks[i].1.name.as_str())
            .collect();
        p.push((
            at(path, "depends_on"),
            format!(
                "dependency cycle: {}; no order can apply these, remove one of the depends_on",
                names.join(" → ")
            ),
        ));
    }
}

/// At most this many dependency cycles are reported; the rest are found again once these are
/// fixed.
const MAX_CYCLES_REPORTED: usize = 10;

/// Each dependency cycle once (at most [`MAX_CYCLES_REPORTED`]), as indexes into `stacks`,
/// starting from its earliest stack.
///
/// The depth-first search keeps its own stack rather than recursing: `depends_on` chains come
/// from the repository, and a chain of tens of thousands of stacks must not overflow the
/// thread's stack.
fn find_cycles(stacks: &[(String, StackConfig)]) -> Vec<Vec<usize>> {
    let index: BTreeMap<&StackName, usize> = stacks
        .iter()
        .enumerate()
        .map(|(i, (_, s))| (&s.name, i))
        .collect();
    let edges: Vec<Vec<usize>> = stacks
        .iter()
        .map(|(_, s)| {
            s.depends_on
                .iter()
                .filter_map(|d| index.get(d).copied())
                .collect()
        })
        .collect();

    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        /// On the current path, at this position.
        OnPath(usize),
        Done,
    }
    let mut marks = vec![Mark::New; stacks.len()];
    let mut cycles: Vec<Vec<usize>> = Vec::new();
    // The current path, each node with the index of the next edge to follow.
    let mut path: Vec<(usize, usize)> = Vec::new();
    for start in 0..stacks.len() {
        if marks[start] != Mark::New {
            continue;
        }
        marks[start] = Mark::OnPath(0);
        path.push((start, 0));
        while let Some(&mut (node, ref mut next_edge)) = path.last_mut() {
            let Some(&next) = edges[node].get(*next_edge) else {
                marks[node] = Mark::Done;
                path.pop();
                continue;
            };
            *next_edge += 1;
            match marks[next] {
                Mark::New => {
                    marks[next] = Mark::OnPath(path.len());
                    path.push((next, 0));
                }
                Mark::OnPath(at) if cycles.len() < MAX_CYCLES_REPORTED => {
                    let mut cycle: Vec<usize> = path[at..].iter().map(|&(n, _)| n).collect();
                    let first = cycle
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, n)| **n)
                        .map(|(i, _)| i)
                        .unwrap_or(0);
                    cycle.rotate_left(first);
                    if !cycles.contains(&cycle) {
                        cycles.push(cycle);
                    }
                }
                Mark::OnPath(_) | Mark::Done => {}
            }
        }
    }
    cycles
}

// ---------------------------------------------------------------------------------------------
// Paths and globs

/// `./stacks//network/` → `stacks/network`; the root is `"."`.
fn normalise_dir(dir: &str) -> Result<String, String> {
    if dir.trim().is_empty() {
        return Err(
            "is empty; write the directory relative to the repository root, \".\" for the root"
                .to_owned(),
        );
    }
    if dir.contains('\\') {
        return Err(format!("{dir:?} uses '\\'; separate directories with '/'"));
    }
    if dir.starts_with('/') {
        return Err(format!(
            "{dir:?} is absolute; write it relative to the repository root, e.g. {:?}",
            dir.trim_start_matches('/')
        ));
    }
    match lexical(dir) {
        Some(parts) if parts.is_empty() => Ok(".".to_owned()),
        Some(parts) => Ok(parts.join("/")),
        None => Err(format!(
            "{dir:?} leaves the repository; use a path inside it"
        )),
    }
}

/// The components of a relative path with `.` and `..` resolved; `None` if it climbs above
/// its start.
fn lexical(path: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts)
}

fn within(dir: &str, rel: &str) -> String {
    if dir == "." {
        rel.to_owned()
    } else {
        format!("{dir}/{rel}")
    }
}

/// A `when_modified` pattern made relative to the repository root.
fn resolve_glob(dir: &str, pattern: &str) -> Result<String, String> {
    if pattern.trim().is_empty() {
        return Err("is empty; write a glob relative to the stack's dir, e.g. \"*.tf\"".to_owned());
    }
    if pattern.starts_with('/') {
        return Err(format!(
            "{pattern:?} is absolute; globs are relative to the stack's dir (use ../ to reach \
             beyond it)"
        ));
    }
    match lexical(&within(dir, pattern)) {
        Some(parts) if !parts.is_empty() => Ok(parts.join("/")),
        _ => Err(format!(
            "{pattern:?} leaves the repository (from dir {dir:?}); keep globs inside it"
        )),
    }
}

fn compile_glob(pattern: &str) -> Result<globset::Glob, globset::Error> {
    GlobBuilder::new(pattern).literal_separator(true).build()
}

/// A file named by the stack (var file, backend config file) must stay in the repository.
fn check_file_in_repo(dir: &str, file: &str) -> Result<(), String> {
    if file.trim().is_empty() {
        return Err("is empty; name a file relative to the stack's dir".to_owned());
    }
    if file.starts_with('/') || file.contains('\\') {
        return Err(format!(
            "{file:?} is not a relative path; name a file in the repository, relative to the \
             stack's dir"
        ));
    }
    match lexical(&within(dir, file)) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{file:?} leaves the repository; files are read from the checkout, never from the \
             server"
        )),
    }
}

fn check_dir_exists(root: &Path, dir: &str) -> Result<(), String> {
    let full = root.join(dir);
    if !full.is_dir() {
        return Err(format!(
            "{dir:?} is not a directory in the repository; check the path (it is relative to \
             the repository root)"
        ));
    }
    match (root.canonicalize(), full.canonicalize()) {
        (Ok(root), Ok(full)) if !full.starts_with(&root) => Err(format!(
            "{dir:?} is a symbolic link out of the repository; point dir at a real directory \
             inside it"
        )),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Reporting

fn render_problem(yaml: &str, path: &str, message: &str) -> String {
    if path.is_empty() {
        return format!("{FILE_NAME} {message}");
    }
    let mut problem = Problem::new(path, message);
    problem.line = diagnostics::yaml_line(yaml, path);
    problem.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> StackName {
        s.parse().unwrap()
    }

    fn names(stacks: &[&StackConfig]) -> Vec<String> {
        stacks.iter().map(|s| s.name.to_string()).collect()
    }

    fn parse(yaml: &str) -> Result<RepoConfig, RepoConfigError> {
        RepoConfig::parse(yaml, None, &Workflows::builtin())
    }

    fn problems(yaml: &str) -> Vec<String> {
        parse(yaml).unwrap_err().problems
    }

    /// Asserts that one problem starts with `prefix`.
    #[track_caller]
    fn assert_problem(problems: &[String], prefix: &str) {
        assert!(
            problems.iter().any(|p| p.starts_with(prefix)),
            "no problem starts with {prefix:?}:\n{problems:#?}"
        );
    }

    const FULL: &str = r#"
version: 1
stacks:
  - name: network
    dir: stacks/network
    environment: prod
    account:
      id: "123456789012"
      profile: prod-deploy
      env: { AWS_REGION: eu-west-1 }
    backend_config: { path: /state/network.tfstate }
    var_files: [prod.tfvars]
    when_modified: ["*.tf", "../modules/**/*.tf"]
  - name: app
    dir: ./stacks/app/
    workspace: blue
    account:
      id: 123456789012
      role_arn: arn:aws:iam::123456789012:role/deploy
    backend_config: [backend.hcl, "key=app.tfstate"]
    workflow: slow
    depends_on: [network]
    autoplan: false
    apply_requirements: [approved, plan_fresh, approved]
    approvals: { count: 2, teams: [acme/platform], codeowners: true }
    enforcement: [ { policies: [aws-s3-*], level: hard-mandatory } ]
  - name: dns
    dir: stacks/dns
    workflow:
      plan: [init, plan, show, policy]
workflows:
  slow:
    plan: [ {run: "sleep 5"}, init, plan, show, policy ]
policy_owners: { users: [bob], teams: [acme/security] }
"#;

    #[test]
    fn a_full_file_is_read_with_its_defaults_filled_in() {
        let c = parse(FULL).unwrap();
        assert!(!c.discovered);
        assert_eq!(c.policy_owners.users, ["bob"]);
        assert_eq!(c.policy_owners.teams, ["acme/security"]);
        assert!(!c.policy_owners.allow_self_approval);

        let network = c.stack(&name("network")).unwrap();
        assert_eq!(network.dir, "stacks/network");
        assert_eq!(network.workspace, "default");
        assert_eq!(network.environment.as_deref(), Some("prod"));
        assert_eq!(network.backend_config, ["path=/state/network.tfstate"]);
        assert_eq!(network.var_files, ["prod.tfvars"]);
        assert_eq!(network.workflow.name, "opentofu");
        assert!(network.autoplan);
        assert_eq!(network.apply_requirements, Requirement::ALL);
        assert_eq!(network.approvals, Approvals::default());

        let app = c.stack(&name("app")).unwrap();
        assert_eq!(app.dir, "stacks/app", "the dir is normalised");
        assert_eq!(
            app.account.id.as_deref(),
            Some("123456789012"),
            "an integer id is kept as text"
        );
        assert_eq!(app.backend_config, ["backend.hcl", "key=app.tfstate"]);
        assert_eq!(app.workflow.name, "slow");
        assert_eq!(app.workflow.plan[0].name(), "run");
        assert_eq!(app.depends_on, [name("network")]);
        assert!(!app.autoplan);
        assert_eq!(
            app.apply_requirements,
            [Requirement::Approved, Requirement::PlanFresh]
        );
        assert_eq!(
            app.approvals,
            Approvals {
                count: 2,
                teams: vec!["acme/platform".into()],
                codeowners: true
            }
        );
        assert_eq!(
            app.enforcement[0].level,
            crate::serve::enforcement::EnforcementLevel::HardMandatory
        );

        let dns = c.stack(&name("dns")).unwrap();
        assert_eq!(dns.workflow.name, "dns (inline)");
        assert_eq!(
            dns.workflow.apply,
            Workflows::builtin().get("opentofu").unwrap().apply
        );
    }

    #[test]
    fn a_stack_environment_carries_its_account() {
        let c = parse(FULL).unwrap();
        let network = c.stack(&name("network")).unwrap();
        assert_eq!(
            network.account.credentials().env(&network.name),
            BTreeMap::from([
                ("AWS_PROFILE".to_owned(), "prod-deploy".to_owned()),
                ("AWS_REGION".to_owned(), "eu-west-1".to_owned()),
            ])
        );
        let app = c.stack(&name("app")).unwrap();
        let env = app.account.credentials().env(&app.name);
        assert_eq!(env["AWS_ROLE_ARN"], "arn:aws:iam::123456789012:role/deploy");
        assert_eq!(env["AWS_ROLE_SESSION_NAME"], "planguard-app");
        assert!(!env.contains_key("AWS_PROFILE"));
    }

    #[test]
    fn a_session_name_is_what_aws_accepts() {
        use crate::serve::accounts::session_name;
        assert_eq!(session_name(&name("envs/prod")), "planguard-envs-prod");
        assert_eq!(session_name(&name(&"x".repeat(100))).len(), 64);
    }

    #[test]
    fn policies_see_the_stack() {
        let c = parse(FULL).unwrap();
        assert_eq!(
            c.stack(&name("network")).unwrap().policy_data(),
            serde_json::json!({"planguard": {"stack": {
                "name": "network", "dir": "stacks/network", "workspace": "default",
                "environment": "prod", "account_id": "123456789012"
            }}})
        );
        assert_eq!(
            c.stack(&name("dns")).unwrap().policy_data(),
            serde_json::json!({"planguard": {"stack": {
                "name": "dns", "dir": "stacks/dns", "workspace": "default"
            }}})
        );
    }

    #[test]
    fn a_change_plans_the_stacks_whose_globs_match() {
        let c = parse(FULL).unwrap();
        let affected = |paths: &[&str]| {
            let changed: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
            names(&c.affected(&changed))
        };
        // network watches *.tf in its dir (not below it) and ../modules/**.
        assert_eq!(affected(&["stacks/network/main.tf"]), ["network"]);
        assert_eq!(affected(&["stacks/network/sub/x.tf"]), Vec::<String>::new());
        assert_eq!(affected(&["stacks/modules/vpc/main.tf"]), ["network"]);
        assert_eq!(
            affected(&["stacks/network/prod.tfvars"]),
            Vec::<String>::new()
        );
        // dns has the defaults: any .tf or .tfvars below it, and its lock file.
        assert_eq!(affected(&["stacks/dns/zones/a.tf"]), ["dns"]);
        assert_eq!(affected(&["./stacks/dns/.terraform.lock.hcl"]), ["dns"]);
        assert_eq!(affected(&["stacks/dns/README.md"]), Vec::<String>::new());
        // app has autoplan off: nothing it watches plans it.
        assert_eq!(affected(&["stacks/app/main.tf"]), Vec::<String>::new());
        assert_eq!(
            affected(&["stacks/network/main.tf", "stacks/dns/x.tf"]),
            ["network", "dns"]
        );
    }

    #[test]
    fn changing_planguard_yaml_plans_every_autoplan_stack() {
        let c = parse(FULL).unwrap();
        assert_eq!(
            names(&c.affected(&["planguard.yaml".into()])),
            ["network", "dns"]
        );
        assert_eq!(
            names(&c.affected(&["planguard.yml".into()])),
            ["network", "dns"]
        );
        assert!(c.affected(&["docs/planguard.yaml".into()]).is_empty());
    }

    #[test]
    fn matches_resolves_globs_against_the_dir() {
        let c = parse(FULL).unwrap();
        let network = c.stack(&name("network")).unwrap();
        assert!(network.matches("stacks/network/main.tf"));
        assert!(network.matches("stacks/modules/a/b/c.tf"));
        assert!(!network.matches("main.tf"));
    }

    const CHAIN: &str = r#"
stacks:
  - { name: app, dir: app, depends_on: [db, network] }
  - { name: db, dir: db, depends_on: [network] }
  - { name: dns, dir: dns }
  - { name: network, dir: network }
  - { name: monitoring, dir: monitoring, depends_on: [app] }
"#;

    #[test]
    fn stacks_apply_after_their_dependencies_and_otherwise_in_file_order() {
        let c = parse(CHAIN).unwrap();
        let order = |ns: &[&str]| {
            let ns: Vec<StackName> = ns.iter().map(|n| name(n)).collect();
            c.apply_order(&ns)
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            order(&["monitoring", "app", "db", "dns", "network"]),
            ["dns", "network", "db", "app", "monitoring"]
        );
        assert_eq!(order(&["app", "network"]), ["network", "app"]);
        assert_eq!(
            order(&["monitoring", "db"]),
            ["db", "monitoring"],
            "ordered through app"
        );
        assert_eq!(
            order(&["ghost", "app"]),
            ["app", "ghost"],
            "unknown names are kept, last"
        );
    }

    #[test]
    fn dependents_are_transitive() {
        let c = parse(CHAIN).unwrap();
        let deps = |n: &str| {
            c.dependents(&name(n))
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(deps("network"), ["db", "app", "monitoring"]);
        assert_eq!(deps("app"), ["monitoring"]);
        assert!(deps("dns").is_empty());
    }

    /// A `depends_on` chain of `n` stacks: `s0` ← `s1` ← … (each depends on the one before),
    /// written last first so no order of the file is already right. With `cycle`, `s0`
    /// depends on the last one.
    fn long_chain(n: usize, cycle: bool) -> String {
        let mut yaml = String::from("stacks:\n");
        for i in (0..n).rev() {
            let deps = match i {
                0 if cycle => format!("[s{}]", n - 1),
                0 => "[]".to_owned(),
                _ => format!("[s{}]", i - 1),
            };
            yaml.push_str(&format!(
                "  - {{ name: s{i}, dir: d{i}, depends_on: {deps} }}\n"
            ));
        }
        yaml
    }

    /// Runs `f` on a thread with a small stack, so a recursion over the chain fails here
    /// rather than only with a server's deeper one.
    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(f)
            .unwrap()
            .join()
            .expect("no stack overflow")
    }

    #[test]
    fn a_chain_of_twenty_thousand_stacks_is_ordered_without_recursion() {
        const N: usize = 20_000;
        on_small_stack(|| {
            let c = parse(&long_chain(N, false)).unwrap();
            let all: Vec<StackName> = c.stacks.iter().map(|s| s.name.clone()).collect();
            let order = c.apply_order(&all);
            assert_eq!(order.len(), N);
            assert_eq!(order[0].as_str(), "s0");
            assert_eq!(order[N - 1].as_str(), format!("s{}", N - 1));
            let deps = c.dependents(&name("s0"));
            assert_eq!(deps.len(), N - 1);
            assert_eq!(deps[0].as_str(), "s1");
            assert!(c.dependents(&name(&format!("s{}", N - 1))).is_empty());
        });
    }

    #[test]
    fn a_cycle_through_twenty_thousand_stacks_is_reported_without_recursion() {
        const N: usize = 20_000;
        let p = on_small_stack(|| problems(&long_chain(N, true)));
        assert_eq!(p.len(), 1, "one cycle: {:?}", &p[..p.len().min(3)]);
        // The file lists the chain last first: the cycle starts at its earliest stack.
        let last = N - 1;
        assert!(
            p[0].contains(&format!("dependency cycle: s{last} → s{} → ", last - 1)),
            "{}",
            &p[0][..200]
        );
        assert!(p[0].contains(&format!("s1 → s0 → s{last};")));
    }

    #[test]
    fn many_cycles_and_unknown_dependencies_are_reported_briefly() {
        // Every stack depends on itself and on an unknown one: 2,000 of each problem would be
        // found, each unknown listing every stack name.
        let mut yaml = String::from("stacks:\n");
        for i in 0..2_000 {
            yaml.push_str(&format!(
                "  - {{ name: s{i}, dir: d{i}, depends_on: [s{i}, ghost{i}] }}\n"
            ));
        }
        let p = problems(&yaml);
        let cycles = p.iter().filter(|m| m.contains("dependency cycle")).count();
        assert_eq!(cycles, 10, "cycles beyond the first ten are not listed");
        let unknown: Vec<&String> = p
            .iter()
            .filter(|m| m.contains("no stack is named"))
            .collect();
        assert_eq!(unknown.len(), 2_000);
        assert!(unknown[0].contains("(1970 more)"), "{}", unknown[0]);
        assert!(unknown.iter().all(|m| m.len() < 2_000));
    }

    #[test]
    fn a_server_limits_the_file_size_and_the_number_of_stacks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut yaml = String::from("stacks:\n");
        for i in 0..5 {
            std::fs::create_dir_all(root.join(format!("d{i}"))).unwrap();
            yaml.push_str(&format!("  - {{ name: s{i}, dir: d{i} }}\n"));
        }
        std::fs::write(root.join(FILE_NAME), &yaml).unwrap();
        let limits = |max_bytes, max_stacks| ConfigLimits {
            max_bytes,
            max_stacks,
        };
        let w = Workflows::builtin();
        assert!(RepoConfig::load_limited(root, &w, &limits(10_000, 5)).is_ok());
        let e = RepoConfig::load_limited(root, &w, &limits(10_000, 4)).unwrap_err();
        assert_eq!(
            e.problems,
            [
                "defines 5 stacks; this server plans at most 4 stacks per repository (server \
              limit `limits.max_stacks`). Split the repository's stacks, or ask the server's \
              operator to raise `max_stacks` in the `[limits]` section of its configuration"
            ]
        );
        let e = RepoConfig::load_limited(root, &w, &limits(20, 5)).unwrap_err();
        assert!(
            e.problems[0].starts_with(&format!(
                "is {} bytes; this server reads at most 20 bytes (server limit \
                 `limits.max_config_bytes`)",
                yaml.len()
            )),
            "{e}"
        );
    }

    #[test]
    fn yaml_syntax_errors_are_reported_with_their_line() {
        let e = parse("stacks:\n  - name: a\n   dir: x\n").unwrap_err();
        assert_eq!(e.problems.len(), 1);
        assert!(
            e.problems[0].starts_with("planguard.yaml is not valid YAML"),
            "{e}"
        );
        assert!(e.problems[0].contains("line 3"), "{e}");
    }

    #[test]
    fn problems_name_their_path_and_line_and_display_as_a_list() {
        let e = parse("version: 1\nstacks:\n  - name: a\n    dir: ../x\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "planguard.yaml is invalid:\n- stacks[0].dir: \"../x\" leaves the repository; use a \
             path inside it (line 4)"
        );
    }

    #[test]
    fn every_problem_in_every_stack_is_collected() {
        let p = problems(
            r#"
version: 2
stacks:
  - dir: a
  - name: "bad name"
    dir: /abs
  - name: c
    dir: c
    autoplan: "yes"
    workspce: blue
    apply_requirements: [approved, aproved]
  - name: d
    dir: d
    account: { id: "1234", role_arn: "nope" }
    approvals: { count: 0, teams: [platform] }
    when_modified: ["[", "../../../x"]
    workflow: fast
    enforcement: [{ policies: [], level: advisory }]
surprise: true
"#,
        );
        let paths: Vec<&str> = p.iter().map(|m| m.split(": ").next().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "version",
                "stacks[0].name",
                "stacks[1].name",
                "stacks[1].dir",
                "stacks[2].autoplan",
                "stacks[2].apply_requirements[1]",
                "stacks[2].workspce",
                "stacks[3].account.id",
                "stacks[3].account.role_arn",
                "stacks[3].workflow",
                "stacks[3].when_modified[0]",
                "stacks[3].when_modified[1]",
                "stacks[3].approvals.count",
                "stacks[3].approvals.teams[0]",
                "stacks[3].enforcement[0].policies",
                "surprise",
            ],
            "{p:#?}"
        );
        assert_problem(
            &p,
            "version: 2 is not a supported version; this planguard reads `version: 1` (line 2)",
        );
        assert_problem(
            &p,
            "stacks[0].name: is missing; every stack needs a unique name (line 4)",
        );
        assert_problem(&p, "stacks[1].name: stack name \"bad name\" is not valid");
        assert_problem(&p, "stacks[1].dir: \"/abs\" is absolute");
        assert_problem(
            &p,
            "stacks[2].autoplan: invalid type: string \"yes\", expected a boolean (line 9)",
        );
        assert_problem(
            &p,
            "stacks[2].apply_requirements[1]: unknown variant `aproved`",
        );
        assert_problem(&p, "stacks[2].workspce: unknown key. Did you mean `workspace`? The keys of a stack are: name, dir,");
        assert_problem(
            &p,
            "stacks[3].account.id: \"1234\" is not a 12-digit AWS account id",
        );
        assert_problem(
            &p,
            "stacks[3].when_modified[1]: \"../../../x\" leaves the repository",
        );
        assert_problem(
            &p,
            "stacks[3].workflow: unknown workflow \"fast\"; the known workflows are opentofu, terragrunt",
        );
        assert_problem(&p, "stacks[3].approvals.count: must be at least 1");
        assert_problem(&p, "surprise: unknown key. The keys of planguard.yaml are: version, workflows, policy_owners, stacks");
    }

    #[test]
    fn unknown_keys_in_nested_maps_name_the_allowed_ones() {
        let p = problems("stacks:\n  - name: a\n    dir: a\n    account: { region: x }\n    approvals: { cnt: 2 }\npolicy_owners: { allow_self_approval: true }");
        assert_problem(&p, "stacks[0].account.region: unknown key. The keys of account are: id, profile, role_arn, env");
        assert_problem(
            &p,
            "stacks[0].approvals.cnt: unknown key. Did you mean `count`?",
        );
        assert_problem(&p, "policy_owners.allow_self_approval: unknown key. The keys of policy_owners are: users, teams");
    }

    #[test]
    fn an_integer_account_id_that_lost_its_leading_zero_is_explained() {
        let p = problems("stacks:\n  - name: a\n    dir: a\n    account: { id: 12345678901 }");
        assert_problem(&p, "stacks[0].account.id: 12345678901 is not a 12-digit AWS account id; if it starts with zeros, YAML dropped them: quote it, e.g. \"012345678901\"");
    }

    #[test]
    fn names_and_places_must_be_unique() {
        let p = problems(
            r#"
stacks:
  - { name: a, dir: x }
  - { name: a, dir: y }
  - { name: b, dir: ./x/ }
  - { name: c, dir: x, workspace: other }
"#,
        );
        assert_eq!(p.len(), 2, "{p:#?}");
        assert_problem(&p, "stacks[1].name: \"a\" is already the name of stacks[0]");
        assert_problem(
            &p,
            "stacks[2].dir: stacks[0] already plans dir \"x\" in workspace \"default\"",
        );
    }

    #[test]
    fn dependencies_must_exist_and_not_form_cycles() {
        let p = problems(
            r#"
stacks:
  - { name: a, dir: a, depends_on: [b] }
  - { name: b, dir: b, depends_on: [c] }
  - { name: c, dir: c, depends_on: [a] }
  - { name: d, dir: d, depends_on: [d, netwrk] }
  - { name: network, dir: n }
"#,
        );
        assert_eq!(p.len(), 3, "{p:#?}");
        assert_problem(
            &p,
            "stacks[3].depends_on[1]: no stack is named \"netwrk\"; did you mean \"network\"?",
        );
        assert_problem(&p, "stacks[0].depends_on: dependency cycle: a → b → c → a;");
        assert_problem(&p, "stacks[3].depends_on: dependency cycle: d → d;");
    }

    #[test]
    fn workflow_problems_are_located_inside_the_file() {
        let p = problems(
            r#"
stacks:
  - name: a
    dir: a
    workflow:
      plan: [init, plan, policy]
workflows:
  broken:
    plan: [init, {plan: "{bin} plan {vars}"}, show, policy]
"#,
        );
        assert_problem(
            &p,
            "stacks[0].workflow.plan[2]: a policy step needs a show step before it",
        );
        assert_problem(
            &p,
            "workflows.broken.plan[1].plan: unknown placeholder {vars}",
        );
        assert!(
            p.iter()
                .any(|m| m.starts_with("workflows.broken.plan[1].plan") && m.ends_with("(line 9)")),
            "{p:#?}"
        );
    }

    #[test]
    fn files_a_stack_names_must_stay_in_the_repository() {
        let p = problems(
            r#"
stacks:
  - name: a
    dir: stacks/a
    var_files: [../common.tfvars, /etc/planguard/app.pem, ../../../x.tfvars]
    backend_config: [../../../../etc/passwd, "bucket=../../x"]
"#,
        );
        assert_eq!(p.len(), 3, "{p:#?}");
        assert_problem(
            &p,
            "stacks[0].var_files[1]: \"/etc/planguard/app.pem\" is not a relative path",
        );
        assert_problem(
            &p,
            "stacks[0].var_files[2]: \"../../../x.tfvars\" leaves the repository",
        );
        assert_problem(
            &p,
            "stacks[0].backend_config[0]: \"../../../../etc/passwd\" leaves the repository",
        );
    }

    #[test]
    fn account_env_is_checked() {
        let p = problems(
            r#"
stacks:
  - name: a
    dir: a
    account:
      profile: p
      env: { AWS_PROFILE: other, "BAD-NAME": x, TF_LOG: [a] , RETRIES: 3 }
"#,
        );
        assert_eq!(p.len(), 3, "{p:#?}");
        assert_problem(
            &p,
            "stacks[0].account.env.AWS_PROFILE: is set by account.profile",
        );
        assert_problem(
            &p,
            "stacks[0].account.env.BAD-NAME: \"BAD-NAME\" is not an environment variable name",
        );
        assert_problem(
            &p,
            "stacks[0].account.env.TF_LOG: must be a string, not a list",
        );
    }

    #[test]
    fn a_role_in_another_account_is_refused() {
        let p = problems("stacks:\n  - name: a\n    dir: a\n    account:\n      id: \"111111111111\"\n      role_arn: arn:aws:iam::222222222222:role/x");
        assert_problem(&p, "stacks[0].account.role_arn: is a role in account 222222222222 but account.id is 111111111111");
    }

    #[test]
    fn an_empty_or_stackless_file_is_refused_with_advice() {
        assert_problem(&problems(""), "planguard.yaml is empty;");
        assert_problem(&problems("version: 1"), "stacks: is missing;");
        assert_problem(&problems("stacks: []"), "stacks: is empty");
        assert_problem(
            &problems("stacks: {a: b}"),
            "stacks: must be a list of stacks, not a map",
        );
        assert_problem(
            &problems("- a"),
            "planguard.yaml must be a map with a `stacks:` list",
        );
    }

    #[test]
    fn yaml_anchors_and_merges_work() {
        let c = parse(
            r#"
x-common: &common
  workspace: prod
stacks:
  - { <<: *common, name: a, dir: a }
"#,
        );
        // Extension keys are not allowed at the top level...
        assert_problem(&c.unwrap_err().problems, "x-common: unknown key");
        let c = parse(
            "stacks:\n  - &a { name: a, dir: a, workspace: prod }\n  - { <<: *a, name: b, dir: b }",
        )
        .unwrap();
        assert_eq!(c.stacks[1].workspace, "prod");
    }

    #[test]
    fn dirs_must_exist_when_the_repository_is_at_hand() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join("stacks/a")).unwrap();
        let yaml = "stacks:\n  - { name: a, dir: stacks/a }\n  - { name: b, dir: stacks/b }";
        let e = RepoConfig::parse(yaml, Some(repo.path()), &Workflows::builtin()).unwrap_err();
        assert_eq!(e.problems.len(), 1, "{e}");
        assert!(
            e.problems[0].starts_with("stacks[1].dir: \"stacks/b\" is not a directory"),
            "{e}"
        );
        assert!(RepoConfig::parse(yaml, None, &Workflows::builtin()).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn a_dir_cannot_escape_through_a_symlink() {
        let outside = tempfile::tempdir().unwrap();
        let repo = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), repo.path().join("escape")).unwrap();
        let e = RepoConfig::parse(
            "stacks:\n  - { name: a, dir: escape }",
            Some(repo.path()),
            &Workflows::builtin(),
        )
        .unwrap_err();
        assert!(
            e.problems[0].contains("symbolic link out of the repository"),
            "{e}"
        );
    }

    fn touch(root: &Path, file: &str) {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }

    #[test]
    fn without_a_file_every_directory_with_tf_files_is_a_stack() {
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        for f in [
            "main.tf",
            "stacks/network/main.tf",
            "stacks/network/README.md",
            "stacks/app/main.tf",
            "stacks/app/.terraform/modules/x/main.tf",
            "stacks/docs/README.md",
            "modules/vpc/main.tf",
            "stacks/app/modules/db/main.tf",
            ".github/x.tf",
            "envs/prod/eu/main.tf",
        ] {
            touch(root, f);
        }
        let c = RepoConfig::load(root, &Workflows::builtin()).unwrap();
        assert!(c.discovered);
        let found: Vec<(&str, &str)> = c
            .stacks
            .iter()
            .map(|s| (s.name.as_str(), s.dir.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("root", "."),
                ("envs/prod/eu", "envs/prod/eu"),
                ("stacks/app", "stacks/app"),
                ("stacks/network", "stacks/network"),
            ]
        );
        let app = c.stack(&name("stacks/app")).unwrap();
        assert_eq!(app.workflow.name, "opentofu");
        assert_eq!(app.when_modified, DEFAULT_WHEN_MODIFIED);
        assert!(app.autoplan);
        assert_eq!(
            names(&c.affected(&["stacks/app/variables.tf".into()])),
            ["root", "stacks/app"]
        );
    }

    #[test]
    fn load_reads_planguard_yaml_or_yml_but_not_both() {
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        touch(root, "a/main.tf");
        std::fs::write(
            root.join("planguard.yml"),
            "stacks:\n  - { name: a, dir: a }\n  - { name: b, dir: b }",
        )
        .unwrap();
        let e = RepoConfig::load(root, &Workflows::builtin()).unwrap_err();
        assert_eq!(e.file, "planguard.yml");
        assert!(
            e.to_string()
                .starts_with("planguard.yml is invalid:\n- stacks[1].dir"),
            "{e}"
        );

        std::fs::create_dir(root.join("b")).unwrap();
        let c = RepoConfig::load(root, &Workflows::builtin()).unwrap();
        assert!(!c.discovered);
        assert_eq!(c.stacks.len(), 2);

        std::fs::write(root.join("planguard.yaml"), "stacks: []").unwrap();
        let e = RepoConfig::load(root, &Workflows::builtin()).unwrap_err();
        assert!(
            e.problems[0].starts_with("both planguard.yaml and planguard.yml exist"),
            "{e}"
        );
    }

    #[test]
    fn workflows_given_by_the_server_can_be_named() {
        let mut workflows = Workflows::builtin();
        let mut custom = workflows.get("opentofu").unwrap().clone();
        custom.name = "org-standard".into();
        workflows.insert(custom);
        let c = RepoConfig::parse(
            "stacks:\n  - { name: a, dir: a, workflow: org-standard }",
            None,
            &workflows,
        )
        .unwrap();
        assert_eq!(c.stacks[0].workflow.name, "org-standard");
    }
}
