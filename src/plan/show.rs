//! Running `tofu show -json` (or `terraform show -json`) on a binary or encrypted plan file.
//!
//! OpenTofu is preferred when it is on PATH; Terraform is the fallback. The server's plan
//! runner reuses [`find_binary`] so both halves of planguard pick the same program.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// An OpenTofu or Terraform executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TofuBinary {
    pub path: PathBuf,
}

impl TofuBinary {
    pub fn at(path: PathBuf) -> Self {
        TofuBinary { path }
    }

    /// `tofu` or `terraform`, from the file name.
    pub fn flavour(&self) -> &str {
        match self.path.file_stem().and_then(|s| s.to_str()) {
            Some(s) if s.contains("tofu") => "tofu",
            _ => "terraform",
        }
    }

    /// The first line of `version`, e.g. `OpenTofu v1.8.0`.
    pub fn version(&self) -> Result<String, ShowError> {
        let out = Command::new(&self.path)
            .arg("version")
            .env("TF_IN_AUTOMATION", "1")
            .output()
            .map_err(|e| ShowError::Spawn {
                command: self.describe("version"),
                source: e,
            })?;
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text.lines().next().unwrap_or_default().trim().to_owned())
    }

    fn describe(&self, args: &str) -> String {
        format!("{} {args}", self.path.display())
    }
}

/// Why `show -json` could not produce JSON. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ShowError {
    #[error("neither `tofu` nor `terraform` is on PATH")]
    NotFound,
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "`{command}` did not finish within {} s, so planguard stopped it and every process it \
         started. A very large plan may need longer: raise the limit with `--show-timeout SECONDS`",
        timeout.as_secs()
    )]
    TimedOut { command: String, timeout: Duration },
    #[error(
        "this is not a readable plan file: it starts like one (a zip archive), but `{command}` \
         cannot read it: {said}. The file is probably damaged or cut short (an interrupted copy, \
         upload or download); re-create it with `{flavour} plan -out=tfplan`"
    )]
    Unreadable {
        command: String,
        flavour: String,
        said: String,
    },
    #[error(
        "`{command}` failed ({status}): {said}{}",
        if *needs_init { ". Run it where the plan was made, after `init`: pass that directory with `--chdir DIR`" } else { "" }
    )]
    Failed {
        command: String,
        status: String,
        said: String,
        needs_init: bool,
    },
    #[error(
        "`{command}` wrote more than {} of JSON, so planguard stopped it. If the plan really is \
         that large, raise the limit with `--max-input-bytes`",
        super::read::human_bytes(*limit)
    )]
    TooLarge { command: String, limit: u64 },
    #[error("`{command}` wrote output that is not UTF-8: {message}")]
    NotUtf8 { command: String, message: String },
}

impl ShowError {
    pub fn command(&self) -> String {
        match self {
            ShowError::NotFound => "tofu show -json".into(),
            ShowError::Spawn { command, .. }
            | ShowError::TimedOut { command, .. }
            | ShowError::Unreadable { command, .. }
            | ShowError::Failed { command, .. }
            | ShowError::TooLarge { command, .. }
            | ShowError::NotUtf8 { command, .. } => command.clone(),
        }
    }
}

/// What `show -json` may use.
#[derive(Debug, Clone, Copy)]
pub struct ShowLimits {
    /// After this, the process group is killed.
    pub timeout: Duration,
    /// The most JSON accepted on stdout.
    pub max_bytes: u64,
}

/// The default `--show-timeout`: five minutes, far more than `show -json` of a 100,000
/// resource plan takes.
pub const DEFAULT_SHOW_TIMEOUT: Duration = Duration::from_secs(300);

/// Finds `tofu` on PATH, else `terraform`.
pub fn find_binary() -> Result<TofuBinary, ShowError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["tofu", "terraform"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if is_executable(&candidate) {
                return Ok(TofuBinary::at(candidate));
            }
        }
    }
    Err(ShowError::NotFound)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs `show -json PLANFILE`, in `chdir` when given, and returns its stdout. The program
/// runs in its own process group, which is killed when it exceeds the time or output limit.
// Long on purpose: spawn, bounded read and kill of one process: the limits and the kill must stay in sight of each other.
pub fn show_json(
    binary: &TofuBinary,
    plan: &Path,
    chdir: Option<&Path>,
    limits: ShowLimits,
) -> Result<String, ShowError> {
    use std::os::unix::process::CommandExt;
    let plan_arg = if chdir.is_some() {
        std::path::absolute(plan).unwrap_or_else(|_| plan.to_path_buf())
    } else {
        plan.to_path_buf()
    };
    let mut cmd = Command::new(&binary.path);
    if let Some(dir) = chdir {
        cmd.arg(format!("-chdir={}", dir.display()));
    }
    cmd.args(["show", "-json", "-no-color"])
        .arg(&plan_arg)
        .env("TF_IN_AUTOMATION", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let command = format!(
        "{}{} show -json {}",
        binary.flavour(),
        chdir
            .map(|d| format!(" -chdir={}", d.display()))
            .unwrap_or_default(),
        plan.display()
    );
    let mut child = cmd.spawn().map_err(|source| ShowError::Spawn {
        command: command.clone(),
        source,
    })?;
    let group = child.id() as libc::pid_t;
    let kill_group = move || {
        // SAFETY: kill(2) with a negative pid signals the process group the child leads.
        unsafe { libc::kill(-group, libc::SIGKILL) };
    };
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let max_bytes = limits.max_bytes;
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let result = stdout
            .take(max_bytes.saturating_add(1))
            .read_to_end(&mut buf);
        let too_large = buf.len() as u64 > max_bytes;
        if too_large {
            kill_group();
        }
        (buf, result, too_large)
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut stderr = stderr;
        let _ = (&mut stderr).take(1 << 20).read_to_end(&mut buf);
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        buf
    });
    let deadline = Instant::now() + limits.timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                kill_group();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(source) => {
                kill_group();
                let _ = child.wait();
                return Err(ShowError::Spawn { command, source });
            }
        }
    };
    // The group is gone, or exited by itself: the pipes close and the readers finish.
    let (stdout, _, too_large) = out_reader.join().expect("stdout reader");
    let stderr = err_reader.join().expect("stderr reader");
    let Some(status) = status else {
        return Err(ShowError::TimedOut {
            command,
            timeout: limits.timeout,
        });
    };
    if too_large {
        return Err(ShowError::TooLarge {
            command,
            limit: max_bytes,
        });
    }
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        let errors = diagnostics(&stderr);
        let status = match status.code() {
            Some(code) => format!("exit code {code}"),
            None => status.to_string(),
        };
        let lower = errors.to_lowercase();
        if lower.contains("zip:")
            || lower.contains("failed to read the given file as a state or plan file")
        {
            let said = errors
                .split("Plan read error: ")
                .nth(1)
                .map(|s| format!("plan read error: {s}"))
                .unwrap_or_else(|| errors.clone());
            return Err(ShowError::Unreadable {
                command,
                flavour: binary.flavour().to_owned(),
                said: shorten(&said, 400),
            });
        }
        let needs_init = [
            "init",
            "provider",
            "plugin",
            "lock file",
            "backend",
            "encrypt",
            "schema",
            "module",
        ]
        .iter()
        .any(|w| lower.contains(w));
        return Err(ShowError::Failed {
            command,
            status,
            said: shorten(&errors, 600),
            needs_init,
        });
    }
    String::from_utf8(stdout).map_err(|e| ShowError::NotUtf8 {
        command,
        message: e.to_string(),
    })
}

/// The error diagnostics of tofu's stderr on one line: warning boxes (such as Terraform's
/// "Unable to open CLI configuration file") and the box drawing are left out.
pub fn diagnostics(stderr: &str) -> String {
    let mut blocks: Vec<Vec<&str>> = vec![Vec::new()];
    for line in stderr.lines() {
        let line = line.trim_end();
        let line = line
            .strip_prefix('│')
            .map(str::trim_start)
            .unwrap_or(line.trim_start());
        if line.starts_with('╷') || line.starts_with('╵') {
            blocks.push(Vec::new());
            continue;
        }
        if line.starts_with("Error:") || line.starts_with("Warning:") {
            blocks.push(Vec::new());
        }
        if !line.is_empty() {
            blocks.last_mut().expect("one block").push(line);
        }
    }
    let errors: Vec<&str> = blocks
        .iter()
        .filter(|b| b.first().is_some_and(|l| l.starts_with("Error:")))
        .flatten()
        .copied()
        .collect();
    let kept: Vec<&str> = if errors.is_empty() {
        blocks
            .iter()
            .filter(|b| {
                b.first().is_some_and(|l| {
                    !l.starts_with("Warning:")
                        && !l.ends_with("problems with the CLI configuration:")
                })
            })
            .flatten()
            .copied()
            .collect()
    } else {
        errors
    };
    kept.join(" ")
}

fn shorten(text: &str, max: usize) -> String {
    let text = text.trim().trim_end_matches('.');
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{}...", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warning_boxes_are_left_out_of_diagnostics() {
        let stderr = "There are some problems with the CLI configuration:\n╷\n│ Warning: Unable to open CLI configuration file\n│\n│ The CLI configuration file at \"/root/.terraformrc\" does not exist.\n╵\n\n\nError: Failed to read the given file as a state or plan file\n\nPlan read error: couldn't load the provided path (zip: not a valid zip file)\n";
        let d = diagnostics(stderr);
        assert_eq!(
            d,
            "Error: Failed to read the given file as a state or plan file Plan read error: couldn't load the provided path (zip: not a valid zip file)"
        );
        let boxed = "╷\n│ Error: Inconsistent dependency lock file\n│\n│ run \"tofu init\"\n╵\n";
        assert_eq!(
            diagnostics(boxed),
            "Error: Inconsistent dependency lock file run \"tofu init\""
        );
    }
}
