//! Deliveries and the job queue: claims, leases, recovery.
//!
//! On PostgreSQL a claim is one transaction: an advisory lock serialises claims between
//! replicas (so two replicas never both see "no running job on this lock key" and start two
//! jobs of one stack), and the candidate row is taken `FOR UPDATE SKIP LOCKED`, so a claim
//! never waits on a job row another replica is updating. On SQLite the claim is one `UPDATE`,
//! atomic under the database's write lock.

use std::collections::BTreeMap;

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{int, parsed, Backend, SqlStore};
use crate::serve::domain::{PrNumber, RepoName, StackName};
use crate::serve::store::{
    now, Accepted, DeliveryStore, Job, JobId, JobKind, JobState, JobStore, NewJob, Result,
    StoreError,
};

const JOB_COLUMNS: &str =
    "id, kind, repo, pr, stack, lock_key, payload, state, attempts, error, interruptions, owner";

/// The key of the advisory lock that serialises claims on PostgreSQL.
const CLAIM_LOCK: i64 = 0x706c_616e_6775;

fn job_from_row(row: &AnyRow) -> Result<Job> {
    let stack: Option<String> = row.try_get("stack")?;
    let payload: String = row.try_get("payload")?;
    Ok(Job {
        id: int(row, "id")?,
        kind: JobKind::parse(&row.try_get::<String, _>("kind")?)?,
        repo: parsed(row, "repo")?,
        pr: PrNumber(int(row, "pr")? as u64),
        stack: stack.map(|s| s.parse()).transpose()?,
        lock_key: row.try_get("lock_key")?,
        payload: serde_json::from_str(&payload)?,
        state: JobState::parse(&row.try_get::<String, _>("state")?)?,
        attempts: int(row, "attempts")? as u32,
        interruptions: int(row, "interruptions")? as u32,
        error: row.try_get("error")?,
        owner: row.try_get("owner")?,
    })
}

fn jobs_from(rows: Vec<AnyRow>) -> Result<Vec<Job>> {
    rows.iter().map(job_from_row).collect()
}

async fn insert_job(tx: &mut Transaction<'_, Any>, job: &NewJob) -> Result<JobId> {
    let ids = insert_jobs(tx, &[job]).await?;
    Ok(ids[0])
}

/// Queues `jobs` in one statement; returns their ids in the order given.
async fn insert_jobs(tx: &mut Transaction<'_, Any>, jobs: &[&NewJob]) -> Result<Vec<JobId>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "INSERT INTO jobs (kind, repo, pr, stack, lock_key, payload, state, created_at) VALUES {} \
         RETURNING id",
        placeholders(jobs.len(), 8, Some((6, "'queued'")))
    );
    let at = now();
    let mut query = sqlx::query(&sql);
    for job in jobs {
        query = query
            .bind(job.kind.as_str())
            .bind(job.repo.to_string())
            .bind(job.pr.0 as i64)
            .bind(job.stack.as_ref().map(|s| s.to_string()))
            .bind(job.lock_key.clone())
            .bind(job.payload.to_string())
            .bind(at);
    }
    let rows = query.fetch_all(&mut **tx).await?;
    // Ids come from one sequence (PostgreSQL) or the next rowid (SQLite), taken row by row in
    // the order of the VALUES list, so sorted ids are the jobs' ids in the order given,
    // whatever order RETURNING lists them in.
    let mut ids = rows
        .iter()
        .map(|row| int(row, "id"))
        .collect::<Result<Vec<_>>>()?;
    ids.sort_unstable();
    if ids.len() != jobs.len() {
        return Err(StoreError::Permanent(format!(
            "{} jobs queued but {} ids returned",
            jobs.len(),
            ids.len()
        )));
    }
    Ok(ids)
}

/// `rows` tuples of `width` numbered placeholders (`($1, $2), ($3, $4)`); `fixed` puts a
/// literal in one column of every tuple, which then takes no placeholder.
fn placeholders(rows: usize, width: usize, fixed: Option<(usize, &str)>) -> String {
    let per_row = width - usize::from(fixed.is_some());
    let mut out = String::new();
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        let mut n = r * per_row;
        for c in 0..width {
            if c > 0 {
                out.push_str(", ");
            }
            match fixed {
                Some((at, literal)) if at == c => out.push_str(literal),
                _ => {
                    n += 1;
                    out.push_str(&format!("${n}"));
                }
            }
        }
        out.push(')');
    }
    out
}

#[async_trait]
impl DeliveryStore for SqlStore {
    async fn accept_deliveries(
        &self,
        batch: Vec<(String, String, Option<NewJob>)>,
    ) -> Result<Vec<Accepted>> {
        // A batch is three statements, however many deliveries it holds: the deliveries, the
        // jobs of the fresh ones, and the links between them. Rows are inserted in delivery id
        // order, whatever the batch's order: two replicas storing overlapping batches (a
        // delivery and its replay) then take their row locks in the same order and never
        // deadlock. A delivery id twice in one batch counts once (its first occurrence).
        let mut order: Vec<usize> = (0..batch.len()).collect();
        order.sort_by(|a, b| batch[*a].0.cmp(&batch[*b].0));
        order.dedup_by(|later, first| batch[*later].0 == batch[*first].0);
        let mut out = vec![Accepted::Duplicate; batch.len()];
        let mut tx = self.pool.begin().await?;
        for chunk in order.chunks(DELIVERIES_PER_STATEMENT) {
            let fresh = insert_deliveries(&mut tx, chunk.iter().map(|&i| &batch[i])).await?;
            let fresh: Vec<usize> = chunk
                .iter()
                .copied()
                .filter(|&i| fresh.contains(&batch[i].0))
                .collect();
            let queued: Vec<usize> = fresh
                .iter()
                .copied()
                .filter(|&i| batch[i].2.is_some())
                .collect();
            let jobs: Vec<&NewJob> = queued.iter().filter_map(|&i| batch[i].2.as_ref()).collect();
            let ids = insert_jobs(&mut tx, &jobs).await?;
            link_deliveries(
                &mut tx,
                queued.iter().map(|&i| batch[i].0.as_str()).zip(&ids),
            )
            .await?;
            for i in fresh {
                out[i] = Accepted::Queued(0);
            }
            for (&i, &id) in queued.iter().zip(&ids) {
                out[i] = Accepted::Queued(id);
            }
        }
        tx.commit().await?;
        Ok(out)
    }
}

/// Deliveries stored per statement: 3 parameters each, far below both databases' limits.
const DELIVERIES_PER_STATEMENT: usize = 1000;

/// Stores the deliveries not seen before; returns the ids of those that were fresh.
async fn insert_deliveries<'b>(
    tx: &mut Transaction<'_, Any>,
    deliveries: impl Iterator<Item = &'b (String, String, Option<NewJob>)>,
) -> Result<std::collections::HashSet<String>> {
    let deliveries: Vec<_> = deliveries.collect();
    let sql = format!(
        "INSERT INTO deliveries (id, event, received_at) VALUES {} ON CONFLICT DO NOTHING \
         RETURNING id",
        placeholders(deliveries.len(), 3, None)
    );
    let at = now();
    let mut query = sqlx::query(&sql);
    for (delivery, event, _) in deliveries {
        query = query.bind(delivery).bind(event).bind(at);
    }
    let rows = query.fetch_all(&mut **tx).await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String, _>("id")?))
        .collect()
}

/// Records which job each fresh delivery queued, in one statement.
async fn link_deliveries<'b>(
    tx: &mut Transaction<'_, Any>,
    links: impl Iterator<Item = (&'b str, &'b JobId)>,
) -> Result<()> {
    let links: Vec<_> = links.collect();
    if links.is_empty() {
        return Ok(());
    }
    let mut sql = String::from("UPDATE deliveries SET job_id = CASE id");
    for n in 0..links.len() {
        sql.push_str(&format!(" WHEN ${} THEN ${}", 2 * n + 1, 2 * n + 2));
    }
    sql.push_str(" END WHERE id IN (");
    for n in 0..links.len() {
        sql.push_str(&format!("{}${}", if n == 0 { "" } else { ", " }, 2 * n + 1));
    }
    sql.push(')');
    let mut query = sqlx::query(&sql);
    for (delivery, job) in links {
        query = query.bind(delivery).bind(*job);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

impl SqlStore {
    /// The claim statement; `lock_rows` is how the candidate row is locked.
    fn claim_sql(&self) -> String {
        let lock_rows = match self.backend {
            Backend::Postgres => "FOR UPDATE OF j SKIP LOCKED",
            Backend::Sqlite => "",
        };
        format!(
            "WITH prs AS (
               SELECT p.repo, p.pr,
                      SUM(CASE WHEN p.state = 'running' THEN 1 ELSE 0 END) AS running,
                      MAX(COALESCE(p.started_at, 0)) AS last_started
               FROM jobs p
               WHERE (p.repo, p.pr) IN (
                 SELECT q.repo, q.pr FROM jobs q WHERE q.state = 'queued' AND q.not_before <= $1)
               GROUP BY p.repo, p.pr
             )
             UPDATE jobs SET state = 'running', started_at = $1, attempts = attempts + 1,
                             owner = $2, lease_until = $3
             WHERE id = (
               SELECT j.id FROM jobs j JOIN prs ON prs.repo = j.repo AND prs.pr = j.pr
               WHERE j.state = 'queued' AND j.not_before <= $1
                 AND (j.lock_key IS NULL OR NOT EXISTS (
                   SELECT 1 FROM jobs r WHERE r.state = 'running' AND r.lock_key = j.lock_key))
               ORDER BY prs.running, prs.last_started, j.id LIMIT 1 {lock_rows})
             RETURNING {JOB_COLUMNS}"
        )
    }

    /// Sets `assignments` (`$5`, `$6`, `$7`: a state, an error, a time) on `job`'s row if it
    /// is still as the caller saw it (see [`JobStore::finish`]); else a conflict.
    async fn update_as_seen(
        &self,
        job: &Job,
        assignments: &str,
        (state, error, at): (&str, Option<String>, i64),
    ) -> Result<()> {
        let done = sqlx::query(&format!(
            "UPDATE jobs SET {assignments}
             WHERE id = $1 AND state = $2 AND attempts = $3
               AND (state <> 'running' OR owner = $4)"
        ))
        .bind(job.id)
        .bind(job.state.as_str())
        .bind(job.attempts as i64)
        .bind(&self.replica)
        .bind(state)
        .bind(error)
        .bind(at)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        Err(StoreError::Conflict(format!(
            "job {} is no longer {} as this replica saw it (another replica took it over, or \
             it was cancelled)",
            job.id,
            job.state.as_str()
        )))
    }

    /// Requeues or fails the running jobs `scope` selects (see [`JobStore::recover`]).
    async fn recover_where(&self, scope: &str, max_interruptions: u32) -> Result<Vec<Job>> {
        let mut tx = self.pool.begin().await?;
        let at = now();
        sqlx::query(&format!(
            "UPDATE jobs SET interruptions = interruptions + 1, owner = NULL WHERE {scope}"
        ))
        .bind(&self.replica)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        // The first statement cleared the owner: the rows are now those with no owner.
        let mut rows = sqlx::query(&format!(
            "UPDATE jobs SET state = 'failed', finished_at = $1,
               error = CASE WHEN kind = 'apply'
                 THEN 'interrupted by a restart while applying'
                 ELSE 'interrupted by ' || interruptions || ' restarts or crashes' END
             WHERE state = 'running' AND owner IS NULL
               AND (kind = 'apply' OR interruptions >= $2)
             RETURNING {JOB_COLUMNS}"
        ))
        .bind(at)
        .bind(max_interruptions as i64)
        .fetch_all(&mut *tx)
        .await?;
        rows.extend(
            sqlx::query(&format!(
                "UPDATE jobs SET state = 'queued' WHERE state = 'running' AND owner IS NULL
                 RETURNING {JOB_COLUMNS}"
            ))
            .fetch_all(&mut *tx)
            .await?,
        );
        tx.commit().await?;
        jobs_from(rows)
    }
}

#[async_trait]
impl JobStore for SqlStore {
    async fn enqueue(&self, job: NewJob) -> Result<JobId> {
        let mut tx = self.pool.begin().await?;
        let id = insert_job(&mut tx, &job).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn supersede(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
        keep: JobId,
    ) -> Result<usize> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'superseded', finished_at = $5
             WHERE repo = $1 AND pr = $2 AND stack = $3 AND kind = 'plan' AND id <> $4
               AND state IN ('queued', 'waiting')",
        )
        .bind(repo.to_string())
        .bind(pr.0 as i64)
        .bind(stack.to_string())
        .bind(keep)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() as usize)
    }

    async fn claim(&self) -> Result<Option<Job>> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock($1)) AS l")
                .bind(CLAIM_LOCK)
                .fetch_one(&mut *tx)
                .await?;
        }
        let row = sqlx::query(&self.claim_sql())
            .bind(now())
            .bind(&self.replica)
            .bind(self.lease_until())
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn renew(&self, job: &Job) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $4
             WHERE id = $1 AND owner = $2 AND attempts = $3 AND state = 'running'",
        )
        .bind(job.id)
        .bind(&self.replica)
        .bind(job.attempts as i64)
        .bind(self.lease_until())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn job(&self, id: JobId) -> Result<Option<Job>> {
        let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn finish(&self, job: &Job, state: JobState, error: Option<&str>) -> Result<()> {
        self.update_as_seen(
            job,
            "state = $5, error = $6, finished_at = $7",
            (state.as_str(), error.map(str::to_owned), now()),
        )
        .await
    }

    async fn cancel(&self, id: JobId, why: &str) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET state = 'cancelled', error = $2, finished_at = $3
             WHERE id = $1 AND state IN ('queued', 'waiting', 'running')",
        )
        .bind(id)
        .bind(why)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn retry(&self, job: &Job, delay_secs: i64, error: &str) -> Result<()> {
        self.update_as_seen(
            job,
            "state = $5, error = $6, not_before = $7",
            (
                JobState::Queued.as_str(),
                Some(error.to_owned()),
                now() + delay_secs,
            ),
        )
        .await
    }

    async fn wait_for_lock(&self, job: &Job) -> Result<()> {
        self.update_as_seen(
            job,
            "state = $5, error = $6, not_before = $7",
            (JobState::Waiting.as_str(), job.error.clone(), 0),
        )
        .await
    }

    async fn wake(&self, lock_key: &str) -> Result<Vec<JobId>> {
        let rows = sqlx::query(
            "UPDATE jobs SET state = 'queued' WHERE state = 'waiting' AND lock_key = $1
             RETURNING id",
        )
        .bind(lock_key)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| int(r, "id")).collect()
    }

    async fn recover(&self, max_interruptions: u32, restarted: bool) -> Result<Vec<Job>> {
        // $1 is this replica, $2 the time.
        let scope = if restarted {
            "state = 'running' AND (owner = $1 OR owner IS NULL OR lease_until < $2)"
        } else {
            "state = 'running' AND (owner IS NULL OR lease_until < $2) AND $1 = $1"
        };
        self.recover_where(scope, max_interruptions).await
    }

    async fn crashed(
        &self,
        id: JobId,
        error: &str,
        max_interruptions: u32,
        delay_secs: i64,
    ) -> Result<JobState> {
        let row = sqlx::query(
            "UPDATE jobs SET interruptions = interruptions + 1, error = $2,
               state = CASE WHEN interruptions + 1 >= $3 THEN 'failed' ELSE 'queued' END,
               finished_at = CASE WHEN interruptions + 1 >= $3 THEN $4 ELSE NULL END,
               not_before = $4 + $5
             WHERE id = $1 AND state = 'running'
             RETURNING state",
        )
        .bind(id)
        .bind(error)
        .bind(max_interruptions as i64)
        .bind(now())
        .bind(delay_secs)
        .fetch_one(&self.pool)
        .await?;
        JobState::parse(&row.try_get::<String, _>("state")?)
    }

    async fn active_jobs(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: Option<&StackName>,
    ) -> Result<Vec<Job>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs
             WHERE repo = $1 AND pr = $2 AND state IN ('queued', 'running', 'waiting')
               AND ($3 IS NULL OR stack = $3)
             ORDER BY id"
        ))
        .bind(repo.to_string())
        .bind(pr.0 as i64)
        .bind(stack.map(|s| s.to_string()))
        .fetch_all(&self.pool)
        .await?;
        jobs_from(rows)
    }

    async fn job_counts(&self) -> Result<BTreeMap<JobState, u64>> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        let mut out: BTreeMap<JobState, u64> = JobState::ALL.iter().map(|s| (*s, 0)).collect();
        for row in rows {
            let state = JobState::parse(&row.try_get::<String, _>("state")?)?;
            out.insert(state, int(&row, "n")? as u64);
        }
        Ok(out)
    }
}
