//! OPA conformance: every case in `testdata/conformance/` gives, through planguard's real
//! loading and evaluation path (`planguard check --no-builtin -p DIR`), exactly the results
//! OPA 1.20.2 gives for each conftest rule (`deny`, `violation`, `warn`, with suffixes).
//!
//! A case is a directory with `policy/` (the Rego), `input.json` (or the shared
//! `testdata/conformance/input.json`), optionally `data.json`, `case.json` (`"rego_v0": true`
//! loads the policy as Rego v0) and `expected.json`, which `bench/opa/conformance.py`
//! generated with the real OPA engine. Each expected rule value is a list of results
//! (strings, or objects whose `msg` is the message) or `{"error": ...}`; `{"load_error": ...}`
//! means OPA refused the policy. Messages are compared exactly; errors only as errors.
//!
//! A case whose `case.json` has `"known_difference"` (the reason) is one planguard does not
//! yet match: the test requires it to still differ, so fixing it fails the test until the
//! marker is removed, and the list of open differences cannot go stale.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use planguard::plan::parse;
use planguard::policy::{LoadOptions, PlanInput, PolicySet};
use serde_json::Value;

const ROOT: &str = "testdata/conformance";

/// What one engine said about a case: the `(package, rule, message)` results, the
/// `(package, rule)` pairs that failed, or that the policies did not load.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Results {
        results: BTreeSet<(String, String, String)>,
        errors: BTreeSet<(String, String)>,
    },
    LoadError,
}

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(ROOT)
        .expect("testdata/conformance exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn read_json(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The message conftest shows for one result: a string, an object's `msg`, or the JSON.
fn message_of(rule: &str, result: &Value) -> String {
    match result {
        Value::String(s) => s.clone(),
        Value::Bool(true) => format!("{rule} is true"),
        Value::Object(map) if map.get("msg").is_some_and(Value::is_string) => {
            map["msg"].as_str().unwrap().to_owned()
        }
        other => other.to_string(),
    }
}

fn opa_verdict(expected: &Value) -> Verdict {
    if expected.get("load_error").is_some() {
        return Verdict::LoadError;
    }
    let mut results = BTreeSet::new();
    let mut errors = BTreeSet::new();
    for (package, rules) in expected["packages"].as_object().expect("packages") {
        for (rule, value) in rules.as_object().expect("rules") {
            match value {
                Value::Array(items) => {
                    for item in items {
                        let message = message_of(rule, item);
                        results.insert((package.clone(), rule.clone(), message));
                    }
                }
                _ => {
                    errors.insert((package.clone(), rule.clone()));
                }
            }
        }
    }
    Verdict::Results { results, errors }
}

fn planguard_verdict(case: &Path) -> Verdict {
    let config = read_json(&case.join("case.json")).unwrap_or(Value::Null);
    let data = case.join("data.json");
    let opts = LoadOptions {
        builtin: false,
        paths: vec![case.join("policy")],
        data_files: if data.exists() {
            vec![data]
        } else {
            Vec::new()
        },
        rego_v0: config["rego_v0"] == true,
        ..LoadOptions::default()
    };
    let Ok(set) = PolicySet::load(&opts) else {
        return Verdict::LoadError;
    };
    let input_path = Some(case.join("input.json"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| Path::new(ROOT).join("input.json"));
    let text = std::fs::read_to_string(&input_path).unwrap();
    let plan = parse("input.json", &text).expect("a conformance input is a plan");
    let input = PlanInput::new(&text, &plan).unwrap();
    let eval = set.evaluate(&input);
    Verdict::Results {
        results: eval
            .findings
            .into_iter()
            .map(|f| (f.policy_id, f.rule, f.message))
            .collect(),
        errors: eval
            .failures
            .into_iter()
            .map(|f| (f.policy_id, f.rule.unwrap_or_default()))
            .collect(),
    }
}

#[test]
fn every_case_gives_opas_results() {
    let cases = cases();
    assert!(cases.len() >= 20, "only {} conformance cases", cases.len());
    let mut differences = Vec::new();
    for case in &cases {
        let expected = read_json(&case.join("expected.json"))
            .unwrap_or_else(|| panic!("{}: no expected.json", case.display()));
        let config = read_json(&case.join("case.json")).unwrap_or(Value::Null);
        let known = config["known_difference"].as_str();
        let opa = opa_verdict(&expected);
        let ours = planguard_verdict(case);
        if known.is_some() && ours == opa {
            differences.push(format!(
                "{}: now matches OPA; remove its known_difference",
                case.display()
            ));
        } else if known.is_none() && ours != opa {
            differences.push(format!(
                "{}:\n  OPA:       {opa:?}\n  planguard: {ours:?}",
                case.display()
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} cases differ from OPA:\n{}",
        differences.len(),
        cases.len(),
        differences.join("\n")
    );
}

#[test]
fn a_load_error_names_the_file_and_line() {
    let opts = LoadOptions {
        builtin: false,
        paths: vec![Path::new(ROOT).join("unknown_builtin/policy")],
        ..LoadOptions::default()
    };
    let errors = PolicySet::load(&opts).expect_err("an unknown builtin is refused");
    insta::assert_snapshot!(errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n"));
}
