//! planguard's Rego builtins (`planguard.*`, src/policy/native.rs) agree with the Rego they
//! replaced, on every resource change of every corpus and fixture plan and of a synthetic plan.
//! The Rego is in testdata/native/spec.rego; regorus evaluates both sides in one engine.

#[path = "../tools/synth.rs"]
#[allow(dead_code)]
mod synth;

mod common;

use std::path::{Path, PathBuf};

use regorus::{Engine, Value};

fn plans() -> Vec<PathBuf> {
    let mut out = common::corpus_plans();
    out.push(common::testdata("plans/checkov-runner.json"));
    out
}

fn engine() -> Engine {
    let mut engine = Engine::new();
    planguard::policy::register_builtins(&mut engine).expect("builtins register");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/native/spec.rego");
    engine.add_policy_from_file(&spec).expect("the cases load");
    engine
        .add_policy(
            "src/policy/pure.rego".into(),
            planguard::policy::export::PURE_REGO.into(),
        )
        .expect("the specification loads");
    engine
}

/// The disagreements on one plan, and how many (change, path) cases and configuration blocks
/// were checked.
fn disagreements(engine: &mut Engine, plan_json: &str) -> (Vec<String>, u64, u64) {
    engine.set_input(Value::from_json_str(plan_json).expect("plan JSON"));
    let found = engine
        .eval_rule("data.native_spec.disagreements".into())
        .expect("disagreements evaluate");
    let checked = count_of(engine, "checked");
    let blocks = count_of(engine, "found_blocks");
    let found = match found {
        Value::Set(s) => s.iter().map(|v| v.to_string()).collect(),
        Value::Undefined => Vec::new(),
        other => panic!("unexpected {other}"),
    };
    (found, checked, blocks)
}

/// The count a rule of the cases holds (how many cases it compared).
fn count_of(engine: &mut Engine, rule: &str) -> u64 {
    engine
        .eval_rule(format!("data.native_spec.{rule}"))
        .unwrap_or_else(|e| panic!("{rule} evaluates: {e}"))
        .as_u64()
        .expect("a count")
}

#[test]
fn builtins_agree_with_their_rego_on_every_real_plan() {
    let mut engine = engine();
    let (mut checked, mut blocks) = (0, 0);
    let plans = plans();
    assert!(
        plans.len() > 120,
        "expected the corpus, found {}",
        plans.len()
    );
    for path in &plans {
        let text = std::fs::read_to_string(path).expect("plan file");
        let (found, n, b) = disagreements(&mut engine, &text);
        assert!(
            found.is_empty(),
            "{}: builtins disagree with their Rego: {:?}",
            path.display(),
            &found[..found.len().min(5)]
        );
        checked += n;
        blocks += b;
    }
    assert!(checked > 10_000, "only {checked} cases checked");
    assert!(blocks > 500, "only {blocks} configuration blocks found");
}

#[test]
fn builtins_agree_with_their_rego_on_a_synthetic_plan() {
    let mut plan = Vec::new();
    synth::write_plan(2_000, 7, &mut plan).expect("synthetic plan");
    let mut engine = engine();
    let (found, checked, blocks) =
        disagreements(&mut engine, &String::from_utf8(plan).expect("UTF-8"));
    assert!(
        found.is_empty(),
        "builtins disagree: {:?}",
        &found[..found.len().min(5)]
    );
    assert!(checked > 20_000, "only {checked} cases checked");
    assert!(blocks > 1_000, "only {blocks} configuration blocks found");
    let merged = count_of(&mut engine, "merged_reports");
    assert!(merged > 1_000, "only {merged} merged tag reports compared");
    let links = count_of(&mut engine, "links");
    assert!(links > 500, "only {links} links between changes compared");
}
