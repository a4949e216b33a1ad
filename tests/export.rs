//! `planguard policies export` writes the built-in library as plain Rego: with the `planguard.*`
//! helpers as Rego functions, its own unit tests pass on an engine that has none of planguard's
//! builtins (a bare regorus here; `bench/opa/library_tests.py` runs the same on real OPA).

mod common;

use regorus::{Engine, Value};

#[test]
fn the_exported_library_passes_its_tests_without_planguards_builtins() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::planguard(&["policies", "export", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(
        common::stdout(&out).contains("files to"),
        "{}",
        common::stdout(&out)
    );

    let mut engine = Engine::new();
    let mut tests = Vec::new();
    let mut calls_builtins = 0;
    for entry in walk(dir.path()) {
        let text = std::fs::read_to_string(&entry).unwrap();
        if text.contains("\nimport data.planguard\n") {
            calls_builtins += 1;
        }
        engine
            .add_policy(entry.display().to_string(), text.clone())
            .unwrap_or_else(|e| panic!("{}: {e}", entry.display()));
        if entry.to_string_lossy().ends_with("_test.rego") {
            let pkg = text
                .lines()
                .find_map(|l| l.strip_prefix("package "))
                .unwrap()
                .trim()
                .to_owned();
            for line in text.lines() {
                if let Some(rest) = line.strip_prefix("test_") {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    tests.push(format!("data.{pkg}.test_{name}"));
                }
            }
        }
    }
    tests.sort();
    tests.dedup();
    assert!(
        calls_builtins >= 4,
        "the helper files import the Rego helpers"
    );
    assert!(
        tests.len() > 400,
        "the library's tests were found: {}",
        tests.len()
    );
    let mut failed = Vec::new();
    for t in &tests {
        engine.set_input(Value::new_object());
        match engine.eval_rule(t.clone()) {
            Ok(Value::Bool(true)) => {}
            other => failed.push(format!("{t}: {other:?}")),
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} failed:\n{}",
        failed.len(),
        tests.len(),
        failed.join("\n")
    );
}

#[test]
fn the_export_carries_the_schema_of_the_library_settings() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::planguard(&["policies", "export", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let written = std::fs::read_to_string(dir.path().join("options.schema.json")).unwrap();
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/options.schema.json"),
    )
    .unwrap();
    assert_eq!(written, shipped);
    let schema: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(
        schema["properties"]["required_tags"]["type"], "array",
        "{schema}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rego") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
