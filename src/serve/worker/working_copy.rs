//! Working copies are a per-replica cache: an apply may run on a replica that never made the
//! plan (or that lost its cache), so it first restores the stack's working copy.
//!
//! The plan file itself comes from the database (see `saved_plan_file`); this module brings
//! the code back: a checkout at the planned commit, then the plan workflow's `init` steps, so
//! `tofu apply <planfile>` finds an initialised directory. A working copy already at the
//! planned commit is used as it is (the replica that planned has it so, initialised).

use tokio_util::sync::CancellationToken;

use super::plan::{Phase, StackRun};
use super::{JobError, Services};
use crate::serve::runner::workdir;
use crate::serve::store::PrRecord;
use crate::serve::workflow::StepKind;

impl Services {
    /// Restores `run`'s working copy when this replica has none. Returns the failed init's
    /// output when initialising failed (the apply cannot run).
    pub(super) async fn restore_working_copy(
        &self,
        pr: &PrRecord,
        run: &StackRun<'_>,
        cancel: &CancellationToken,
    ) -> Result<Option<String>, JobError> {
        if at_commit(&run.root, run.sha.as_str()) {
            return Ok(None);
        }
        tracing::info!(
            stack = %run.stack.name,
            "no working copy at the planned commit on this replica; checking it out"
        );
        let token = self.vcs.clone_token(run.repo).await?;
        let (url, root, sha) = (pr.clone_url.clone(), run.root.clone(), run.sha.clone());
        let specs = workdir::refspecs(pr.pr.0, &pr.head_ref, None);
        tokio::task::spawn_blocking(move || {
            workdir::checkout(&url, token.as_deref(), &root, &specs, &sha)
        })
        .await
        .map_err(|e| JobError::Permanent(format!("working copy task: {e}")))??;
        for step in run
            .stack
            .workflow
            .plan
            .iter()
            .filter(|s| s.kind == StepKind::Init)
        {
            let out = self
                .run_step(run, step, Phase::Apply, &run.planfile, cancel)
                .await;
            if !out.success() {
                let text = format!("{}\n\n{}", out.describe(step.name()), out.output);
                let redact = crate::redact::Redactor::default()
                    .with_secrets(self.secrets(run.stack).iter().map(String::as_str));
                return Ok(Some(redact.redact(&text).into_owned()));
            }
        }
        Ok(None)
    }
}

/// Whether the working copy at `root` exists and is checked out at `sha`.
fn at_commit(root: &std::path::Path, sha: &str) -> bool {
    git2::Repository::open(root)
        .ok()
        .and_then(|r| r.head().ok()?.target())
        .is_some_and(|oid| oid.to_string() == sha)
}
