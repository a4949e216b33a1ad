//! Saved plans: their records and their binary plan files (the `plan_files` table), so any
//! replica can apply a plan another made.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{int, parsed, SqlStore};
use crate::serve::domain::{CommitSha, PrNumber, RepoName, StackName};
use crate::serve::store::{PlanRecord, PlanStore, Result};

const PLAN_COLUMNS: &str =
    "repo, stack, sha, plan_file, plan_json, plan_hash, report, pr, applied, created_at";

fn plan_from_row(row: &AnyRow) -> Result<PlanRecord> {
    Ok(PlanRecord {
        repo: parsed(row, "repo")?,
        pr: PrNumber(int(row, "pr")? as u64),
        stack: parsed(row, "stack")?,
        sha: parsed(row, "sha")?,
        plan_file: row.try_get("plan_file")?,
        plan_json: row.try_get("plan_json")?,
        plan_hash: row.try_get("plan_hash")?,
        report: row.try_get("report")?,
        applied: int(row, "applied")? != 0,
        created_at: int(row, "created_at")?,
    })
}

#[async_trait]
impl PlanStore for SqlStore {
    async fn put_plan(&self, p: &PlanRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO plans (repo, pr, stack, sha, plan_file, plan_json, plan_hash, report,
                                applied, created_at, seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                     (SELECT COALESCE(MAX(seq), 0) + 1 FROM plans))
             ON CONFLICT (repo, pr, stack, sha) DO UPDATE SET
               plan_file = excluded.plan_file, plan_json = excluded.plan_json,
               plan_hash = excluded.plan_hash, report = excluded.report,
               applied = excluded.applied, created_at = excluded.created_at,
               seq = excluded.seq",
        )
        .bind(p.repo.to_string())
        .bind(p.pr.0 as i64)
        .bind(p.stack.to_string())
        .bind(p.sha.as_str())
        .bind(&p.plan_file)
        .bind(&p.plan_json)
        .bind(&p.plan_hash)
        .bind(&p.report)
        .bind(p.applied as i64)
        .bind(p.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn latest_plan(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
    ) -> Result<Option<PlanRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {PLAN_COLUMNS} FROM plans WHERE repo = $1 AND pr = $2 AND stack = $3
             ORDER BY seq DESC LIMIT 1"
        ))
        .bind(repo.to_string())
        .bind(pr.0 as i64)
        .bind(stack.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(plan_from_row).transpose()
    }

    async fn mark_applied(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
        sha: &CommitSha,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE plans SET applied = 1 WHERE repo = $1 AND pr = $2 AND stack = $3 AND sha = $4",
        )
        .bind(repo.to_string())
        .bind(pr.0 as i64)
        .bind(stack.to_string())
        .bind(sha.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn plans(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<PlanRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {PLAN_COLUMNS} FROM plans WHERE repo = $1 AND pr = $2 ORDER BY seq"
        ))
        .bind(repo.to_string())
        .bind(pr.0 as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(plan_from_row).collect()
    }

    async fn put_plan_file(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
        sha: &CommitSha,
        data: &[u8],
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO plan_files (repo, pr, stack, sha, data) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (repo, pr, stack, sha) DO UPDATE SET data = excluded.data",
        )
        .bind(repo.to_string())
        .bind(pr.0 as i64)
        .bind(stack.to_string())
        .bind(sha.as_str())
        .bind(data.to_vec())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn plan_file(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
        sha: &CommitSha,
    ) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query(
            "SELECT data FROM plan_files WHERE repo = $1 AND pr = $2 AND stack = $3 AND sha = $4",
        )
        .bind(repo.to_string())
        .bind(pr.0 as i64)
        .bind(stack.to_string())
        .bind(sha.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get::<Vec<u8>, _>("data")).transpose()?)
    }
}
