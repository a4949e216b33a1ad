//! Health and retention: what finished long ago is deleted, the audit log is kept.

use async_trait::async_trait;

use super::SqlStore;
use crate::serve::store::{now, Pruned, Result, Store};

#[async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1 AS ok").fetch_one(&self.pool).await?;
        Ok(())
    }

    async fn prune(&self, older_than_secs: i64) -> Result<Pruned> {
        let cutoff = now() - older_than_secs;
        let mut tx = self.pool.begin().await?;
        let jobs = sqlx::query(
            "DELETE FROM jobs WHERE state IN ('done', 'failed', 'cancelled', 'superseded')
               AND finished_at IS NOT NULL AND finished_at < $1",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let deliveries = sqlx::query("DELETE FROM deliveries WHERE received_at < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        // Plans (and their files) of pull requests closed before the cutoff.
        const CLOSED: &str =
            "SELECT c.repo, c.pr FROM prs c WHERE c.open = 0 AND c.updated_at < $1";
        sqlx::query(&format!(
            "DELETE FROM plan_files WHERE (repo, pr) IN ({CLOSED})"
        ))
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
        let plans = sqlx::query(&format!("DELETE FROM plans WHERE (repo, pr) IN ({CLOSED})"))
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        // Holds whose replica died holding them.
        sqlx::query("DELETE FROM holds WHERE held_until < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Pruned {
            jobs,
            deliveries,
            plans,
        })
    }
}
