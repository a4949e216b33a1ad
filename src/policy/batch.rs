//! One regorus evaluation for the rules of several packages.
//!
//! regorus caches rule values only within one evaluation: every `eval_rule` starts afresh, so a
//! helper rule that several policies read (an index of resources, a filtered list of changes,
//! the provider configuration) is evaluated again for each rule queried. A batch asks for all
//! the rules of a group of packages in a single query, one array comprehension per rule,
//!
//! ```rego
//! [[v | v := data.a.deny], [v | v := data.a.warn], [v | v := data.b.deny]]
//! ```
//!
//! so that shared helpers are evaluated once per group. Each comprehension holds the rule's
//! value, or nothing when the rule is undefined, so one undefined rule does not make the whole
//! query undefined. A query that fails (a builtin error, the time limit) says nothing about
//! which rule failed: the caller then evaluates the group package by package, which locates
//! the failure. This module owns building the query and reading its answer, not reporting.

use regorus::{Engine, Value};

use super::load::Package;

/// What one package's rules evaluated to, in the order of [`Package::rules`].
pub(super) struct PackageValues {
    pub rules: Vec<Value>,
    /// The value of the package's `exception` rule, when it has one.
    pub exception: Value,
}

/// The rule references one package contributes to a batch query, in order.
fn refs(pkg: &Package) -> impl Iterator<Item = String> + '_ {
    let exception = pkg.has_exception.then(|| "exception".to_owned());
    pkg.rules
        .iter()
        .map(|r| r.name.clone())
        .chain(exception)
        .map(move |rule| format!("data.{}.{rule}", pkg.name))
}

/// The query that evaluates every rule of `packages` at once.
fn query(packages: &[&Package]) -> String {
    let parts: Vec<String> = packages
        .iter()
        .flat_map(|p| refs(p))
        .map(|r| format!("[__planguard_v | __planguard_v := {r}]"))
        .collect();
    format!("[{}]", parts.join(", "))
}

/// Evaluates the rules of `packages` in one evaluation on the engine's current input. `None`
/// when the evaluation failed or its answer has an unexpected shape; the caller then
/// evaluates package by package.
pub(super) fn eval_batch(engine: &mut Engine, packages: &[&Package]) -> Option<Vec<PackageValues>> {
    let results = engine.eval_query(query(packages), false).ok()?;
    let answer = results.result.first()?.expressions.first()?.value.clone();
    let slots = answer.as_array().ok()?;
    let mut slots = slots.iter().map(|slot| match slot.as_array() {
        Ok(v) => v.first().cloned().unwrap_or(Value::Undefined),
        Err(_) => Value::Undefined,
    });
    let mut out = Vec::with_capacity(packages.len());
    for pkg in packages {
        let rules: Vec<Value> = slots.by_ref().take(pkg.rules.len()).collect();
        let exception = if pkg.has_exception {
            slots.next()?
        } else {
            Value::Undefined
        };
        if rules.len() != pkg.rules.len() {
            return None;
        }
        out.push(PackageValues { rules, exception });
    }
    Some(out)
}
