//! `planguard test`: running `test_*` rules, as `opa test` and `conftest verify` do.
//!
//! A test passes when its rule evaluates to `true`. Each test runs on a fresh clone of the
//! engine with no input, under the same time and memory limits as policy evaluation: a test
//! past either fails on its own and the others still run.

use std::time::{Duration, Instant};

use rayon::prelude::*;
use regorus::Value;
use serde::Serialize;

use super::eval::{catch_engine_panic, limit_message, panic_message};
use super::load::{regorus_error, PolicySet};

/// One test's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TestOutcome {
    Pass,
    Fail,
    Error(String),
}

/// A test, where it is, and how it went.
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    /// `data.package.test_name`
    pub name: String,
    pub file: String,
    pub line: u32,
    pub outcome: TestOutcome,
    pub duration: Duration,
}

/// Runs every `test_*` rule of the loaded policies, optionally filtered by a substring.
pub fn run_tests(set: &PolicySet, filter: Option<&str>) -> Vec<TestReport> {
    let mut reports: Vec<TestReport> = set
        .test_rules
        .par_iter()
        .filter(|t| filter.is_none_or(|f| t.name.contains(f)))
        .map_init(
            || set.engine.clone(),
            |engine, test| {
                let started = Instant::now();
                engine.set_input(Value::new_object());
                let result = super::memory::with_budget(|| {
                    catch_engine_panic(|| engine.eval_rule(test.name.clone()))
                });
                let outcome = match result {
                    Err(panic) => TestOutcome::Error(panic_message(panic.as_ref())),
                    Ok(Ok(Value::Bool(true))) => TestOutcome::Pass,
                    Ok(Ok(_)) => TestOutcome::Fail,
                    Ok(Err(e)) => {
                        let located = regorus_error(&test.file, &e.to_string());
                        let at = located
                            .line
                            .map(|l| format!("line {l}: "))
                            .unwrap_or_default();
                        let message = limit_message(&e.to_string(), located.message);
                        TestOutcome::Error(format!("{at}{message}"))
                    }
                };
                TestReport {
                    name: test.name.clone(),
                    file: test.file.clone(),
                    line: test.line,
                    outcome,
                    duration: started.elapsed(),
                }
            },
        )
        .collect();
    reports.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    reports
}
