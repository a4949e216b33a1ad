//! Static analysis of loaded Rego modules, over the AST regorus exports as JSON.
//!
//! Loading a policy answers three questions before anything is evaluated:
//! - which rules does each module declare, and on which line (for findings and `test_*`);
//! - which functions does it call, so a builtin regorus lacks is refused up front instead of
//!   silently evaluating to undefined (`http.send` is a stub in regorus that returns nothing);
//! - which parts of `input` does it read, so the engine converts only those parts of a large
//!   plan (`input.resource_changes` alone is a fraction of a 130 MB plan).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as J;

/// Builtins regorus implements (from its registry), plus `print`.
static REGORUS_BUILTINS: &str = include_str!("regorus_builtins.txt");

/// Builtins regorus registers but does not implement: calling them returns undefined.
const STUBBED: &[&str] = &["http.send"];

/// Builtins OPA 1.0 removed from Rego v1 and still offers to v0 modules (`--v0-compatible`);
/// regorus's `deprecated` feature registers them.
const V0_ONLY: &[&str] = &[
    "all",
    "any",
    "cast_array",
    "cast_boolean",
    "cast_null",
    "cast_object",
    "cast_set",
    "cast_string",
    "net.cidr_overlap",
    "re_match",
    "set_diff",
];

/// A rule declared in a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleDecl {
    pub name: String,
    /// The line of its first definition in the module.
    pub line: u32,
    /// How many times the module defines it.
    pub definitions: u32,
    /// Whether every definition in the module is a partial set rule (`deny contains msg`,
    /// v0 `deny[msg]`), whose definitions contribute independently to one set.
    pub partial_set: bool,
}

/// A function call that cannot work in regorus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadCall {
    pub name: String,
    pub line: u32,
    pub stub: bool,
    /// A builtin removed in Rego v1, called from a v1 module.
    pub v0_only: bool,
}

/// The parts of `input` a module reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum InputUse {
    /// Nothing.
    #[default]
    None,
    /// Literal paths (at most two keys deep), e.g. `["resource_changes"]`,
    /// `["configuration", "provider_config"]`.
    Paths(BTreeSet<Vec<String>>),
    /// `input` as a whole, or with a computed key.
    Whole,
}

impl InputUse {
    pub fn merge(&mut self, other: &InputUse) {
        match (&mut *self, other) {
            (_, InputUse::None) | (InputUse::Whole, _) => {}
            (_, InputUse::Whole) => *self = InputUse::Whole,
            (InputUse::None, p) => *self = p.clone(),
            (InputUse::Paths(a), InputUse::Paths(b)) => a.extend(b.iter().cloned()),
        }
    }

    fn add(&mut self, path: Vec<String>) {
        if path.is_empty() {
            *self = InputUse::Whole;
            return;
        }
        match self {
            InputUse::Whole => {}
            InputUse::None => *self = InputUse::Paths(BTreeSet::from([path])),
            InputUse::Paths(set) => {
                set.insert(path);
            }
        }
    }
}

/// What the analysis learned about one module.
#[derive(Debug, Clone, Default)]
pub struct ModuleFacts {
    pub file: String,
    /// Package path without the `data.` prefix, e.g. `main`.
    pub package: String,
    pub rules: Vec<RuleDecl>,
    pub input: InputUse,
    /// Parsed as Rego v1 (the default, or `import rego.v1` under `--rego-v0`).
    pub rego_v1: bool,
    /// Calls and their resolved names, before checking against builtins.
    calls: Vec<(String, u32)>,
}

/// Analyses every module regorus loaded. `modules` is `Engine::get_ast_as_json()`.
pub fn analyse(ast_json: &str) -> Result<Vec<ModuleFacts>, String> {
    let modules: Vec<J> =
        serde_json::from_str(ast_json).map_err(|e| format!("reading the policy AST: {e}"))?;
    let mut out = Vec::with_capacity(modules.len());
    for m in &modules {
        let file = m["source"]["file"].as_str().unwrap_or_default().to_owned();
        let contents = m["source"]["contents"].as_str().unwrap_or_default();
        let ast = &m["ast"];
        let package = ref_path(&ast["package"]["refr"]).unwrap_or_default();
        let mut facts = ModuleFacts {
            file,
            package,
            rego_v1: ast["rego_v1"].as_bool().unwrap_or(true),
            ..Default::default()
        };
        let mut aliases = BTreeMap::new();
        for import in ast["imports"].as_array().into_iter().flatten() {
            let Some(path) = ref_path(&import["refr"]) else {
                continue;
            };
            let alias = import["as"]
                .as_object()
                .and_then(|span| {
                    let (s, e) = (
                        span.get("start")?.as_u64()? as usize,
                        span.get("end")?.as_u64()? as usize,
                    );
                    contents.get(s..e).map(str::to_owned)
                })
                .unwrap_or_else(|| path.rsplit('.').next().unwrap_or_default().to_owned());
            if let Some(rest) = path.strip_prefix("input") {
                facts.input.add(
                    rest.split('.')
                        .filter(|s| !s.is_empty())
                        .take(2)
                        .map(str::to_owned)
                        .collect(),
                );
            }
            aliases.insert(alias, path);
        }
        for rule in ast["rules"].as_array().into_iter().flatten() {
            let (head_ref, line) = rule_head(rule);
            if let Some(name) = head_ref.and_then(ref_path) {
                let partial_set = rule["Spec"]["head"].get("Set").is_some();
                match facts.rules.iter_mut().find(|r| r.name == name) {
                    Some(r) => {
                        r.definitions += 1;
                        r.partial_set &= partial_set;
                    }
                    None => facts.rules.push(RuleDecl {
                        name,
                        line,
                        definitions: 1,
                        partial_set,
                    }),
                }
            }
            walk(rule, &mut facts);
        }
        // Resolve import aliases in call names.
        for (name, _) in &mut facts.calls {
            let first = name.split('.').next().unwrap_or_default().to_owned();
            if let Some(target) = aliases.get(&first) {
                *name = format!("{target}{}", &name[first.len()..]);
            }
        }
        out.push(facts);
    }
    Ok(out)
}

/// Calls that regorus cannot serve: unknown functions, and stubbed builtins.
pub fn bad_calls(all: &[ModuleFacts]) -> Vec<(usize, BadCall)> {
    let known: BTreeSet<&str> = REGORUS_BUILTINS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let defined: BTreeSet<String> = all
        .iter()
        .flat_map(|m| {
            m.rules
                .iter()
                .map(move |r| format!("data.{}.{}", m.package, r.name))
        })
        .collect();
    let mut out = Vec::new();
    for (i, m) in all.iter().enumerate() {
        for (name, line) in &m.calls {
            let stub = STUBBED.contains(&name.as_str());
            let v0_only = V0_ONLY.contains(&name.as_str());
            let ok = !stub
                && (name == "print"
                    || (v0_only && !m.rego_v1)
                    || known.contains(name.as_str())
                    || super::native::is_builtin(name)
                    || defined.contains(&format!("data.{}.{name}", m.package))
                    || defined.contains(name)
                    || (name.starts_with("data.")
                        && defined.iter().any(|d| d.starts_with(&format!("{name}.")))));
            if !ok {
                out.push((
                    i,
                    BadCall {
                        name: name.clone(),
                        line: *line,
                        stub,
                        v0_only,
                    },
                ));
            }
        }
    }
    out
}

fn rule_head(rule: &J) -> (Option<&J>, u32) {
    if let Some(spec) = rule.get("Spec") {
        let head = &spec["head"];
        let inner = head.as_object().and_then(|o| o.values().next());
        let line = inner.and_then(|i| i["span"]["line"].as_u64()).unwrap_or(0) as u32;
        return (inner.map(|i| &i["refr"]), line);
    }
    if let Some(d) = rule.get("Default") {
        return (
            Some(&d["refr"]),
            d["span"]["line"].as_u64().unwrap_or(0) as u32,
        );
    }
    (None, 0)
}

/// A dotted path for `Var`/`RefDot`/`RefBrack`-with-string chains, e.g. `data.lib.util`.
fn ref_path(e: &J) -> Option<String> {
    if let Some(v) = e.get("Var") {
        return v["value"].as_str().map(str::to_owned);
    }
    if let Some(d) = e.get("RefDot") {
        let base = ref_path(&d["refr"])?;
        return Some(format!("{base}.{}", d["field"][1].as_str()?));
    }
    if let Some(b) = e.get("RefBrack") {
        let base = ref_path(&b["refr"])?;
        let key = b["index"].get("String")?["value"].as_str()?;
        return Some(format!("{base}.{key}"));
    }
    None
}

/// The literal path below `input` of a reference chain, if the chain is rooted at `input`.
/// Walks index expressions that are not literals, since they may read `input` themselves.
fn input_chain(e: &J, facts: &mut ModuleFacts) -> Option<Vec<String>> {
    if let Some(v) = e.get("Var") {
        return (v["value"].as_str() == Some("input")).then(Vec::new);
    }
    if let Some(d) = e.get("RefDot") {
        let mut p = input_chain(&d["refr"], facts)?;
        p.push(d["field"][1].as_str()?.to_owned());
        return Some(p);
    }
    if let Some(b) = e.get("RefBrack") {
        let mut p = input_chain(&b["refr"], facts)?;
        match b["index"].get("String") {
            Some(s) => p.push(s["value"].as_str()?.to_owned()),
            _ => {
                walk(&b["index"], facts);
                p.push(String::from("\u{0}")); // a computed key ends the literal prefix
            }
        }
        return Some(p);
    }
    None
}

fn walk(node: &J, facts: &mut ModuleFacts) {
    match node {
        J::Object(map) => {
            if map.contains_key("RefDot") || map.contains_key("RefBrack") {
                if let Some(path) = input_chain(node, facts) {
                    let literal: Vec<String> = path
                        .into_iter()
                        .take_while(|k| k != "\u{0}")
                        .take(2)
                        .collect();
                    facts.input.add(literal);
                    return;
                }
            }
            if let Some(v) = map.get("Var") {
                if v["value"].as_str() == Some("input") {
                    facts.input = InputUse::Whole;
                }
                return;
            }
            if let Some(call) = map.get("Call") {
                if let Some(name) = ref_path(&call["fcn"]) {
                    let line = call["span"]["line"].as_u64().unwrap_or(0) as u32;
                    facts.calls.push((name, line));
                }
                for p in call["params"].as_array().into_iter().flatten() {
                    walk(p, facts);
                }
                return;
            }
            for v in map.values() {
                walk(v, facts);
            }
        }
        J::Array(items) => items.iter().for_each(|i| walk(i, facts)),
        _ => {}
    }
}
