//! Policy approvals, comments acted on, and the audit log.

use async_trait::async_trait;
use sqlx::Row;

use super::{int, SqlStore};
use crate::serve::domain::{PrNumber, RepoName, StackName};
use crate::serve::store::{
    now, Approval, ApprovalStore, AuditEntry, AuditFilter, AuditStore, JobId, Result,
};

#[async_trait]
impl ApprovalStore for SqlStore {
    async fn approve(&self, repo: &RepoName, pr: PrNumber, a: &Approval) -> Result<()> {
        sqlx::query(
            "INSERT INTO approvals (repo, pr, stack, plan_hash, policy_id, approver, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(repo.to_string())
        .bind(pr.0 as i64)
        .bind(a.stack.to_string())
        .bind(&a.plan_hash)
        .bind(&a.policy_id)
        .bind(&a.approver)
        .bind(a.at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn approvals(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
        plan_hash: &str,
    ) -> Result<Vec<Approval>> {
        let rows = sqlx::query(
            "SELECT policy_id, approver, at FROM approvals
             WHERE repo = $1 AND pr = $2 AND stack = $3 AND plan_hash = $4
             ORDER BY at, policy_id, approver",
        )
        .bind(repo.to_string())
        .bind(pr.0 as i64)
        .bind(stack.to_string())
        .bind(plan_hash)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Approval {
                    stack: stack.clone(),
                    plan_hash: plan_hash.to_owned(),
                    policy_id: r.try_get("policy_id")?,
                    approver: r.try_get("approver")?,
                    at: int(r, "at")?,
                })
            })
            .collect()
    }

    async fn claim_comment(&self, repo: &RepoName, comment_id: u64, job: JobId) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO acted_comments (repo, comment_id, job_id, at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(repo.to_string())
        .bind(comment_id as i64)
        .bind(job)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let row =
            sqlx::query("SELECT job_id FROM acted_comments WHERE repo = $1 AND comment_id = $2")
                .bind(repo.to_string())
                .bind(comment_id as i64)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(int(&row, "job_id")? == job)
    }
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn audit(&self, e: &AuditEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit (at, actor, action, repo, pr, stack, sha, plan_hash, outcome)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(e.at)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.repo)
        .bind(e.pr as i64)
        .bind(e.stack.clone())
        .bind(e.sha.clone())
        .bind(e.plan_hash.clone())
        .bind(&e.outcome)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn audit_log(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT * FROM (
               SELECT id, at, actor, action, repo, pr, stack, sha, plan_hash, outcome FROM audit
               WHERE ($1 IS NULL OR repo = $1) AND ($2 IS NULL OR pr = $2)
               ORDER BY id DESC LIMIT $3) AS newest
             ORDER BY id",
        )
        .bind(f.repo.clone())
        .bind(f.pr.map(|p| p as i64))
        .bind(f.limit.max(1) as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: int(r, "id")?,
                    at: int(r, "at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    repo: r.try_get("repo")?,
                    pr: int(r, "pr")? as u64,
                    stack: r.try_get("stack")?,
                    sha: r.try_get("sha")?,
                    plan_hash: r.try_get("plan_hash")?,
                    outcome: r.try_get("outcome")?,
                })
            })
            .collect()
    }
}
