//! `planguard test`: every test's result, failures and errors located, exit 1 on any failure.

mod common;

use common::*;

#[test]
fn results_failures_and_errors_are_reported() {
    let dir = policy_dir(&[
        (
            "p.rego",
            "package p\nimport rego.v1\ndeny contains \"x\" if input.x == 1\n",
        ),
        (
            "p_test.rego",
            "package p_test\nimport data.p\nimport rego.v1\n\
             test_denies if { count(p.deny) == 1 with input as {\"x\": 1} }\n\
             test_wrong if { count(p.deny) == 1 with input as {\"x\": 2} }\n\
             test_broken if { to_number(\"x\") == 1 }\n",
        ),
    ]);
    let out = planguard(&["test", dir.path().to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("PASS") && text.contains("p_test.rego:4 data.p_test.test_denies"),
        "{text}"
    );
    assert!(
        text.contains("FAIL") && text.contains("p_test.rego:5 data.p_test.test_wrong"),
        "{text}"
    );
    assert!(
        text.contains("ERROR") && text.contains("test_broken"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("1 passed, 2 failed"), "{text}");

    let quiet = stdout(&planguard(&["test", "-q", dir.path().to_str().unwrap()]));
    assert!(!quiet.contains("PASS"), "{quiet}");
    assert!(quiet.contains("FAIL"), "{quiet}");
}

#[test]
fn a_directory_without_tests_says_so() {
    let dir = policy_dir(&[(
        "p.rego",
        "package p\nimport rego.v1\ndeny contains \"x\" if input.x == 1\n",
    )]);
    let out = planguard(&["test", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("no tests found"), "{}", stdout(&out));
}
