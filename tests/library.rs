//! The built-in library: its Rego unit tests pass, and each family's end-to-end fixture plan
//! gives exactly the snapshotted findings.

mod common;

use common::*;

#[test]
fn the_library_rego_unit_tests_pass() {
    let out = planguard(&["test", "policies/"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let summary = text.lines().last().unwrap();
    let passed: usize = summary.split(' ').next().unwrap().parse().unwrap();
    assert!(
        passed >= 400,
        "expected the whole library's tests, got: {summary}"
    );
    // The embedded copy runs the same tests.
    let embedded = planguard(&["test"]);
    assert_eq!(stdout(&embedded).lines().last(), Some(summary));
}

fn fixture(family: &str, extra: &[&str]) -> String {
    let plan = format!("testdata/library/{family}.json");
    let mut args = vec!["check"];
    args.extend_from_slice(extra);
    args.push(&plan);
    let out = planguard(&args);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(!text.contains("policy error"), "{text}");
    text
}

#[test]
fn encryption_fixture() {
    insta::assert_snapshot!(fixture("encryption", &[]));
}

#[test]
fn encryption_fixture_with_kms_required() {
    let data = tempfile::NamedTempFile::with_suffix(".yaml").unwrap();
    std::fs::write(
        data.path(),
        "planguard:\n  config:\n    s3_require_kms: true\n",
    )
    .unwrap();
    let text = fixture("encryption", &["-d", data.path().to_str().unwrap()]);
    assert!(text.contains("aws-s3-sse-kms"), "{text}");
    assert!(text.contains("aws-s3-bucket-kms"), "{text}");
}

#[test]
fn exposure_fixture() {
    insta::assert_snapshot!(fixture("exposure", &[]));
}

#[test]
fn tagging_fixture() {
    insta::assert_snapshot!(fixture("tagging", &[]));
}

#[test]
fn tls_fixture() {
    insta::assert_snapshot!(fixture("tls", &[]));
}

#[test]
fn safety_fixture() {
    insta::assert_snapshot!(fixture("safety", &[]));
}

#[test]
fn account_fixture_with_the_stack_account() {
    insta::assert_snapshot!(fixture(
        "account",
        &["-d", "testdata/library/account-data.yaml"]
    ));
}

#[test]
fn account_fixture_without_account_data_has_no_account_findings() {
    let out = planguard(&["check", "testdata/library/account.json"]);
    assert!(
        !stdout(&out).contains("aws-account-pinned"),
        "{}",
        stdout(&out)
    );
}
