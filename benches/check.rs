//! End-to-end benchmark of `planguard check` on large synthetic plans.
//!
//! Generates plans of 1k, 10k and 100k resources with [`synth::write_plan`] into a
//! temporary directory, then runs the release binary on each as a child process,
//! `planguard check PLAN --format json -o /dev/null`, and prints wall time and the child's
//! peak resident memory. Three variants: `builtin` (the embedded policy library), `conftest`
//! (`--no-builtin -p bench/conftest-policy`, a five-rule conftest-style policy) and
//! `thirdparty` (`--no-builtin -p bench/thirdparty-policy`, 34 rules in six packages over a
//! shared helper package, in the style of public conftest Terraform libraries).
//!
//! Side by side with OPA: when `PLANGUARD_BENCH_OPA` names a Python with the OPA Go engine's
//! bindings (see bench/README.md), each variant also runs on OPA 1.20.2 through
//! `bench/opa/check.py`, on the same plan file in the same run (`builtin` as the Rego that
//! `planguard policies export` writes). The OPA rows show the child's wall time like the
//! planguard rows; the script's own figure (OPA parsing the plan and evaluating) is logged.
//!
//! Run with `cargo build --release && cargo bench --bench check`, or `bench/run.sh`. The
//! binary is measured as a separate process so that its peak RSS is its own; it is read with
//! GNU time (`/usr/bin/time -f %M`), and shows as `n/a` where that is not installed.
//!
//! Bounded by design: up to 3 runs per plan (median reported), a single run when one takes
//! over 10 s (so OPA at 100k runs once, and planguard's seconds-long runs three times: a
//! single run of a few seconds is at the mercy of the page cache and the machine's load); each run is killed after
//! `PLANGUARD_BENCH_TIMEOUT` seconds (default 60), and measurements that would start after
//! `PLANGUARD_BENCH_BUDGET` seconds (default 170) are skipped. `PLANGUARD_BENCH_SIZES`
//! (e.g. `1000,10000`) and `PLANGUARD_BENCH_VARIANTS` (`builtin,conftest,thirdparty`) narrow
//! the run.

#[path = "../tools/synth.rs"]
#[allow(dead_code)]
mod synth;

use std::fs::File;
use std::io::BufWriter;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};

const DEFAULT_SIZES: [usize; 3] = [1_000, 10_000, 100_000];
const SEED: u64 = 42;
const GNU_TIME: &str = "/usr/bin/time";

struct Settings {
    binary: PathBuf,
    bench_dir: PathBuf,
    /// The Python that runs bench/opa/check.py, when OPA is measured too.
    opa_python: Option<PathBuf>,
    /// The built-in library as plain Rego, for OPA.
    exported: PathBuf,
    sizes: Vec<usize>,
    variants: Vec<Variant>,
    timeout: Duration,
    budget: Duration,
    gnu_time: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Builtin,
    Conftest,
    ThirdParty,
}

impl Variant {
    const ALL: [Variant; 3] = [Variant::Builtin, Variant::Conftest, Variant::ThirdParty];

    fn name(self) -> &'static str {
        match self {
            Variant::Builtin => "builtin",
            Variant::Conftest => "conftest",
            Variant::ThirdParty => "thirdparty",
        }
    }

    /// The policy directory of a `--no-builtin` variant (under bench/), or `None` for the
    /// built-in library.
    fn policy_dir(self) -> Option<&'static str> {
        match self {
            Variant::Builtin => None,
            Variant::Conftest => Some("conftest-policy"),
            Variant::ThirdParty => Some("thirdparty-policy"),
        }
    }
}

/// Which engine a run measures.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Runner {
    Planguard,
    Opa,
}

impl Runner {
    fn name(self) -> &'static str {
        match self {
            Runner::Planguard => "planguard",
            Runner::Opa => "opa",
        }
    }
}

/// One measured run of the binary.
struct Run {
    wall: Duration,
    /// Peak RSS in KiB, when GNU time reported it.
    rss_kib: Option<u64>,
    outcome: Outcome,
}

enum Outcome {
    /// Exit 0 (no findings) or 1 (findings).
    Ok,
    TimedOut,
    Failed(String),
}

/// What one table row shows.
struct Row {
    variant: Variant,
    runner: Runner,
    resources: usize,
    file_bytes: u64,
    gen: Duration,
    result: RowResult,
}

enum RowResult {
    Measured {
        runs: usize,
        wall: Duration,
        rss_kib: Option<u64>,
    },
    TimedOut(Duration),
    Failed(String),
    Skipped,
}

fn main() {
    let settings = match settings() {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("error: {msg}");
            std::process::exit(2);
        }
    };
    if !settings.gnu_time {
        eprintln!(
            "note: {GNU_TIME} not found, so peak RSS shows n/a (apt-get install -y time provides it)"
        );
    }
    if settings.opa_python.is_some() && settings.variants.contains(&Variant::Builtin) {
        if let Err(msg) = export_library(&settings) {
            eprintln!("error: {msg}");
            std::process::exit(2);
        }
    }
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    let started = Instant::now();
    let mut rows = Vec::new();
    for &n in &settings.sizes {
        let plan = dir.path().join(format!("plan-{n}.json"));
        let t = Instant::now();
        let file = File::create(&plan).expect("creating the plan file");
        synth::write_plan(n, SEED, BufWriter::new(file)).expect("writing the plan");
        let gen = t.elapsed();
        let file_bytes = std::fs::metadata(&plan).map(|m| m.len()).unwrap_or(0);
        eprintln!(
            "generated {n} resources: {:.1} MB in {:.2} s",
            mb(file_bytes),
            gen.as_secs_f64()
        );
        for &variant in &settings.variants {
            for runner in settings.runners() {
                let result = measure(&settings, (variant, runner), &plan, n, started);
                rows.push(Row {
                    variant,
                    runner,
                    resources: n,
                    file_bytes,
                    gen,
                    result,
                });
            }
        }
        std::fs::remove_file(&plan).ok();
    }
    std::fs::remove_dir_all(&settings.exported).ok();
    print_table(&rows);
    println!("total {:.0} s", started.elapsed().as_secs_f64());
}

fn settings() -> Result<Settings, String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => manifest.join(t),
        None => manifest.join("target"),
    };
    let binary = target.join("release").join("planguard");
    if !binary.is_file() {
        return Err(format!(
            "{} does not exist: run `cargo build --release` first (bench/run.sh does both)",
            binary.display()
        ));
    }
    if let Some(newer) = newer_source(manifest, &binary) {
        eprintln!(
            "warning: {} is newer than {}: run `cargo build --release` to measure the current code",
            newer.display(),
            binary.display()
        );
    }
    let sizes = match std::env::var("PLANGUARD_BENCH_SIZES") {
        Ok(s) if !s.trim().is_empty() => s
            .split(',')
            .map(|x| x.trim().replace('_', "").parse::<usize>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("PLANGUARD_BENCH_SIZES={s:?}: {e}"))?,
        _ => DEFAULT_SIZES.to_vec(),
    };
    let variants = match std::env::var("PLANGUARD_BENCH_VARIANTS") {
        Ok(s) if !s.trim().is_empty() => s
            .split(',')
            .map(|v| {
                Variant::ALL
                    .into_iter()
                    .find(|x| x.name() == v.trim())
                    .ok_or_else(|| {
                        format!(
                            "PLANGUARD_BENCH_VARIANTS: unknown variant {v:?} (builtin, conftest, thirdparty)"
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => Variant::ALL.to_vec(),
    };
    let secs = |name: &str, default: u64| -> Result<Duration, String> {
        match std::env::var(name) {
            Ok(s) => s
                .trim()
                .parse::<u64>()
                .map(Duration::from_secs)
                .map_err(|e| format!("{name}={s:?}: {e}")),
            Err(_) => Ok(Duration::from_secs(default)),
        }
    };
    let opa_python = std::env::var_os("PLANGUARD_BENCH_OPA").map(PathBuf::from);
    Ok(Settings {
        binary,
        bench_dir: manifest.join("bench"),
        opa_python,
        exported: std::env::temp_dir().join(format!("planguard-bench-lib-{}", std::process::id())),
        sizes,
        variants,
        timeout: secs("PLANGUARD_BENCH_TIMEOUT", 60)?,
        budget: secs("PLANGUARD_BENCH_BUDGET", 170)?,
        gnu_time: Path::new(GNU_TIME).is_file(),
    })
}

/// A source file (under `src/` or `policies/`) modified after the binary was built.
fn newer_source(manifest: &Path, binary: &Path) -> Option<PathBuf> {
    fn walk(dir: &Path, built: SystemTime) -> Option<PathBuf> {
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if let Some(p) = walk(&path, built) {
                    return Some(p);
                }
            } else if entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|m| m > built)
            {
                return Some(path);
            }
        }
        None
    }
    let built = std::fs::metadata(binary).and_then(|m| m.modified()).ok()?;
    ["src", "policies"]
        .iter()
        .find_map(|d| walk(&manifest.join(d), built))
}

impl Settings {
    fn runners(&self) -> Vec<Runner> {
        match self.opa_python {
            Some(_) => vec![Runner::Planguard, Runner::Opa],
            None => vec![Runner::Planguard],
        }
    }

    /// The command that runs one variant on one plan.
    fn command(&self, (variant, runner): (Variant, Runner), plan: &Path) -> Command {
        let dir = variant
            .policy_dir()
            .map_or(self.exported.clone(), |d| self.bench_dir.join(d));
        let (program, args): (&Path, Vec<std::ffi::OsString>) = match runner {
            Runner::Opa => (
                self.opa_python
                    .as_deref()
                    .expect("OPA runs only when PLANGUARD_BENCH_OPA is set"),
                vec![
                    self.bench_dir.join("opa").join("check.py").into(),
                    dir.into(),
                    plan.into(),
                ],
            ),
            Runner::Planguard => {
                let mut args: Vec<std::ffi::OsString> = vec!["check".into(), plan.into()];
                args.extend(["--format", "json", "-o", "/dev/null"].map(Into::into));
                if variant.policy_dir().is_some() {
                    args.extend(["--no-builtin".into(), "-p".into(), dir.into()]);
                }
                (&self.binary, args)
            }
        };
        let mut cmd = if self.gnu_time {
            let mut c = Command::new(GNU_TIME);
            c.arg("-f")
                .arg("%M")
                .arg("-o")
                .arg(plan.with_extension("rss"));
            c.arg(program);
            c
        } else {
            Command::new(program)
        };
        cmd.args(args);
        cmd
    }
}

/// Writes the built-in library as plain Rego for OPA (`planguard policies export`).
fn export_library(s: &Settings) -> Result<(), String> {
    let status = Command::new(&s.binary)
        .args(["policies", "export"])
        .arg(&s.exported)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", s.binary.display()))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("`planguard policies export` failed: {status}"))
}

/// Runs one variant on one plan: up to 3 runs (one when a run takes over 10 s), the median
/// wall time and the highest peak RSS.
fn measure(
    s: &Settings,
    what: (Variant, Runner),
    plan: &Path,
    n: usize,
    started: Instant,
) -> RowResult {
    let max_runs = 3;
    let mut runs: Vec<Run> = Vec::new();
    while runs.len() < max_runs {
        let left = s.budget.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        let run = run_once(s, what, plan, s.timeout.min(left));
        eprintln!(
            "  {} {} {n}: {:.2} s{}",
            what.1.name(),
            what.0.name(),
            run.wall.as_secs_f64(),
            match &run.outcome {
                Outcome::Ok => String::new(),
                Outcome::TimedOut => " (killed: time limit)".to_owned(),
                Outcome::Failed(e) => format!(" (failed: {e})"),
            }
        );
        match run.outcome {
            Outcome::Ok => {}
            Outcome::TimedOut => return RowResult::TimedOut(run.wall),
            Outcome::Failed(e) => return RowResult::Failed(e),
        }
        let slow = run.wall > Duration::from_secs(10);
        runs.push(run);
        if slow {
            break;
        }
    }
    if runs.is_empty() {
        return RowResult::Skipped;
    }
    let mut walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
    walls.sort();
    RowResult::Measured {
        runs: runs.len(),
        wall: walls[walls.len() / 2],
        rss_kib: runs.iter().filter_map(|r| r.rss_kib).max(),
    }
}

fn run_once(s: &Settings, what: (Variant, Runner), plan: &Path, limit: Duration) -> Run {
    let rss_file = plan.with_extension("rss");
    let err_file = plan.with_extension("stderr");
    let out_file = plan.with_extension("stdout");
    let mut cmd = s.command(what, plan);
    let stderr = File::create(&err_file).expect("creating the stderr file");
    let stdout = File::create(&out_file).expect("creating the stdout file");
    // Its own process group, so that a run past the limit is killed with its child.
    cmd.stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);
    let t = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Run {
                wall: t.elapsed(),
                rss_kib: None,
                outcome: Outcome::Failed(format!("cannot start {}: {e}", s.binary.display())),
            }
        }
    };
    let status: Option<ExitStatus> = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if t.elapsed() >= limit => {
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("waiting for the child: {e}"),
        }
    };
    let wall = t.elapsed();
    if what.1 == Runner::Opa {
        // bench/opa/check.py's own figures: OPA's time for parsing and evaluating, results.
        let said = std::fs::read_to_string(&out_file).unwrap_or_default();
        eprintln!("    opa says: {}", said.trim());
    }
    let rss_kib = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|t| t.lines().rev().find_map(|l| l.trim().parse::<u64>().ok()));
    let outcome = match status {
        None => Outcome::TimedOut,
        Some(st) if matches!(st.code(), Some(0 | 1)) => Outcome::Ok,
        Some(st) => {
            let err = std::fs::read_to_string(&err_file).unwrap_or_default();
            let last = err
                .lines()
                .rfind(|l| !l.starts_with("Command exited with"))
                .unwrap_or("")
                .to_owned();
            Outcome::Failed(format!("exit {}: {last}", st.code().unwrap_or(-1)))
        }
    };
    Run {
        wall,
        rss_kib,
        outcome,
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "| engine    | variant    | resources | file MB | gen s | runs | wall s (median) | peak RSS MB | RSS/file |"
    );
    println!(
        "|-----------|------------|----------:|--------:|------:|-----:|----------------:|------------:|---------:|"
    );
    for r in rows {
        let head = format!(
            "| {:<9} | {:<10} | {:>9} | {:>7.1} | {:>5.2} |",
            r.runner.name(),
            r.variant.name(),
            r.resources,
            mb(r.file_bytes),
            r.gen.as_secs_f64()
        );
        let tail = match &r.result {
            RowResult::Measured {
                runs,
                wall,
                rss_kib,
            } => {
                let (rss, ratio) = match rss_kib {
                    Some(k) => {
                        let rss_mb = *k as f64 * 1024.0 / 1e6;
                        (
                            format!("{rss_mb:.0}"),
                            format!("{:.1}", rss_mb / mb(r.file_bytes)),
                        )
                    }
                    None => ("n/a".to_owned(), "n/a".to_owned()),
                };
                format!(
                    " {runs:>4} | {:>15.2} | {rss:>11} | {ratio:>8} |",
                    wall.as_secs_f64()
                )
            }
            RowResult::TimedOut(wall) => format!(
                " {:>4} | {:>15} | {:>11} | {:>8} |",
                1,
                format!("> {:.0} (killed)", wall.as_secs_f64()),
                "n/a",
                "n/a"
            ),
            RowResult::Failed(e) => format!(" failed: {e}"),
            RowResult::Skipped => " skipped: time budget spent".to_owned(),
        };
        println!("{head}{tail}");
    }
}
