//! Shared helpers for the integration tests: running the real binary on fixtures.
#![allow(dead_code)]

pub mod postgres;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn testdata(rel: &str) -> PathBuf {
    root().join("testdata").join(rel)
}

/// The corpus of real plans and webhooks copied into `testdata/corpus` (sources and licences in its `SOURCES.md`).
pub fn corpus() -> PathBuf {
    root().join("testdata/corpus")
}

/// Every plan of the corpus (`plans/<source>/*.json`), sorted.
pub fn corpus_plans() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(corpus().join("plans")).expect("testdata/corpus/plans exists") {
        let dir = dir.unwrap().path();
        if dir.is_dir() {
            for f in std::fs::read_dir(&dir).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "json") {
                    out.push(f);
                }
            }
        }
    }
    out.sort();
    out
}

/// Runs `planguard ARGS` in the repository root.
pub fn planguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_planguard"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("the planguard binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The `tofu` or `terraform` binary the tests use: tofu preferred.
pub fn tofu() -> PathBuf {
    planguard::plan::find_binary()
        .expect("tofu or terraform on PATH")
        .path
}

/// Writes policy files into a fresh directory, for a test's own policies.
pub fn policy_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// `planguard check --no-builtin -p PATH PLAN [EXTRA...]`
pub fn check_with(path: &Path, plan: &str, extra: &[&str]) -> Output {
    check_policies(&[path.to_str().unwrap()], plan, extra)
}

/// `planguard check --no-builtin -p P1 -p P2 ... [EXTRA...] PLAN`
pub fn check_policies(policies: &[&str], plan: &str, extra: &[&str]) -> Output {
    let mut args = vec!["check", "--no-builtin"];
    for p in policies {
        args.extend_from_slice(&["-p", p]);
    }
    args.extend_from_slice(extra);
    args.push(plan);
    planguard(&args)
}
