//! The typed model of `tofu show -json` / `terraform show -json` output.
//!
//! The structure (resource changes, actions, modes, modules, configuration, provider
//! configuration) is typed; attribute bodies (`before`, `after`, `after_unknown`, sensitivity
//! markers, expressions) stay as borrowed raw JSON slices until someone asks for them. That
//! keeps a single parse of a large plan cheap: the bytes are scanned once, nothing is copied,
//! and the policy engine converts only the resources a policy is about.
//!
//! Unknown fields are ignored, every field is optional unless Terraform has always written it,
//! and format versions 0.1 to 1.x are accepted (see [`super::FormatVersion`]).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::FormatVersion;

/// Raw JSON owned by the input buffer.
pub type Raw<'a> = &'a RawValue;

/// A whole plan, as written by `show -json PLANFILE`.
#[derive(Debug, Deserialize)]
pub struct Plan<'a> {
    /// Absent in hand-made plan fragments (policy test mocks); see [`super::parse`].
    #[serde(default)]
    pub format_version: Option<FormatVersion>,
    #[serde(default, borrow)]
    pub terraform_version: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub variables: Option<BTreeMap<Cow<'a, str>, Variable<'a>>>,
    #[serde(default, borrow)]
    pub planned_values: Option<StateValues<'a>>,
    #[serde(default, borrow)]
    pub resource_drift: Vec<ResourceChange<'a>>,
    #[serde(default, borrow)]
    pub resource_changes: Vec<ResourceChange<'a>>,
    #[serde(default, borrow)]
    pub output_changes: BTreeMap<Cow<'a, str>, Change<'a>>,
    #[serde(default, borrow)]
    pub prior_state: Option<State<'a>>,
    #[serde(default, borrow)]
    pub configuration: Option<Configuration<'a>>,
    #[serde(default, borrow)]
    pub relevant_attributes: Vec<RelevantAttribute<'a>>,
    #[serde(default, borrow)]
    pub checks: Vec<CheckResult<'a>>,
    #[serde(default)]
    pub errored: bool,
    #[serde(default)]
    pub applyable: Option<bool>,
    #[serde(default)]
    pub complete: Option<bool>,
    #[serde(default, borrow)]
    pub timestamp: Option<Cow<'a, str>>,
}

/// An input variable's value as the plan recorded it.
#[derive(Debug, Deserialize)]
pub struct Variable<'a> {
    #[serde(default, borrow)]
    pub value: Option<Raw<'a>>,
}

/// `planned_values` or a state's `values`.
#[derive(Debug, Deserialize)]
pub struct StateValues<'a> {
    #[serde(default, borrow)]
    pub outputs: BTreeMap<Cow<'a, str>, Raw<'a>>,
    #[serde(default, borrow)]
    pub root_module: Option<ValuesModule<'a>>,
}

/// A module in `planned_values` or state.
#[derive(Debug, Deserialize)]
pub struct ValuesModule<'a> {
    #[serde(default, borrow)]
    pub address: Option<Cow<'a, str>>,
    /// Checked while parsing, not kept: nothing reads them (they cost 15-20 MB on a plan of
    /// 100,000 resources), but a malformed one still refuses the plan, naming its path.
    #[serde(default)]
    pub resources: Checked<ValuesResource<'a>>,
    #[serde(default, borrow)]
    pub child_modules: Vec<ValuesModule<'a>>,
}

/// A JSON array whose elements are parsed as `T`, so a malformed one is an error naming its
/// path, and then dropped: only their number is kept.
#[derive(Debug)]
pub struct Checked<T> {
    pub len: usize,
    element: PhantomData<T>,
}

impl<T> Default for Checked<T> {
    fn default() -> Self {
        Checked {
            len: 0,
            element: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Checked<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Elements<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Elements<T> {
            type Value = Checked<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                // What serde says for a Vec, so messages do not depend on what is kept.
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked<T>, A::Error> {
                let mut len = 0;
                while seq.next_element::<T>()?.is_some() {
                    len += 1;
                }
                Ok(Checked {
                    len,
                    element: PhantomData,
                })
            }
        }
        deserializer.deserialize_seq(Elements(PhantomData))
    }
}

/// A resource in `planned_values` or state.
#[derive(Debug, Deserialize)]
pub struct ValuesResource<'a> {
    #[serde(borrow)]
    pub address: Cow<'a, str>,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default, borrow, rename = "type")]
    pub kind: Cow<'a, str>,
    #[serde(default, borrow)]
    pub name: Cow<'a, str>,
    #[serde(default)]
    pub index: Option<InstanceKey>,
    #[serde(default, borrow)]
    pub provider_name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub values: Option<Raw<'a>>,
    #[serde(default, borrow)]
    pub sensitive_values: Option<Raw<'a>>,
}

/// The state embedded as `prior_state`.
#[derive(Debug, Deserialize)]
pub struct State<'a> {
    #[serde(default, borrow)]
    pub format_version: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub terraform_version: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub values: Option<StateValues<'a>>,
}

/// One entry of `resource_changes` or `resource_drift`.
#[derive(Debug, Deserialize)]
pub struct ResourceChange<'a> {
    /// Terraform 1.0 wrote drift entries without it; [`super::parse`] derives it then.
    #[serde(default, borrow)]
    pub address: Cow<'a, str>,
    /// Rare fields are owned when present, so that the common case takes less room (a plan
    /// of 100,000 changes holds 100,000 of these).
    #[serde(default)]
    pub previous_address: Option<Box<str>>,
    #[serde(default, borrow)]
    pub module_address: Option<Cow<'a, str>>,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default, borrow, rename = "type")]
    pub kind: Cow<'a, str>,
    #[serde(default, borrow)]
    pub name: Cow<'a, str>,
    #[serde(default)]
    pub index: Option<InstanceKey>,
    #[serde(default, borrow)]
    pub provider_name: Option<Cow<'a, str>>,
    #[serde(default)]
    pub deposed: Option<Box<str>>,
    #[serde(borrow)]
    pub change: Change<'a>,
    #[serde(default)]
    pub action_reason: Option<Box<str>>,
}

impl ResourceChange<'_> {
    /// The address from the parts: `module.a.aws_s3_bucket.b["k"]`.
    pub fn derived_address(&self) -> String {
        let mut out = String::new();
        if let Some(m) = self.module_address.as_deref().filter(|m| !m.is_empty()) {
            out.push_str(m);
            out.push('.');
        }
        match self.mode {
            Mode::Data => out.push_str("data."),
            Mode::Ephemeral => out.push_str("ephemeral."),
            Mode::Managed => {}
        }
        out.push_str(&self.kind);
        out.push('.');
        out.push_str(&self.name);
        match &self.index {
            Some(InstanceKey::Int(i)) => out.push_str(&format!("[{i}]")),
            Some(InstanceKey::Str(k)) => out.push_str(&format!("[{k:?}]")),
            None => {}
        }
        out
    }
}

/// The before/after pair of a resource or output change.
#[derive(Debug, Deserialize)]
pub struct Change<'a> {
    pub actions: Actions,
    #[serde(default, borrow)]
    pub before: Option<Raw<'a>>,
    #[serde(default, borrow)]
    pub after: Option<Raw<'a>>,
    /// Which parts of `after` are unknown until apply: `true`, or an object/array of markers.
    #[serde(default, borrow)]
    pub after_unknown: Option<Raw<'a>>,
    /// Sensitivity markers: `true`/`false`, or an object/array of markers.
    #[serde(default, borrow)]
    pub before_sensitive: Option<Raw<'a>>,
    #[serde(default, borrow)]
    pub after_sensitive: Option<Raw<'a>>,
    #[serde(default, borrow)]
    pub replace_paths: Option<Raw<'a>>,
}

/// `managed`, `data` or `ephemeral`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Managed,
    Data,
    Ephemeral,
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Mode;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#""managed", "data" or "ephemeral""#)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Mode, E> {
                match v {
                    "managed" => Ok(Mode::Managed),
                    "data" => Ok(Mode::Data),
                    "ephemeral" => Ok(Mode::Ephemeral),
                    other => Err(E::custom(format_args!(
                        "unknown mode {other:?}, expected \"managed\", \"data\" or \"ephemeral\""
                    ))),
                }
            }
        }
        d.deserialize_str(V)
    }
}

/// A resource instance key: `count` gives a number, `for_each` a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceKey {
    Int(i64),
    Str(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            InstanceKey::Int(i) => write!(f, "{i}"),
            InstanceKey::Str(s) => write!(f, "{s:?}"),
        }
    }
}

impl<'de> Deserialize<'de> for InstanceKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = InstanceKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an instance index (a number) or key (a string)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<InstanceKey, E> {
                Ok(InstanceKey::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<InstanceKey, E> {
                i64::try_from(v)
                    .map(InstanceKey::Int)
                    .map_err(|_| E::custom("instance index out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<InstanceKey, E> {
                Ok(InstanceKey::Str(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A single planned action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    NoOp,
    Create,
    Read,
    Update,
    Delete,
    Forget,
}

impl Action {
    const NAMES: &'static str = r#""no-op", "create", "read", "update", "delete" or "forget""#;
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Action;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "one of {}", Action::NAMES)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Action, E> {
                Ok(match v {
                    "no-op" => Action::NoOp,
                    "create" => Action::Create,
                    "read" => Action::Read,
                    "update" => Action::Update,
                    "delete" => Action::Delete,
                    "forget" => Action::Forget,
                    other => {
                        return Err(E::custom(format_args!(
                            "unknown action {other:?}, expected one of {}",
                            Action::NAMES
                        )))
                    }
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// The action list of a change, as one of the combinations Terraform and OpenTofu write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Actions {
    NoOp,
    Create,
    Read,
    Update,
    Delete,
    /// `["delete", "create"]`: replace, destroying first.
    DeleteThenCreate,
    /// `["create", "delete"]`: replace with `create_before_destroy`.
    CreateThenDelete,
    /// `["forget"]`: removed from state without destroying (a `removed` block).
    Forget,
    /// `["create", "forget"]`
    CreateThenForget,
    /// `["forget", "create"]`
    ForgetThenCreate,
}

impl Actions {
    /// Whether the change destroys the existing object (delete or either replace order).
    pub fn destroys(self) -> bool {
        matches!(
            self,
            Actions::Delete | Actions::DeleteThenCreate | Actions::CreateThenDelete
        )
    }

    /// Whether the change is a replacement.
    pub fn is_replace(self) -> bool {
        matches!(self, Actions::DeleteThenCreate | Actions::CreateThenDelete)
    }

    /// The symbol Terraform prints for the change.
    pub fn symbol(self) -> &'static str {
        match self {
            Actions::NoOp => " ",
            Actions::Create => "+",
            Actions::Read => "<=",
            Actions::Update => "~",
            Actions::Delete => "-",
            Actions::DeleteThenCreate => "-/+",
            Actions::CreateThenDelete => "+/-",
            Actions::Forget => ".",
            Actions::CreateThenForget | Actions::ForgetThenCreate => "+/.",
        }
    }

    /// A short verb for the change ("create", "replace", ...).
    pub fn verb(self) -> &'static str {
        match self {
            Actions::NoOp => "no-op",
            Actions::Create => "create",
            Actions::Read => "read",
            Actions::Update => "update",
            Actions::Delete => "delete",
            Actions::DeleteThenCreate | Actions::CreateThenDelete => "replace",
            Actions::Forget => "forget",
            Actions::CreateThenForget | Actions::ForgetThenCreate => "create and forget",
        }
    }

    fn from_list(list: &[Action]) -> Option<Actions> {
        use Action as A;
        Some(match list {
            [A::NoOp] => Actions::NoOp,
            [A::Create] => Actions::Create,
            [A::Read] => Actions::Read,
            [A::Update] => Actions::Update,
            [A::Delete] => Actions::Delete,
            [A::Delete, A::Create] => Actions::DeleteThenCreate,
            [A::Create, A::Delete] => Actions::CreateThenDelete,
            [A::Forget] => Actions::Forget,
            [A::Create, A::Forget] => Actions::CreateThenForget,
            [A::Forget, A::Create] => Actions::ForgetThenCreate,
            _ => return None,
        })
    }
}

impl<'de> Deserialize<'de> for Actions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Actions;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of actions such as [\"create\"] or [\"delete\", \"create\"]")
            }
            fn visit_seq<S: de::SeqAccess<'de>>(self, mut seq: S) -> Result<Actions, S::Error> {
                let mut list = Vec::with_capacity(2);
                while let Some(a) = seq.next_element::<Action>()? {
                    list.push(a);
                }
                Actions::from_list(&list).ok_or_else(|| {
                    de::Error::custom(format_args!(
                        "unsupported action combination {list:?}; expected one action, or \
                         delete/create or create/forget in either order"
                    ))
                })
            }
        }
        d.deserialize_seq(V)
    }
}

/// `configuration`: the module tree as written, with expressions.
#[derive(Debug, Deserialize)]
pub struct Configuration<'a> {
    #[serde(default, borrow)]
    pub provider_config: BTreeMap<Cow<'a, str>, ProviderConfig<'a>>,
    #[serde(default, borrow)]
    pub root_module: Option<ConfigModule<'a>>,
}

/// One provider configuration block.
#[derive(Debug, Deserialize)]
pub struct ProviderConfig<'a> {
    #[serde(default, borrow)]
    pub name: Cow<'a, str>,
    #[serde(default, borrow)]
    pub full_name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub alias: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub module_address: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub version_constraint: Option<Cow<'a, str>>,
    #[serde(default)]
    pub expressions: Expressions,
}

/// A module in `configuration`.
#[derive(Debug, Deserialize)]
pub struct ConfigModule<'a> {
    /// Checked but not kept, like `planned_values` resources (a tenth of the memory a plan of
    /// 100,000 resources holds): what reads the blocks reads them from the plan's text.
    #[serde(default)]
    pub resources: Checked<ConfigResource<'a>>,
    #[serde(default, borrow)]
    pub module_calls: BTreeMap<Cow<'a, str>, ModuleCall<'a>>,
    #[serde(default, borrow)]
    pub outputs: Option<Raw<'a>>,
    #[serde(default, borrow)]
    pub variables: Option<Raw<'a>>,
}

/// A `module "x" {}` call.
#[derive(Debug, Deserialize)]
pub struct ModuleCall<'a> {
    #[serde(default, borrow)]
    pub source: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub expressions: Option<Raw<'a>>,
    #[serde(default, borrow)]
    pub module: Option<ConfigModule<'a>>,
}

/// A resource block in `configuration`.
#[derive(Debug, Deserialize)]
pub struct ConfigResource<'a> {
    #[serde(borrow)]
    pub address: Cow<'a, str>,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default, borrow, rename = "type")]
    pub kind: Cow<'a, str>,
    #[serde(default, borrow)]
    pub name: Cow<'a, str>,
    #[serde(default, borrow)]
    pub provider_config_key: Option<Cow<'a, str>>,
    /// Kept raw: typed on demand with [`ConfigResource::expressions`].
    #[serde(default, borrow)]
    pub expressions: Option<Raw<'a>>,
    #[serde(default, borrow)]
    pub count_expression: Option<Raw<'a>>,
    #[serde(default, borrow)]
    pub for_each_expression: Option<Raw<'a>>,
    #[serde(default, borrow)]
    pub depends_on: Vec<Cow<'a, str>>,
}

impl ConfigResource<'_> {
    /// The resource's expressions, typed.
    pub fn expressions(&self) -> Result<Expressions, serde_json::Error> {
        match self.expressions {
            Some(raw) => serde_json::from_str(raw.get()),
            None => Ok(Expressions::default()),
        }
    }
}

/// A map of attribute name to expression, as in `configuration`.
pub type Expressions = BTreeMap<String, Expression>;

/// One attribute's expression: a constant, references, or nested block(s).
#[derive(Debug, Clone, PartialEq)]
pub enum Expression {
    /// A value known from the configuration alone, possibly with the references it used.
    Value {
        constant_value: Option<serde_json::Value>,
        references: Vec<String>,
    },
    /// A single nested block.
    Block(Expressions),
    /// A repeated nested block.
    Blocks(Vec<Expressions>),
}

impl Expression {
    /// The constant value, when the expression has one.
    pub fn constant(&self) -> Option<&serde_json::Value> {
        match self {
            Expression::Value { constant_value, .. } => constant_value.as_ref(),
            _ => None,
        }
    }

    /// The references the expression makes (empty for constants and blocks).
    pub fn references(&self) -> &[String] {
        match self {
            Expression::Value { references, .. } => references,
            _ => &[],
        }
    }
}

impl<'de> Deserialize<'de> for Expression {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Expression::from_json(v).map_err(de::Error::custom)
    }
}

impl Expression {
    fn from_json(v: serde_json::Value) -> Result<Expression, String> {
        use serde_json::Value as J;
        match v {
            J::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    J::Object(map) => Self::fields(map),
                    other => Err(format!("expected a nested block object, found {other}")),
                })
                .collect::<Result<_, _>>()
                .map(Expression::Blocks),
            J::Object(mut map)
                if map.contains_key("constant_value") || map.contains_key("references") =>
            {
                let references = match map.remove("references") {
                    Some(J::Array(refs)) => refs
                        .into_iter()
                        .filter_map(|r| r.as_str().map(str::to_owned))
                        .collect(),
                    _ => Vec::new(),
                };
                Ok(Expression::Value {
                    constant_value: map.remove("constant_value"),
                    references,
                })
            }
            J::Object(map) => Self::fields(map).map(Expression::Block),
            other => Err(format!("expected an expression object, found {other}")),
        }
    }

    fn fields(map: serde_json::Map<String, serde_json::Value>) -> Result<Expressions, String> {
        map.into_iter()
            .map(|(k, v)| Ok((k, Expression::from_json(v)?)))
            .collect()
    }
}

/// `relevant_attributes` entry.
#[derive(Debug, Deserialize)]
pub struct RelevantAttribute<'a> {
    #[serde(borrow)]
    pub resource: Cow<'a, str>,
    #[serde(default, borrow)]
    pub attribute: Option<Raw<'a>>,
}

/// A `checks` entry (check blocks, preconditions and postconditions).
#[derive(Debug, Deserialize)]
pub struct CheckResult<'a> {
    #[serde(borrow)]
    pub address: Raw<'a>,
    #[serde(default, borrow)]
    pub status: Cow<'a, str>,
    #[serde(default, borrow)]
    pub instances: Option<Raw<'a>>,
}
