//! Wrong inputs: each gets exit code 2 and a message that says what it is and what to run.

mod common;

use common::*;

/// Runs `check` on a fixture and returns (exit code, the error message).
fn check_input(rel: &str) -> (i32, String) {
    let out = planguard(&["check", "--no-builtin", &format!("testdata/inputs/{rel}")]);
    (out.status.code().unwrap(), stdout(&out) + &stderr(&out))
}

#[test]
fn each_wrong_input_is_explained_and_exits_2() {
    let cases: &[(&str, &[&str])] = &[
        ("empty.json", &["is empty", "tofu show -json tfplan"]),
        (
            "plan-log-stream.json",
            &["`plan -json` log stream", "tofu plan -out=tfplan"],
        ),
        (
            "wrapped.json",
            &["line 2 starts the plan JSON", "terraform_wrapper: false"],
        ),
        (
            "terraform.tfstate",
            &["state file (version 4)", "not a plan"],
        ),
        (
            "state-show.json",
            &["`show -json` output for state", "tofu show -json tfplan"],
        ),
        (
            "encrypted-plan.tfplan",
            &["OpenTofu encrypted plan", "--chdir DIR"],
        ),
        (
            "bad-action.json",
            &[
                "resource_changes[3].change.actions[0]: unknown action \"explode\"",
                "expected one of",
            ],
        ),
        (
            "future-format.json",
            &["format_version: format_version 2.0 is newer than planguard understands"],
        ),
        ("not-a-plan.json", &["not a plan", "no `format_version`"]),
        ("missing.json", &["cannot read"]),
        (
            "utf16le-plan.json",
            &["UTF-16 LE", "Out-File -Encoding utf8", "> plan.json"],
        ),
        (
            "utf16be-plan.json",
            &["UTF-16 BE", "Out-File -Encoding utf8"],
        ),
        (
            "array-of-versions.json",
            &[
                "a JSON array of 1 item",
                "not a plan",
                "tofu plan -out=tfplan",
            ],
        ),
        (
            "asset-export.json",
            &[
                "a JSON array of 2 objects",
                "asset_type",
                "cloud asset inventory",
            ],
        ),
        (
            "format-only.json",
            &[
                "not a plan",
                "none of the sections of a plan",
                "`resource_changes`",
            ],
        ),
    ];
    let mut transcript = String::new();
    for (file, needles) in cases {
        let (code, msg) = check_input(file);
        assert_eq!(code, 2, "{file}: exit code\n{msg}");
        for n in *needles {
            assert!(msg.contains(n), "{file}: expected `{n}` in:\n{msg}");
        }
        transcript.push_str(&format!("## {file}\n{}\n", msg.trim_end()));
    }
    insta::assert_snapshot!("wrong_inputs", transcript);
}

#[test]
fn one_unreadable_plan_does_not_hide_the_others() {
    let out = planguard(&[
        "check",
        "testdata/inputs/empty.json",
        "testdata/plans/checkov-runner.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    assert!(text.contains("unusable input"), "{text}");
    assert!(
        text.contains("aws_ebs_volume.web_host_storage"),
        "the readable plan is still checked:\n{text}"
    );
}

#[test]
fn stdin_is_read_with_a_dash() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_planguard"))
        .args(["check", "--no-builtin", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"format_version":"1.2","resource_changes":[]}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("<stdin>"), "{}", stdout(&out));
}

#[test]
fn a_policy_error_is_reported_without_waiting_for_stdin() {
    // A plan file is read while the policies load; standard input never is, so a broken
    // policy is reported at once even when nothing ever writes to stdin.
    let dir = policy_dir(&[("broken.rego", "package main\n\ndeny contains msg if {\n")]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_planguard"))
        .args(["check", "--no-builtin", "-p"])
        .arg(dir.path())
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let _open_stdin = child.stdin.take();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("check waited on stdin instead of reporting the broken policy");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("broken.rego") && stderr(&out).contains("nothing was evaluated"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_binary_plan_is_shown_with_the_real_binary() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        r#"
variable "token" {
  type      = string
  sensitive = true
  default   = "tok-1234567890"
}
resource "terraform_data" "web" {
  input = { name = "web", token = var.token }
}
"#,
    )
    .unwrap();
    let tf = tofu();
    for args in [
        &["init", "-input=false", "-no-color"][..],
        &["plan", "-input=false", "-no-color", "-out=tfplan"],
    ] {
        let st = std::process::Command::new(&tf)
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&st.stderr)
        );
    }
    let plan = dir.path().join("tfplan");
    let policy = dir.path().join("p.rego");
    std::fs::write(
        &policy,
        "package main\nimport rego.v1\ndeny contains sprintf(\"%s carries %s\", [rc.address, rc.change.after.input.token]) if {\n  some rc in input.resource_changes\n}\n",
    )
    .unwrap();
    let out = planguard(&[
        "check",
        "--no-builtin",
        "-p",
        policy.to_str().unwrap(),
        "--chdir",
        dir.path().to_str().unwrap(),
        plan.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("+ terraform_data.web"), "{text}");
    assert!(
        text.contains("terraform_data.web carries (sensitive value)"),
        "the token is redacted:\n{text}"
    );
    assert!(!text.contains("tok-1234567890"), "{text}");

    // Without --chdir, show -json runs in the current directory, which has no configuration;
    // Terraform still reads the plan, so this must work too, or fail with a clear message.
    let broken = dir.path().join("broken.tfplan");
    std::fs::write(&broken, b"PK\x03\x04 not really a zip").unwrap();
    let out = planguard(&["check", "--no-builtin", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).contains("show -json"), "{}", stdout(&out));
}
