//! Conftest compatibility: a policy set written for `conftest test --all-namespaces` gives the
//! same verdicts here. The expected verdicts are conftest's documented semantics applied to
//! `testdata/conftest/plan.json`: every package's `deny`/`violation`/`warn` rules (with
//! suffixes) count, results are strings or objects with `msg`, and an `exception` naming a
//! rule's suffix exempts that whole rule for the input.

mod common;

use common::*;
use serde_json::Value;

fn check_json(args: &[&str]) -> (i32, Value) {
    let mut full = vec!["check", "--no-builtin", "--format", "json"];
    full.extend_from_slice(args);
    let out = planguard(&full);
    let json: Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    (out.status.code().unwrap(), json)
}

fn messages(report: &Value, level: &str) -> Vec<String> {
    let mut v: Vec<String> = report["plans"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["level"] == level)
        .map(|f| {
            format!(
                "{} {}: {}",
                f["policy_id"].as_str().unwrap(),
                f["rule"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    v.sort();
    v
}

const PLAN: &str = "testdata/conftest/plan.json";

#[test]
fn all_namespaces_with_data_and_exceptions_match_conftest() {
    let (code, report) = check_json(&[
        "-p",
        "testdata/conftest/policy",
        "-d",
        "testdata/conftest/data",
        PLAN,
    ]);
    assert_eq!(code, 1, "failures exit 1");
    assert_eq!(
        messages(&report, "error"),
        [
            "main deny: aws_s3_bucket.public: bucket ACL public-read makes it public",
            "main violation: deleting bucket aws_s3_bucket.old",
            "terraform.s3 deny: aws_s3_bucket_versioning.public: versioning must be enabled",
        ]
    );
    assert_eq!(
        messages(&report, "warning"),
        ["main warn: aws_instance.legacy: instance type m4.xlarge is not in the approved list"]
    );
    // The exception names "tags", so deny_tags is exempted for this input: conftest's
    // "1 exception", and none of its three results are failures.
    let exempted = &report["plans"][0]["exempted"];
    assert_eq!(exempted.as_array().unwrap().len(), 1, "{exempted}");
    assert_eq!(exempted[0]["rule"], "deny_tags");
    assert_eq!(exempted[0]["results"], 3);
    assert_eq!(report["summary"]["errors"], 3);
    assert_eq!(report["summary"]["warnings"], 1);
    assert_eq!(report["summary"]["exempted"], 1);
}

#[test]
fn object_results_keep_their_metadata_and_address() {
    let (_, report) = check_json(&[
        "-p",
        "testdata/conftest/policy",
        "-d",
        "testdata/conftest/data",
        PLAN,
    ]);
    let v = report["plans"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "violation")
        .unwrap()
        .clone();
    assert_eq!(v["address"], "aws_s3_bucket.old");
    assert_eq!(v["metadata"], r#"{"severity":"high"}"#);
    assert!(v["file"]
        .as_str()
        .unwrap()
        .ends_with("testdata/conftest/policy/main.rego"));
    assert_eq!(v["line"], 40, "the line of the violation rule");
}

#[test]
fn namespace_selects_packages() {
    let (_, report) = check_json(&[
        "-p",
        "testdata/conftest/policy",
        "-d",
        "testdata/conftest/data",
        "-n",
        "terraform.s3",
        PLAN,
    ]);
    assert_eq!(
        messages(&report, "error"),
        ["terraform.s3 deny: aws_s3_bucket_versioning.public: versioning must be enabled"]
    );
    assert!(messages(&report, "warning").is_empty());
}

#[test]
fn without_its_data_file_a_negated_lookup_in_data_is_undefined_not_true() {
    // Without the data file, `data.allowed.instance_types` is undefined. OPA (1.20.2, checked
    // with conftest semantics) evaluates the operands of `not x in data.allowed.instance_types`
    // before the negation, so the undefined operand makes the body fail: no warning at all,
    // where the same policy with the data file warns about the one unapproved instance type.
    let (_, report) = check_json(&["-p", "testdata/conftest/policy", PLAN]);
    assert!(messages(&report, "warning").is_empty());
    // deny, violation and deny_tags of aws_instance.web (legacy is exempted from deny_tags).
    assert_eq!(
        messages(&report, "error").len(),
        3,
        "the other rules still report"
    );
}

#[test]
fn rego_v0_needs_the_flag() {
    let out = planguard(&["check", "--no-builtin", "-p", "testdata/conftest/v0", PLAN]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("testdata/conftest/v0/legacy.rego:3"),
        "names file and line: {err}"
    );
    assert!(err.contains("`if` keyword is required"), "{err}");

    let (code, report) = check_json(&["--rego-v0", "-p", "testdata/conftest/v0", PLAN]);
    assert_eq!(code, 1);
    assert_eq!(
        messages(&report, "error"),
        ["legacy deny: aws_instance.legacy: AMI id looks wrong"]
    );
}

#[test]
fn fail_on_controls_the_exit_code() {
    let base = [
        "-p",
        "testdata/conftest/policy",
        "-d",
        "testdata/conftest/data",
        "-n",
        "main",
    ];
    let code = |extra: &[&str]| {
        let mut args = vec!["check", "--no-builtin"];
        args.extend_from_slice(&base);
        args.extend_from_slice(extra);
        args.push(PLAN);
        planguard(&args).status.code().unwrap()
    };
    assert_eq!(code(&[]), 1);
    assert_eq!(code(&["--fail-on", "never"]), 0);
    assert_eq!(code(&["--fail-on", "warning"]), 1);
    // The same policy set through the other spelling of the plan path.
    let main_only = |fail_on: &str| {
        let dir = std::path::Path::new("testdata/conftest/policy/main.rego");
        check_with(
            dir,
            "testdata/inputs/../conftest/plan.json",
            &["-n", "main", "--fail-on", fail_on],
        )
        .status
        .code()
        .unwrap()
    };
    assert_eq!(main_only("error"), 1, "main still has deny findings");
    assert_eq!(main_only("never"), 0);
    // A policy with only warnings: passes by default, fails with --fail-on warning.
    let dir = policy_dir(&[(
        "warn.rego",
        "package main\nimport rego.v1\nwarn contains rc.address if { some rc in input.resource_changes }\n",
    )]);
    let warn_only = |fail_on: &str| {
        check_with(dir.path(), PLAN, &["--fail-on", fail_on])
            .status
            .code()
            .unwrap()
    };
    assert_eq!(warn_only("error"), 0, "warnings alone pass by default");
    assert_eq!(warn_only("warning"), 1);
    assert_eq!(warn_only("never"), 0);
}

#[test]
fn quiet_prints_nothing_when_passing() {
    let out = planguard(&[
        "check",
        "--no-builtin",
        "-q",
        "-p",
        "testdata/conftest/policy/s3.rego",
        "testdata/inputs/state-show.json",
    ]);
    assert_eq!(out.status.code(), Some(2), "unusable input is never quiet");
    let out = planguard(&[
        "check",
        "--no-builtin",
        "-q",
        "-p",
        "testdata/conftest/policy/s3.rego",
        "--fail-on",
        "never",
        PLAN,
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
}

#[test]
fn policies_that_read_input_only_through_a_helper_package_see_it() {
    let dir = policy_dir(&[
        (
            "lib.rego",
            "package lib\nimport rego.v1\nbuckets contains rc if { some rc in input.resource_changes; rc.type == \"aws_s3_bucket\" }\n",
        ),
        ("main.rego", "package main\nimport rego.v1\nimport data.lib\ndeny contains rc.address if { some rc in lib.buckets }\n"),
    ]);
    let out = check_with(dir.path(), PLAN, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(messages(&report, "error").len(), 3, "{report}");
}
