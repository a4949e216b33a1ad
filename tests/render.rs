//! Every output format, snapshotted on fixtures: what a person or a CI system reads.
//!
//! The fixture run has error and warning findings, an object result with metadata, an
//! exception, a policy error, an unreadable plan, and a sensitive value that must not appear.

mod common;

use common::*;

fn render(format: &str) -> (i32, String) {
    let out = planguard(&[
        "check",
        "--no-builtin",
        "-p",
        "testdata/conftest/policy",
        "-p",
        "testdata/conftest/broken/builtin_error.rego",
        "-p",
        "testdata/render/secrets.rego",
        "-d",
        "testdata/conftest/data",
        "--format",
        format,
        "testdata/conftest/plan.json",
        "testdata/render/sensitive-plan.json",
        "testdata/inputs/empty.json",
    ]);
    (out.status.code().unwrap(), stdout(&out))
}

fn assert_no_secret(text: &str) {
    assert!(
        !text.contains("hunter2-very-secret"),
        "a sensitive variable leaked:\n{text}"
    );
    assert!(
        !text.contains("pw-4f8a2b"),
        "a sensitive attribute leaked:\n{text}"
    );
}

macro_rules! format_test {
    ($name:ident, $format:literal) => {
        #[test]
        fn $name() {
            let (code, text) = render($format);
            assert_eq!(code, 2, "an unreadable plan and a policy error exit 2");
            assert_no_secret(&text);
            insta::assert_snapshot!(text);
        }
    };
}

format_test!(text_output, "text");
format_test!(json_output, "json");
format_test!(markdown_output, "markdown");
format_test!(sarif_output, "sarif");
format_test!(junit_output, "junit");
format_test!(github_output, "github");

#[test]
fn sarif_is_structurally_what_code_scanning_accepts() {
    let (_, text) = render("sarif");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for result in run["results"].as_array().unwrap() {
        let idx = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[idx]["id"], result["ruleId"],
            "ruleIndex points at the rule"
        );
        assert!(matches!(
            result["level"].as_str(),
            Some("error" | "warning")
        ));
        let loc = &result["locations"][0]["physicalLocation"];
        assert!(loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .starts_with("testdata/"));
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(
            result["partialFingerprints"]["planguard/v1"]
                .as_str()
                .unwrap()
                .len()
                == 16
        );
    }
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);
}

#[test]
fn junit_is_well_formed_xml_with_consistent_counts() {
    let (_, text) = render("junit");
    let cases = text.matches("<testcase ").count();
    let closed = text.matches("</testcase>").count();
    assert_eq!(cases, closed);
    assert!(
        text.contains("<failure message=\"1 error finding(s)\" type=\"terraform.s3\">"),
        "{text}"
    );
    assert!(
        text.contains("<error message=\"unusable input\">"),
        "{text}"
    );
    assert!(text.contains("<error message=\"policy error\">"), "{text}");
}
