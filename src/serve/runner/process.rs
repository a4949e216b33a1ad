//! A step as a child process in its own process group, sandboxed unless the server says not.
//!
//! The child starts with an empty environment plus exactly what the caller passes, in a new
//! process group (`setpgid(0, 0)`), with stdin closed, inside the [`super::sandbox`] when the
//! runner is [`ProcessRunner::sandboxed`]. On timeout or cancel the whole group gets SIGTERM,
//! then SIGKILL after a grace period, so grandchildren (provider plugins, shell pipelines)
//! cannot outlive the step; in the sandbox, the step's PID namespace dies with it as well,
//! which also takes processes that left the group (`setsid`).
//!
//! Output is read concurrently from both pipes. stdout is streamed to the step's file on disk
//! (up to [`MAX_STDOUT`]); only the last [`MAX_OUTPUT`] bytes of stdout and stderr together are
//! kept in memory, so a step that prints hundreds of megabytes does not grow the server.

use std::collections::VecDeque;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::{sandbox, PlanRunner, StepOutcome, StepRun, StepStatus};

/// How much combined output is kept in memory (the end of it).
pub const MAX_OUTPUT: usize = 1 << 20;
/// How much stdout is written to the step's stdout file (`show -json` of a large plan).
pub const MAX_STDOUT: u64 = 1 << 30;
/// Between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// Runs steps as real processes.
#[derive(Debug, Clone)]
pub struct ProcessRunner {
    sandbox: bool,
}

impl ProcessRunner {
    /// Every step in the [`sandbox`]. Check [`sandbox::probe`] at start-up first.
    pub fn sandboxed() -> ProcessRunner {
        ProcessRunner { sandbox: true }
    }

    /// Steps run as the server's user with its file system (`sandbox = "off"`).
    pub fn unsandboxed() -> ProcessRunner {
        ProcessRunner { sandbox: false }
    }

    pub fn is_sandboxed(&self) -> bool {
        self.sandbox
    }
}

fn signal_group(pid: u32, sig: i32) {
    // SAFETY: kill(2) with a negative pid signals the process group the child leads; it has
    // no memory effects in this process.
    unsafe {
        libc::kill(-(pid as i32), sig);
    }
}

/// The last [`MAX_OUTPUT`] bytes of what both pipes wrote.
#[derive(Default)]
struct Tail(VecDeque<u8>);

impl Tail {
    fn push(&mut self, bytes: &[u8]) {
        let bytes = &bytes[bytes.len().saturating_sub(MAX_OUTPUT)..];
        let over = (self.0.len() + bytes.len()).saturating_sub(MAX_OUTPUT);
        self.0.drain(..over);
        self.0.extend(bytes);
    }
}

/// Where stdout goes besides the tail.
struct StdoutSink {
    file: tokio::fs::File,
    written: u64,
    seen: u64,
}

async fn pump(
    mut from: impl AsyncRead + Unpin,
    combined: Arc<Mutex<Tail>>,
    mut sink: Option<&mut StdoutSink>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if let Some(sink) = sink.as_deref_mut() {
                    sink.seen += n as u64;
                    let room = MAX_STDOUT.saturating_sub(sink.written);
                    let take = (n as u64).min(room) as usize;
                    if take > 0 && sink.file.write_all(&buf[..take]).await.is_ok() {
                        sink.written += take as u64;
                    }
                }
                combined.lock().unwrap().push(&buf[..n]);
            }
        }
    }
}

fn failed(status: StepStatus, started: Instant) -> StepOutcome {
    StepOutcome {
        status,
        output: String::new(),
        stdout_len: 0,
        stdout_truncated: false,
        duration: started.elapsed(),
    }
}

async fn open_stdout(path: &Path) -> std::io::Result<StdoutSink> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    Ok(StdoutSink {
        file: tokio::fs::File::create(path).await?,
        written: 0,
        seen: 0,
    })
}

#[async_trait]
impl PlanRunner for ProcessRunner {
    // Long on purpose: spawn, stream, time out and kill one process group: the cleanup paths must stay in sight of the spawn.
    async fn run(&self, step: &StepRun, cancel: &CancellationToken) -> StepOutcome {
        let started = Instant::now();
        let Some((program, args)) = step.argv.split_first() else {
            return failed(StepStatus::SpawnFailed("empty command".into()), started);
        };
        let mut sink = match &step.stdout_file {
            None => None,
            Some(path) => match open_stdout(path).await {
                Ok(s) => Some(s),
                Err(e) => {
                    return failed(
                        StepStatus::SpawnFailed(format!(
                            "cannot create the stdout file {}: {e}",
                            path.display()
                        )),
                        started,
                    )
                }
            },
        };
        let mut std_cmd = std::process::Command::new(program);
        {
            use std::os::unix::process::CommandExt;
            std_cmd
                .args(args)
                .current_dir(&step.cwd)
                .env_clear()
                .envs(&step.env)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .process_group(0);
        }
        if self.sandbox {
            if let Err(e) = sandbox::confine(&mut std_cmd, &step.access) {
                return failed(StepStatus::SpawnFailed(format!("sandbox: {e}")), started);
            }
        }
        let mut cmd = Command::from(std_cmd);
        cmd.kill_on_drop(true);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return failed(StepStatus::SpawnFailed(format!("{program}: {e}")), started),
        };
        let pid = child.id().unwrap_or(0);
        let combined = Arc::new(Mutex::new(Tail::default()));
        let out = child.stdout.take();
        let err = child.stderr.take();
        let readers = {
            let c1 = combined.clone();
            let c2 = combined.clone();
            let sink = sink.as_mut();
            async move {
                tokio::join!(
                    async {
                        if let Some(o) = out {
                            pump(o, c1, sink).await
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
        let (stdout_len, stdout_truncated) = match sink.as_mut() {
            Some(s) => {
                let _ = s.file.flush().await;
                (s.seen, s.seen > s.written)
            }
            None => (0, false),
        };
        let output = {
            let c = combined.lock().unwrap();
            let (a, b) = c.0.as_slices();
            let mut bytes = Vec::with_capacity(a.len() + b.len());
            bytes.extend_from_slice(a);
            bytes.extend_from_slice(b);
            String::from_utf8_lossy(&bytes).into_owned()
        };
        StepOutcome {
            status,
            output,
            stdout_len,
            stdout_truncated,
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
            access: Default::default(),
            stdout_file: None,
        }
    }

    #[tokio::test]
    async fn output_and_exit_code_are_captured_and_the_environment_is_only_what_was_given() {
        std::env::set_var("PLANGUARD_TEST_SECRET", "hunter2");
        let dir = tempfile::tempdir().unwrap();
        let mut s = step(
            "echo out; echo err >&2; env; exit 3",
            Duration::from_secs(10),
        );
        s.stdout_file = Some(dir.path().join("stdout"));
        let out = ProcessRunner::unsandboxed()
            .run(&s, &CancellationToken::new())
            .await;
        assert_eq!(out.status, StepStatus::Exited(3));
        assert!(out.output.contains("out") && out.output.contains("err"));
        let stdout = std::fs::read_to_string(dir.path().join("stdout")).unwrap();
        assert!(stdout.contains("out") && !stdout.contains("err"));
        assert_eq!(out.stdout_len, stdout.len() as u64);
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
        let out = ProcessRunner::unsandboxed()
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
        let out = ProcessRunner::unsandboxed()
            .run(&step("sleep 30", Duration::from_secs(60)), &cancel)
            .await;
        assert_eq!(out.status, StepStatus::Cancelled);
        assert!(t.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_missing_program_is_reported() {
        let mut s = step("", Duration::from_secs(1));
        s.argv = vec!["/nonexistent/tofu".into()];
        let out = ProcessRunner::unsandboxed()
            .run(&s, &CancellationToken::new())
            .await;
        assert!(matches!(out.status, StepStatus::SpawnFailed(_)));
        assert!(out.describe("init").contains("could not start"));
    }

    #[test]
    fn the_tail_keeps_the_last_mib() {
        let mut t = Tail::default();
        for i in 0..3000u32 {
            t.push(&[(i % 251) as u8; 1000]);
        }
        assert_eq!(t.0.len(), MAX_OUTPUT);
        assert_eq!(*t.0.back().unwrap(), (2999 % 251) as u8);
        t.push(&vec![7u8; 3 * MAX_OUTPUT]);
        assert_eq!(t.0.len(), MAX_OUTPUT);
        assert!(t.0.iter().all(|&b| b == 7));
    }
}
