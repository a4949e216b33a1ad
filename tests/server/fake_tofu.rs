//! A `tofu` that runs nothing: the step runner seam played in memory, so the job engine's
//! scenarios (queueing, locks, gate refusals, failures, restarts) run in milliseconds, beside
//! the end-to-end tests that run the real binary.
//!
//! A stack plans what it says it would: `plan` saves the stack directory's `fake-plan.json`
//! (or a plan without changes when there is none) as the plan file, and `show` prints the plan
//! file. Every other step succeeds. Tests can make a step crash, and hold plans until released.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use planguard::serve::runner::{PlanRunner, StepOutcome, StepRun, StepStatus};

/// The file in a stack's directory that holds what its plan shows.
pub const FAKE_PLAN: &str = "fake-plan.json";

/// A `show -json` document with one `terraform_data` resource created with `input`.
pub fn plan_creating(address: &str, input: serde_json::Value) -> String {
    let name = address.rsplit('.').next().unwrap_or(address);
    serde_json::json!({
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "resource_changes": [{
            "address": address,
            "mode": "managed",
            "type": "terraform_data",
            "name": name,
            "provider_name": "terraform.io/builtin/terraform",
            "change": {
                "actions": ["create"],
                "before": null,
                "after": { "input": input },
                "after_unknown": { "id": true, "output": true }
            }
        }],
        "configuration": { "root_module": {} }
    })
    .to_string()
}

const NO_CHANGES: &str =
    r#"{"format_version":"1.2","terraform_version":"1.11.4","configuration":{"root_module":{}}}"#;

/// One step the engine asked for.
#[derive(Debug, Clone)]
pub struct Call {
    /// `init`, `plan`, `show`, `apply`, ...
    pub step: String,
    pub cwd: PathBuf,
}

pub struct FakeTofu {
    calls: Mutex<Vec<Call>>,
    crashing: Mutex<Vec<String>>,
    /// `true` while plans are held.
    held: watch::Sender<bool>,
}

impl FakeTofu {
    pub fn new() -> FakeTofu {
        FakeTofu {
            calls: Mutex::new(Vec::new()),
            crashing: Mutex::new(Vec::new()),
            held: watch::channel(false).0,
        }
    }

    /// The steps run so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// How many times `step` ran.
    pub fn count(&self, step: &str) -> usize {
        self.calls().iter().filter(|c| c.step == step).count()
    }

    /// From now on, `step` dies of a segmentation fault.
    pub fn crash(&self, step: &str) {
        self.crashing.lock().unwrap().push(step.to_owned());
    }

    /// Plans started from now on wait (or stay cancellable) until [`FakeTofu::release_plans`].
    pub fn hold_plans(&self) {
        self.held.send_replace(true);
    }

    pub fn release_plans(&self) {
        self.held.send_replace(false);
    }

    fn plan(&self, step: &StepRun) -> std::io::Result<()> {
        let out = step
            .argv
            .iter()
            .find_map(|a| a.strip_prefix("-out="))
            .map(|p| step.cwd.join(p))
            .ok_or_else(|| std::io::Error::other("plan without -out="))?;
        let shown = std::fs::read_to_string(step.cwd.join(FAKE_PLAN))
            .unwrap_or_else(|_| NO_CHANGES.to_owned());
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(out, shown)
    }

    fn show(&self, step: &StepRun) -> std::io::Result<String> {
        let planfile = step.argv.last().map(|p| step.cwd.join(p));
        let json = std::fs::read_to_string(planfile.as_deref().unwrap_or(Path::new("")))?;
        match &step.stdout_file {
            Some(file) => {
                std::fs::create_dir_all(file.parent().unwrap())?;
                std::fs::write(file, &json)?;
                Ok(String::new())
            }
            None => Ok(json),
        }
    }
}

fn outcome(status: StepStatus, output: String, stdout_len: u64, started: Instant) -> StepOutcome {
    StepOutcome {
        status,
        output,
        stdout_len,
        stdout_truncated: false,
        duration: started.elapsed(),
    }
}

#[async_trait]
impl PlanRunner for FakeTofu {
    async fn run(&self, step: &StepRun, cancel: &CancellationToken) -> StepOutcome {
        let started = Instant::now();
        self.calls.lock().unwrap().push(Call {
            step: step.name.clone(),
            cwd: step.cwd.clone(),
        });
        if self.crashing.lock().unwrap().contains(&step.name) {
            return outcome(
                StepStatus::Signalled(11),
                "Segmentation fault\n".into(),
                0,
                started,
            );
        }
        let result = match step.argv.get(1).map(String::as_str) {
            Some("plan") => {
                let mut held = self.held.subscribe();
                tokio::select! {
                    _ = held.wait_for(|h| !h) => {}
                    _ = cancel.cancelled() => {
                        return outcome(StepStatus::Cancelled, String::new(), 0, started);
                    }
                    _ = tokio::time::sleep(Duration::from_secs(60)) => {
                        return outcome(StepStatus::TimedOut, String::new(), 0, started);
                    }
                }
                self.plan(step).map(|()| "Plan: 1 to add.\n".to_owned())
            }
            Some("show") => self.show(step),
            Some("apply") => Ok("Apply complete! Resources: 1 added.\n".to_owned()),
            _ => Ok(String::new()),
        };
        match result {
            Ok(output) => {
                let len = step
                    .stdout_file
                    .as_ref()
                    .and_then(|f| std::fs::metadata(f).ok())
                    .map_or(output.len() as u64, |m| m.len());
                outcome(StepStatus::Exited(0), output, len, started)
            }
            Err(e) => outcome(
                StepStatus::Exited(1),
                format!("fake tofu: {e}\n"),
                0,
                started,
            ),
        }
    }
}
