//! A step as a child process in its own process group.
//!
//! The child starts with an empty environment plus exactly what the caller passes, in a new
//! process group (`setpgid(0, 0)`), with stdin closed. On timeout or cancel the whole group
//! gets SIGTERM, then SIGKILL after a grace period, so grandchildren (provider plugins, shell
//! pipelines) cannot outlive the step. Output is read concurrently from both pipes and kept
//! bounded.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::{PlanRunner, StepOutcome, StepRun, StepStatus};

/// How much combined output is kept (the end of it).
pub const MAX_OUTPUT: usize = 1 << 20;
/// How much stdout is kept for parsing (`show -json` of a large plan).
pub const MAX_STDOUT: usize = 1 << 30;
/// Between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// Runs steps as real processes.
#[derive(Debug, Clone, Default)]
pub struct ProcessRunner;

fn signal_group(pid: u32, sig: i32) {
    // SAFETY: kill(2) with a negative pid signals the process group the child leads; it has
    // no memory effects in this process.
    unsafe {
        libc::kill(-(pid as i32), sig);
    }
}

async fn pump(
    mut from: impl AsyncRead + Unpin,
    combined: Arc<Mutex<Vec<u8>>>,
    mut own: Option<&mut Vec<u8>>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if let Some(own) = own.as_deref_mut() {
                    if own.len() + n <= MAX_STDOUT {
                        own.extend_from_slice(&buf[..n]);
                    }
                }
                let mut c = combined.lock().unwrap();
                c.extend_from_slice(&buf[..n]);
                if c.len() > 2 * MAX_OUTPUT {
                    let cut = c.len() - MAX_OUTPUT;
                    c.drain(..cut);
                }
            }
        }
    }
}

#[async_trait]
impl PlanRunner for ProcessRunner {
    async fn run(&self, step: &StepRun, cancel: &CancellationToken) -> StepOutcome {
        let started = Instant::now();
        let Some((program, args)) = step.argv.split_first() else {
            return StepOutcome {
                status: StepStatus::SpawnFailed("empty command".into()),
                output: String::new(),
                stdout: Vec::new(),
                duration: Duration::ZERO,
            };
        };
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(&step.cwd)
            .env_clear()
            .envs(&step.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                return StepOutcome {
                    status: StepStatus::SpawnFailed(format!("{program}: {e}")),
                    output: String::new(),
                    stdout: Vec::new(),
                    duration: started.elapsed(),
                }
            }
        };
        let pid = child.id().unwrap_or(0);
        let combined = Arc::new(Mutex::new(Vec::new()));
        let mut stdout_buf = Vec::new();
        let out = child.stdout.take();
        let err = child.stderr.take();
        let readers = {
            let c1 = combined.clone();
            let c2 = combined.clone();
            let stdout_buf = &mut stdout_buf;
            async move {
                tokio::join!(
                    async {
                        if let Some(o) = out {
                            pump(o, c1, Some(stdout_buf)).await
                        }
                    },
                    async {
                        if let Some(e) = err {
                            pump(e, c2, None).await
                        }
                    }
                );
            }
        };
        let waited = async {
            let (_, status) = tokio::join!(readers, child.wait());
            status
        };
        let ended = tokio::select! {
            status = waited => Ok(status),
            _ = tokio::time::sleep(step.timeout) => Err(StepStatus::TimedOut),
            _ = cancel.cancelled() => Err(StepStatus::Cancelled),
        };
        let status = match ended {
            Ok(Ok(s)) => {
                use std::os::unix::process::ExitStatusExt;
                match (s.code(), s.signal()) {
                    (Some(code), _) => StepStatus::Exited(code),
                    (None, Some(sig)) => StepStatus::Signalled(sig),
                    (None, None) => StepStatus::Exited(-1),
                }
            }
            Ok(Err(e)) => StepStatus::SpawnFailed(e.to_string()),
            Err(why) => {
                signal_group(pid, libc::SIGTERM);
                if tokio::time::timeout(GRACE, child.wait()).await.is_err() {
                    signal_group(pid, libc::SIGKILL);
                    let _ = child.wait().await;
                }
                // Grandchildren that ignored SIGTERM go too.
                signal_group(pid, libc::SIGKILL);
                why
            }
        };
        let output = {
            let c = combined.lock().unwrap();
            let start = c.len().saturating_sub(MAX_OUTPUT);
            String::from_utf8_lossy(&c[start..]).into_owned()
        };
        StepOutcome {
            status,
            output,
            stdout: stdout_buf,
            duration: started.elapsed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn step(script: &str, timeout: Duration) -> StepRun {
        StepRun {
            name: "run".into(),
            argv: vec!["sh".into(), "-c".into(), script.into()],
            cwd: std::env::temp_dir(),
            env: BTreeMap::from([("PATH".to_owned(), "/usr/bin:/bin".to_owned())]),
            timeout,
        }
    }

    #[tokio::test]
    async fn output_and_exit_code_are_captured_and_the_environment_is_only_what_was_given() {
        std::env::set_var("PLANGUARD_TEST_SECRET", "hunter2");
        let out = ProcessRunner
            .run(
                &step(
                    "echo out; echo err >&2; env; exit 3",
                    Duration::from_secs(10),
                ),
                &CancellationToken::new(),
            )
            .await;
        assert_eq!(out.status, StepStatus::Exited(3));
        assert!(out.output.contains("out") && out.output.contains("err"));
        assert!(String::from_utf8_lossy(&out.stdout).contains("out"));
        assert!(
            !out.output.contains("hunter2"),
            "the server's environment leaked"
        );
    }

    #[tokio::test]
    async fn a_timeout_kills_the_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("grandchild-survived");
        let script = format!("(sleep 3; touch {}) & sleep 30", marker.display());
        let out = ProcessRunner
            .run(
                &step(&script, Duration::from_millis(300)),
                &CancellationToken::new(),
            )
            .await;
        assert_eq!(out.status, StepStatus::TimedOut);
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(!marker.exists(), "a grandchild outlived the timeout");
    }

    #[tokio::test]
    async fn cancel_stops_a_running_step() {
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            c.cancel();
        });
        let t = Instant::now();
        let out = ProcessRunner
            .run(&step("sleep 30", Duration::from_secs(60)), &cancel)
            .await;
        assert_eq!(out.status, StepStatus::Cancelled);
        assert!(t.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_missing_program_is_reported() {
        let mut s = step("", Duration::from_secs(1));
        s.argv = vec!["/nonexistent/tofu".into()];
        let out = ProcessRunner.run(&s, &CancellationToken::new()).await;
        assert!(matches!(out.status, StepStatus::SpawnFailed(_)));
        assert!(out.describe("init").contains("could not start"));
    }
}
