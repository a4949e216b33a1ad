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

#[test]
fn the_catalogue_in_docs_is_generated_from_the_metadata() {
    let out = planguard(&["policies", "docs"]);
    assert_eq!(out.status.code(), Some(0));
    let committed = std::fs::read_to_string(root().join("docs/policies.md")).unwrap();
    assert!(
        committed == stdout(&out),
        "docs/policies.md is stale: regenerate it with `cargo run --release -- policies docs > docs/policies.md`"
    );
}

#[test]
fn policies_list_and_show_print_the_catalogue() {
    let list = stdout(&planguard(&["policies", "list"]));
    assert!(list.lines().count() > 50, "{list}");
    assert!(list.contains("aws-ebs-encryption  "), "{list}");
    let show = planguard(&["policies", "show", "aws-ebs-encryption"]);
    assert_eq!(show.status.code(), Some(0));
    let text = stdout(&show);
    assert!(text.contains("checkov:     CKV_AWS_3"), "{text}");
    assert!(text.contains("Remediation:"), "{text}");
    let missing = planguard(&["policies", "show", "ebs"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("did you mean"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn every_library_policy_has_complete_metadata() {
    let set =
        planguard::policy::PolicySet::load(&planguard::policy::LoadOptions::default()).unwrap();
    for (m, file) in set.catalogue() {
        assert!(
            !m.title.is_empty() && !m.description.is_empty() && !m.remediation.is_empty(),
            "{file}"
        );
        assert!(
            m.id.starts_with("aws-"),
            "{}: ids are aws-<service>-<what>",
            m.id
        );
        let test_file = file.replace(".rego", "_test.rego").replace("builtin:", "");
        let has_tests = std::path::Path::new(&test_file).exists()
            || std::fs::read_dir(std::path::Path::new(&test_file).parent().unwrap())
                .unwrap()
                .any(|e| {
                    std::fs::read_to_string(e.unwrap().path())
                        .unwrap_or_default()
                        .contains(&format!("import data.{}", package_of(file)))
                });
        assert!(has_tests, "{file} has no Rego tests");
    }
}

fn package_of(file: &str) -> String {
    let text = std::fs::read_to_string(file.replace("builtin:", "")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("package "))
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn policies_are_only_evaluated_on_plans_with_their_types() {
    // An SQS queue alone: the queue's policies run; the stateful-destroy (resource scope) and
    // remote-state (configuration scope) policies have nothing to look at and are skipped.
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("queue.json");
    std::fs::write(
        &plan,
        r#"{"format_version":"1.2","resource_changes":[{"address":"aws_sqs_queue.q","type":"aws_sqs_queue","name":"q","change":{"actions":["create"],"after":{"sqs_managed_sse_enabled":true,"tags":{"Owner":"a","CostCenter":"b","Environment":"dev"}}}}]}"#,
    )
    .unwrap();
    let out = planguard(&["check", "--profile", plan.to_str().unwrap()]);
    let profile = stderr(&out);
    assert!(profile.contains("aws-sqs-queue-encryption"), "{profile}");
    assert!(!profile.contains("aws-stateful-destroy"), "{profile}");
    assert!(!profile.contains("aws-no-remote-state"), "{profile}");
    assert!(!profile.contains("aws-ebs-encryption"), "{profile}");
}

#[test]
fn profile_names_each_phase_with_its_time_and_the_peak_memory_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("empty.json");
    std::fs::write(&plan, r#"{"format_version":"1.2","resource_changes":[]}"#).unwrap();
    let out = planguard(&["check", "--profile", plan.to_str().unwrap()]);
    let profile = stderr(&out);
    for phase in [
        "read",
        "parse and index",
        "evaluate",
        "redact and summarise",
    ] {
        assert!(profile.contains(&format!("{phase} ")), "{profile}");
    }
    if cfg!(target_os = "linux") {
        let peaks = profile
            .lines()
            .find(|l| l.contains(": peak memory after read "))
            .unwrap_or_else(|| panic!("no peak memory line: {profile}"));
        assert!(peaks.contains(" MB, parse and index "), "{peaks}");
    }
}

/// One naming rule ties a policy's id, file and package together: the policy `aws-<name>` of
/// family `<family>` lives in `policies/<family>/<stem>.rego` with package
/// `planguard.<family>.<stem>`, where `<stem>` is `<name>` with `-` written `_`; its tests are
/// `<stem>_test.rego`, package `planguard.<family>.<stem>_test`. Ids are the public contract
/// (configuration and overrides name them), so files and packages follow them. The shared
/// helpers (`<family>/helpers.rego`, and `lib/plan.rego` with package `planguard.lib`) hold
/// no policy.
#[test]
fn every_policy_file_and_package_is_named_after_its_id() {
    let mut problems = Vec::new();
    let mut policies = 0;
    let base = root().join("policies");
    for family in std::fs::read_dir(&base).unwrap() {
        let family = family.unwrap().path();
        if !family.is_dir() {
            continue;
        }
        let fam = family.file_name().unwrap().to_string_lossy().into_owned();
        for file in std::fs::read_dir(&family).unwrap() {
            let path = file.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".rego") else {
                continue;
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let package = text
                .lines()
                .find_map(|l| l.strip_prefix("package "))
                .unwrap_or_default()
                .trim();
            let id = text
                .lines()
                .find_map(|l| l.trim_start_matches('#').trim().strip_prefix("id: "))
                .map(str::trim);
            let (expected_file, expected_package) = match (id, stem.strip_suffix("_test")) {
                (Some(id), None) => {
                    policies += 1;
                    let Some(rest) = id.strip_prefix("aws-") else {
                        problems.push(format!(
                            "{fam}/{name}: id `{id}` does not start with `aws-`"
                        ));
                        continue;
                    };
                    let stem = rest.replace('-', "_");
                    (format!("{stem}.rego"), format!("planguard.{fam}.{stem}"))
                }
                (None, Some("plan")) if fam == "lib" => {
                    (name.clone(), "planguard.lib_test".to_owned())
                }
                (_, Some(tested)) => {
                    if !family.join(format!("{tested}.rego")).exists() {
                        problems.push(format!("{fam}/{name}: tests no `{tested}.rego`"));
                    }
                    (name.clone(), format!("planguard.{fam}.{tested}_test"))
                }
                (None, None) if fam == "lib" => (name.clone(), "planguard.lib".to_owned()),
                (None, None) if stem == "helpers" => {
                    (name.clone(), format!("planguard.{fam}.helpers"))
                }
                (None, None) => {
                    problems.push(format!(
                        "{fam}/{name}: neither a policy (no `custom.id`), its tests, nor helpers"
                    ));
                    continue;
                }
            };
            if name != expected_file {
                problems.push(format!("{fam}/{name}: should be {fam}/{expected_file}"));
            }
            if package != expected_package {
                problems.push(format!(
                    "{fam}/{name}: package `{package}` should be `{expected_package}`"
                ));
            }
            if id.is_some()
                && !family
                    .join(expected_file.replace(".rego", "_test.rego"))
                    .exists()
            {
                problems.push(format!(
                    "{fam}/{name}: has no tests ({expected_file} needs a _test.rego)"
                ));
            }
        }
    }
    assert!(policies > 50, "{policies}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
