//! The `check` use case: plans in, a [`Report`] out.
//!
//! This is the code the server reuses for every stack: read each plan (converting binary plans
//! with `show -json`), parse it into the typed model, evaluate the loaded policies, and redact
//! sensitive values from everything the report carries. A plan that cannot be read becomes a
//! per-plan error; the other plans are still checked.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::plan::{ChangeCounts, Plan, PlanBytes, PlanError, PlanText, ShowOptions};
use crate::policy::{
    Evaluation, Finding, Level, PlanInput, PolicyMeta, PolicySet, RawSections, WholePlanResults,
};
use crate::redact::Redactor;

/// When `check` exits 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Error findings fail.
    #[default]
    Error,
    /// Warnings fail too.
    Warning,
    /// Findings never fail (policy errors and unusable input still exit 2).
    Never,
}

/// A resource change as reports show it.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeLine {
    pub address: String,
    pub symbol: &'static str,
    pub verb: &'static str,
}

/// A [`ChangeLine`] read back from storage, before its texts are matched to the known ones.
#[derive(Deserialize)]
struct StoredChangeLine {
    address: String,
    symbol: String,
    verb: String,
}

impl<'de> Deserialize<'de> for ChangeLine {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ChangeLine::try_from(StoredChangeLine::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<StoredChangeLine> for ChangeLine {
    type Error = String;
    fn try_from(c: StoredChangeLine) -> Result<Self, String> {
        use crate::plan::Actions as A;
        let all = [
            A::NoOp,
            A::Create,
            A::Read,
            A::Update,
            A::Delete,
            A::DeleteThenCreate,
            A::CreateThenDelete,
            A::Forget,
            A::CreateThenForget,
            A::ForgetThenCreate,
        ];
        let symbol = all.iter().map(|a| a.symbol()).find(|s| *s == c.symbol);
        let verb = all.iter().map(|a| a.verb()).find(|v| *v == c.verb);
        match (symbol, verb) {
            (Some(symbol), Some(verb)) => Ok(ChangeLine {
                address: c.address,
                symbol,
                verb,
            }),
            _ => Err(format!("unknown change {:?} {:?}", c.symbol, c.verb)),
        }
    }
}

/// The outcome for one plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanReport {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terraform_version: Option<String>,
    pub counts: ChangeCounts,
    /// Changed resources (everything but no-op), in plan order.
    pub changes: Vec<ChangeLine>,
    #[serde(flatten)]
    pub evaluation: Evaluation,
    /// Time and peak memory per phase (read, parse, index, evaluate, redact), for `--profile`.
    #[serde(skip)]
    pub phases: Vec<Phase>,
}

/// One phase of checking a plan, for `--profile`.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    pub name: &'static str,
    pub duration: Duration,
    /// The process's peak resident memory when the phase ended, in bytes (Linux only).
    pub peak_rss: Option<u64>,
}

impl Phase {
    fn ended(name: &'static str, duration: Duration) -> Self {
        Phase {
            name,
            duration,
            peak_rss: peak_rss(),
        }
    }
}

/// The process's peak resident set size so far (`VmHWM`), where the system reports it.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kb * 1024)
}

/// The result of checking one or more plans.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub plans: Vec<PlanReport>,
    /// Catalogue entries of the policies that produced findings, by id.
    #[serde(skip)]
    pub policies: BTreeMap<String, PolicyMeta>,
    #[serde(skip)]
    pub duration: Duration,
}

/// Totals across plans.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub plans: usize,
    pub errors: usize,
    pub warnings: usize,
    /// Rules exempted by `exception` rules (conftest's "exceptions" tally).
    pub exempted: usize,
    pub policy_failures: usize,
    pub unreadable_plans: usize,
}

impl Report {
    pub fn totals(&self) -> Totals {
        let mut t = Totals {
            plans: self.plans.len(),
            ..Default::default()
        };
        for p in &self.plans {
            t.unreadable_plans += usize::from(p.error.is_some());
            t.policy_failures += p.evaluation.failures.len();
            t.exempted += p.evaluation.exempted.len();
            for f in &p.evaluation.findings {
                match f.level {
                    Level::Error => t.errors += 1,
                    Level::Warning => t.warnings += 1,
                }
            }
        }
        t
    }

    /// 0 pass, 1 findings at the fail level, 2 unusable input or a policy error.
    pub fn exit_code(&self, fail_on: FailOn) -> i32 {
        let t = self.totals();
        if t.unreadable_plans > 0 || t.policy_failures > 0 {
            return 2;
        }
        let failing = match fail_on {
            FailOn::Error => t.errors,
            FailOn::Warning => t.errors + t.warnings,
            FailOn::Never => 0,
        };
        i32::from(failing > 0)
    }

    /// All findings with the plan they belong to.
    pub fn findings(&self) -> impl Iterator<Item = (&PlanReport, &Finding)> {
        self.plans
            .iter()
            .flat_map(|p| p.evaluation.findings.iter().map(move |f| (p, f)))
    }
}

/// Checks each input against the policy set `load` returns, loaded while the first plan is
/// read: for a large plan and the built-in library each takes about a tenth of a second. When
/// loading fails, nothing is checked and its error is returned. Only a regular file is read
/// ahead. Standard input or a pipe could keep a policy error waiting for its
/// writer, and a binary plan is only converted (which runs `show -json`) once the policies
/// have loaded.
pub fn check<E>(
    inputs: &[PathBuf],
    show: &ShowOptions,
    load: impl FnOnce() -> Result<PolicySet, E>,
) -> Result<Report, E> {
    let started = Instant::now();
    let ahead = inputs
        .first()
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()));
    let (set, first) = std::thread::scope(|s| {
        let reading = ahead.map(|path| {
            std::thread::Builder::new()
                .name("planguard-read".into())
                .spawn_scoped(s, || timed(|| PlanText::read_bytes(path, show)))
        });
        let set = load();
        let first = reading.map(|r| match r {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to spare: read it here.
            Err(_) => timed(|| PlanText::read_bytes(ahead.expect("a path"), show)),
        });
        (set, first)
    });
    let set = set?;
    let report = check_inputs(inputs, first, show, &set, started);
    crate::policy::memory::free_in_background(set);
    Ok(report)
}

/// The result of `f` and how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    (f(), t.elapsed())
}

/// Read bytes of the first input, and how long reading them took.
type ReadAhead = (Result<PlanBytes, PlanError>, Duration);

fn check_inputs(
    inputs: &[PathBuf],
    mut first: Option<ReadAhead>,
    show: &ShowOptions,
    set: &PolicySet,
    started: Instant,
) -> Report {
    let plans = inputs
        .iter()
        .map(|path| {
            let (text, took) = match first.take() {
                Some((bytes, read)) => {
                    let (text, classify) = timed(|| bytes.and_then(|b| b.into_text(show)));
                    (text, read + classify)
                }
                None => timed(|| PlanText::read(path, show)),
            };
            let read = Phase::ended("read", took);
            let mut report = check_one(text, set);
            report.phases.insert(0, read);
            report
        })
        .collect();
    let policies = set
        .catalogue()
        .iter()
        .map(|(m, _)| (m.id.clone(), m.clone()))
        .collect();
    Report {
        plans,
        policies,
        duration: started.elapsed(),
    }
}

/// The changes a report lists: every resource change that does something.
fn change_lines(plan: &Plan) -> Vec<ChangeLine> {
    plan.resource_changes
        .par_iter()
        .filter(|rc| rc.change.actions != crate::plan::Actions::NoOp)
        .map(|rc| ChangeLine {
            address: rc.address.to_string(),
            symbol: rc.change.actions.symbol(),
            verb: rc.change.actions.verb(),
        })
        .collect()
}

/// Checks one plan that was already read (the server's entry point).
pub fn check_one(text: Result<PlanText, PlanError>, set: &PolicySet) -> PlanReport {
    let failed = |name: String, e: &dyn std::fmt::Display| PlanReport {
        name,
        error: Some(e.to_string()),
        format_version: None,
        terraform_version: None,
        counts: ChangeCounts::default(),
        changes: Vec::new(),
        evaluation: Evaluation::default(),
        phases: Vec::new(),
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => return failed(e.input_name().to_owned(), &e),
    };
    let mut phases = Vec::new();
    let mut t = Instant::now();
    let mut lap = |name: &'static str, phases: &mut Vec<Phase>| {
        phases.push(Phase::ended(name, t.elapsed()));
        t = Instant::now();
    };
    // The typed parse and the scan for raw sections read the same text independently. The
    // policies that read the whole plan are evaluated on the raw sections as soon as the scan
    // is done, while the typed parse goes on. A plan the typed parse refuses is not evaluated
    // further.
    let refused = AtomicBool::new(false);
    let (parsed, scanned) = rayon::join(
        || {
            let plan = text.parse();
            refused.store(plan.is_err(), Ordering::Relaxed);
            plan
        },
        || {
            RawSections::scan(&text.json).map(|sections| {
                let ahead = if refused.load(Ordering::Relaxed) {
                    WholePlanResults::default()
                } else {
                    set.evaluate_ahead(&sections)
                };
                (sections, ahead)
            })
        },
    );
    let plan = match parsed {
        Ok(p) => p,
        Err(e) => return failed(text.name.clone(), &e),
    };
    let (input, ahead) = match scanned
        .and_then(|(s, ahead)| PlanInput::from_sections(s, &plan).map(|input| (input, ahead)))
    {
        Ok(i) => i,
        Err(e) => return failed(text.name.clone(), &e),
    };
    lap("parse and index", &mut phases);
    // The redactor is only needed for the results, so it is made beside the evaluation.
    let (mut evaluation, redactor) = rayon::join(
        || set.evaluate_rest(&input, ahead),
        || Redactor::from_plan(&plan),
    );
    lap("evaluate", &mut phases);
    attribute_addresses(&mut evaluation, &plan);
    if !redactor.is_empty() {
        evaluation.findings.par_iter_mut().for_each(|f| {
            f.message = redactor.redact(&f.message).into_owned();
            if let Some(m) = &f.metadata {
                f.metadata = Some(redactor.redact(m).into_owned());
            }
        });
        for f in &mut evaluation.failures {
            f.message = redactor.redact(&f.message).into_owned();
        }
    }
    PlanReport {
        name: text.name.clone(),
        error: None,
        format_version: plan.format_version.map(|v| v.to_string()),
        terraform_version: plan.terraform_version.as_deref().map(str::to_owned),
        counts: plan.change_counts(),
        // Listed after evaluation, not beside the parse: a list of every change held through
        // the evaluation would raise its memory peak.
        changes: change_lines(&plan),
        evaluation,
        phases: {
            lap("redact and summarise", &mut phases);
            phases
        },
    }
}

/// Gives string findings (conftest's `deny contains msg`) the address their message names,
/// so they are grouped under the resource like structured results.
fn attribute_addresses(evaluation: &mut Evaluation, plan: &crate::plan::Plan<'_>) {
    if evaluation.findings.iter().all(|f| f.address.is_some()) {
        return;
    }
    let addresses: std::collections::HashSet<&str> = plan
        .resource_changes
        .iter()
        .map(|rc| rc.address.as_ref())
        .collect();
    for f in evaluation
        .findings
        .iter_mut()
        .filter(|f| f.address.is_none())
    {
        f.address = f
            .message
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '\'' | '`' | '(' | ')'))
            .map(|t| t.trim_end_matches([':', '.']).trim_matches('"'))
            .find(|t| addresses.contains(t))
            .map(str::to_owned);
    }
}
