//! PRs, stacks, and the ids of the PR comment's parts and of check runs.

use async_trait::async_trait;
use sqlx::Row;

use super::{int, parsed, SqlStore};
use crate::serve::domain::{CommitSha, PrNumber, RepoName};
use crate::serve::store::{now, PrRecord, ReportStore, Result, StackRecord};

#[async_trait]
impl ReportStore for SqlStore {
    async fn put_pr(&self, pr: &PrRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO prs (repo, pr, data, open, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (repo, pr) DO UPDATE
             SET data = excluded.data, open = excluded.open, updated_at = excluded.updated_at",
        )
        .bind(pr.repo.to_string())
        .bind(pr.pr.0 as i64)
        .bind(serde_json::to_string(pr)?)
        .bind(pr.open as i64)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn pr(&self, repo: &RepoName, pr: PrNumber) -> Result<Option<PrRecord>> {
        let row = sqlx::query("SELECT data FROM prs WHERE repo = $1 AND pr = $2")
            .bind(repo.to_string())
            .bind(pr.0 as i64)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(Some(serde_json::from_str(
                &row.try_get::<String, _>("data")?,
            )?)),
            None => Ok(None),
        }
    }

    async fn put_stack(&self, rec: &StackRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO stacks (repo, pr, stack, sha, state, updated_at, seq)
             VALUES ($1, $2, $3, $4, $5, $6, (SELECT COALESCE(MAX(seq), 0) + 1 FROM stacks))
             ON CONFLICT (repo, pr, stack) DO UPDATE
             SET sha = excluded.sha, state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(rec.repo.to_string())
        .bind(rec.pr.0 as i64)
        .bind(rec.stack.to_string())
        .bind(rec.sha.as_str())
        .bind(rec.state.to_string())
        .bind(rec.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn stacks(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<StackRecord>> {
        let rows = sqlx::query(
            "SELECT stack, sha, state, updated_at FROM stacks
             WHERE repo = $1 AND pr = $2 ORDER BY seq, stack",
        )
        .bind(repo.to_string())
        .bind(pr.0 as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StackRecord {
                    repo: repo.clone(),
                    pr,
                    stack: parsed(row, "stack")?,
                    sha: parsed(row, "sha")?,
                    state: serde_json::from_str(&row.try_get::<String, _>("state")?)?,
                    updated_at: int(row, "updated_at")?,
                })
            })
            .collect()
    }

    async fn delete_stacks(&self, repo: &RepoName, pr: PrNumber) -> Result<()> {
        sqlx::query("DELETE FROM stacks WHERE repo = $1 AND pr = $2")
            .bind(repo.to_string())
            .bind(pr.0 as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn comment_ids(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<u64>> {
        let rows = sqlx::query(
            "SELECT comment_id FROM comments WHERE repo = $1 AND pr = $2 ORDER BY part",
        )
        .bind(repo.to_string())
        .bind(pr.0 as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| int(r, "comment_id").map(|i| i as u64))
            .collect()
    }

    async fn set_comment_ids(&self, repo: &RepoName, pr: PrNumber, ids: &[u64]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM comments WHERE repo = $1 AND pr = $2")
            .bind(repo.to_string())
            .bind(pr.0 as i64)
            .execute(&mut *tx)
            .await?;
        for (part, id) in ids.iter().enumerate() {
            sqlx::query(
                "INSERT INTO comments (repo, pr, part, comment_id) VALUES ($1, $2, $3, $4)",
            )
            .bind(repo.to_string())
            .bind(pr.0 as i64)
            .bind(part as i64)
            .bind(*id as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn check_run(&self, repo: &RepoName, sha: &CommitSha, name: &str) -> Result<Option<u64>> {
        let row = sqlx::query(
            "SELECT check_id FROM check_runs WHERE repo = $1 AND sha = $2 AND name = $3",
        )
        .bind(repo.to_string())
        .bind(sha.as_str())
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| int(&r, "check_id").map(|i| i as u64))
            .transpose()
    }

    async fn set_check_run(
        &self,
        repo: &RepoName,
        sha: &CommitSha,
        name: &str,
        id: u64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO check_runs (repo, sha, name, check_id) VALUES ($1, $2, $3, $4)
             ON CONFLICT (repo, sha, name) DO UPDATE SET check_id = excluded.check_id",
        )
        .bind(repo.to_string())
        .bind(sha.as_str())
        .bind(name)
        .bind(id as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
