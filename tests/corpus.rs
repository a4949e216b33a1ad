//! Every real plan in the shared corpus parses, indexes, and runs through the whole built-in
//! library without a policy error; the edge cases get clear answers.

mod common;

use std::path::Path;

use common::{corpus, corpus_plans as plans};

use planguard::plan::{parse, PlanError, PlanText, ShowOptions};
use planguard::policy::PlanInput;
use planguard::policy::{LoadOptions, PolicySet};

#[test]
fn every_corpus_plan_parses_into_the_typed_model() {
    let plans = plans();
    assert!(
        plans.len() >= 127,
        "expected the whole corpus, found {}",
        plans.len()
    );
    let mut failures = Vec::new();
    let mut resources = 0;
    for path in &plans {
        let text = std::fs::read_to_string(path).unwrap();
        match parse(&path.display().to_string(), &text) {
            Ok(plan) => {
                resources += plan.resource_changes.len();
                if let Err(e) = PlanInput::new(&text, &plan) {
                    failures.push(format!("{}: index: {e}", path.display()));
                }
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    assert!(
        failures.is_empty(),
        "{} plans failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        resources > 500,
        "parsed suspiciously few resource changes: {resources}"
    );
}

#[test]
fn the_library_runs_on_every_corpus_plan_without_a_policy_error() {
    let data = serde_json::json!({"planguard": {"stack": {"account_id": "123456789012"}}});
    let set = PolicySet::load(&LoadOptions {
        extra_data: Some(data),
        ..LoadOptions::default()
    })
    .expect("library loads");
    let mut failures = Vec::new();
    let mut findings = 0;
    for path in plans() {
        let text = std::fs::read_to_string(&path).unwrap();
        let plan = parse("p", &text).unwrap();
        let input = PlanInput::new(&text, &plan).unwrap();
        let eval = set.evaluate(&input);
        findings += eval.findings.len();
        for f in eval.failures {
            failures.push(format!(
                "{}: {} {}:{}: {}",
                path.display(),
                f.policy_id,
                f.file,
                f.line,
                f.message
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "policy errors:\n{}",
        failures.join("\n")
    );
    assert!(findings > 0, "the library found nothing in 127 real plans");
}

#[test]
fn the_wrapper_prefixed_plan_is_recognised() {
    let path = corpus().join("plans-edge/infracost__plan_with_terraform_wrapper.json");
    let err = PlanText::read(&path, &ShowOptions::default()).unwrap_err();
    assert!(
        matches!(err, PlanError::WrapperText { line: 2, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("terraform_wrapper: false"), "{msg}");
    assert!(
        msg.contains("[command]"),
        "the message quotes the wrapper text: {msg}"
    );
}

#[test]
fn the_structurally_invalid_plan_names_line_and_column() {
    let path = corpus().join("plans-edge/terraform-json__invalid__plan.json");
    let text = PlanText::read(&path, &ShowOptions::default()).unwrap();
    let err = text.parse().unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, PlanError::NotJson { line: 676, .. }), "{msg}");
    assert!(msg.contains("line 676"), "{msg}");
}

/// The engine's type-indexed slices must give exactly the verdicts of evaluating every policy
/// on the whole plan (what conftest would do with the same policies).
#[test]
fn indexed_evaluation_equals_whole_plan_evaluation() {
    let data = serde_json::json!({"planguard": {"stack": {"account_id": "111111111111"}, "config": {"s3_require_kms": true}}});
    let set = PolicySet::load(&LoadOptions {
        extra_data: Some(data),
        ..LoadOptions::default()
    })
    .unwrap();
    let mut files = plans();
    for f in
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/library")).unwrap()
    {
        let f = f.unwrap().path();
        if f.extension().is_some_and(|e| e == "json") {
            files.push(f);
        }
    }
    let mut compared = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let plan = parse("p", &text).unwrap();
        let input = PlanInput::new(&text, &plan).unwrap();
        let fast = set.evaluate(&input);
        let whole = set.evaluate_conftest_style(&input);
        let only_fast: Vec<_> = fast
            .findings
            .iter()
            .filter(|f| !whole.findings.contains(f))
            .collect();
        let only_whole: Vec<_> = whole
            .findings
            .iter()
            .filter(|f| !fast.findings.contains(f))
            .collect();
        assert!(
            only_fast.is_empty() && only_whole.is_empty(),
            "{}\nonly indexed: {only_fast:#?}\nonly whole: {only_whole:#?}",
            path.display()
        );
        assert_eq!(fast.failures, whole.failures, "{}", path.display());
        compared += fast.findings.len();
    }
    assert!(compared > 200, "too few findings to compare: {compared}");
}
