//! End-to-end benchmark of `planguard check` on large synthetic plans.
//!
//! Generates plans of 1k, 10k and 100k resources with [`synth::write_plan`] into a
//! temporary directory, then runs the release binary on each as a child process,
//! `planguard check PLAN --format json -o /dev/null`, and prints wall time and the child's
//! peak resident memory. Two variants: `builtin` (the embedded policy library) and
//! `conftest` (`--no-builtin -p bench/conftest-policy`, a five-rule conftest-style policy).
//!
//! Run with `cargo build --release && cargo bench --bench check`, or `bench/run.sh`. The
//! binary is measured as a separate process so that its peak RSS is its own; it is read with
//! GNU time (`/usr/bin/time -f %M`), and shows as `n/a` where that is not installed.
//!
//! Bounded by design: up to 3 runs per plan (median reported), a single run when one takes
//! over 10 s or the plan has 100k resources or more; each run is killed after
//! `PLANGUARD_BENCH_TIMEOUT` seconds (default 60), and measurements that would start after
//! `PLANGUARD_BENCH_BUDGET` seconds (default 170) are skipped. `PLANGUARD_BENCH_SIZES`
//! (e.g. `1000,10000`) and `PLANGUARD_BENCH_VARIANTS` (`builtin,conftest`) narrow the run.

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
    policy_dir: PathBuf,
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
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Builtin => "builtin",
            Variant::Conftest => "conftest",
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
            let result = measure(&settings, variant, &plan, n, started);
            rows.push(Row {
                variant,
                resources: n,
                file_bytes,
                gen,
                result,
            });
        }
        std::fs::remove_file(&plan).ok();
    }
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
            .map(|v| match v.trim() {
                "builtin" => Ok(Variant::Builtin),
                "conftest" => Ok(Variant::Conftest),
                other => Err(format!(
                    "PLANGUARD_BENCH_VARIANTS: unknown variant {other:?} (builtin, conftest)"
                )),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => vec![Variant::Builtin, Variant::Conftest],
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
    Ok(Settings {
        binary,
        policy_dir: manifest.join("bench").join("conftest-policy"),
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

/// Runs one variant on one plan: up to 3 runs, the median wall time and the highest peak RSS.
fn measure(s: &Settings, variant: Variant, plan: &Path, n: usize, started: Instant) -> RowResult {
    let max_runs = if n >= 100_000 { 1 } else { 3 };
    let mut runs: Vec<Run> = Vec::new();
    while runs.len() < max_runs {
        let left = s.budget.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        let run = run_once(s, variant, plan, s.timeout.min(left));
        eprintln!(
            "  {} {n}: {:.2} s{}",
            variant.name(),
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

fn run_once(s: &Settings, variant: Variant, plan: &Path, limit: Duration) -> Run {
    let scratch = plan.with_extension(format!("{}.out", variant.name()));
    let rss_file = scratch.with_extension("rss");
    let err_file = scratch.with_extension("stderr");
    let mut cmd = if s.gnu_time {
        let mut c = Command::new(GNU_TIME);
        c.arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&rss_file)
            .arg(&s.binary);
        c
    } else {
        Command::new(&s.binary)
    };
    cmd.arg("check")
        .arg(plan)
        .args(["--format", "json", "-o", "/dev/null"]);
    if variant == Variant::Conftest {
        cmd.arg("--no-builtin").arg("-p").arg(&s.policy_dir);
    }
    let stderr = File::create(&err_file).expect("creating the stderr file");
    // Its own process group, so that a run past the limit is killed with its child.
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
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
        "| variant  | resources | file MB | gen s | runs | wall s (median) | peak RSS MB | RSS/file |"
    );
    println!(
        "|----------|----------:|--------:|------:|-----:|----------------:|------------:|---------:|"
    );
    for r in rows {
        let head = format!(
            "| {:<8} | {:>9} | {:>7.1} | {:>5.2} |",
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
