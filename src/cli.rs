//! Command-line interface: argument definitions and the commands they run.
//!
//! Each command returns an exit code; `main` only maps errors to exit code 2. Output goes to
//! stdout (or `--output`), diagnostics to stderr.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::check::{self, FailOn};
use crate::plan::ShowOptions;
use crate::policy::{self, LoadError, LoadOptions, PolicySet, TestOutcome};
use crate::render::{self, Format};

/// Policy checks for OpenTofu/Terraform plans.
#[derive(Debug, Parser)]
#[command(name = "planguard", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check plan JSON (or binary plan files) against policies.
    Check(CheckArgs),
    /// Run Rego unit tests (`test_*` rules in `*_test.rego` files).
    Test(TestArgs),
    /// Browse the built-in policy catalogue.
    #[command(subcommand)]
    Policies(PoliciesCommand),
    /// Run the GitHub App server: plan every PR's stacks, report, gate applies.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The server's TOML config; every key can also come from a PLANGUARD_* variable.
    #[arg(short, long, value_name = "FILE", env = "PLANGUARD_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// A policy file or directory (repeatable). Directories are searched for `.rego` files.
    #[arg(short, long = "policy", value_name = "PATH")]
    pub policies: Vec<PathBuf>,
    /// Leave out the built-in policy library.
    #[arg(long)]
    pub no_builtin: bool,
    /// A JSON or YAML data file or directory, merged into `data` (repeatable).
    #[arg(short, long = "data", value_name = "FILE")]
    pub data: Vec<PathBuf>,
    /// Evaluate only these packages of your policies (repeatable); default: every package.
    #[arg(short, long = "namespace", value_name = "NS")]
    pub namespaces: Vec<String>,
    /// Accept Rego v0 syntax (no `if`/`contains` keywords).
    #[arg(long)]
    pub rego_v0: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The limits of one policy evaluation (or one test).
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Time limit for one policy evaluation, in seconds (at least 1).
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = parse_seconds)]
    pub timeout: u64,
    /// Memory limit for one policy evaluation, in MiB (at least 1).
    #[arg(long, default_value_t = 2048, value_name = "MIB", value_parser = parse_mib)]
    pub memory_limit: u64,
}

impl LimitArgs {
    fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }

    fn memory_limit_bytes(&self) -> u64 {
        self.memory_limit << 20
    }
}

impl PolicyArgs {
    fn load_options(&self, with_tests: bool) -> LoadOptions {
        LoadOptions {
            builtin: !self.no_builtin,
            paths: self.policies.clone(),
            data_files: self.data.clone(),
            extra_data: None,
            namespaces: self.namespaces.clone(),
            rego_v0: self.rego_v0,
            with_tests,
            timeout: self.limits.timeout(),
            memory_limit: self.limits.memory_limit_bytes(),
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Plan files: `show -json` output, a binary plan (converted with `tofu show -json`), or `-` for stdin.
    #[arg(required = true, value_name = "PLAN")]
    pub plans: Vec<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to a file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Which findings make the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Print nothing when there are no findings at the fail level.
    #[arg(short, long)]
    pub quiet: bool,
    /// Directory to run `show -json` in, for binary and encrypted plans.
    #[arg(long, value_name = "DIR")]
    pub chdir: Option<PathBuf>,
    /// The `tofu` or `terraform` binary for binary plans (default: `tofu`, else `terraform`, on PATH).
    #[arg(long, value_name = "PATH", env = "PLANGUARD_TOFU")]
    pub tofu: Option<PathBuf>,
    /// Time limit for `show -json` of a binary plan, in seconds; then it is stopped.
    #[arg(long, default_value_t = 300, value_name = "SECONDS", value_parser = parse_seconds)]
    pub show_timeout: u64,
    /// The most bytes read from one plan (or `show -json`): a number, or with K, M or G.
    #[arg(long, default_value = "2G", value_name = "SIZE", value_parser = crate::plan::read::parse_byte_size)]
    pub max_input_bytes: u64,
    /// Print the time each policy took, slowest first, to stderr.
    #[arg(long)]
    pub profile: bool,
}

/// A time limit of at least one second: `0` would stop everything before it starts.
fn parse_mib(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if (1..=1 << 30).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{text}` is not a whole number of MiB between 1 and 1073741824, e.g. 2048"
        )),
    }
}

fn parse_seconds(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Err(
            "0 seconds would stop every evaluation before it starts; give at least 1, \
                      or leave the option out for the default"
                .into(),
        ),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "`{text}` is not a whole number of seconds, e.g. 30"
        )),
    }
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Policy files or directories; default: the built-in library.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also load the built-in library (for your tests that use its helpers).
    #[arg(long)]
    pub builtin: bool,
    /// Run only tests whose name contains this.
    #[arg(long, value_name = "TEXT")]
    pub run: Option<String>,
    /// Show only failing tests (and the summary).
    #[arg(short, long)]
    pub quiet: bool,
    /// A JSON or YAML data file or directory, merged into `data` (repeatable).
    #[arg(short, long = "data", value_name = "FILE")]
    pub data: Vec<PathBuf>,
    /// Accept Rego v0 syntax.
    #[arg(long)]
    pub rego_v0: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Subcommand)]
pub enum PoliciesCommand {
    /// List the built-in policies.
    List,
    /// Show one policy's documentation.
    Show {
        /// The policy id, e.g. `aws-ebs-encryption`.
        id: String,
    },
    /// Print the catalogue as Markdown (docs/policies.md is generated with this).
    Docs,
    /// Write the library as plain Rego (the `planguard.*` helpers as Rego functions), so that
    /// `opa test DIR` and `conftest test --policy DIR` run it unchanged.
    Export {
        /// The directory to write (created if needed).
        dir: PathBuf,
    },
}

/// Runs the parsed command and returns the exit code.
pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Check(args) => run_check(args),
        Command::Test(args) => run_test(args),
        Command::Policies(cmd) => run_policies(cmd),
        Command::Serve(args) => run_serve(args),
    }
}

#[cfg(feature = "serve")]
fn run_serve(args: ServeArgs) -> Result<i32> {
    crate::serve::run(args.config.as_deref())
}

#[cfg(not(feature = "serve"))]
fn run_serve(_: ServeArgs) -> Result<i32> {
    eprintln!(
        "error: this planguard was built without the server (cargo's --no-default-features); \
         build it with the default features to run `planguard serve`"
    );
    Ok(2)
}

fn load(opts: &LoadOptions) -> Result<PolicySet, i32> {
    PolicySet::load(opts).map_err(|errors| {
        report_load_errors(&errors);
        2
    })
}

fn report_load_errors(errors: &[LoadError]) {
    let mut err = std::io::stderr().lock();
    for e in errors {
        let _ = writeln!(err, "error: {e}");
    }
    let _ = writeln!(
        err,
        "{} policy problem(s); nothing was evaluated",
        errors.len()
    );
}

fn run_check(args: CheckArgs) -> Result<i32> {
    let show = ShowOptions {
        chdir: args.chdir.clone(),
        binary: args.tofu.clone(),
        timeout: Duration::from_secs(args.show_timeout),
        max_input_bytes: args.max_input_bytes,
    };
    let options = args.policy.load_options(false);
    let report = match check::check(&args.plans, &show, || load(&options)) {
        Ok(report) => report,
        Err(code) => return Ok(code),
    };
    let code = report.exit_code(args.fail_on);
    if args.profile {
        print_profile(&report);
    }
    if args.quiet && code == 0 {
        return Ok(0);
    }
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = to_terminal && std::env::var_os("NO_COLOR").is_none();
    match &args.output {
        Some(path) => std::fs::File::create(path)
            .and_then(|file| {
                let mut out = std::io::BufWriter::new(file);
                render::write(&report, args.format, color, &mut out)?;
                out.flush()
            })
            .with_context(|| format!("writing {}", path.display()))?,
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            render::write(&report, args.format, color, &mut out)?;
            out.flush()?
        }
    }
    // Unreadable plans are explained on stderr too, so they are seen whatever the format.
    for plan in &report.plans {
        if let Some(e) = &plan.error {
            if args.format != Format::Text || args.output.is_some() {
                eprintln!("error: {e}");
            }
        }
    }
    crate::policy::memory::free_in_background(report);
    Ok(code)
}

fn print_profile(report: &check::Report) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "total {:.3?}", report.duration);
    for plan in &report.plans {
        let mut rows: Vec<_> = plan.evaluation.timings.iter().collect();
        rows.sort_by(|a, b| b.1.cmp(a.1));
        let phases: Vec<String> = plan
            .phases
            .iter()
            .map(|p| format!("{} {:.3?}", p.name, p.duration))
            .collect();
        let _ = writeln!(err, "{}: {}", plan.name, phases.join(", "));
        let peaks: Vec<String> = plan
            .phases
            .iter()
            .filter_map(|p| Some(format!("{} {} MB", p.name, p.peak_rss? / 1_000_000)))
            .collect();
        if !peaks.is_empty() {
            let _ = writeln!(err, "{}: peak memory after {}", plan.name, peaks.join(", "));
        }
        let _ = writeln!(
            err,
            "{}: policy time (summed over threads and slices)",
            plan.name
        );
        for (id, d) in rows.iter().take(20) {
            let _ = writeln!(err, "  {:>10.3?}  {id}", d);
        }
    }
}

fn run_test(args: TestArgs) -> Result<i32> {
    let opts = LoadOptions {
        builtin: args.paths.is_empty() || args.builtin,
        paths: args.paths.clone(),
        data_files: args.data.clone(),
        rego_v0: args.rego_v0,
        with_tests: true,
        timeout: args.limits.timeout(),
        memory_limit: args.limits.memory_limit_bytes(),
        ..LoadOptions::default()
    };
    let set = match load(&opts) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let reports = policy::run_tests(&set, args.run.as_deref());
    let mut out = std::io::stdout().lock();
    let (mut passed, mut failed, mut errored) = (0, 0, 0);
    for r in &reports {
        let (tag, detail) = match &r.outcome {
            TestOutcome::Pass => {
                passed += 1;
                ("PASS", String::new())
            }
            TestOutcome::Fail => {
                failed += 1;
                ("FAIL", String::new())
            }
            TestOutcome::Error(e) => {
                errored += 1;
                ("ERROR", format!("\n      {e}"))
            }
        };
        if !args.quiet || r.outcome != TestOutcome::Pass {
            writeln!(
                out,
                "{tag:5} {}:{} {} ({:.1?}){detail}",
                r.file, r.line, r.name, r.duration
            )?;
        }
    }
    if reports.is_empty() {
        writeln!(
            out,
            "no tests found (tests are `test_*` rules in `*_test.rego` files)"
        )?;
        return Ok(1);
    }
    writeln!(out, "{passed} passed, {} failed", failed + errored)?;
    Ok(i32::from(failed + errored > 0))
}

fn run_policies(cmd: PoliciesCommand) -> Result<i32> {
    let text = match cmd {
        PoliciesCommand::Export { dir } => {
            let files = crate::policy::export::export(&dir)
                .with_context(|| format!("writing the library to {}", dir.display()))?;
            format!(
                "wrote {} files to {} (run its tests with `opa test {}`)\n",
                files.len(),
                dir.display(),
                dir.display()
            )
        }
        catalogue_cmd => {
            let set = match load(&LoadOptions::default()) {
                Ok(s) => s,
                Err(code) => return Ok(code),
            };
            match catalogue_cmd {
                PoliciesCommand::Show { id } => {
                    match crate::catalogue::show(set.catalogue(), &id) {
                        Ok(text) => text,
                        Err(msg) => {
                            eprintln!("error: {msg}");
                            return Ok(2);
                        }
                    }
                }
                PoliciesCommand::Docs => crate::catalogue::markdown(set.catalogue()),
                _ => crate::catalogue::list(set.catalogue()),
            }
        }
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(0)
}
