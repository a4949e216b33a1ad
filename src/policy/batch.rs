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
//! the failure, unless the batch held one rule only. This module owns building the query and
//! reading its answer, not reporting.

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

/// Why a batch has no values.
#[derive(Debug)]
pub(super) enum Failed {
    /// The evaluation failed (a builtin error, a limit): the error's text.
    Evaluation(String),
    /// The answer did not have the expected shape.
    Shape,
}

/// Evaluates the rules of `packages` in one evaluation on the engine's current input. Fails
/// when the evaluation failed or its answer has an unexpected shape; the caller then
/// evaluates package by package.
pub(super) fn eval_batch(
    engine: &mut Engine,
    packages: &[&Package],
) -> Result<Vec<PackageValues>, Failed> {
    let results = engine
        .eval_query(query(packages), false)
        .map_err(|e| Failed::Evaluation(e.to_string()))?;
    values(&results, packages).ok_or(Failed::Shape)
}

/// Reads a batch query's answer into each package's rule values.
fn values(results: &regorus::QueryResults, packages: &[&Package]) -> Option<Vec<PackageValues>> {
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::policy::load::Rule;
    use crate::policy::RuleKind;

    /// Two packages whose deny rules read one helper rule; the helper counts its evaluations
    /// through a builtin.
    const POLICIES: &str = r#"
package helpers
import rego.v1
expensive := x if x := count_evaluation(input.n)

package a
import rego.v1
import data.helpers
deny contains "a" if helpers.expensive > 1
warn := "never" if input.n > 5

package b
import rego.v1
import data.helpers
deny contains sprintf("b %d", [helpers.expensive]) if true
deny_broken contains x if x := 1 / input.zero
"#;

    fn engine() -> (Engine, Arc<AtomicUsize>) {
        let mut engine = Engine::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        engine
            .add_extension(
                "count_evaluation".into(),
                1,
                Box::new(move |args: Vec<Value>| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    Ok(args[0].clone())
                }),
            )
            .expect("the builtin registers");
        for (i, module) in POLICIES.split("\npackage ").skip(1).enumerate() {
            engine
                .add_policy(format!("p{i}.rego"), format!("package {module}"))
                .expect("the policy loads");
        }
        engine.set_input(Value::from_json_str(r#"{"n": 2, "zero": 1}"#).unwrap());
        (engine, calls)
    }

    fn json(v: &Value) -> serde_json::Value {
        serde_json::to_value(v).expect("a JSON value")
    }

    fn package(name: &str, rules: &[&str]) -> Package {
        Package {
            name: name.into(),
            meta: None,
            rules: rules
                .iter()
                .map(|r| Rule {
                    name: (*r).into(),
                    kind: RuleKind::of(r).expect("a conftest rule"),
                    file: format!("{name}.rego"),
                    line: 1,
                    definitions: 1,
                    partial_set: true,
                })
                .collect(),
            has_exception: false,
            input: Default::default(),
            builtin: false,
        }
    }

    #[test]
    fn a_helper_shared_by_two_packages_is_evaluated_once_per_batch() {
        let (mut engine, calls) = engine();
        let (a, b) = (package("a", &["deny", "warn"]), package("b", &["deny"]));
        let values = eval_batch(&mut engine, &[&a, &b]).expect("the batch evaluates");
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "the helper ran more than once"
        );
        assert_eq!(json(&values[0].rules[0]), serde_json::json!(["a"]));
        assert_eq!(values[0].rules[1], Value::Undefined);
        assert_eq!(json(&values[1].rules[0]), serde_json::json!(["b 2"]));

        // What a query per rule costs: the helper again for every rule that reads it.
        calls.store(0, Ordering::SeqCst);
        for rule in ["data.a.deny", "data.b.deny"] {
            engine.eval_rule(rule.into()).expect("the rule evaluates");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn an_undefined_rule_fills_its_own_slot_only() {
        let (mut engine, _) = engine();
        engine.set_input(Value::from_json_str(r#"{"n": 1, "zero": 1}"#).unwrap());
        let a = package("a", &["deny", "warn"]);
        let values = eval_batch(&mut engine, &[&a]).expect("the batch evaluates");
        assert_eq!(json(&values[0].rules[0]), serde_json::json!([]));
        assert_eq!(values[0].rules[1], Value::Undefined);
    }

    #[test]
    fn a_failing_rule_fails_the_batch_so_the_caller_can_locate_it() {
        let (mut engine, _) = engine();
        engine.set_input(Value::from_json_str(r#"{"n": 2, "zero": 0}"#).unwrap());
        let b = package("b", &["deny", "deny_broken"]);
        let failed = eval_batch(&mut engine, &[&b]).err();
        assert!(
            matches!(&failed, Some(Failed::Evaluation(e)) if e.contains("divide by zero")),
            "{failed:?}"
        );
    }
}
