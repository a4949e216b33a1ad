//! Running `tofu show -json` (or `terraform show -json`) on a binary or encrypted plan file.
//!
//! OpenTofu is preferred when it is on PATH; Terraform is the fallback. The server's plan
//! runner reuses [`find_binary`] so both halves of planguard pick the same program.

use std::path::{Path, PathBuf};
use std::process::Command;

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

/// Why `show -json` could not produce JSON.
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
    #[error("`{command}` exited with {status}: {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
}

impl ShowError {
    pub fn command(&self) -> String {
        match self {
            ShowError::NotFound => "tofu show -json".into(),
            ShowError::Spawn { command, .. } | ShowError::Failed { command, .. } => command.clone(),
        }
    }

    pub fn detail(&self) -> String {
        match self {
            ShowError::NotFound => self.to_string(),
            ShowError::Spawn { source, .. } => source.to_string(),
            ShowError::Failed { status, stderr, .. } => format!(
                "exit {status}: {}. Run it in the directory the plan was made in (`--chdir DIR`), \
                 after `init`",
                stderr.trim()
            ),
        }
    }
}

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

/// Runs `show -json PLANFILE`, in `chdir` when given, and returns its stdout.
pub fn show_json(
    binary: &TofuBinary,
    plan: &Path,
    chdir: Option<&Path>,
) -> Result<String, ShowError> {
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
        .env("TF_IN_AUTOMATION", "1");
    let command = format!(
        "{}{} show -json {}",
        binary.flavour(),
        chdir
            .map(|d| format!(" -chdir={}", d.display()))
            .unwrap_or_default(),
        plan.display()
    );
    let out = cmd.output().map_err(|source| ShowError::Spawn {
        command: command.clone(),
        source,
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr: String = stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(8)
            .collect::<Vec<_>>()
            .join(" ");
        return Err(ShowError::Failed {
            command,
            status: out.status.to_string(),
            stderr,
        });
    }
    String::from_utf8(out.stdout).map_err(|e| ShowError::Failed {
        command,
        status: "0".into(),
        stderr: format!("output is not UTF-8: {e}"),
    })
}
