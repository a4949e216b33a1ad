//! Leases and upkeep: what lets several replicas share one database.
//!
//! A running job's lease is renewed every third of `limits.job_lease_secs` by a task beside
//! it; if the renewal finds the job no longer this replica's (the lease expired, say after a
//! long pause, and another replica took the job over), the job is cancelled here, so it never
//! runs twice. The upkeep task takes over the jobs of dead replicas (expired leases, no restart
//! needed) and prunes what retention allows.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::Services;
use crate::serve::store::JobId;

/// How often retention runs.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

impl Services {
    fn lease(&self) -> Duration {
        Duration::from_secs(self.config.limits.job_lease_secs.max(1))
    }

    /// Starts renewing the lease of job `id`; cancels `cancel` if the job was taken over.
    pub(super) fn keep_lease(
        self: &Arc<Self>,
        id: JobId,
        cancel: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let s = self.clone();
        tokio::spawn(async move {
            let every = s.lease() / 3;
            loop {
                tokio::time::sleep(every).await;
                match s.store.renew(id).await {
                    Ok(true) => {}
                    Ok(false) => {
                        warn!(job = id, "another replica took this job over; stopping it");
                        cancel.cancel();
                        return;
                    }
                    Err(e) => warn!(job = id, error = %e, "cannot renew the job's lease"),
                }
            }
        })
    }
}

/// Until `stop`: every half lease, takes over jobs whose replica died; every hour, prunes.
pub(super) async fn upkeep(s: Arc<Services>, stop: CancellationToken) {
    let mut last_prune: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(s.lease() / 2) => {}
            _ = stop.cancelled() => return,
        }
        match s.recover(false).await {
            Ok(jobs) if !jobs.is_empty() => {
                warn!(
                    count = jobs.len(),
                    "took over jobs of a replica that stopped"
                );
                s.wake.notify_waiters();
                s.report_resumed(jobs).await;
            }
            Ok(_) => {}
            Err(e) => error!(error = %e, "cannot take over expired jobs"),
        }
        if last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            last_prune = Some(tokio::time::Instant::now());
            let keep = s.config.limits.retention_days as i64 * 86_400;
            match s.store.prune(keep).await {
                Ok(p) => info!(
                    jobs = p.jobs,
                    deliveries = p.deliveries,
                    plans = p.plans,
                    "pruned"
                ),
                Err(e) => error!(error = %e, "cannot prune old rows"),
            }
        }
    }
}
