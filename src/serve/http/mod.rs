//! The HTTP surface of `planguard serve`, and launching the workers beside it.
//!
//! - [`routes`]: the axum router: `POST /webhooks/github`, `/healthz`, `/readyz`, `/metrics`,
//!   `GET /api/audit`.
//! - [`accept`]: the accept loop, with the connection cap and the header and idle timeouts.
//!
//! [`launch`] takes a bound listener and a shutdown token, so tests bind `127.0.0.1:0`, run a
//! real server in-process and stop it cleanly; [`serve`] is the binary's entry point.

pub mod accept;
pub mod routes;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::policy::{LoadOptions, PolicySet};
use crate::serve::config::{SandboxMode, ServerConfig};
use crate::serve::runner::{sandbox, ProcessRunner};
use crate::serve::store::{Database, SqlStore, StoreOptions};
use crate::serve::vcs::GitHub;
use crate::serve::worker::{run_workers, Services};
use crate::serve::workflow::Workflows;

/// How long shutdown waits for running jobs before leaving them to the next start.
pub const DRAIN: Duration = Duration::from_secs(300);

/// A startup problem, said so the operator knows what to fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(pub String);

/// Builds the real services from a validated config: the database (SQLite or PostgreSQL),
/// GitHub, the policy library, the `tofu`/`terraform` binary.
pub async fn services(config: ServerConfig) -> Result<Arc<Services>, StartError> {
    let database = Database::parse(&config.database);
    let options = StoreOptions {
        replica: config.replica.clone(),
        lease: Duration::from_secs(config.limits.job_lease_secs),
        max_connections: (config.workers as u32 + 4).max(10),
    };
    let store = SqlStore::connect(&database, options)
        .await
        .map_err(|e| StartError(format!("database {}: {e}", database.redacted())))?;
    let vcs = GitHub::new(&config.github).map_err(StartError)?;
    let policies = PolicySet::load(&LoadOptions {
        builtin: config.policies.builtin,
        paths: config.policies.paths.clone(),
        data_files: config.policies.data.clone(),
        ..LoadOptions::default()
    })
    .map_err(|errors| {
        StartError(format!(
            "the policies do not load:\n{}",
            errors
                .iter()
                .map(|e| format!("- {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        ))
    })?;
    let binary = match &config.binary {
        Some(b) => b.clone(),
        None => {
            crate::plan::find_binary()
                .map_err(|e| {
                    StartError(format!(
                        "{e}; install OpenTofu or Terraform, or set `binary`"
                    ))
                })?
                .path
        }
    };
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| StartError(format!("data_dir {}: {e}", config.data_dir.display())))?;
    // Jobs' HOME and TMPDIR left by a crash; a resumed job makes its own afresh.
    let _ = std::fs::remove_dir_all(config.data_dir.join("jobs"));
    let runner = step_runner(&config)?;
    Ok(Arc::new(Services::new(
        config,
        Arc::new(store),
        Arc::new(vcs),
        Arc::new(runner),
        policies,
        Workflows::builtin(),
        binary,
    )))
}

/// The step runner `sandbox` asks for. With the sandbox on, checks first that this host can
/// set it up and that nothing steps may read holds the data directory.
fn step_runner(config: &ServerConfig) -> Result<ProcessRunner, StartError> {
    if config.sandbox == SandboxMode::Off {
        tracing::warn!("sandbox = \"off\": steps run without a sandbox");
        return Ok(ProcessRunner::unsandboxed());
    }
    sandbox::probe().map_err(|e| {
        StartError(format!(
            "the step sandbox cannot be set up: {e}. Set sandbox = \"off\" \
             (PLANGUARD_SANDBOX=off) to run steps without a sandbox, as the server's user with \
             its file system"
        ))
    })?;
    let readable = sandbox::TOOLCHAIN_READ_ONLY
        .iter()
        .chain(sandbox::ETC_READ_ONLY)
        .map(std::path::PathBuf::from);
    for dir in readable {
        for (what, p) in [
            ("data_dir", &config.data_dir),
            ("database", &config.database),
        ] {
            if dir.exists() && sandbox::is_within(p, &dir) {
                return Err(StartError(format!(
                    "{what} {} is inside {}, which sandboxed steps can read; move it out",
                    p.display(),
                    dir.display()
                )));
            }
        }
    }
    Ok(ProcessRunner::sandboxed())
}

/// Serves HTTP on `listener` and runs the workers until `shutdown` is cancelled; then stops
/// accepting, drains running jobs (up to `drain`) and returns.
pub async fn launch(
    services: Arc<Services>,
    listener: TcpListener,
    shutdown: CancellationToken,
    drain: Duration,
) -> std::io::Result<()> {
    match services.recover(true).await {
        Ok(jobs) if !jobs.is_empty() => {
            tracing::warn!(
                count = jobs.len(),
                "resuming jobs interrupted by the last stop"
            );
            // Said on each PR too, without holding up the start on GitHub.
            let s = services.clone();
            tokio::spawn(async move { s.report_resumed(jobs).await });
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "cannot recover interrupted jobs"),
    }
    let workers = tokio::spawn(run_workers(services.clone(), shutdown.clone(), drain));
    let limits = services.config.http.clone();
    let http_metrics = services.metrics.http.clone();
    let app = routes::app(services);
    let served = accept::serve(listener, app, &limits, http_metrics, shutdown.clone()).await;
    shutdown.cancel();
    let _ = workers.await;
    served
}

/// Pending connections the listening socket queues (the kernel caps it at `somaxconn`).
/// GitHub sends bursts of deliveries, each on a new connection; with the usual backlog of 128
/// a burst of 200 overflows the queue, and the dropped connections wait a full second for
/// TCP to retry.
pub const BACKLOG: u32 = 4096;

/// Binds a listening socket with [`BACKLOG`].
pub fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// The binary's `serve`: binds the configured address and runs until SIGTERM or Ctrl-C.
pub async fn serve(config: ServerConfig) -> Result<(), StartError> {
    let listen = config.listen;
    let services = services(config).await?;
    let listener = self::listen(listen)
        .map_err(|e| StartError(format!("cannot listen on {listen}: {e}; set `listen`")))?;
    tracing::info!(%listen, binary = %services.binary.display(), workers = services.config.workers, "planguard serve is listening");
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("shutting down: no new jobs; draining running ones");
        trigger.cancel();
    });
    launch(services, listener, shutdown, DRAIN)
        .await
        .map_err(|e| StartError(format!("server: {e}")))
}
