//! Workflows: the step pipelines `planguard serve` runs to plan and apply one stack.
//!
//! Owns the step model ([`Step`], [`Workflow`]), the built-in workflows embedded from
//! `workflows/*.yaml`, parsing and checking user-written workflows from `planguard.yaml`, and
//! turning a step's command template into an argv ([`Step::argv`]). It does not run anything:
//! the runner executes argvs, and the policy step is the worker's call into the policy engine.
//!
//! A step in YAML is a bare name (`init`, `plan`, `show`, `policy`, `apply`: the command of that
//! step in the `opentofu` workflow), or a one-key map: `init: "{bin} init ..."`,
//! `run: "shell command"`, `policy: {}`.
//!
//! Command templates are split on whitespace (there is no shell quoting) and may use
//! `{bin}` (tofu or terraform), `{planfile}` (the saved plan), and the list placeholders
//! `{backend_config}` and `{var_files}`, which stand alone and expand to zero or more
//! `-backend-config=ITEM` / `-var-file=ITEM` arguments. `run` commands go to `sh -c` verbatim:
//! placeholders are not expanded there, since shell text legitimately contains braces.
//!
//! Beyond syntax, parsing enforces what keeps the policy gate honest: a plan pipeline saves a
//! plan and checks it (`plan`, then `show`, then `policy`), never applies, and an apply pipeline
//! applies the checked plan without planning again first.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use yaml_serde::Value;

/// The workflow stacks use unless they name another.
pub const DEFAULT_WORKFLOW: &str = "opentofu";

/// The embedded workflow files, in the order they are parsed. `opentofu` comes first: it
/// supplies the commands of bare steps in every other workflow.
const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "workflows/opentofu.yaml",
        include_str!("../../workflows/opentofu.yaml"),
    ),
    (
        "workflows/terragrunt.yaml",
        include_str!("../../workflows/terragrunt.yaml"),
    ),
];

const PLACEHOLDERS: &[&str] = &["bin", "planfile", "backend_config", "var_files"];
const STEP_NAMES: &str = "init, plan, show, policy, apply and run";

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepKind {
    Init,
    Plan,
    Show,
    Policy,
    Apply,
    Run,
}

impl StepKind {
    pub const ALL: [StepKind; 6] = [
        StepKind::Init,
        StepKind::Plan,
        StepKind::Show,
        StepKind::Policy,
        StepKind::Apply,
        StepKind::Run,
    ];

    /// The step's name in YAML and in messages.
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Init => "init",
            StepKind::Plan => "plan",
            StepKind::Show => "show",
            StepKind::Policy => "policy",
            StepKind::Apply => "apply",
            StepKind::Run => "run",
        }
    }

    fn from_name(name: &str) -> Option<StepKind> {
        StepKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One step of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub kind: StepKind,
    /// The command template (a shell command for `run`); `None` for `policy`.
    pub command: Option<String>,
}

/// What a step's template is expanded with.
#[derive(Debug, Clone, Copy)]
pub struct StepContext<'a> {
    pub bin: &'a str,
    pub planfile: &'a str,
    pub backend_config: &'a [String],
    pub var_files: &'a [String],
}

impl Step {
    /// The argv for the process: `["sh", "-c", command]` for `run`; otherwise the template
    /// split on whitespace, `{bin}` and `{planfile}` substituted, and `{backend_config}` /
    /// `{var_files}` expanded to one `-backend-config=ITEM` / `-var-file=ITEM` per item.
    /// A policy step has no process: its argv is empty.
    pub fn argv(&self, ctx: &StepContext) -> Vec<String> {
        let Some(command) = &self.command else {
            return Vec::new();
        };
        if self.kind == StepKind::Run {
            return vec!["sh".to_owned(), "-c".to_owned(), command.clone()];
        }
        if self.kind == StepKind::Policy {
            return Vec::new();
        }
        let mut argv = Vec::new();
        for token in command.split_whitespace() {
            match token {
                "{backend_config}" => argv.extend(
                    ctx.backend_config
                        .iter()
                        .map(|item| format!("-backend-config={item}")),
                ),
                "{var_files}" => {
                    argv.extend(ctx.var_files.iter().map(|f| format!("-var-file={f}")))
                }
                _ => argv.push(
                    token
                        .replace("{bin}", ctx.bin)
                        .replace("{planfile}", ctx.planfile),
                ),
            }
        }
        argv
    }

    /// `"init"`, `"plan"`, `"show"`, `"policy"`, `"apply"` or `"run"`.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }
}

/// A named pair of pipelines: what runs on `plan`, and what runs on `apply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    pub name: String,
    pub plan: Vec<Step>,
    pub apply: Vec<Step>,
}

/// Workflows by name.
#[derive(Debug, Clone, Default)]
pub struct Workflows {
    by_name: BTreeMap<String, Workflow>,
}

impl Workflows {
    /// The embedded workflows (`opentofu`, `terragrunt`).
    pub fn builtin() -> Workflows {
        builtins().clone()
    }

    pub fn get(&self, name: &str) -> Option<&Workflow> {
        self.by_name.get(name)
    }

    /// Names in alphabetical order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// Adds a workflow, replacing one of the same name.
    pub fn insert(&mut self, w: Workflow) {
        self.by_name.insert(w.name.clone(), w);
    }
}

/// The default workflow's `show` step (`{bin} show -json ... {planfile}`), which planguard runs
/// itself on the final plan file when a workflow names no `show` of its own.
pub fn default_show() -> Step {
    builtins()
        .get(DEFAULT_WORKFLOW)
        .and_then(|w| w.plan.iter().find(|s| s.kind == StepKind::Show))
        .cloned()
        .expect("the default workflow has a show step")
}

fn builtins() -> &'static Workflows {
    static BUILTINS: OnceLock<Workflows> = OnceLock::new();
    BUILTINS.get_or_init(|| {
        let mut all = Workflows::default();
        for (file, text) in BUILTIN_FILES {
            // The files are part of the binary and their tests; a broken one is a build bug.
            let value: Value = yaml_serde::from_str(text)
                .unwrap_or_else(|e| panic!("built-in {file} is not YAML: {e}"));
            let name = value
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("built-in {file} has no name"));
            let defaults = all.get(DEFAULT_WORKFLOW);
            let w = parse_with_defaults(name, &value, defaults)
                .unwrap_or_else(|problems| panic!("built-in {file} is invalid: {problems:?}"));
            all.insert(w);
        }
        all
    })
}

/// Parses a workflow written in YAML (`{plan: [...], apply: [...]}`), collecting every problem
/// as `"<path>: <message>"` with the path below the workflow, e.g. `plan[2]: ...`.
///
/// An absent or empty `apply` list means the default apply steps (those of `opentofu`).
pub fn parse_workflow(name: &str, value: &Value) -> Result<Workflow, Vec<String>> {
    parse_workflow_located(name, value).map_err(|problems| {
        problems
            .into_iter()
            .map(|(path, message)| {
                if path.is_empty() {
                    message
                } else {
                    format!("{path}: {message}")
                }
            })
            .collect()
    })
}

/// [`parse_workflow`] with each problem's path kept apart from its message (an empty path
/// means the workflow itself), so `planguard.yaml` can prefix and locate them.
pub(crate) fn parse_workflow_located(
    name: &str,
    value: &Value,
) -> Result<Workflow, Vec<(String, String)>> {
    parse_with_defaults(name, value, builtins().get(DEFAULT_WORKFLOW))
}

fn parse_with_defaults(
    name: &str,
    value: &Value,
    defaults: Option<&Workflow>,
) -> Result<Workflow, Vec<(String, String)>> {
    let mut problems = Vec::new();
    let Some(map) = value.as_mapping() else {
        return Err(vec![(
            String::new(),
            format!(
                "a workflow is a map with `plan:` and `apply:` step lists, not {}",
                describe(value)
            ),
        )]);
    };
    for key in map.keys() {
        match key.as_str() {
            Some("plan" | "apply") => {}
            Some("name") => match map.get(key).and_then(Value::as_str) {
                Some(n) if n == name => {}
                Some(n) => problems.push((
                    "name".to_owned(),
                    format!(
                        "says {n:?} but the workflow is named {name:?}; remove `name:` or make \
                         them agree"
                    ),
                )),
                None => problems.push(("name".to_owned(), "must be a string".to_owned())),
            },
            _ => problems.push((
                yaml_key(key),
                format!(
                    "unknown key {}; a workflow has `plan` and `apply` (and optionally `name`)",
                    key_text(key)
                ),
            )),
        }
    }

    // Pipelines are only judged as a whole when each of their steps could be read: a step
    // that failed to parse would otherwise be reported a second time as missing.
    let before = problems.len();
    let plan = match map.get("plan") {
        None | Some(Value::Null) => {
            problems.push((
                "plan".to_owned(),
                "is missing; list the plan steps, e.g. [init, plan, show, policy]".to_owned(),
            ));
            Vec::new()
        }
        Some(v) => parse_steps("plan", v, defaults, &mut problems),
    };
    let plan_readable = problems.len() == before && map.get("plan").is_some_and(Value::is_sequence);
    let before = problems.len();
    let apply = match map.get("apply") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => parse_steps("apply", v, defaults, &mut problems),
    };
    let apply_readable = problems.len() == before;
    let apply = if apply.is_empty() {
        defaults.map(|d| d.apply.clone()).unwrap_or_default()
    } else {
        apply
    };

    if plan_readable {
        check_plan_pipeline(&plan, &mut problems);
    }
    if apply_readable {
        check_apply_pipeline(&apply, &mut problems);
    }

    if problems.is_empty() {
        Ok(Workflow {
            name: name.to_owned(),
            plan,
            apply,
        })
    } else {
        Err(problems)
    }
}

fn parse_steps(
    pipeline: &str,
    value: &Value,
    defaults: Option<&Workflow>,
    problems: &mut Vec<(String, String)>,
) -> Vec<Step> {
    let Some(items) = value.as_sequence() else {
        problems.push((
            pipeline.to_owned(),
            format!("must be a list of steps, not {}", describe(value)),
        ));
        return Vec::new();
    };
    let mut steps = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("{pipeline}[{i}]");
        match parse_step(item, defaults) {
            Ok(step) => steps.push(step),
            Err((sub, message)) => {
                let path = if sub.is_empty() {
                    path
                } else {
                    format!("{path}.{sub}")
                };
                problems.push((path, message));
            }
        }
    }
    steps
}

/// One step, or (path below the step, message).
fn parse_step(item: &Value, defaults: Option<&Workflow>) -> Result<Step, (String, String)> {
    let unknown = |name: &str| {
        format!("unknown step `{name}`; steps are {STEP_NAMES} (e.g. `run: \"make lint\"`)")
    };
    match item {
        Value::String(name) => {
            let kind = StepKind::from_name(name).ok_or_else(|| (String::new(), unknown(name)))?;
            match kind {
                StepKind::Policy => Ok(Step {
                    kind,
                    command: None,
                }),
                StepKind::Run => Err((
                    String::new(),
                    "a run step needs its command: `run: \"make lint\"`".to_owned(),
                )),
                _ => {
                    let command = default_command(kind, defaults).ok_or_else(|| {
                        (
                            String::new(),
                            format!("no default command for {name}; write `{name}: \"COMMAND\"`"),
                        )
                    })?;
                    Ok(Step {
                        kind,
                        command: Some(command),
                    })
                }
            }
        }
        Value::Mapping(map) if map.len() == 1 => {
            let (key, value) = map.iter().next().expect("one entry");
            let name = key.as_str().unwrap_or("");
            let kind = StepKind::from_name(name)
                .ok_or_else(|| (String::new(), unknown(&yaml_key(key))))?;
            let here = |message: String| (name.to_owned(), message);
            match kind {
                StepKind::Policy => match value {
                    Value::Null => Ok(Step {
                        kind,
                        command: None,
                    }),
                    Value::Mapping(m) if m.is_empty() => Ok(Step {
                        kind,
                        command: None,
                    }),
                    _ => Err(here(
                        "the policy step takes no settings; write `policy` or `policy: {}`"
                            .to_owned(),
                    )),
                },
                _ => {
                    let Some(command) = value.as_str() else {
                        return Err(here(format!(
                            "expects a command string, not {}; e.g. `{name}: \"{}\"`",
                            describe(value),
                            example_command(kind)
                        )));
                    };
                    if command.trim().is_empty() {
                        return Err(here(format!(
                            "the command is empty; e.g. `{name}: \"{}\"`",
                            example_command(kind)
                        )));
                    }
                    if kind != StepKind::Run {
                        check_template(command).map_err(here)?;
                    }
                    Ok(Step {
                        kind,
                        command: Some(command.to_owned()),
                    })
                }
            }
        }
        Value::Mapping(map) => Err((
            String::new(),
            format!(
                "a step is a name or a map with one key, but this map has {} keys; \
                 write each step as its own list item",
                map.len()
            ),
        )),
        other => Err((
            String::new(),
            format!(
                "a step is a name ({STEP_NAMES}) or a one-key map, not {}",
                describe(other)
            ),
        )),
    }
}

fn default_command(kind: StepKind, defaults: Option<&Workflow>) -> Option<String> {
    let d = defaults?;
    d.plan
        .iter()
        .chain(&d.apply)
        .find(|s| s.kind == kind)
        .and_then(|s| s.command.clone())
}

fn example_command(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Init => "{bin} init -input=false {backend_config}",
        StepKind::Plan => "{bin} plan -input=false -out={planfile} {var_files}",
        StepKind::Show => "{bin} show -json {planfile}",
        StepKind::Apply => "{bin} apply -input=false {planfile}",
        StepKind::Run | StepKind::Policy => "make lint",
    }
}

/// Checks a template's placeholders: known names only, and the list placeholders alone in
/// their argument (they expand to several).
fn check_template(command: &str) -> Result<(), String> {
    let mut problems = Vec::new();
    for token in command.split_whitespace() {
        for name in placeholders(token) {
            if !PLACEHOLDERS.contains(&name) {
                problems.push(format!(
                    "unknown placeholder {{{name}}}; use {{bin}}, {{planfile}}, \
                     {{backend_config}} or {{var_files}}"
                ));
            } else if matches!(name, "backend_config" | "var_files")
                && token != format!("{{{name}}}")
            {
                problems.push(format!(
                    "{{{name}}} expands to several arguments, so it must stand alone, \
                     separated by spaces (found in {token:?})"
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The `{name}` placeholders in a token: braces around letters, digits and `_`.
fn placeholders(token: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = token;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    found.push(name);
                }
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    found
}

/// The plan pipeline must save a plan, and check the plan it saves: the last `plan` step is
/// followed by `show` and then `policy`. It must never apply.
fn check_plan_pipeline(steps: &[Step], problems: &mut Vec<(String, String)>) {
    check_policy_after_show("plan", steps, problems);
    for (i, s) in steps.iter().enumerate() {
        if s.kind == StepKind::Apply {
            problems.push((
                format!("plan[{i}]"),
                "an apply step in the plan pipeline would change infrastructure before anyone \
                 approved it; move it to `apply:`"
                    .to_owned(),
            ));
        }
    }
    let Some(last_plan) = steps.iter().rposition(|s| s.kind == StepKind::Plan) else {
        problems.push((
            "plan".to_owned(),
            "has no plan step; add `plan` (or `plan: \"COMMAND\"`)".to_owned(),
        ));
        return;
    };
    let checked = steps[last_plan..]
        .iter()
        .position(|s| s.kind == StepKind::Show)
        .is_some_and(|show| {
            steps[last_plan + show..]
                .iter()
                .any(|s| s.kind == StepKind::Policy)
        });
    if !checked {
        problems.push((
            format!("plan[{last_plan}]"),
            "the plan this step saves is never checked: add `show` and then `policy` after it"
                .to_owned(),
        ));
    }
}

/// The apply pipeline (when given) must apply, and must not plan again: the apply would then
/// use a plan nobody checked.
fn check_apply_pipeline(steps: &[Step], problems: &mut Vec<(String, String)>) {
    if steps.is_empty() {
        return;
    }
    check_policy_after_show("apply", steps, problems);
    for (i, s) in steps.iter().enumerate() {
        if s.kind == StepKind::Plan {
            problems.push((
                format!("apply[{i}]"),
                "a plan step in the apply pipeline would replace the checked plan before it is \
                 applied; move it to `plan:`"
                    .to_owned(),
            ));
        }
    }
    if !steps.iter().any(|s| s.kind == StepKind::Apply) {
        problems.push((
            "apply".to_owned(),
            "has no apply step; add `apply`, or leave `apply:` out for the default steps"
                .to_owned(),
        ));
    }
}

fn check_policy_after_show(pipeline: &str, steps: &[Step], problems: &mut Vec<(String, String)>) {
    let mut shown = false;
    for (i, s) in steps.iter().enumerate() {
        match s.kind {
            StepKind::Show => shown = true,
            StepKind::Policy if !shown => problems.push((
                format!("{pipeline}[{i}]"),
                "a policy step needs a show step before it (policies read the plan JSON that \
                 `show` prints); add `show` before it"
                    .to_owned(),
            )),
            _ => {}
        }
    }
}

fn yaml_key(key: &Value) -> String {
    key.as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| key_text(key))
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => format!("`{s}`"),
        other => yaml_serde::to_string(other)
            .map(|s| format!("`{}`", s.trim()))
            .unwrap_or_else(|_| "(a non-string key)".to_owned()),
    }
}

pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Sequence(_) => "a list".to_owned(),
        Value::Mapping(_) => "a map".to_owned(),
        Value::Tagged(t) => format!("a value tagged {}", t.tag),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        yaml_serde::from_str(text).unwrap()
    }

    fn ctx<'a>(backend: &'a [String], vars: &'a [String]) -> StepContext<'a> {
        StepContext {
            bin: "terraform",
            planfile: "/w/network/tfplan",
            backend_config: backend,
            var_files: vars,
        }
    }

    fn argvs(steps: &[Step], c: &StepContext) -> Vec<String> {
        steps.iter().map(|s| s.argv(c).join(" ")).collect()
    }

    fn problems(text: &str) -> Vec<String> {
        parse_workflow("custom", &yaml(text)).unwrap_err()
    }

    #[test]
    fn the_builtins_load_and_the_default_is_opentofu() {
        let all = Workflows::builtin();
        assert_eq!(all.names().collect::<Vec<_>>(), ["opentofu", "terragrunt"]);
        let tofu = all.get(DEFAULT_WORKFLOW).unwrap();
        let names: Vec<&str> = tofu.plan.iter().map(Step::name).collect();
        assert_eq!(names, ["init", "plan", "show", "policy"]);
        assert_eq!(tofu.apply.len(), 1);
    }

    #[test]
    fn opentofu_steps_expand_to_exact_argvs() {
        let tofu = Workflows::builtin().get("opentofu").unwrap().clone();
        let backend = ["path=/x/s.tfstate".to_owned()];
        let vars = ["prod.tfvars".to_owned(), "common.tfvars".to_owned()];
        let c = ctx(&backend, &vars);
        assert_eq!(
            argvs(&tofu.plan, &c),
            [
                "terraform init -input=false -no-color -backend-config=path=/x/s.tfstate",
                "terraform plan -input=false -no-color -lock-timeout=5m -out=/w/network/tfplan \
                 -var-file=prod.tfvars -var-file=common.tfvars",
                "terraform show -json -no-color /w/network/tfplan",
                "",
            ]
        );
        assert_eq!(
            argvs(&tofu.apply, &c),
            ["terraform apply -input=false -no-color /w/network/tfplan"]
        );
    }

    #[test]
    fn empty_lists_expand_to_no_arguments() {
        let tofu = Workflows::builtin().get("opentofu").unwrap().clone();
        let argv = tofu.plan[0].argv(&ctx(&[], &[]));
        assert_eq!(argv, ["terraform", "init", "-input=false", "-no-color"]);
    }

    #[test]
    fn terragrunt_runs_terragrunt_without_backend_config() {
        let tg = Workflows::builtin().get("terragrunt").unwrap().clone();
        let backend = ["bucket=x".to_owned()];
        let argv = tg.plan[0].argv(&ctx(&backend, &[]));
        assert_eq!(argv, ["terragrunt", "init", "-input=false", "-no-color"]);
        assert_eq!(tg.apply[0].argv(&ctx(&[], &[]))[0], "terragrunt");
    }

    #[test]
    fn a_custom_workflow_mixes_bare_steps_templates_and_run() {
        let w = parse_workflow(
            "slow",
            &yaml(
                r#"
plan:
  - run: "sleep 5 && echo {not a placeholder}"
  - init
  - plan: "{bin} plan -out={planfile} -parallelism=2 {var_files}"
  - show
  - policy: {}
"#,
            ),
        )
        .unwrap();
        assert_eq!(w.name, "slow");
        let c = ctx(&[], &[]);
        assert_eq!(
            w.plan[0].argv(&c),
            ["sh", "-c", "sleep 5 && echo {not a placeholder}"]
        );
        assert_eq!(
            w.plan[1].argv(&c).join(" "),
            "terraform init -input=false -no-color",
            "a bare step takes the opentofu command"
        );
        assert_eq!(
            w.plan[2].argv(&c).join(" "),
            "terraform plan -out=/w/network/tfplan -parallelism=2"
        );
        assert_eq!(
            w.plan[4],
            Step {
                kind: StepKind::Policy,
                command: None
            }
        );
        assert_eq!(
            w.apply,
            Workflows::builtin().get("opentofu").unwrap().apply,
            "no apply list means the default apply steps"
        );
    }

    #[test]
    fn an_empty_apply_list_means_the_default_and_a_custom_one_is_kept() {
        let w = parse_workflow("w", &yaml("plan: [init, plan, show, policy]\napply: []")).unwrap();
        assert_eq!(w.apply[0].kind, StepKind::Apply);
        let w = parse_workflow(
            "w",
            &yaml("plan: [init, plan, show, policy]\napply: [{run: notify}, apply]"),
        )
        .unwrap();
        assert_eq!(
            w.apply.iter().map(Step::name).collect::<Vec<_>>(),
            ["run", "apply"]
        );
    }

    #[test]
    fn insert_adds_and_replaces_by_name() {
        let mut all = Workflows::builtin();
        let mut w = all.get("opentofu").unwrap().clone();
        w.name = "mine".to_owned();
        all.insert(w.clone());
        all.insert(w);
        assert_eq!(
            all.names().collect::<Vec<_>>(),
            ["mine", "opentofu", "terragrunt"]
        );
    }

    #[test]
    fn unknown_placeholders_and_glued_lists_are_reported() {
        let p = problems(
            r#"
plan:
  - init: "{bin} init {backend}"
  - plan: "{bin} plan -out={planfile} -var-file={var_files}"
  - show
  - policy
"#,
        );
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(
            p[0].starts_with("plan[0].init: unknown placeholder {backend}"),
            "{}",
            p[0]
        );
        assert!(
            p[1].starts_with("plan[1].plan: {var_files} expands to several"),
            "{}",
            p[1]
        );
    }

    #[test]
    fn unknown_and_malformed_steps_are_reported() {
        let p = problems(
            r#"
plan:
  - validate
  - {lint: "tflint"}
  - run
  - {init: "a", plan: "b"}
  - {policy: {strict: true}}
  - {plan: 3}
  - 42
  - plan
  - show
  - policy
"#,
        );
        let paths: Vec<&str> = p.iter().map(|m| m.split(':').next().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "plan[0]",
                "plan[1]",
                "plan[2]",
                "plan[3]",
                "plan[4].policy",
                "plan[5].plan",
                "plan[6]"
            ],
            "{p:#?}"
        );
        assert!(
            p[0].contains("unknown step `validate`; steps are init, plan"),
            "{}",
            p[0]
        );
    }

    #[test]
    fn a_policy_step_needs_a_show_step_before_it() {
        let p = problems("plan: [init, plan, policy, show]");
        assert!(
            p.iter()
                .any(|m| m.starts_with("plan[2]: a policy step needs a show step")),
            "{p:#?}"
        );
    }

    #[test]
    fn a_plan_pipeline_must_plan_and_check_its_plan() {
        let p = problems("plan: [init, show, policy]");
        assert_eq!(
            p,
            ["plan: has no plan step; add `plan` (or `plan: \"COMMAND\"`)"]
        );
        let p = problems("plan: [init, plan]");
        assert!(
            p[0].starts_with("plan[1]: the plan this step saves is never checked"),
            "{p:#?}"
        );
        let p = problems("plan: [init, plan, show, policy, plan]");
        assert!(
            p[0].starts_with("plan[4]: the plan this step saves is never checked"),
            "{p:#?}"
        );
        let p = problems("apply: [apply]");
        assert!(p[0].starts_with("plan: is missing"), "{p:#?}");
    }

    #[test]
    fn a_plan_pipeline_never_applies_and_an_apply_pipeline_never_plans() {
        let p = problems("plan: [init, plan, show, policy, apply]");
        assert!(
            p[0].starts_with("plan[4]: an apply step in the plan pipeline"),
            "{p:#?}"
        );
        let p = problems("plan: [init, plan, show, policy]\napply: [plan, apply]");
        assert!(
            p[0].starts_with("apply[0]: a plan step in the apply pipeline"),
            "{p:#?}"
        );
    }

    #[test]
    fn an_apply_pipeline_without_an_apply_step_is_reported() {
        let p = problems("plan: [init, plan, show, policy]\napply: [{run: \"echo hi\"}]");
        assert_eq!(
            p,
            ["apply: has no apply step; add `apply`, or leave `apply:` out for the default steps"]
        );
    }

    #[test]
    fn the_shape_of_the_workflow_itself_is_checked() {
        assert!(problems("[init, plan]")[0].starts_with("a workflow is a map"));
        let p = problems("plan: [init, plan, show, policy]\napplies: [apply]\nname: other");
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(p
            .iter()
            .any(|m| m.starts_with("applies: unknown key `applies`")));
        assert!(p.iter().any(|m| m.starts_with("name: says \"other\"")));
        assert!(problems("plan: init")[0].starts_with("plan: must be a list of steps"));
    }
}
