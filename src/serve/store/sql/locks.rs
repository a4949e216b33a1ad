//! Stack locks: a row per (repo, stack, workspace), taken with one conditional insert so two
//! replicas racing for one stack get one winner; and holds, the short expiring locks that
//! serialise updates of one thing on GitHub between replicas (see [`LockStore::try_hold`]).

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{int, parsed, SqlStore};
use crate::serve::domain::{CommitSha, PrNumber, RepoName};
use crate::serve::store::{now, Lock, LockKey, LockOutcome, LockStore, Result};

const LOCK_COLUMNS: &str = "repo, stack, workspace, pr, sha, acquired_at";

fn lock_from_row(row: &AnyRow) -> Result<Lock> {
    Ok(Lock {
        key: LockKey {
            repo: parsed(row, "repo")?,
            stack: parsed(row, "stack")?,
            workspace: row.try_get("workspace")?,
        },
        pr: PrNumber(int(row, "pr")? as u64),
        sha: parsed(row, "sha")?,
        acquired_at: int(row, "acquired_at")?,
    })
}

#[async_trait]
impl LockStore for SqlStore {
    async fn try_lock(&self, key: &LockKey, pr: PrNumber, sha: &CommitSha) -> Result<LockOutcome> {
        // Insert, or refresh the commit when this PR holds it already; a row held by another
        // PR is left alone and read back.
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO locks (repo, stack, workspace, pr, sha, acquired_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (repo, stack, workspace) DO UPDATE SET sha = excluded.sha
             WHERE locks.pr = excluded.pr",
        )
        .bind(key.repo.to_string())
        .bind(key.stack.to_string())
        .bind(&key.workspace)
        .bind(pr.0 as i64)
        .bind(sha.as_str())
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let holder = self.lock_in(&mut tx, key).await?;
        tx.commit().await?;
        Ok(match holder {
            Some(lock) if lock.pr != pr => LockOutcome::HeldBy(lock),
            _ => LockOutcome::Held,
        })
    }

    async fn lock(&self, key: &LockKey) -> Result<Option<Lock>> {
        let mut tx = self.pool.begin().await?;
        let lock = self.lock_in(&mut tx, key).await?;
        tx.commit().await?;
        Ok(lock)
    }

    async fn unlock(&self, key: &LockKey) -> Result<Option<Lock>> {
        let row = sqlx::query(&format!(
            "DELETE FROM locks WHERE repo = $1 AND stack = $2 AND workspace = $3
             RETURNING {LOCK_COLUMNS}"
        ))
        .bind(key.repo.to_string())
        .bind(key.stack.to_string())
        .bind(&key.workspace)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(lock_from_row).transpose()
    }

    async fn release_pr(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<Lock>> {
        let rows = sqlx::query(&format!(
            "DELETE FROM locks WHERE repo = $1 AND pr = $2 RETURNING {LOCK_COLUMNS}"
        ))
        .bind(repo.to_string())
        .bind(pr.0 as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(lock_from_row).collect()
    }

    async fn try_hold(&self, key: &str, token: &str, until: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO holds (key, token, held_until) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET token = excluded.token,
                                             held_until = excluded.held_until
             WHERE holds.token = excluded.token OR holds.held_until < $4",
        )
        .bind(key)
        .bind(token)
        .bind(until)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_hold(&self, key: &str, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM holds WHERE key = $1 AND token = $2")
            .bind(key)
            .bind(token)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl SqlStore {
    async fn lock_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        key: &LockKey,
    ) -> Result<Option<Lock>> {
        let row = sqlx::query(&format!(
            "SELECT {LOCK_COLUMNS} FROM locks WHERE repo = $1 AND stack = $2 AND workspace = $3"
        ))
        .bind(key.repo.to_string())
        .bind(key.stack.to_string())
        .bind(&key.workspace)
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref().map(lock_from_row).transpose()
    }
}
