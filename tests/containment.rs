//! Failures stay contained: a broken policy is reported with its file and line and exits 2, and
//! never hides the other policies' results; policies that could silently pass in regorus are
//! refused when they are loaded. Hostile policies (recursion, huge generated collections, huge
//! format widths, deeply nested literals, evaluations past the memory limit, bodies that take too
//! long to compile, single builtin calls that run past the time limit) and hostile plans (numbers
//! beyond `f64`, deep nesting) end in a reported error, never in a crash, a hang or a silently
//! dropped change.

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
fn a_builtin_removed_from_rego_v1_is_refused_in_a_v1_module_naming_rego_v0() {
    let dir = policy_dir(&[(
        "old.rego",
        "package old\nimport rego.v1\ndeny contains \"any\" if any([true])\n",
    )]);
    let out = check_policies(&[dir.path().to_str().unwrap()], PLAN, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("old.rego:3: calls `any`, a builtin OPA 1.0 removed from Rego v1")
            && err.contains("--rego-v0"),
        "{err}"
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

const FINE: &str = "testdata/conftest/broken/fine.rego";

/// Policies that used to crash, hang or exhaust the process, each with the message its
/// contained failure now carries (`testdata/containment/*.rego`).
const HOSTILE: &[(&str, &str)] = &[
    (
        "recursive.rego:7",
        "recursion detected when calling function data.recursive.f: data.recursive.f -> data.recursive.f",
    ),
    (
        "mutual.rego:8",
        "recursion detected when calling function data.mutual.f: data.mutual.f -> data.mutual.g -> data.mutual.f",
    ),
    (
        "huge_range.rego:6",
        "`numbers.range` would produce 9223372036854775808 elements, more than the limit of 1048576",
    ),
    (
        "range_1e10.rego:6",
        "`numbers.range` would produce 10000000000 elements",
    ),
    ("zero_step.rego:6", "step must be a positive integer"),
    (
        "cidr_all.rego:6",
        "`net.cidr_expand` would produce 4294967296 elements",
    ),
    (
        "wide_sprintf.rego:6",
        "format width or precision larger than 1000000",
    ),
    (
        "huge_concat.rego:6",
        "evaluation needed more memory than its limit of 2048 MiB",
    ),
    (
        "huge_replace.rego:7",
        "evaluation needed more memory than its limit of 2048 MiB",
    ),
    (
        "huge_json.rego:7",
        "evaluation needed more memory than its limit of 2048 MiB",
    ),
    (
        "huge_sprintf.rego:7",
        "evaluation needed more memory than its limit of 2048 MiB",
    ),
    (
        "huge_print.rego:6",
        "evaluation needed more memory than its limit of 2048 MiB",
    ),
    (
        "huge_urlquery.rego:7",
        "evaluation needed more memory than its limit of 2048 MiB",
    ),
    (
        "huge_regex_replace.rego:7",
        "evaluation needed more memory than its limit of 2048 MiB",
    ),
];

fn hostile(file_and_line: &str) -> String {
    let file = file_and_line.split(':').next().unwrap();
    format!("testdata/containment/{file}")
}

/// Asserts that `fine.rego`'s three findings on the conftest plan are all reported.
fn assert_fine_findings(text: &str) {
    for bucket in ["public", "private", "old"] {
        assert!(
            text.contains(&format!("aws_s3_bucket.{bucket} is changing")),
            "fine.rego's finding for {bucket} is reported:\n{text}"
        );
    }
}

/// The `policy error:` lines of a text report.
fn policy_errors(text: &str) -> String {
    text.lines()
        .filter(|l| l.trim_start().starts_with("policy error:"))
        .map(|l| format!("{}\n", l.trim()))
        .collect()
}

#[test]
fn each_hostile_policy_is_a_located_policy_error_and_the_others_still_report() {
    for (file_and_line, message) in HOSTILE {
        let policy = hostile(file_and_line);
        let out = check_policies(&[&policy, FINE], PLAN, &[]);
        let text = stdout(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{policy}: exit code\n{text}{}",
            stderr(&out)
        );
        let located = format!("policy error: testdata/containment/{file_and_line}: {message}");
        assert!(text.contains(&located), "expected `{located}` in:\n{text}");
        assert_fine_findings(&text);
    }
}

#[test]
fn one_process_survives_every_hostile_policy_at_once() {
    let mut policies: Vec<String> = HOSTILE.iter().map(|(f, _)| hostile(f)).collect();
    policies.push(FINE.to_owned());
    let args: Vec<&str> = policies.iter().map(String::as_str).collect();
    let started = std::time::Instant::now();
    let out = check_policies(&args, PLAN, &["--timeout", "5"]);
    let text = stdout(&out);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}{err}");
    assert!(
        !err.contains("panicked") && !err.contains("overflow") && !err.contains("memory"),
        "no crash on stderr: {err}"
    );
    assert!(
        text.len() < 64 * 1024,
        "the report stays small ({} bytes)",
        text.len()
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert_fine_findings(&text);
    insta::assert_snapshot!("hostile_policies", policy_errors(&text));
}

/// A rule past the time limit is reported once the limit is reached: not evaluated again on
/// its own, nor whole after one share of its definitions failed (which took two to four times
/// the limit).
#[test]
fn a_rule_past_the_time_limit_is_reported_after_the_limit_not_a_multiple_of_it() {
    let started = std::time::Instant::now();
    let out = check_policies(
        &[&hostile("slow_shared_deny.rego")],
        PLAN,
        &["--timeout", "3"],
    );
    let took = started.elapsed();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}{}", stderr(&out));
    assert!(
        text.contains(
            "policy error: testdata/containment/slow_shared_deny.rego:8: evaluation exceeded the \
             3s time limit; simplify the rule or raise --timeout"
        ),
        "{text}"
    );
    assert!(
        !text.contains("is changing") && !text.contains("always"),
        "a failing rule reports none of its results:\n{text}"
    );
    assert!(
        took < std::time::Duration::from_secs(5),
        "the 3 s limit was reported after {took:?}"
    );
}

/// Policies whose one builtin call ran for minutes to hours past the time limit: the
/// builtin now observes the deadline itself (`testdata/containment/slow_*.rego`).
const SLOW_BUILTINS: &[&str] = &[
    "slow_prefix.rego:6",
    "slow_replace_n.rego:6",
    "slow_subset.rego:7",
    "slow_regex_replace.rego:6",
];

#[test]
fn a_builtin_call_running_past_the_time_limit_is_a_located_policy_error_and_the_others_still_report(
) {
    let mut policies: Vec<String> = SLOW_BUILTINS.iter().map(|f| hostile(f)).collect();
    policies.push(FINE.to_owned());
    let args: Vec<&str> = policies.iter().map(String::as_str).collect();
    let out = check_policies(&args, PLAN, &["--timeout", "1"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}{}", stderr(&out));
    for file_and_line in SLOW_BUILTINS {
        let located = format!(
            "policy error: testdata/containment/{file_and_line}: evaluation exceeded the 1s time \
             limit; simplify the rule or raise --timeout"
        );
        assert!(text.contains(&located), "expected `{located}` in:\n{text}");
    }
    assert_fine_findings(&text);
}

/// Builtins that build one large result from shared parts (a million references to one 1 MB
/// string) are stopped near the memory limit, not past it: `regex.replace` and
/// `urlquery.encode_object` checked once per gigabyte written, `sprintf` and `print` not at
/// all. The run's peak resident memory (`--profile`) stays under three times a 256 MiB limit.
#[test]
fn results_built_from_shared_parts_are_stopped_near_the_memory_limit() {
    for file in [
        "huge_regex_replace.rego",
        "huge_urlquery.rego",
        "huge_sprintf.rego",
        "huge_print.rego",
        "huge_concat.rego",
        "huge_replace.rego",
        "huge_json.rego",
    ] {
        let policy = format!("testdata/containment/{file}");
        let out = check_policies(&[&policy], PLAN, &["--memory-limit", "256", "--profile"]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(2), "{file}: {text}{}", stderr(&out));
        assert!(
            text.contains("evaluation needed more memory than its limit of 256 MiB"),
            "{file}: {text}"
        );
        let err = stderr(&out);
        let peak_mb: u64 = err
            .lines()
            .find(|l| l.contains("peak memory after"))
            .and_then(|l| l.rsplit(' ').nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{file}: no peak memory in --profile output:\n{err}"));
        assert!(peak_mb < 3 * 256, "{file}: peak {peak_mb} MB\n{err}");
    }
}

/// `object.union_n` copied its growing result at every step: a million objects took hours,
/// and only the time limit stopped it. Merged in place, they take about a second.
#[test]
fn a_million_objects_are_merged_by_union_n_in_one_pass() {
    let out = check_policies(
        &["testdata/containment/many_union_n.rego"],
        PLAN,
        &["--timeout", "120"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("merged 1000000 keys"), "{text}");
}

/// Values built by doubling (`x1 := [x0, x0]`, ...) are small in memory and exponentially
/// large when walked: comparing two of them hung the process for hours inside one step, and
/// writing one into a finding's metadata grew towards terabytes.
#[test]
fn values_built_by_doubling_are_compared_within_the_time_limit_and_shown_cut_short() {
    let out = check_policies(
        &["testdata/containment/doubled_compare.rego", FINE],
        PLAN,
        &["--timeout", "1"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}{}", stderr(&out));
    let located = "policy error: testdata/containment/doubled_compare.rego:11: evaluation \
                   exceeded the 1s time limit; simplify the rule or raise --timeout";
    assert!(text.contains(located), "expected `{located}` in:\n{text}");
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert_fine_findings(&text);

    let out = check_policies(
        &["testdata/containment/doubled_result.rego"],
        PLAN,
        &["--format", "json"],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let finding = &json["plans"][0]["findings"][0];
    assert_eq!(finding["message"], "a doubled value", "{json}");
    assert_eq!(
        finding["metadata"], r#"{"value":"(a value of over 64 KiB of JSON, not shown)"}"#,
        "{json}"
    );
}

#[test]
fn a_long_chain_of_calls_is_an_error_not_a_stack_overflow() {
    let chain = |call: &dyn Fn(usize) -> String, last: &str, use_it: &str| {
        let mut text = String::from("package chain\nimport rego.v1\n");
        for i in 0..3000 {
            text.push_str(&call(i));
        }
        text.push_str(last);
        text.push_str(use_it);
        text
    };
    let functions = chain(
        &|i| format!("f{i}(x) := f{}(x)\n", i + 1),
        "f3000(x) := x\n",
        "deny contains \"chained\" if f0(1) == 1\n",
    );
    let rules = chain(
        &|i| format!("r{i} := r{}\n", i + 1),
        "r3000 := 1\n",
        "deny contains \"chained\" if r0 == 1\n",
    );
    for policy in [functions, rules] {
        let dir = policy_dir(&[("chain.rego", &policy)]);
        let out = check_policies(&[dir.path().to_str().unwrap(), FINE], PLAN, &[]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(2), "{text}{}", stderr(&out));
        assert!(
            text.contains("rules and functions nested more than 256 calls deep"),
            "{text}"
        );
        assert_fine_findings(&text);
    }
}

#[test]
fn deeply_nested_literals_load_at_once() {
    let started = std::time::Instant::now();
    let out = check_policies(
        &["testdata/containment/nested_literals.rego", FINE],
        PLAN,
        &[],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("nested literals load"), "{text}");
    // Each of the 26 levels used to be parsed twice: over a minute to load.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_plan_value_policies_cannot_read_is_an_error_naming_its_path() {
    let cases = [
        (
            "testdata/containment/big-number-plan.json",
            "`resource_changes[0].change.after.tags.size`: the number 1e400 is outside the range",
        ),
        (
            "testdata/containment/deep-plan.json",
            "`resource_changes[0].change.after.tags.deep[0][0]",
        ),
    ];
    let mut transcript = String::new();
    for (plan, needle) in cases {
        // The good plan next to it is still checked.
        let out = planguard(&["check", "--no-builtin", "-p", FINE, plan, PLAN]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(2), "{plan}: {text}{}", stderr(&out));
        assert!(text.contains(needle), "expected `{needle}` in:\n{text}");
        assert!(
            !text.contains(&format!("{plan}\n  plan:")),
            "the unreadable plan is not reported as checked:\n{text}"
        );
        assert_fine_findings(&text);
        let error = text
            .lines()
            .find(|l| l.contains("unusable input"))
            .unwrap_or_default();
        transcript.push_str(&format!("{}\n", error.trim()));
    }
    insta::assert_snapshot!("unreadable_plans", transcript);
}

#[test]
fn an_evaluation_past_the_memory_limit_is_a_located_policy_error_and_the_others_still_report() {
    let out = check_policies(
        &["testdata/containment/memory_hog.rego", FINE],
        PLAN,
        &["--memory-limit", "64"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}{}", stderr(&out));
    assert!(
        text.contains(
            "policy error: testdata/containment/memory_hog.rego:6: evaluation needed more memory \
             than its limit of 64 MiB"
        ),
        "{text}"
    );
    assert_fine_findings(&text);
}

#[test]
fn a_test_past_the_memory_limit_fails_alone_and_the_other_tests_still_run() {
    let dir = policy_dir(&[(
        "hog_test.rego",
        "package hog_test\nimport rego.v1\n\
         test_fine if count(numbers.range(1, 10)) == 10\n\
         test_hog if {\n\
         \tcount([[x, y] | some x in numbers.range(1, 1000); some y in numbers.range(1, 10000)]) > 0\n\
         }\n\
         test_after if upper(\"a\") == \"A\"\n",
    )]);
    let out = planguard(&["test", "--memory-limit", "64", dir.path().to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("hog_test.rego:4 data.hog_test.test_hog")
            && text.contains(
                "evaluation needed more memory than its limit of 64 MiB; simplify the rule or \
                 raise --memory-limit"
            ),
        "{text}"
    );
    assert!(
        text.contains("PASS  ") && text.contains("test_fine"),
        "{text}"
    );
    assert!(text.contains("test_after"), "{text}");
    assert!(text.trim_end().ends_with("2 passed, 1 failed"), "{text}");
}

#[test]
fn policies_that_take_too_long_to_compile_are_refused_at_load_where_compiling_stopped() {
    // Compiling grows with the product of a body's statements and its comprehensions: this
    // body took 38 s and 1.1 GB to compile before the time limit covered compiling.
    let mut policy = String::from("package slow_compile\nimport rego.v1\ndeny contains msg if {\n");
    for i in 0..6000 {
        policy.push_str(&format!(
            "  c{i} := [y | some y in [1, 2, 3]; y > {}]\n",
            i % 3
        ));
    }
    policy.push_str("  msg := \"compiled\"\n}\n");
    let dir = policy_dir(&[("slow_compile.rego", &policy)]);
    let out = check_policies(
        &[dir.path().to_str().unwrap(), FINE],
        PLAN,
        &["--timeout", "1"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{}{err}", stdout(&out));
    assert!(
        err.contains("slow_compile.rego:")
            && err.contains("compiling the policies took longer than the 1 s time limit"),
        "{err}"
    );
}
