//! Failures stay contained: a broken policy is reported with its file and line and exits 2,
//! and never hides the other policies' results; policies that could silently pass in regorus
//! are refused when they are loaded.

mod common;

use common::*;

const PLAN: &str = "testdata/conftest/plan.json";

#[test]
fn a_builtin_error_is_a_located_policy_error_and_the_others_still_report() {
    let out = check_policies(
        &[
            "testdata/conftest/broken/builtin_error.rego",
            "testdata/conftest/broken/fine.rego",
        ],
        PLAN,
        &[],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("policy error: testdata/conftest/broken/builtin_error.rego:8"),
        "{text}"
    );
    assert!(
        text.contains("aws_s3_bucket.public is changing"),
        "fine.rego's findings are reported:\n{text}"
    );
    assert!(text.contains("aws_s3_bucket.private is changing"), "{text}");
}

#[test]
fn each_evaluation_has_a_time_limit() {
    let out = check_policies(
        &[
            "testdata/conftest/broken/slow.rego",
            "testdata/conftest/broken/fine.rego",
        ],
        PLAN,
        &["--timeout", "1"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("policy error: testdata/conftest/broken/slow.rego"),
        "{text}"
    );
    assert!(
        text.to_lowercase().contains("time"),
        "says it ran out of time: {text}"
    );
    assert!(text.contains("is changing"), "{text}");
}

#[test]
fn builtins_regorus_lacks_are_refused_at_load() {
    let out = planguard(&[
        "check",
        "--no-builtin",
        "-p",
        "testdata/conftest-refused",
        PLAN,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("testdata/conftest-refused/fetch.rego:6: calls `http.send`, which regorus does not implement"),
        "{err}"
    );
    assert!(
        err.contains(
            "testdata/conftest-refused/unknown.rego:6: calls `crypto.x509.parse_certificates`"
        ),
        "{err}"
    );
    assert!(
        err.contains("2 policy problem(s); nothing was evaluated"),
        "{err}"
    );
    assert!(
        stdout(&out).is_empty(),
        "no verdict is printed: {}",
        stdout(&out)
    );
}

#[test]
fn calls_through_imports_and_local_functions_are_accepted() {
    let dir = policy_dir(&[
        ("lib.rego", "package lib.util\nimport rego.v1\nis_bucket(rc) if rc.type == \"aws_s3_bucket\"\n"),
        (
            "main.rego",
            "package main\nimport rego.v1\nimport data.lib.util as u\nimport data.lib.util\nname(rc) := upper(rc.name)\n\
             deny contains name(rc) if { some rc in input.resource_changes; u.is_bucket(rc); util.is_bucket(rc); data.lib.util.is_bucket(rc) }\n",
        ),
    ]);
    let out = check_with(dir.path(), PLAN, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("PUBLIC"), "{}", stdout(&out));
}

#[test]
fn syntax_errors_in_several_files_are_all_reported() {
    let dir = policy_dir(&[
        (
            "a.rego",
            "package a\nimport rego.v1\ndeny contains x if {\n",
        ),
        (
            "b.rego",
            "package b\nimport rego.v1\ndeny contains 1 if { input.x == }\n",
        ),
    ]);
    let out = check_with(dir.path(), PLAN, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("a.rego:"), "{err}");
    assert!(err.contains("b.rego:3"), "{err}");
}
