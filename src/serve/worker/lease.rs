//! Leases and upkeep: what lets several replicas share one database.
//!
//! A running job's lease is renewed every third of `limits.job_lease_secs` by a task beside
//! it; if the renewal finds the job no longer this replica's (the lease expired, say after a
//! long pause, and another replica took the job over), the job is cancelled here, so it never
//! runs twice. *Holds* serialise the updates of one thing on GitHub (a PR comment, a check
//! run) between replicas: an in-process mutex, then a row in the database that expires after a
//! lease. The upkeep task takes over the jobs of dead replicas (expired leases, no restart
//! needed) and prunes what retention allows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::{JobError, Services};
use crate::serve::store::{self, Job, Store};

/// How often retention runs.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

impl Services {
    fn lease(&self) -> Duration {
        Duration::from_secs(self.config.limits.job_lease_secs.max(1))
    }

    /// Starts renewing the lease of the claimed `job`; cancels `cancel` if the job was taken
    /// over or cancelled.
    pub(super) fn keep_lease(
        self: &Arc<Self>,
        job: &Job,
        cancel: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let s = self.clone();
        let job = job.clone();
        tokio::spawn(async move {
            let every = s.lease() / 3;
            loop {
                tokio::time::sleep(every).await;
                match s.store.renew(&job).await {
                    Ok(true) => {}
                    Ok(false) => {
                        warn!(
                            job = job.id,
                            "the job was taken over or cancelled elsewhere; stopping it"
                        );
                        cancel.cancel();
                        return;
                    }
                    Err(e) => warn!(job = job.id, error = %e, "cannot renew the job's lease"),
                }
            }
        })
    }

    /// Holds `key` (what is updated on GitHub: a PR comment, a check run) on this replica and
    /// in the database, so no other job of any replica updates it at the same time. Waits
    /// while another holds it; a hold of a replica that died expires after a lease (an update
    /// that outlasts a whole lease is not protected).
    pub(super) async fn hold(&self, key: String) -> Result<Hold, JobError> {
        let local = self.update_lock(key.clone()).lock_owned().await;
        let token = format!(
            "{} {}",
            self.config.replica,
            HOLDS.fetch_add(1, Ordering::Relaxed)
        );
        let mut pause = Duration::from_millis(5);
        loop {
            let until = store::now() + self.lease().as_secs() as i64;
            if self.store.try_hold(&key, &token, until).await? {
                return Ok(Hold {
                    store: self.store.clone(),
                    key,
                    token,
                    _local: local,
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }
}

/// Numbers the holds of this process, so each has a token of its own.
static HOLDS: AtomicU64 = AtomicU64::new(0);

/// A held update key (see [`Services::hold`]); released when dropped.
pub(crate) struct Hold {
    store: Arc<dyn Store>,
    key: String,
    token: String,
    _local: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        let (store, key, token) = (
            self.store.clone(),
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.token),
        );
        // Released in the background; if that fails, the hold expires after a lease.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = store.release_hold(&key, &token).await {
                    warn!(key, error = %e, "cannot release a hold; it expires after a lease");
                }
            });
        }
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
