//! Running a stack's steps in isolation: its own working copy, its own process group, its
//! own minimal environment, a sandbox, a time limit, and a way to cancel.
//!
//! - [`workdir`]: fetching a commit with git2 into a directory per (repo, PR, stack), and the
//!   files a range of commits changed.
//! - [`process`]: one step as a child process in a new process group. A timeout or a cancel
//!   kills the whole group (so `tofu`'s provider plugins die with it); output is captured,
//!   bounded, and never inherits the server's environment.
//! - [`sandbox`]: namespaces, a fresh `/proc` and a Landlock ruleset around each step, so it
//!   reaches only its own [`Access`] and the toolchain, and dies whole when it ends.
//!
//! [`PlanRunner`] is the seam the worker uses; [`ProcessRunner`] is the real one.

pub mod process;
pub mod sandbox;
pub mod workdir;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

pub use process::ProcessRunner;
pub use sandbox::Access;

/// One process to run.
#[derive(Debug, Clone)]
pub struct StepRun {
    /// For logs and reports: `init`, `plan`, `run`, ...
    pub name: String,
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// The whole environment of the child (nothing is inherited).
    pub env: BTreeMap<String, String>,
    pub timeout: Duration,
    /// What the step may reach in the sandbox besides the toolchain.
    pub access: Access,
    /// Where stdout is streamed (up to [`process::MAX_STDOUT`]); `None`: not kept apart.
    pub stdout_file: Option<PathBuf>,
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepStatus {
    Exited(i32),
    /// Killed by a signal it did not expect (crash).
    Signalled(i32),
    TimedOut,
    Cancelled,
    /// The program could not be started.
    SpawnFailed(String),
}

/// A finished step.
#[derive(Debug, Clone)]
pub struct StepOutcome {
    pub status: StepStatus,
    /// The last [`process::MAX_OUTPUT`] bytes of stdout and stderr, interleaved as they
    /// arrived.
    pub output: String,
    /// How many bytes the step wrote to stdout (all of them, even past the cap).
    pub stdout_len: u64,
    /// Whether stdout went past [`process::MAX_STDOUT`], so its file holds only the start.
    pub stdout_truncated: bool,
    pub duration: Duration,
}

impl StepOutcome {
    pub fn success(&self) -> bool {
        self.status == StepStatus::Exited(0)
    }

    /// A one-line description of a failure.
    pub fn describe(&self, step: &str) -> String {
        match &self.status {
            StepStatus::Exited(0) => format!("`{step}` succeeded"),
            StepStatus::Exited(code) => format!("`{step}` exited with code {code}"),
            StepStatus::Signalled(sig) => {
                format!("`{step}` crashed (killed by signal {sig})")
            }
            StepStatus::TimedOut => format!(
                "`{step}` ran longer than the step timeout after {}s and was killed",
                self.duration.as_secs()
            ),
            StepStatus::Cancelled => format!("`{step}` was cancelled"),
            StepStatus::SpawnFailed(e) => format!("`{step}` could not start: {e}"),
        }
    }
}

/// Runs step processes.
#[async_trait]
pub trait PlanRunner: Send + Sync + 'static {
    async fn run(&self, step: &StepRun, cancel: &CancellationToken) -> StepOutcome;
}
