//! Building regorus `input` values from a plan, converting only what a policy reads.
//!
//! A [`PlanInput`] keeps borrowed raw slices of the plan text: the top-level sections, each
//! resource change, and each configuration resource with its module path. From those it builds
//! either a whole-plan input restricted to the sections a policy references (conftest
//! semantics, unchanged JSON), or the small per-type slices the library's per-resource
//! policies are evaluated on.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use rayon::prelude::*;
use regorus::Value;
use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::ast::InputUse;
use crate::plan::Plan;

/// Changes converted per parallel task.
const PAR_CHUNK: usize = 512;

/// The plan, indexed for building policy inputs.
pub struct PlanInput<'a> {
    top: Vec<(Cow<'a, str>, &'a RawValue)>,
    rcs: Vec<&'a RawValue>,
    provider_config: Option<&'a RawValue>,
    /// The raw configuration module tree, beside the typed plan's, for [`Index`].
    raw_root: Option<RawModule<'a>>,
    plan: &'a Plan<'a>,
    /// Built when a per-resource package first needs it: a plan checked only by whole-plan
    /// policies (conftest's way) never pays for it.
    index: OnceLock<Index<'a>>,
    /// `configuration.provider_config` and `variables`, converted once for every slice.
    provider_config_value: OnceLock<Option<Value>>,
    variables: OnceLock<Option<Value>>,
    format_version: String,
    terraform_version: Option<String>,
}

/// Changes by type, the configuration's blocks, and each change's block.
struct Index<'a> {
    by_type: FxHashMap<&'a str, Vec<usize>>,
    config: Vec<ConfigEntry<'a>>,
    /// The configuration's blocks by resource type, in plan order.
    config_by_type: FxHashMap<String, Vec<usize>>,
    /// Module call names from the root of each module with blocks, e.g. `["vpc", "subnets"]`.
    /// (Map keys are never borrowed by serde, so these are owned.)
    modules: Vec<Vec<String>>,
    /// For each resource change, its configuration block, when the plan has one.
    block_of_change: Vec<Option<usize>>,
}

struct ConfigEntry<'a> {
    /// The block's module, in [`Index::modules`].
    module: u32,
    kind: Cow<'a, str>,
    raw: &'a RawValue,
}

/// The key of a configuration block: module call names and the module-relative address.
fn block_key<'k>(module: impl IntoIterator<Item = &'k str>, address: &str) -> String {
    let mut key = String::new();
    for m in module {
        key.push_str(m);
        key.push('/');
    }
    key.push_str(address);
    key
}

/// The raw top-level sections of a plan, the raw resource changes and the raw configuration
/// tree: everything [`PlanInput`] borrows from the text, found without the typed model.
pub struct RawSections<'a> {
    top: Vec<(Cow<'a, str>, &'a RawValue)>,
    rcs: Vec<&'a RawValue>,
    configuration: Option<RawConfiguration<'a>>,
}

impl<'a> RawSections<'a> {
    /// Scans plan text for its sections.
    pub fn scan(json: &'a str) -> Result<Self, serde_json::Error> {
        let TopLevel { sections, rcs } = serde_json::from_str(json)?;
        let top: Vec<(Cow<'a, str>, &'a RawValue)> = sections.into_iter().collect();
        let section = |name: &str| top.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
        let configuration = match section("configuration") {
            Some(raw) if raw.get() != "null" => Some(serde_json::from_str(raw.get())?),
            _ => None,
        };
        Ok(RawSections {
            top,
            rcs,
            configuration,
        })
    }

    /// The whole-plan input for `usage` (what [`PlanInput::whole`] returns), converted from
    /// the raw sections alone, so that whole-plan policies can be evaluated while the typed
    /// model is still parsing.
    pub fn whole(&self, usage: &InputUse) -> Value {
        whole_of(&self.top, &self.rcs, usage)
    }
}

/// The top level of a plan, read in one pass: each section raw, except that the elements of
/// `resource_changes` are taken raw as they are passed (reading the largest section again to
/// split it took a third of the scan). `resource_changes` itself stands in the sections as an
/// empty array, so it is listed among them; its changes are [`RawSections::rcs`].
struct TopLevel<'a> {
    sections: BTreeMap<Cow<'a, str>, &'a RawValue>,
    rcs: Vec<&'a RawValue>,
}

impl<'de> Deserialize<'de> for TopLevel<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Sections;
        impl<'de> serde::de::Visitor<'de> for Sections {
            type Value = TopLevel<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a plan object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<TopLevel<'de>, A::Error> {
                let mut sections = BTreeMap::new();
                let mut rcs = Vec::new();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let raw = if key == "resource_changes" {
                        rcs = map
                            .next_value::<Option<Vec<&'de RawValue>>>()?
                            .unwrap_or_default();
                        empty_array()
                    } else {
                        map.next_value()?
                    };
                    sections.insert(key, raw);
                }
                Ok(TopLevel { sections, rcs })
            }
        }
        d.deserialize_map(Sections)
    }
}

fn empty_array() -> &'static RawValue {
    serde_json::from_str("[]").expect("`[]` is JSON")
}

#[derive(Deserialize)]
struct RawConfiguration<'a> {
    #[serde(default, borrow)]
    provider_config: Option<&'a RawValue>,
    #[serde(default, borrow)]
    root_module: Option<RawModule<'a>>,
}

#[derive(Deserialize)]
struct RawModule<'a> {
    #[serde(default, borrow)]
    resources: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    module_calls: BTreeMap<Cow<'a, str>, RawCall<'a>>,
}

#[derive(Deserialize)]
struct RawCall<'a> {
    #[serde(default, borrow)]
    module: Option<RawModule<'a>>,
}

impl<'a> PlanInput<'a> {
    /// Indexes `json`, which must be the text `plan` was parsed from.
    pub fn new(json: &'a str, plan: &'a Plan<'a>) -> Result<Self, serde_json::Error> {
        Self::from_sections(RawSections::scan(json)?, plan)
    }

    /// Assembles the index from sections scanned with [`RawSections::scan`] (which can run
    /// while the typed model is parsed) and the typed plan of the same text.
    pub fn from_sections(
        sections: RawSections<'a>,
        plan: &'a Plan<'a>,
    ) -> Result<Self, serde_json::Error> {
        let RawSections {
            top,
            rcs,
            configuration,
        } = sections;
        let (provider_config, raw_root) = match configuration {
            Some(c) => (c.provider_config, c.root_module),
            None => (None, None),
        };
        Ok(PlanInput {
            top,
            rcs,
            provider_config,
            raw_root,
            plan,
            index: OnceLock::new(),
            provider_config_value: OnceLock::new(),
            variables: OnceLock::new(),
            format_version: plan
                .format_version
                .map_or_else(|| "1.0".to_owned(), |v| v.to_string()),
            terraform_version: plan.terraform_version.as_deref().map(str::to_owned),
        })
    }

    /// Builds the index of changes by type and of their configuration blocks, if it is not
    /// built yet. (Whatever needs it first builds it; other threads that need it meanwhile
    /// wait.)
    pub fn build_index(&self) {
        self.index();
    }

    fn index(&self) -> &Index<'a> {
        self.index
            .get_or_init(|| Index::new(self.plan, self.raw_root.as_ref()))
    }

    /// Resource types present in `resource_changes`, with the indices of their changes.
    pub fn types(&self) -> impl Iterator<Item = (&'a str, &[usize])> + '_ {
        self.index().by_type.iter().map(|(k, v)| (*k, v.as_slice()))
    }

    /// Whether the configuration declares a block of this type.
    pub fn has_config_type(&self, kind: &str) -> bool {
        self.index().config_by_type.contains_key(kind)
    }

    /// Indices of the changes of one type.
    pub fn changes_of(&self, kind: &str) -> &[usize] {
        self.index().by_type.get(kind).map_or(&[], Vec::as_slice)
    }

    /// Converts the given resource changes, in parallel when there are many.
    ///
    /// Changes are converted a chunk at a time as one JSON array: regorus interns object keys
    /// within one conversion, so every change in a chunk shares the same key strings
    /// (`address`, `change`, `after`, ...) instead of allocating its own.
    pub fn convert_changes(&self, indices: &[usize]) -> Vec<Value> {
        convert_changes_of(&self.rcs, indices)
    }

    /// The whole-plan input, restricted to what `usage` references; the JSON is unchanged.
    pub fn whole(&self, usage: &InputUse) -> Value {
        whole_of(&self.top, &self.rcs, usage)
    }

    /// The slice a library policy sees: `changes` as `resource_changes`, the given
    /// `configuration` (provider configuration plus some blocks), and the plan's `variables`.
    pub fn slice(&self, changes: Vec<Value>, configuration: Value) -> Value {
        let mut obj = BTreeMap::new();
        obj.insert(
            Value::from("format_version"),
            Value::from(self.format_version.as_str()),
        );
        if let Some(v) = &self.terraform_version {
            obj.insert(Value::from("terraform_version"), Value::from(v.as_str()));
        }
        obj.insert(Value::from("resource_changes"), Value::from(changes));
        obj.insert(Value::from("configuration"), configuration);
        let variables = self.variables.get_or_init(|| {
            let (_, raw) = self.top.iter().find(|(k, _)| k == "variables")?;
            Some(convert(raw))
        });
        if let Some(v) = variables {
            obj.insert(Value::from("variables"), v.clone());
        }
        Value::from(obj)
    }

    /// `configuration` with the provider configuration and only the resources of `types`,
    /// keeping the module tree's shape.
    pub fn configuration_for(&self, types: &BTreeSet<&str>) -> Value {
        self.configuration_of(&[&self.blocks_of_types(types.iter().copied())])
    }

    /// The configuration blocks of the given changes, converted.
    pub fn blocks_of_changes(&self, changes: &[usize]) -> Blocks {
        let index = self.index();
        let mut blocks: Vec<usize> = changes
            .iter()
            .filter_map(|&i| index.block_of_change[i])
            .collect();
        blocks.sort_unstable();
        blocks.dedup();
        self.convert_blocks(blocks)
    }

    /// The configuration blocks of the given resource types, converted.
    pub fn blocks_of_types<'t>(&self, types: impl IntoIterator<Item = &'t str>) -> Blocks {
        let index = self.index();
        let mut blocks: Vec<usize> = types
            .into_iter()
            .filter_map(|t| index.config_by_type.get(t))
            .flatten()
            .copied()
            .collect();
        blocks.sort_unstable();
        blocks.dedup();
        self.convert_blocks(blocks)
    }

    fn convert_blocks(&self, blocks: Vec<usize>) -> Blocks {
        let config = &self.index().config;
        let raws: Vec<&RawValue> = blocks.iter().map(|&b| config[b].raw).collect();
        Blocks(blocks.into_iter().zip(convert_all(&raws)).collect())
    }

    /// `configuration` with the provider configuration and the blocks of `parts` (a block in
    /// several parts is listed once), keeping the module tree's shape and the plan's order.
    /// The blocks' values are shared, not copied: a slice's own blocks and the context blocks
    /// every slice carries are converted once.
    pub fn configuration_of(&self, parts: &[&Blocks]) -> Value {
        #[derive(Default)]
        struct Node {
            resources: Vec<Value>,
            calls: BTreeMap<String, Node>,
        }
        fn into_value(node: Node) -> Value {
            let mut m = BTreeMap::new();
            m.insert(Value::from("resources"), Value::from(node.resources));
            if !node.calls.is_empty() {
                let calls: BTreeMap<Value, Value> = node
                    .calls
                    .into_iter()
                    .map(|(k, v)| {
                        let call = BTreeMap::from([(Value::from("module"), into_value(v))]);
                        (Value::from(k), Value::from(call))
                    })
                    .collect();
                m.insert(Value::from("module_calls"), Value::from(calls));
            }
            Value::from(m)
        }
        let mut blocks: Vec<&(usize, Value)> = parts.iter().flat_map(|p| p.0.iter()).collect();
        blocks.sort_unstable_by_key(|(b, _)| *b);
        blocks.dedup_by_key(|(b, _)| *b);
        let mut root = Node::default();
        let index = self.index();
        for (b, value) in blocks {
            let entry = &index.config[*b];
            let mut node = &mut root;
            for name in &index.modules[entry.module as usize] {
                node = node.calls.entry(name.clone()).or_default();
            }
            node.resources.push(value.clone());
        }
        let mut m = BTreeMap::new();
        let provider_config = self
            .provider_config_value
            .get_or_init(|| self.provider_config.map(convert));
        if let Some(pc) = provider_config {
            m.insert(Value::from("provider_config"), pc.clone());
        }
        m.insert(Value::from("root_module"), into_value(root));
        Value::from(m)
    }
}

/// Configuration blocks converted to values, each with its place in the plan's list of blocks.
pub struct Blocks(Vec<(usize, Value)>);

impl<'a> Index<'a> {
    fn new(plan: &'a Plan<'a>, raw_root: Option<&RawModule<'a>>) -> Self {
        let mut by_type: FxHashMap<&'a str, Vec<usize>> = FxHashMap::default();
        for (i, rc) in plan.resource_changes.iter().enumerate() {
            by_type.entry(rc.kind.as_ref()).or_default().push(i);
        }
        let mut config = Vec::new();
        let mut modules = Vec::new();
        // Each block's key (module call names and module-relative address), only while the
        // changes are matched to their blocks.
        let mut keys = Vec::new();
        if let Some(root) = raw_root {
            index_config(root, &mut Vec::new(), &mut modules, &mut config, &mut keys);
        }
        // Each change's key is made beside the map of the blocks' keys (on a plan of 100,000
        // resources, each side is a few hundredths of a second).
        let (config_by_key, change_keys) = rayon::join(
            || -> FxHashMap<String, usize> {
                keys.into_iter().enumerate().map(|(i, k)| (k, i)).collect()
            },
            || -> Vec<String> {
                plan.resource_changes
                    .par_iter()
                    .map(|rc| {
                        let address = match rc.mode {
                            crate::plan::Mode::Data => format!("data.{}.{}", rc.kind, rc.name),
                            _ => format!("{}.{}", rc.kind, rc.name),
                        };
                        let module = rc
                            .module_address
                            .as_deref()
                            .filter(|a| !a.is_empty())
                            .map(super::native::module_call_names)
                            .into_iter()
                            .flatten();
                        block_key(module, &address)
                    })
                    .collect()
            },
        );
        let mut config_by_type: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        for (i, entry) in config.iter().enumerate() {
            match config_by_type.get_mut(entry.kind.as_ref()) {
                Some(blocks) => blocks.push(i),
                None => {
                    config_by_type.insert(entry.kind.to_string(), vec![i]);
                }
            }
        }
        let block_of_change = change_keys
            .par_iter()
            .map(|key| config_by_key.get(key).copied())
            .collect();
        Index {
            by_type,
            config,
            config_by_type,
            modules,
            block_of_change,
        }
    }
}

/// The name of a configuration block, read from its raw text (the typed plan checks the
/// blocks but does not keep them).
#[derive(Deserialize)]
struct BlockName<'a> {
    #[serde(default, borrow)]
    address: Cow<'a, str>,
    #[serde(default, borrow, rename = "type")]
    kind: Cow<'a, str>,
}

fn index_config<'a>(
    raw: &RawModule<'a>,
    path: &mut Vec<String>,
    modules: &mut Vec<Vec<String>>,
    out: &mut Vec<ConfigEntry<'a>>,
    keys: &mut Vec<String>,
) {
    // Each block's name, and its key, in parallel.
    let names: Vec<Option<(BlockName<'a>, String)>> = raw
        .resources
        .par_iter()
        .map(|r| {
            let name: BlockName = serde_json::from_str(r.get()).ok()?;
            let key = block_key(path.iter().map(String::as_str), &name.address);
            Some((name, key))
        })
        .collect();
    let module = u32::try_from(modules.len()).expect("fewer than 2^32 modules");
    modules.push(path.clone());
    // A block that does not read was refused by the typed parse, which checks every block.
    for (r, name) in raw.resources.iter().zip(names) {
        if let Some((BlockName { kind, .. }, key)) = name {
            keys.push(key);
            out.push(ConfigEntry {
                module,
                kind,
                raw: r,
            });
        }
    }
    for (name, call) in &raw.module_calls {
        if let Some(module) = &call.module {
            path.push(name.to_string());
            index_config(module, path, modules, out, keys);
            path.pop();
        }
    }
}

/// [`PlanInput::convert_changes`] over raw changes.
fn convert_changes_of(rcs: &[&RawValue], indices: &[usize]) -> Vec<Value> {
    let raws: Vec<&RawValue> = indices.iter().map(|&i| rcs[i]).collect();
    convert_all(&raws)
}

/// Converts raw values a chunk at a time, each chunk read as one JSON array so that its
/// objects share their keys and short strings; chunks in parallel when there are several.
fn convert_all(raws: &[&RawValue]) -> Vec<Value> {
    let chunk = |part: &[&RawValue]| -> Vec<Value> {
        let mut text =
            String::with_capacity(part.iter().map(|r| r.get().len() + 1).sum::<usize>() + 2);
        text.push('[');
        for (n, raw) in part.iter().enumerate() {
            if n > 0 {
                text.push(',');
            }
            text.push_str(raw.get());
        }
        text.push(']');
        match convert_str(&text) {
            Value::Array(items) => items.iter().cloned().collect(),
            _ => part.iter().map(|raw| convert(raw)).collect(),
        }
    };
    if raws.len() > PAR_CHUNK {
        raws.par_chunks(PAR_CHUNK).flat_map_iter(chunk).collect()
    } else {
        chunk(raws)
    }
}

/// The whole-plan input, restricted to what `usage` references; the JSON is unchanged.
fn whole_of(top: &[(Cow<'_, str>, &RawValue)], rcs: &[&RawValue], usage: &InputUse) -> Value {
    let wanted: Vec<(&str, Option<BTreeSet<&str>>)> = match usage {
        InputUse::None => Vec::new(),
        InputUse::Whole => top.iter().map(|(k, _)| (k.as_ref(), None)).collect(),
        InputUse::Paths(paths) => {
            let mut by_key: BTreeMap<&str, Option<BTreeSet<&str>>> = BTreeMap::new();
            for p in paths {
                let entry = by_key
                    .entry(p[0].as_str())
                    .or_insert_with(|| Some(BTreeSet::new()));
                match (p.get(1), entry.as_mut()) {
                    (Some(child), Some(children)) => {
                        children.insert(child.as_str());
                    }
                    (None, _) => *entry = None,
                    (Some(_), None) => {}
                }
            }
            by_key.into_iter().collect()
        }
    };
    let sections: Vec<(Value, Value)> = wanted
        .par_iter()
        .filter_map(|(key, children)| {
            let (_, raw) = top.iter().find(|(k, _)| k == key)?;
            let value = match children {
                None if *key == "resource_changes" => {
                    Value::from(convert_changes_of(rcs, &(0..rcs.len()).collect::<Vec<_>>()))
                }
                None => convert(raw),
                Some(children) => {
                    let map: BTreeMap<Cow<str>, &RawValue> =
                        serde_json::from_str(raw.get()).ok()?;
                    let picked: BTreeMap<Value, Value> = map
                        .iter()
                        .filter(|(k, _)| children.contains(k.as_ref()))
                        .map(|(k, v)| (Value::from(k.as_ref()), convert(v)))
                        .collect();
                    Value::from(picked)
                }
            };
            Some((Value::from(*key), value))
        })
        .collect();
    Value::from(sections.into_iter().collect::<BTreeMap<_, _>>())
}

fn convert(raw: &RawValue) -> Value {
    convert_str(raw.get())
}

fn convert_str(text: &str) -> Value {
    // The text was validated by the typed parse, so conversion cannot fail on syntax.
    super::json::parse(text)
        .or_else(|| Value::from_json_str(text).ok())
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"{"format_version": "1.2", "variables": {"region": {"value": "eu-west-1"}},
        "resource_changes": [{"address": "a.b", "type": "a", "name": "b", "mode": "managed",
        "change": {"actions": ["create"], "after": {"x": 1}}}],
        "configuration": {"root_module": {}}}"#;

    fn paths(keys: &[&[&str]]) -> InputUse {
        InputUse::Paths(
            keys.iter()
                .map(|k| k.iter().map(|s| s.to_string()).collect())
                .collect(),
        )
    }

    #[test]
    fn the_whole_input_from_the_raw_sections_is_the_plan_inputs() {
        let plan = crate::plan::parse("plan.json", PLAN).expect("plan parses");
        let sections = RawSections::scan(PLAN).expect("sections");
        let changes = paths(&[&["resource_changes"]]);
        let variables = paths(&[&["variables"]]);
        let (ahead_changes, ahead_variables) =
            (sections.whole(&changes), sections.whole(&variables));
        let input = PlanInput::from_sections(sections, &plan).expect("input");
        assert_eq!(ahead_changes, input.whole(&changes));
        assert_eq!(ahead_variables, input.whole(&variables));
        assert_eq!(
            ahead_changes["resource_changes"][0]["address"],
            Value::from("a.b")
        );
        assert_eq!(ahead_changes["variables"], Value::Undefined);
        assert_eq!(
            ahead_variables["variables"]["region"]["value"],
            Value::from("eu-west-1")
        );
    }
}
