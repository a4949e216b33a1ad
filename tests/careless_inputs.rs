//! Careless input: a byte order mark, pipes instead of files, symbolic link cycles, a silent
//! FIFO, endless or slow input, a damaged binary plan, `--timeout 0`, and wrongly typed
//! library settings. Each must work, or end with exit code 2 and a message that says what to do.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

const PLAN: &str = "testdata/plans/checkov-runner.json";
const POLICY: &str =
    "package main\nimport rego.v1\ndeny contains msg if {\n  msg := data.limits.message\n}\n";
const DATA: &str = "{\"limits\": {\"message\": \"the data arrived\"}}\n";

/// Waits for a child, killing it (and failing) if it runs longer than `limit`.
fn wait_at_most(mut child: Child, limit: Duration, what: &str) -> Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what}: still running after {limit:?}; stderr so far:\n{}",
                stderr(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_planguard"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_plan_after_a_utf8_byte_order_mark_is_accepted() {
    let out = planguard(&["check", "--no-builtin", "testdata/inputs/bom-plan.json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn policy_and_data_are_read_from_process_substitution() {
    let dir = policy_dir(&[("p.rego", POLICY), ("data.json", DATA)]);
    let script = format!(
        "exec {} check --no-builtin -p <(cat {d}/p.rego) -d <(cat {d}/data.json) <(cat {PLAN})",
        env!("CARGO_BIN_EXE_planguard"),
        d = dir.path().display()
    );
    let out = Command::new("bash")
        .args(["-c", &script])
        .current_dir(root())
        .output()
        .unwrap();
    assert_the_data_arrived(&out);
}

#[test]
fn data_is_read_from_dev_stdin() {
    let dir = policy_dir(&[("p.rego", POLICY)]);
    let policy = dir.path().join("p.rego");
    let mut child = Command::new(env!("CARGO_BIN_EXE_planguard"))
        .args(["check", "--no-builtin", "-p", policy.to_str().unwrap()])
        .args(["-d", "/dev/stdin", PLAN])
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(DATA.as_bytes())
        .unwrap();
    let out = wait_at_most(child, Duration::from_secs(60), "-d /dev/stdin");
    assert_the_data_arrived(&out);
}

/// The test policy found the data (exit 1, its finding quotes the data's message).
fn assert_the_data_arrived(out: &Output) {
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(out), stderr(out));
    assert!(stdout(out).contains("the data arrived"), "{}", stdout(out));
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(st.success());
}

#[test]
fn a_policy_fifo_is_read_as_a_stream_and_a_silent_plan_fifo_is_announced() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.fifo");
    let plan = dir.path().join("plan.fifo");
    mkfifo(&policy);
    mkfifo(&plan);
    let child = spawn(&[
        "check",
        "--no-builtin",
        "-p",
        policy.to_str().unwrap(),
        plan.to_str().unwrap(),
    ]);
    // The policy FIFO is read first; its writer comes at once.
    std::fs::write(
        &policy,
        "package main\nimport rego.v1\ndeny contains \"from the fifo\" if true\n",
    )
    .unwrap();
    // The plan FIFO stays without a writer for longer than the notice delay.
    std::thread::sleep(Duration::from_millis(4500));
    std::fs::write(&plan, std::fs::read(root().join(PLAN)).unwrap()).unwrap();
    let out = wait_at_most(child, Duration::from_secs(60), "FIFO plan");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}{err}", stdout(&out));
    assert!(stdout(&out).contains("from the fifo"), "{}", stdout(&out));
    assert!(
        err.contains(&format!("waiting for input on {}", plan.display())),
        "{err}"
    );
    assert!(err.contains("nothing has been written"), "{err}");
    assert!(
        !err.contains("policy.fifo"),
        "the policy FIFO had a writer: {err}"
    );
}

#[test]
fn a_policy_directory_with_two_symlink_cycles_is_walked_once() {
    let dir = policy_dir(&[(
        "p.rego",
        "package main\nimport rego.v1\ndeny contains \"loaded once\" if true\n",
    )]);
    let root_dir = dir.path();
    std::fs::create_dir(root_dir.join("a")).unwrap();
    std::fs::create_dir(root_dir.join("b")).unwrap();
    std::os::unix::fs::symlink(root_dir, root_dir.join("a/up")).unwrap();
    std::os::unix::fs::symlink(root_dir.join("b"), root_dir.join("b/self")).unwrap();
    let child = spawn(&[
        "check",
        "--no-builtin",
        "-p",
        root_dir.to_str().unwrap(),
        PLAN,
    ]);
    let out = wait_at_most(child, Duration::from_secs(60), "symlink cycles");
    let text = stdout(&out) + &stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(text.matches("loaded once").count(), 1, "{text}");
}

#[test]
fn a_slow_show_json_is_stopped_with_its_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("sleeper.pid");
    let fake = dir.path().join("tofu");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nsleep 300 &\necho $! > {}\nwait\n",
            pid_file.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let started = Instant::now();
    let child = spawn(&[
        "check",
        "--no-builtin",
        "--tofu",
        fake.to_str().unwrap(),
        "--show-timeout",
        "1",
        "testdata/inputs/damaged.tfplan",
    ]);
    let out = wait_at_most(child, Duration::from_secs(30), "show -json timeout");
    let text = stdout(&out) + &stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(started.elapsed() < Duration::from_secs(20), "{text}");
    assert!(text.contains("did not finish within 1 s"), "{text}");
    assert!(text.contains("every process it started"), "{text}");
    assert!(text.contains("--show-timeout"), "{text}");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim()));
    // Gone, or a zombie waiting for a reaper that is not planguard.
    assert!(
        status.as_ref().map_or(true, |s| s.contains("State:\tZ")),
        "the grandchild still runs: {status:?}"
    );
}

#[test]
fn endless_input_stops_at_the_limit() {
    let out = planguard(&["check", "--no-builtin", "--max-input-bytes", "1000", PLAN]);
    let text = stdout(&out) + &stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("larger than 1000 bytes"), "{text}");
    assert!(text.contains("--max-input-bytes"), "{text}");

    let child = spawn(&["check", "--no-builtin", "/dev/zero"]);
    let out = wait_at_most(child, Duration::from_secs(30), "/dev/zero");
    let text = stdout(&out) + &stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("binary data"), "{text}");

    let out = planguard(&["check", "--no-builtin", "--max-input-bytes", "0", PLAN]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("more than 0 bytes"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_damaged_binary_plan_is_named_as_such_without_tofus_noise() {
    let tf = tofu();
    let out = planguard(&[
        "check",
        "--no-builtin",
        "--tofu",
        tf.to_str().unwrap(),
        "testdata/inputs/damaged.tfplan",
    ]);
    let text = stdout(&out) + &stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("is not a readable plan file"), "{text}");
    assert!(text.contains("zip"), "what tofu said is kept: {text}");
    assert!(text.contains("plan -out=tfplan"), "{text}");
    for noise in ["--chdir", "╷", "│", "CLI configuration", "exit exit"] {
        assert!(!text.contains(noise), "`{noise}` in:\n{text}");
    }
}

#[test]
fn zero_time_limits_are_refused_when_parsing_arguments() {
    for option in ["--timeout", "--show-timeout"] {
        let out = planguard(&["check", "--no-builtin", option, "0", PLAN]);
        assert_eq!(out.status.code(), Some(2), "{option}");
        let err = stderr(&out);
        assert!(err.contains(option), "{err}");
        assert!(err.contains("0 seconds would stop"), "{err}");
        assert!(
            stdout(&out).is_empty(),
            "nothing was checked: {}",
            stdout(&out)
        );
    }
}

#[test]
fn wrongly_typed_library_settings_are_named_before_evaluation() {
    let mut transcript = String::new();
    for file in ["config-required-tags-number.yaml", "config-not-a-map.yaml"] {
        let out = planguard(&["check", "-d", &format!("testdata/inputs/{file}"), PLAN]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        assert!(err.contains(file), "{err}");
        assert!(!err.contains("helpers.rego"), "{err}");
        transcript.push_str(&format!("## {file}\n{}\n", err.trim_end()));
    }
    assert!(transcript.contains("`planguard.config.required_tags` must be a list of tag keys"));
    assert!(transcript.contains("`planguard.config` must be a map"));
    insta::assert_snapshot!("library_settings", transcript);

    // Settings in a data directory, placed by their directory path, are checked too.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("planguard/config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("data.yaml"), "s3_require_kms: \"true\"\n").unwrap();
    let out = planguard(&["check", "-d", dir.path().to_str().unwrap(), PLAN]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`planguard.config.s3_require_kms` must be true or false"),
        "{err}"
    );

    // Well-typed settings still work.
    std::fs::write(
        config.join("data.yaml"),
        "s3_require_kms: true\nrequired_tags: [Owner]\npublic_ingress_ports: [80, \"443\"]\n",
    )
    .unwrap();
    let out = planguard(&["check", "-d", dir.path().to_str().unwrap(), PLAN]);
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
}
