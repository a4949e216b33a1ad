//! planguard's own Rego builtins (`planguard.*`), written in Rust.
//!
//! The policy library reads every resource change through a few helpers in
//! `policies/lib/plan.rego` and the tagging, encryption and exposure helpers: which changes
//! count, the planned value at a path, whether it is unknown, which configuration block declared
//! a resource, and what a resource's tags will be. In regorus each Rego function call costs
//! microseconds, and these helpers run for every resource under every policy, so on a
//! 100,000-resource plan they were most of the evaluation time. Here they are builtins, each
//! about a microsecond a call (most of it regorus's dispatch). The Rego helpers keep their names
//! and signatures and call these, so users' policies that import `data.planguard.lib` are
//! unchanged; the library's own policies call the builtins directly where a helper is only a
//! call to one (a Rego function call costs regorus about a microsecond more).
//!
//! Each builtin is specified by the Rego it replaced, quoted in its doc comment and kept in
//! `src/policy/pure.rego`; `tests/native.rs` (with the cases in `testdata/native/spec.rego`)
//! holds the two to the same answers, evaluated side by side by regorus on every resource change
//! of the corpus, the fixtures and a synthetic plan. The library's Rego unit tests run against
//! these builtins.
//!
//! conftest and OPA do not have these builtins: `planguard policies export` ([`super::export`])
//! writes the library with `pure.rego` in their place.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use regorus::{Engine, Value};

/// A builtin: its name in Rego, its arity, and its implementation.
type Builtin = (&'static str, u8, fn(&[Value]) -> Result<Value>);

/// Every `planguard.*` builtin.
const BUILTINS: &[Builtin] = &[
    ("planguard.after", 1, after_builtin),
    ("planguard.value", 3, value),
    ("planguard.unknown", 2, unknown_builtin),
    ("planguard.unknown_here_or_above", 2, unknown_here_or_above),
    ("planguard.unknown_within", 2, unknown_within),
    ("planguard.module_path", 1, module_path),
    ("planguard.tag_report", 3, tag_report),
    ("planguard.tag_report_defaults", 3, tag_report_defaults),
    ("planguard.tag_reports", 3, tag_reports),
];

/// The builtins that keep an index or their answers between calls (see [`BlockIndex`] and
/// [`ChangesIndex`]).
const CONFIG_BLOCK: &str = "planguard.config_block";
const LINKS_TO: &str = "planguard.links_to";
const CHANGES: &str = "planguard.changes";

/// Registers every builtin on `engine`. Engines cloned from it keep them.
pub fn register(engine: &mut Engine) -> Result<()> {
    for &(name, nargs, f) in BUILTINS {
        engine.add_extension(
            name.to_string(),
            nargs,
            Box::new(move |args: Vec<Value>| f(&args)),
        )?;
    }
    let mut index = BlockIndex::default();
    engine.add_extension(
        CONFIG_BLOCK.to_string(),
        2,
        Box::new(move |args: Vec<Value>| index.block_of(&args[0], &args[1])),
    )?;
    let mut index = BlockIndex::default();
    engine.add_extension(
        LINKS_TO.to_string(),
        5,
        Box::new(move |args: Vec<Value>| links_to(&mut index, &args)),
    )?;
    let mut index = ChangesIndex::default();
    engine.add_extension(
        CHANGES.to_string(),
        3,
        Box::new(move |args: Vec<Value>| index.changes(&args)),
    )?;
    Ok(())
}

/// Whether `name` is one of planguard's builtins (for the load-time check of calls).
pub fn is_builtin(name: &str) -> bool {
    [CONFIG_BLOCK, LINKS_TO, CHANGES].contains(&name) || BUILTINS.iter().any(|(n, _, _)| *n == name)
}

fn s(v: &str) -> Value {
    Value::from(v)
}

/// Rego truthiness of a condition expression: anything but `false` and undefined holds.
fn holds(v: &Value) -> bool {
    !matches!(v, Value::Undefined | Value::Bool(false))
}

/// The members of a collection, as `some x in coll` visits them.
fn members(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Set(set) => set.iter().collect(),
        Value::Object(o) => o.values().collect(),
        _ => Vec::new(),
    }
}

/// `object.get(obj, path, default)` for an array path, as regorus implements it: index step
/// by step (objects by key, arrays by number, sets by member) and fall back to `None` at the
/// first missing step. A non-array path is a single key.
fn get_path<'a>(obj: &'a Value, path: &Value) -> Option<&'a Value> {
    match path {
        Value::Array(keys) => {
            let mut v = obj;
            for k in keys.iter() {
                v = &v[k];
                if *v == Value::Undefined {
                    return None;
                }
            }
            Some(v)
        }
        key => match obj {
            Value::Object(o) => o.get(key),
            _ => None,
        },
    }
}

/// ```rego
/// changes(kind) := [rc |
///     some rc in input.resource_changes
///     rc.type == kind
///     rc.mode == "managed"
///     produces_object(rc)
/// ]
/// produces_object(rc) if { some action in rc.change.actions; action in {"create", "update"} }
/// produces_object(rc) if { rc.change.actions == ["no-op"]; config("check_unchanged", false) == true }
/// ```
/// called as `planguard.changes(resource_changes, kind, check_unchanged)`. `kind` may also be
/// a collection of types: `rc.type in kind`. (Registered as [`ChangesIndex::changes`].)
fn changes(args: &[Value]) -> Result<Value> {
    let (all, kind, check_unchanged) = (&args[0], &args[1], &args[2]);
    let unchanged_counts = *check_unchanged == Value::Bool(true);
    let out: Vec<Value> = members(all)
        .into_iter()
        .filter(|rc| of_kind(kind, rc.index_str("type")))
        .filter(|rc| match counted(rc) {
            Counted::Produces => true,
            Counted::Unchanged => unchanged_counts,
            Counted::Not => false,
        })
        .cloned()
        .collect();
    Ok(Value::from(out))
}

/// Whether a change's type `t` is `kind` (`rc.type == kind`, or `rc.type in kind`).
fn of_kind(kind: &Value, t: &Value) -> bool {
    match kind {
        Value::Set(kinds) => kinds.contains(t),
        Value::String(_) => t == kind,
        kinds => t == kinds || members(kinds).contains(&t),
    }
}

/// Whether `changes` lists a change of its kind.
#[derive(Clone, Copy, PartialEq)]
enum Counted {
    /// A managed change that creates or updates an object: always.
    Produces,
    /// A managed no-op: when unchanged resources are checked.
    Unchanged,
    Not,
}

fn counted(rc: &Value) -> Counted {
    // Compared as `str`s: a `Value` made to compare with would be an allocation per change.
    let is = |v: &Value, text: &str| matches!(v, Value::String(v) if v.as_ref() == text);
    if !is(rc.index_str("mode"), "managed") {
        return Counted::Not;
    }
    let actions = rc.index_str("change").index_str("actions");
    let produces = members(actions)
        .into_iter()
        .any(|a| is(a, "create") || is(a, "update"));
    if produces {
        Counted::Produces
    } else if matches!(actions, Value::Array(a) if a.len() == 1 && is(&a[0], "no-op")) {
        Counted::Unchanged
    } else {
        Counted::Not
    }
}

/// [`changes`], answered from an index of the `resource_changes` it was last asked about:
/// every rule of a policy starts with `lib.changes(kind)`, and the policies evaluated on a
/// slice ask for several kinds, each a pass over every change of the slice (seven passes for
/// the ingress policy alone). The index is one pass: the changes `changes` could list, by
/// type, in order; each answer takes the types of its kind. Like [`BlockIndex`], it holds the
/// value it was built from, so that value's allocation cannot be reused while it is in use.
#[derive(Clone, Default)]
struct ChangesIndex {
    of: Option<Value>,
    /// Each type of `of`'s changes (first seen first), with the positions of its changes that
    /// `changes` could list and whether each is a no-op.
    by_type: Vec<(Value, Vec<(usize, Counted)>)>,
}

impl ChangesIndex {
    fn changes(&mut self, args: &[Value]) -> Result<Value> {
        let Value::Array(all) = &args[0] else {
            return changes(args);
        };
        let (kind, unchanged_counts) = (&args[1], args[2] == Value::Bool(true));
        let indexed = matches!(&self.of, Some(Value::Array(of)) if regorus::Rc::ptr_eq(of, all));
        if !indexed {
            self.index(&args[0]);
        }
        let mut positions: Vec<usize> = Vec::new();
        let mut types = 0;
        for (_, listed) in self.by_type.iter().filter(|(t, _)| of_kind(kind, t)) {
            types += 1;
            positions.extend(
                listed
                    .iter()
                    .filter(|(_, c)| *c == Counted::Produces || unchanged_counts)
                    .map(|(i, _)| *i),
            );
        }
        if types > 1 {
            positions.sort_unstable();
        }
        Ok(Value::from(
            positions
                .into_iter()
                .map(|i| all[i].clone())
                .collect::<Vec<_>>(),
        ))
    }

    fn index(&mut self, of: &Value) {
        self.by_type.clear();
        // Where each type is in `by_type`; changes of a type mostly come together.
        let mut slots: BTreeMap<&Value, usize> = BTreeMap::new();
        let mut last: Option<(&Value, usize)> = None;
        for (i, rc) in members(of).into_iter().enumerate() {
            let c = counted(rc);
            if c == Counted::Not {
                continue;
            }
            let t = rc.index_str("type");
            let slot = match last {
                Some((u, slot)) if u == t => slot,
                _ => *slots.entry(t).or_insert_with(|| {
                    self.by_type.push((t.clone(), Vec::new()));
                    self.by_type.len() - 1
                }),
            };
            last = Some((t, slot));
            self.by_type[slot].1.push((i, c));
        }
        self.of = Some(of.clone());
    }
}

/// ```rego
/// after(rc) := a if { a := rc.change.after; is_object(a) } else := {}
/// ```
fn after(rc: &Value) -> Value {
    match rc.index_str("change").index_str("after") {
        a @ Value::Object(_) => a.clone(),
        _ => Value::new_object(),
    }
}

fn after_builtin(args: &[Value]) -> Result<Value> {
    Ok(after(&args[0]))
}

/// ```rego
/// value(rc, path, default_value) := v if {
///     v := object.get(after(rc), path, null)
///     v != null
/// } else := default_value
/// ```
fn value(args: &[Value]) -> Result<Value> {
    let (rc, path, default) = (&args[0], &args[1], &args[2]);
    let a = after(rc);
    Ok(match get_path(&a, path) {
        Some(v) if *v != Value::Null => v.clone(),
        _ => default.clone(),
    })
}

/// ```rego
/// unknown(rc, path) if {
///     markers := rc.change.after_unknown
///     is_object(markers)
///     object.get(markers, path, false) == true
/// }
/// unknown(rc, _) if rc.change.after_unknown == true
/// ```
fn unknown(rc: &Value, path: &Value) -> bool {
    match path {
        Value::Array(keys) => unknown_at(rc, keys.iter()),
        key => unknown_at(rc, [key]),
    }
}

/// [`unknown`] for a path given as keys, without building it as a value. (A step that leads
/// nowhere is undefined, and so is every step after it, as in `object.get`.)
fn unknown_at<'k>(rc: &Value, keys: impl IntoIterator<Item = &'k Value>) -> bool {
    match rc.index_str("change").index_str("after_unknown") {
        Value::Bool(true) => true,
        markers @ Value::Object(_) => {
            let marker = keys.into_iter().fold(markers, |v, k| &v[k]);
            *marker == Value::Bool(true)
        }
        _ => false,
    }
}

fn unknown_builtin(args: &[Value]) -> Result<Value> {
    Ok(Value::Bool(unknown(&args[0], &args[1])))
}

/// The encryption helpers' `unknown`: the value at `path` or an enclosing block is unknown.
/// ```rego
/// unknown(rc, path) if lib.unknown(rc, path)
/// unknown(rc, path) if {
///     marks := object.get(rc.change, "after_unknown", {})
///     some n in numbers.range(1, count(path))
///     object.get(marks, array.slice(path, 0, n), false) == true
/// }
/// ```
fn unknown_here_or_above(args: &[Value]) -> Result<Value> {
    let (rc, path) = (&args[0], &args[1]);
    let held = match rc.index_str("change").index_str("after_unknown") {
        Value::Bool(true) => true,
        markers @ Value::Object(_) => match path {
            // Each prefix's marker, found by one walk down the path (a step that leads
            // nowhere ends every longer prefix too, as `object.get` falls back to `false`).
            Value::Array(keys) => {
                let mut marker = markers;
                keys.iter().any(|k| {
                    marker = &marker[k];
                    *marker == Value::Bool(true)
                })
            }
            _ => unknown(rc, path),
        },
        _ => false,
    };
    Ok(Value::Bool(held))
}

/// The exposure helpers' `unknown_within`: anything at `path` is unknown, the value itself or
/// any part of it.
/// ```rego
/// unknown_within(rc, path) if lib.unknown(rc, path)
/// unknown_within(rc, path) if {
///     marks := object.get(object.get(rc.change, "after_unknown", {}), path, false)
///     is_collection(marks)   # an array or an object
///     walk(marks, [_, true])
/// }
/// ```
fn unknown_within(args: &[Value]) -> Result<Value> {
    let (rc, path) = (&args[0], &args[1]);
    if unknown(rc, path) {
        return Ok(Value::Bool(true));
    }
    let marks = match rc.index_str("change").index_str("after_unknown") {
        markers @ Value::Object(_) => get_path(markers, path),
        _ => None,
    };
    let held = matches!(marks, Some(m @ (Value::Array(_) | Value::Object(_))) if holds_true(m));
    Ok(Value::Bool(held))
}

/// `walk(v, [_, true])`: `true` is somewhere in `v` (or is `v`).
fn holds_true(v: &Value) -> bool {
    match v {
        Value::Bool(true) => true,
        Value::Array(a) => a.iter().any(holds_true),
        Value::Object(o) => o.values().any(holds_true),
        Value::Set(set) => set.iter().any(holds_true),
        _ => false,
    }
}

/// ```rego
/// module_path(rc) := [] if {
///     not rc.module_address
/// } else := [name |
///     some i, part in split(rc.module_address, ".module.")
///     name := trim_prefix(regex.replace(part, `\[[^\]]*\]$`, ""), "module.")
/// ]
/// ```
fn module_path(args: &[Value]) -> Result<Value> {
    Ok(match module_names(&args[0])? {
        Some(names) => Value::from(names.into_iter().map(Value::from).collect::<Vec<_>>()),
        None => Value::Undefined,
    })
}

/// The module call names of a change; `None` when the change is not an object.
fn module_names(rc: &Value) -> Result<Option<Vec<String>>> {
    if !matches!(rc, Value::Object(_)) {
        return Ok(None);
    }
    let address = rc.index_str("module_address");
    if !holds(address) {
        return Ok(Some(Vec::new()));
    }
    let Value::String(address) = address else {
        bail!("planguard.module_path: module_address must be a string");
    };
    Ok(Some(
        module_call_names(address).map(str::to_owned).collect(),
    ))
}

/// The module call names of a non-empty `module_address`, as `lib.module_path` gives them:
/// `module.a[0].module.b` -> `a`, `b`. The slice index (`PlanInput`) uses it too, so a slice
/// carries exactly the configuration blocks `lib.config_block` looks up.
pub(super) fn module_call_names(address: &str) -> impl Iterator<Item = &str> {
    address.split(".module.").map(|part| {
        let part = strip_trailing_index(part);
        part.strip_prefix("module.").unwrap_or(part)
    })
}

/// `regex.replace(part, `\[[^\]]*\]$`, "")`: drops a trailing `[...]` that holds no `]`.
fn strip_trailing_index(part: &str) -> &str {
    let Some(body) = part.strip_suffix(']') else {
        return part;
    };
    let from = body.rfind(']').map_or(0, |i| i + 1);
    match body[from..].find('[') {
        Some(open) => &part[..from + open],
        None => part,
    }
}

/// ```rego
/// concat("/", array.concat(module_path(rc), [sprintf("%s.%s", [rc.type, rc.name])]))
/// ```
/// the key of a change's configuration block; `None` without a string type and name.
fn config_key(rc: &Value) -> Result<Option<String>> {
    let (Value::String(kind), Value::String(name)) = (rc.index_str("type"), rc.index_str("name"))
    else {
        return Ok(None);
    };
    let Some(mut parts) = module_names(rc)? else {
        return Ok(None);
    };
    parts.push(format!("{kind}.{name}"));
    Ok(Some(parts.join("/")))
}

/// `planguard.config_block(root_module, rc)`, the configuration block that declares a change:
/// ```rego
/// config_block(rc) := config_blocks[concat("/", array.concat(module_path(rc), ["<type>.<name>"]))]
///
/// config_blocks[block.address] := block if {
///     some block in input.configuration.root_module.resources
/// }
/// config_blocks[concat("/", [a, block.address])] := block if {
///     some a, call in input.configuration.root_module.module_calls
///     some block in call.module.resources
/// }
/// # ... and the same two and three module calls deep.
/// ```
/// Building `config_blocks` in Rego cost microseconds per block for every policy evaluation;
/// the index here is built once per root module (the one it was built from is held, so its
/// allocation cannot be reused by another while the index is in use) and shared by every call.
#[derive(Clone, Default)]
struct BlockIndex {
    of: Option<Value>,
    blocks: std::collections::HashMap<String, Value>,
}

/// Module calls below the root that `config_blocks` indexes.
const MODULE_DEPTH: usize = 3;

impl BlockIndex {
    fn block_of(&mut self, root: &Value, rc: &Value) -> Result<Value> {
        let Value::Object(module) = root else {
            return Ok(Value::Undefined);
        };
        let Some(key) = config_key(rc)? else {
            return Ok(Value::Undefined);
        };
        let indexed =
            matches!(&self.of, Some(Value::Object(of)) if regorus::Rc::ptr_eq(of, module));
        if !indexed {
            self.blocks.clear();
            index_module(root, "", 0, &mut self.blocks);
            self.of = Some(root.clone());
        }
        Ok(self.blocks.get(&key).cloned().unwrap_or(Value::Undefined))
    }
}

fn index_module(
    module: &Value,
    prefix: &str,
    depth: usize,
    out: &mut std::collections::HashMap<String, Value>,
) {
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        }
    };
    for block in members(module.index_str("resources")) {
        if let Value::String(address) = block.index_str("address") {
            out.entry(join(address)).or_insert_with(|| block.clone());
        }
    }
    if depth == MODULE_DEPTH {
        return;
    }
    if let Value::Object(calls) = module.index_str("module_calls") {
        for (name, call) in calls.iter() {
            if let Value::String(name) = name {
                index_module(call.index_str("module"), &join(name), depth + 1, out);
            }
        }
    }
}

/// `planguard.links_to(root_module, other, attr, rc, rc_attr)`: `other` (e.g. a public access
/// block) points at `rc` (e.g. a bucket) through its attribute `attr`:
/// ```rego
/// links_to(root_module, other, attr, rc, rc_attr) if {
///     module_path(other) == module_path(rc)
///     some ref in object.get(config_block(root_module, other), ["expressions", attr, "references"], [])
///     address := sprintf("%s.%s", [rc.type, rc.name])
///     startswith(ref, address)
///     substring(ref, count(address), -1) in {"", ".id", ".arn", ".bucket", sprintf(".%s", [rc_attr])}
/// }
/// links_to(root_module, other, attr, rc, rc_attr) if {
///     v := value(other, [attr], null)
///     v != null
///     v == value(rc, [rc_attr], "")
/// }
/// ```
/// In Rego each test cost about 15 µs (two module paths, a configuration lookup, a `sprintf`
/// and a set built per reference), a third of the public access block policy's time at
/// 100,000 resources. References that are not strings, and a type, name or `rc_attr` that is
/// not a string, never link here (the Rego would fail on them; plans never hold them).
fn links_to(index: &mut BlockIndex, args: &[Value]) -> Result<Value> {
    let (root, other, attr, rc, rc_attr) = (&args[0], &args[1], &args[2], &args[3], &args[4]);
    // As in regorus, a failing body leaves the other's result standing.
    let by_ref = by_reference(index, root, other, attr, rc, rc_attr);
    if matches!(by_ref, Ok(true)) {
        return Ok(Value::Bool(true));
    }
    let planned = |change: &Value, key: &Value| match &after(change)[key] {
        Value::Null | Value::Undefined => None,
        v => Some(v.clone()),
    };
    let linked = match planned(other, attr) {
        Some(v) => v == planned(rc, rc_attr).unwrap_or_else(|| s("")),
        None => false,
    };
    if linked {
        return Ok(Value::Bool(true));
    }
    by_ref.map(|_| Value::Undefined)
}

/// The first body of [`links_to`]: a configuration reference in the same module.
fn by_reference(
    index: &mut BlockIndex,
    root: &Value,
    other: &Value,
    attr: &Value,
    rc: &Value,
    rc_attr: &Value,
) -> Result<bool> {
    let (Value::String(kind), Value::String(name)) = (rc.index_str("type"), rc.index_str("name"))
    else {
        return Ok(false);
    };
    let (Some(from), Some(to)) = (module_names(other)?, module_names(rc)?) else {
        return Ok(false);
    };
    if from != to {
        return Ok(false);
    }
    let block = index.block_of(root, other)?;
    let references = &block.index_str("expressions")[attr];
    let address = format!("{kind}.{name}");
    let own = match rc_attr {
        Value::String(a) => Some(format!(".{a}")),
        _ => None,
    };
    Ok(members(references.index_str("references"))
        .into_iter()
        .any(|r| {
            let Value::String(r) = r else { return false };
            r.strip_prefix(address.as_str()).is_some_and(|rest| {
                matches!(rest, "" | ".id" | ".arn" | ".bucket") || own.as_deref() == Some(rest)
            })
        }))
}

/// What a map attribute the plan knows (e.g. `tags_all`) holds for some keys, in the shape of
/// the tagging helpers' `report_of`:
/// ```rego
/// report_of(states, keys) := {
///     "missing": [k | some k in keys; s := states[k]; s.state != "unknown"
///                     trim_space(sprintf("%v", [object.get(s, "value", "")])) == ""],
///     "unknown": [k | some k in keys; states[k].state == "unknown"],
///     "values": {k: s.value | some k in keys; s := states[k]; s.state == "known"},
/// }
/// ```
/// with `states := {key: map_state(rc, attr, key) | some key in keys}` and
/// ```rego
/// map_state(rc, attr, key) := {"state": "unknown"} if {
///     unknown(rc, [attr, key])
/// } else := {"state": "known", "value": v} if {
///     v := lib.after(rc)[attr][key]
///     v != null
/// } else := {"state": "absent"}
/// ```
/// and undefined unless the map is known:
/// ```rego
/// is_object(lib.after(rc)[attr])
/// not unknown(rc, [attr])
/// ```
/// (the tagging helpers' `unknown` also holds when the whole change is unknown, as
/// `lib.unknown` does).
fn tag_report(args: &[Value]) -> Result<Value> {
    let (rc, attr, keys) = (&args[0], &args[1], &args[2]);
    Ok(match map_states(rc, attr, keys) {
        Some(states) => report_of(&states, keys)?,
        None => Value::Undefined,
    })
}

/// A tag's state, as the tagging helpers' `{"state": ...}` objects say it.
#[derive(Clone, Copy)]
enum TagState<'a> {
    Unknown,
    Known(&'a Value),
    Absent,
}

/// `map_state(rc, attr, key)` for each of `keys`, or `None` unless the map at `attr` is known.
fn map_states<'a>(
    rc: &'a Value,
    attr: &Value,
    keys: &'a Value,
) -> Option<BTreeMap<&'a Value, TagState<'a>>> {
    let map = &rc.index_str("change").index_str("after")[attr];
    if !matches!(map, Value::Object(_)) || unknown_at(rc, [attr]) {
        return None;
    }
    let state = |key: &'a Value| {
        if unknown_at(rc, [attr, key]) {
            TagState::Unknown
        } else {
            match &map[key] {
                Value::Undefined | Value::Null => TagState::Absent,
                v => TagState::Known(v),
            }
        }
    };
    Some(members(keys).into_iter().map(|k| (k, state(k))).collect())
}

/// The tagging helpers' `report_of(states, keys)` (see [`tag_report`]).
fn report_of(states: &BTreeMap<&Value, TagState>, keys: &Value) -> Result<Value> {
    let (mut missing, mut unknown_keys) = (Vec::new(), Vec::new());
    let mut values = Value::new_object();
    let known = values.as_object_mut()?;
    for key in members(keys) {
        match states.get(key) {
            None => {}
            Some(TagState::Unknown) => unknown_keys.push(key.clone()),
            Some(TagState::Absent) => missing.push(key.clone()),
            Some(TagState::Known(v)) => {
                if blank(v) {
                    missing.push(key.clone());
                }
                known.insert(key.clone(), (*v).clone());
            }
        }
    }
    let mut report = Value::new_object();
    let o = report.as_object_mut()?;
    o.insert(s("missing"), Value::from(missing));
    o.insert(s("unknown"), Value::from(unknown_keys));
    o.insert(s("values"), values);
    Ok(report)
}

/// What a resource's own `tags` merged over the provider's default tags will hold for `keys`,
/// when `tags_all` is not known: `defaults` is the provider's `default_tags` map (`{}` without
/// one), or null when the plan cannot tell them. The tagging helpers' Rego, with `report_of` and
/// `map_state` as in [`tag_report`]:
/// ```rego
/// tag_report_defaults(rc, keys, defaults) := with_defaults(own, keys, defaults) if {
///     own := tag_report(rc, "tags", keys)
/// } else := with_defaults({"missing": [k | some k in keys], "unknown": [], "values": {}}, keys, defaults) if {
///     object.get(after(rc), "tags", null) == null
///     not is_object(object.get(rc.change, ["after_unknown", "tags"], null))
/// }
///
/// with_defaults(own, keys, defaults) := own if {
///     count(absent_keys(own)) == 0
/// } else := report_of(object.union(own_states(own), default_states(absent_keys(own), defaults)), keys)
///
/// absent_keys(own) := {k | some k in own.missing; not k in object.keys(own.values)}
///
/// own_states(own) := object.union({k: {"state": "unknown"} | some k in own.unknown},
///                                 {k: {"state": "known", "value": v} | some k, v in own.values})
///
/// default_states(absent, defaults) := {k: {"state": "unknown"} | some k in absent} if {
///     defaults == null
/// } else := object.union({k: {"state": "absent"} | some k in absent},
///                        {k: {"state": "known", "value": v} | some k in absent; v := defaults[k]; v != null})
/// ```
/// A key the resource's `tags` leave unset takes the default's state; a key they set (even to
/// a blank value) or leave unknown keeps its own.
fn tag_report_defaults(args: &[Value]) -> Result<Value> {
    let (rc, keys, defaults) = (&args[0], &args[1], &args[2]);
    let mut states = match map_states(rc, &s("tags"), keys) {
        Some(states) => states,
        None => {
            let tags = rc.index_str("change").index_str("after").index_str("tags");
            let marker = rc
                .index_str("change")
                .index_str("after_unknown")
                .index_str("tags");
            if !matches!(tags, Value::Undefined | Value::Null) || matches!(marker, Value::Object(_))
            {
                return Ok(Value::Undefined);
            }
            members(keys)
                .into_iter()
                .map(|k| (k, TagState::Absent))
                .collect()
        }
    };
    for (key, state) in states.iter_mut() {
        if let TagState::Absent = state {
            *state = match (defaults, &defaults[*key]) {
                (Value::Null, _) => TagState::Unknown,
                (_, Value::Undefined | Value::Null) => TagState::Absent,
                (_, v) => TagState::Known(v),
            };
        }
    }
    report_of(&states, keys)
}

/// The reports of the tagging helpers' first case, for many changes in one call: every change
/// (with a planned object) whose `tags_all` the plan knows, other than an Auto Scaling group,
/// is reported by [`tag_report`] and listed under `flagged` when the report has something to
/// say; the others are listed under `rest`, for the helpers' other cases:
/// ```rego
/// tag_reports(changes, keys, tag_values) := {
///     "flagged": [[rc, r] |
///         some rc in changes
///         is_object(rc.change.after)
///         r := tags_all_report(rc, keys)
///         tag_report_flagged(r, tag_values)
///     ],
///     "rest": [rc |
///         some rc in changes
///         is_object(rc.change.after)
///         not tags_all_report(rc, keys)
///     ],
/// }
///
/// tags_all_report(rc, keys) := tag_report(rc, "tags_all", keys) if rc.type != "aws_autoscaling_group"
///
/// tag_report_flagged(report, _) if count(report.missing) > 0
/// tag_report_flagged(report, _) if count(report.unknown) > 0
/// tag_report_flagged(report, tag_values) if {
///     some key, allowed in tag_values
///     value := report.values[key]
///     not value in allowed
/// }
/// ```
fn tag_reports(args: &[Value]) -> Result<Value> {
    let (changes, keys, tag_values) = (&args[0], &args[1], &args[2]);
    let tags_all = s("tags_all");
    let (mut flagged, mut rest) = (Vec::new(), Vec::new());
    for rc in members(changes) {
        if !matches!(rc.index_str("change").index_str("after"), Value::Object(_)) {
            continue;
        }
        let states = match rc.index_str("type") {
            Value::Undefined => None,
            Value::String(t) if t.as_ref() == "aws_autoscaling_group" => None,
            _ => map_states(rc, &tags_all, keys),
        };
        match states {
            // Most changes are clean: only a flagged one's report is built.
            Some(states) if flagged_states(&states, tag_values) => {
                flagged.push(Value::from(vec![rc.clone(), report_of(&states, keys)?]));
            }
            Some(_) => {}
            None => rest.push(rc.clone()),
        }
    }
    let mut out = Value::new_object();
    let o = out.as_object_mut()?;
    o.insert(s("flagged"), Value::from(flagged));
    o.insert(s("rest"), Value::from(rest));
    Ok(out)
}

/// `tag_report_flagged(report_of(states, keys), tag_values)` of [`tag_reports`], read from
/// the states: a key missing (absent or blank) or unknown, or a known value outside the values
/// `tag_values` allows for its key.
fn flagged_states(states: &BTreeMap<&Value, TagState>, tag_values: &Value) -> bool {
    let missing_or_unknown = states.values().any(|state| match state {
        TagState::Unknown | TagState::Absent => true,
        TagState::Known(v) => blank(v),
    });
    missing_or_unknown
        || entries(tag_values).into_iter().any(|(key, allowed)| {
            matches!(states.get(&key), Some(TagState::Known(v)) if !members(allowed).contains(v))
        })
}

/// The `(key, value)` pairs `some key, value in coll` visits.
fn entries(v: &Value) -> Vec<(Value, &Value)> {
    match v {
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, e)| (Value::from(i as u64), e))
            .collect(),
        Value::Set(set) => set.iter().map(|e| (e.clone(), e)).collect(),
        Value::Object(o) => o.iter().map(|(k, e)| (k.clone(), e)).collect(),
        _ => Vec::new(),
    }
}

/// `trim_space(sprintf("%v", [v])) == ""`: only a string of whitespace prints as blank.
fn blank(v: &Value) -> bool {
    matches!(v, Value::String(text) if text.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_index_is_stripped_like_the_regex() {
        for (part, want) in [
            ("module.vpc", "module.vpc"),
            ("module.vpc[0]", "module.vpc"),
            ("module.vpc[\"a\"]", "module.vpc"),
            ("module.vpc[\"a[b\"]", "module.vpc"),
            ("module.vpc[\"a]b\"]", "module.vpc[\"a]b\"]"),
            ("x]", "x]"),
            ("[]", ""),
            ("a[0][1]", "a[0]"),
        ] {
            assert_eq!(strip_trailing_index(part), want, "{part}");
        }
    }

    /// A `resource_changes` array of managed changes, written `type:action` apart by spaces.
    fn plan_of(changes: &str) -> Value {
        let text: Vec<String> = changes
            .split_whitespace()
            .map(|change| {
                let (kind, action) = change.split_once(':').expect("type:action");
                format!(
                    r#"{{"type": "{kind}", "mode": "managed", "change": {{"actions": ["{action}"]}}}}"#
                )
            })
            .collect();
        Value::from_json_str(&format!("[{}]", text.join(","))).unwrap()
    }

    fn changes_count(kind: &str, all: &Value, unchanged: bool, index: &mut ChangesIndex) -> usize {
        answered(Value::from(kind), all, unchanged, index)
    }

    /// The number of changes `index` lists, which must be `changes`'s answer, in its order.
    fn answered(kind: Value, all: &Value, unchanged: bool, index: &mut ChangesIndex) -> usize {
        let args = [all.clone(), kind, Value::Bool(unchanged)];
        let kept = index.changes(&args).unwrap();
        assert_eq!(kept, changes(&args).unwrap(), "{args:?}");
        match kept {
            Value::Array(a) => a.len(),
            other => panic!("not an array: {other:?}"),
        }
    }

    #[test]
    fn answers_are_per_question_and_per_plan() {
        let mut index = ChangesIndex::default();
        let first = plan_of("bucket:create bucket:no-op queue:update");
        for _ in 0..2 {
            assert_eq!(changes_count("bucket", &first, false, &mut index), 1);
            assert_eq!(changes_count("bucket", &first, true, &mut index), 2);
            assert_eq!(changes_count("queue", &first, false, &mut index), 1);
        }
        // Another plan's changes, even of equal length, get their own answers.
        let second = plan_of("queue:create queue:create queue:delete");
        assert_eq!(changes_count("bucket", &second, false, &mut index), 0);
        assert_eq!(changes_count("queue", &second, false, &mut index), 2);
        assert_eq!(changes_count("queue", &first, false, &mut index), 1);
        // A collection of kinds lists the changes of all its types in the plan's order.
        let mixed = plan_of("bucket:create queue:update bucket:no-op queue:create key:create");
        let kinds = Value::from_json_str(r#"["queue", "bucket"]"#).unwrap();
        let set: Value = Value::from(
            [Value::from("queue"), Value::from("bucket")]
                .into_iter()
                .collect::<std::collections::BTreeSet<_>>(),
        );
        for kind in [kinds, set] {
            assert_eq!(answered(kind.clone(), &mixed, false, &mut index), 3);
            assert_eq!(answered(kind, &mixed, true, &mut index), 4);
        }
    }
}
