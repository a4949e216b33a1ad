//! The serve half: `planguard serve`, everything with HTTP, SQL, git and processes.
//!
//! It is built on the check half ([`crate::plan`], [`crate::policy`], [`crate::check`],
//! [`crate::render`]) and nothing in the check half depends on it; `--no-default-features`
//! builds planguard without it. Inside, dependencies point inward, from the edges to the
//! domain:
//!
//! - [`domain`]: the typed values (repository, PR, commit, stack) parsed at the edge.
//! - [`config`]: the server's TOML file and environment overrides, validated up front;
//!   [`diagnostics`]: how a problem in it or in `planguard.yaml` is reported.
//! - [`accounts`]: the registry of credentials, bound to directories; [`codeowners`]: GitHub's
//!   CODEOWNERS rules.
//! - [`repo_config`] and [`workflow`]: `planguard.yaml`, stacks, and their step pipelines;
//!   [`trust`]: which settings come from the default branch and which from a pull request's head.
//! - [`enforcement`] and [`gate`]: which findings block, and the apply requirements.
//! - [`command`]: `planguard ...` PR comment commands; [`webhook`]: signature verification and
//!   parsing deliveries into domain events.
//! - [`stack`]: a stack's state on a pull request, as stored and as rendered; [`pr_comment`]:
//!   the one planguard comment on a pull request; [`replies`]: every other text the bot posts.
//! - The seams to the outside world: [`store`] (durable jobs, locks, plans and the audit log),
//!   [`vcs`] (GitHub), [`runner`] (working copies and sandboxed `tofu` processes).
//! - [`intake`]: group commit of accepted deliveries; [`metrics`]: Prometheus counters.
//! - [`worker`]: the job engine: claiming jobs and carrying them out.
//! - [`http`]: the axum router, the accept loop, and launching workers beside it.

pub mod accounts;
pub mod codeowners;
pub mod command;
pub mod config;
pub mod diagnostics;
pub mod domain;
pub mod enforcement;
pub mod gate;
pub mod http;
pub mod intake;
pub mod metrics;
pub mod pr_comment;
pub mod replies;
pub mod repo_config;
pub mod runner;
pub mod stack;
pub mod store;
pub mod trust;
pub mod vcs;
pub mod webhook;
pub mod worker;
pub mod workflow;

use std::path::Path;

use anyhow::{Context, Result};

use config::{LogFormat, ServerConfig};

/// `planguard serve`: loads the config (`--config FILE` and `PLANGUARD_*`), sets up logging and
/// runs the server until it is told to stop. Returns the process's exit code.
pub fn run(config_file: Option<&Path>) -> Result<i32> {
    let config = match ServerConfig::load(config_file, |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: the server config is invalid; planguard serve did not start:\n{e}");
            return Ok(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PLANGUARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().with_current_span(true).init(),
        LogFormat::Text => builder.init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match runtime.block_on(http::serve(config)) {
        Ok(()) => Ok(0),
        Err(e) => {
            tracing::error!(error = %e, "planguard serve stopped");
            eprintln!("error: {e}");
            Ok(2)
        }
    }
}
