//! The embedded [`Store`]: one SQLite file in WAL mode behind a mutex.
//!
//! Writes are single short transactions, so one connection is enough for the server's load
//! (hundreds of deliveries per second) and makes every claim atomic. `synchronous=NORMAL` in
//! WAL mode keeps every committed row across a process crash or kill; only an operating
//! system crash can lose the last commits. The schema is created on open and versioned with
//! `user_version`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::*;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    job_id INTEGER,
    received_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    repo TEXT NOT NULL,
    pr INTEGER NOT NULL,
    stack TEXT,
    lock_key TEXT,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    interruptions INTEGER NOT NULL DEFAULT 0,
    not_before INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, id);
CREATE INDEX IF NOT EXISTS jobs_by_lock ON jobs (lock_key, state);
CREATE INDEX IF NOT EXISTS jobs_by_pr ON jobs (repo, pr, state);
CREATE TABLE IF NOT EXISTS locks (
    repo TEXT NOT NULL,
    stack TEXT NOT NULL,
    workspace TEXT NOT NULL,
    pr INTEGER NOT NULL,
    sha TEXT NOT NULL,
    acquired_at INTEGER NOT NULL,
    PRIMARY KEY (repo, stack, workspace)
);
CREATE TABLE IF NOT EXISTS prs (
    repo TEXT NOT NULL,
    pr INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (repo, pr)
);
CREATE TABLE IF NOT EXISTS stacks (
    repo TEXT NOT NULL,
    pr INTEGER NOT NULL,
    stack TEXT NOT NULL,
    sha TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (repo, pr, stack)
);
CREATE TABLE IF NOT EXISTS plans (
    repo TEXT NOT NULL,
    pr INTEGER NOT NULL,
    stack TEXT NOT NULL,
    sha TEXT NOT NULL,
    plan_file TEXT NOT NULL,
    plan_json TEXT NOT NULL,
    plan_hash TEXT NOT NULL,
    report TEXT NOT NULL,
    applied INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (repo, pr, stack, sha)
);
CREATE TABLE IF NOT EXISTS comments (
    repo TEXT NOT NULL,
    pr INTEGER NOT NULL,
    part INTEGER NOT NULL,
    comment_id INTEGER NOT NULL,
    PRIMARY KEY (repo, pr, part)
);
CREATE TABLE IF NOT EXISTS check_runs (
    repo TEXT NOT NULL,
    sha TEXT NOT NULL,
    name TEXT NOT NULL,
    check_id INTEGER NOT NULL,
    PRIMARY KEY (repo, sha, name)
);
CREATE TABLE IF NOT EXISTS approvals (
    repo TEXT NOT NULL,
    pr INTEGER NOT NULL,
    stack TEXT NOT NULL,
    plan_hash TEXT NOT NULL,
    policy_id TEXT NOT NULL,
    approver TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (repo, pr, stack, plan_hash, policy_id, approver)
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    repo TEXT NOT NULL,
    pr INTEGER NOT NULL,
    stack TEXT,
    sha TEXT,
    plan_hash TEXT,
    outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_pr ON audit (repo, pr, id);
CREATE TABLE IF NOT EXISTS acted_comments (
    repo TEXT NOT NULL,
    comment_id INTEGER NOT NULL,
    job_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (repo, comment_id)
);
PRAGMA user_version = 2;
"#;

/// SQLite behind a mutex.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path)
            .map_err(|e| StoreError(format!("cannot open {}: {e}", path.display())))?;
        Self::init(conn)
    }

    /// An in-memory database (tests of the store itself).
    pub fn in_memory() -> Result<SqliteStore> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<SqliteStore> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        // Version 1 had no interruption count.
        let has_interruptions: bool = conn.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('jobs') WHERE name = 'interruptions'",
            [],
            |r| r.get(0),
        )?;
        if !has_interruptions {
            conn.execute_batch(
                "ALTER TABLE jobs ADD COLUMN interruptions INTEGER NOT NULL DEFAULT 0",
            )?;
        }
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        Ok(f(&mut conn)?)
    }
}

const JOB_COLUMNS: &str =
    "id, kind, repo, pr, stack, lock_key, payload, state, attempts, error, interruptions";

fn job_from_row(row: &Row<'_>) -> rusqlite::Result<std::result::Result<Job, StoreError>> {
    let kind: String = row.get(1)?;
    let repo: String = row.get(2)?;
    let stack: Option<String> = row.get(4)?;
    let payload: String = row.get(6)?;
    let state: String = row.get(7)?;
    let (id, pr, lock_key, attempts, error, interruptions) = (
        row.get(0)?,
        row.get::<_, i64>(3)?,
        row.get(5)?,
        row.get::<_, i64>(8)?,
        row.get(9)?,
        row.get::<_, i64>(10)?,
    );
    Ok((|| {
        Ok(Job {
            id,
            kind: JobKind::parse(&kind)?,
            repo: repo.parse().map_err(|e| StoreError(format!("{e}")))?,
            pr: PrNumber(pr as u64),
            stack: stack
                .map(|s| s.parse().map_err(|e| StoreError(format!("{e}"))))
                .transpose()?,
            lock_key,
            payload: serde_json::from_str(&payload)?,
            state: JobState::parse(&state)?,
            attempts: attempts as u32,
            interruptions: interruptions as u32,
            error,
        })
    })())
}

fn jobs_from(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<std::result::Result<Job, StoreError>>> {
    stmt.query_map(params, job_from_row)?.collect()
}

fn collect<T>(rows: Vec<std::result::Result<T, StoreError>>) -> Result<Vec<T>> {
    rows.into_iter().collect()
}

fn insert_job(conn: &Connection, job: &NewJob) -> rusqlite::Result<JobId> {
    conn.prepare_cached(
        "INSERT INTO jobs (kind, repo, pr, stack, lock_key, payload, state, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7)",
    )?
    .execute(params![
        job.kind.as_str(),
        job.repo.to_string(),
        job.pr.0 as i64,
        job.stack.as_ref().map(|s| s.to_string()),
        job.lock_key,
        job.payload.to_string(),
        now()
    ])?;
    Ok(conn.last_insert_rowid())
}

fn lock_from_row(row: &Row<'_>) -> rusqlite::Result<(String, String, String, i64, String, i64)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn to_lock(r: (String, String, String, i64, String, i64)) -> Result<Lock> {
    let bad = |e: crate::serve::domain::InvalidValue| StoreError(e.to_string());
    Ok(Lock {
        key: LockKey {
            repo: r.0.parse().map_err(bad)?,
            stack: r.1.parse().map_err(bad)?,
            workspace: r.2,
        },
        pr: PrNumber(r.3 as u64),
        sha: r.4.parse().map_err(bad)?,
        acquired_at: r.5,
    })
}

fn plan_from_row(row: &Row<'_>) -> rusqlite::Result<(Vec<String>, i64, bool, i64)> {
    Ok((
        (0..7)
            .map(|i| row.get::<_, String>(i))
            .collect::<rusqlite::Result<_>>()?,
        row.get(7)?,
        row.get::<_, i64>(8)? != 0,
        row.get(9)?,
    ))
}

fn to_plan(r: (Vec<String>, i64, bool, i64)) -> Result<PlanRecord> {
    let bad = |e: crate::serve::domain::InvalidValue| StoreError(e.to_string());
    let (s, pr, applied, created_at) = r;
    Ok(PlanRecord {
        repo: s[0].parse().map_err(bad)?,
        pr: PrNumber(pr as u64),
        stack: s[1].parse().map_err(bad)?,
        sha: s[2].parse().map_err(bad)?,
        plan_file: s[3].clone(),
        plan_json: s[4].clone(),
        plan_hash: s[5].clone(),
        report: s[6].clone(),
        applied,
        created_at,
    })
}

const PLAN_COLUMNS: &str =
    "repo, stack, sha, plan_file, plan_json, plan_hash, report, pr, applied, created_at";

impl Store for SqliteStore {
    fn ping(&self) -> Result<()> {
        self.with(|c| c.query_row("SELECT 1", [], |_| Ok(())))
    }

    fn accept_delivery(
        &self,
        delivery: &str,
        event: &str,
        job: Option<NewJob>,
    ) -> Result<Accepted> {
        self.with(|c| {
            let tx = c.transaction()?;
            let fresh = tx.execute(
                "INSERT OR IGNORE INTO deliveries (id, event, received_at) VALUES (?1, ?2, ?3)",
                params![delivery, event, now()],
            )? == 1;
            if !fresh {
                return Ok(Accepted::Duplicate);
            }
            let id = match job {
                Some(job) => {
                    let id = insert_job(&tx, &job)?;
                    tx.execute(
                        "UPDATE deliveries SET job_id = ?1 WHERE id = ?2",
                        params![id, delivery],
                    )?;
                    id
                }
                None => 0,
            };
            tx.commit()?;
            Ok(Accepted::Queued(id))
        })
    }

    fn enqueue(&self, job: NewJob) -> Result<JobId> {
        self.with(|c| insert_job(c, &job))
    }

    fn supersede(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
        keep: JobId,
    ) -> Result<usize> {
        self.with(|c| {
            c.execute(
                "UPDATE jobs SET state = 'superseded', finished_at = ?5
                 WHERE repo = ?1 AND pr = ?2 AND stack = ?3 AND kind = 'plan' AND id <> ?4
                   AND state IN ('queued', 'waiting')",
                params![
                    repo.to_string(),
                    pr.0 as i64,
                    stack.to_string(),
                    keep,
                    now()
                ],
            )
        })
    }

    fn claim(&self) -> Result<Option<Job>> {
        let row = self.with(|c| {
            let sql = format!(
                "WITH runnable AS (
                   SELECT j.id, j.repo, j.pr FROM jobs j
                   WHERE j.state = 'queued' AND j.not_before <= ?1
                     AND (j.lock_key IS NULL OR NOT EXISTS (
                       SELECT 1 FROM jobs r WHERE r.state = 'running' AND r.lock_key = j.lock_key))
                 ),
                 prs AS (
                   SELECT p.repo, p.pr,
                          SUM(p.state = 'running') AS running,
                          MAX(COALESCE(p.started_at, 0)) AS last_started
                   FROM jobs p
                   WHERE (p.repo, p.pr) IN (SELECT repo, pr FROM runnable)
                   GROUP BY p.repo, p.pr
                 )
                 UPDATE jobs SET state = 'running', started_at = ?1, attempts = attempts + 1
                 WHERE id = (
                   SELECT runnable.id FROM runnable JOIN prs USING (repo, pr)
                   ORDER BY prs.running, prs.last_started, runnable.id LIMIT 1)
                 RETURNING {JOB_COLUMNS}"
            );
            c.query_row(&sql, params![now()], job_from_row).optional()
        })?;
        row.transpose()
    }

    fn job(&self, id: JobId) -> Result<Option<Job>> {
        let row = self.with(|c| {
            c.query_row(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"),
                params![id],
                job_from_row,
            )
            .optional()
        })?;
        row.transpose()
    }

    fn finish(&self, id: JobId, state: JobState, error: Option<&str>) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE jobs SET state = ?2, error = ?3, finished_at = ?4 WHERE id = ?1",
                params![id, state.as_str(), error, now()],
            )
            .map(drop)
        })
    }

    fn retry(&self, id: JobId, delay_secs: i64, error: &str) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE jobs SET state = 'queued', error = ?2, not_before = ?3 WHERE id = ?1",
                params![id, error, now() + delay_secs],
            )
            .map(drop)
        })
    }

    fn wait_for_lock(&self, id: JobId) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE jobs SET state = 'waiting' WHERE id = ?1",
                params![id],
            )
            .map(drop)
        })
    }

    fn wake(&self, lock_key: &str) -> Result<Vec<JobId>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "UPDATE jobs SET state = 'queued' WHERE state = 'waiting' AND lock_key = ?1
                 RETURNING id",
            )?;
            let ids = stmt
                .query_map(params![lock_key], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<JobId>>>()?;
            Ok(ids)
        })
    }

    fn recover(&self, max_interruptions: u32) -> Result<Vec<Job>> {
        let rows = self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "UPDATE jobs SET interruptions = interruptions + 1 WHERE state = 'running'",
                [],
            )?;
            let mut rows = {
                let mut stmt = tx.prepare(&format!(
                    "UPDATE jobs SET state = 'failed', finished_at = ?1,
                       error = CASE WHEN kind = 'apply'
                         THEN 'interrupted by a restart while applying'
                         ELSE 'interrupted by ' || interruptions || ' restarts or crashes' END
                     WHERE state = 'running' AND (kind = 'apply' OR interruptions >= ?2)
                     RETURNING {JOB_COLUMNS}"
                ))?;
                jobs_from(&mut stmt, params![now(), max_interruptions])?
            };
            {
                let mut stmt = tx.prepare(&format!(
                    "UPDATE jobs SET state = 'queued' WHERE state = 'running' RETURNING {JOB_COLUMNS}"
                ))?;
                rows.extend(jobs_from(&mut stmt, [])?);
            }
            tx.commit()?;
            Ok(rows)
        })?;
        collect(rows)
    }

    fn crashed(
        &self,
        id: JobId,
        error: &str,
        max_interruptions: u32,
        delay_secs: i64,
    ) -> Result<JobState> {
        let state: String = self.with(|c| {
            c.query_row(
                "UPDATE jobs SET interruptions = interruptions + 1, error = ?2,
                   state = CASE WHEN interruptions + 1 >= ?3 THEN 'failed' ELSE 'queued' END,
                   finished_at = CASE WHEN interruptions + 1 >= ?3 THEN ?4 ELSE NULL END,
                   not_before = ?4 + ?5
                 WHERE id = ?1 AND state = 'running'
                 RETURNING state",
                params![id, error, max_interruptions, now(), delay_secs],
                |r| r.get(0),
            )
        })?;
        JobState::parse(&state)
    }

    fn active_jobs(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: Option<&StackName>,
    ) -> Result<Vec<Job>> {
        let rows = self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs
                 WHERE repo = ?1 AND pr = ?2 AND state IN ('queued', 'running', 'waiting')
                   AND (?3 IS NULL OR stack = ?3)
                 ORDER BY id"
            ))?;
            jobs_from(
                &mut stmt,
                params![repo.to_string(), pr.0 as i64, stack.map(|s| s.to_string())],
            )
        })?;
        collect(rows)
    }

    fn job_counts(&self) -> Result<BTreeMap<JobState, u64>> {
        let rows = self.with(|c| {
            let mut stmt = c.prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })?;
        let mut out: BTreeMap<JobState, u64> = JobState::ALL.iter().map(|s| (*s, 0)).collect();
        for (state, n) in rows {
            out.insert(JobState::parse(&state)?, n as u64);
        }
        Ok(out)
    }

    fn try_lock(&self, key: &LockKey, pr: PrNumber, sha: &CommitSha) -> Result<LockOutcome> {
        let held = self.with(|c| {
            let tx = c.transaction()?;
            let existing = tx
                .query_row(
                    "SELECT repo, stack, workspace, pr, sha, acquired_at FROM locks
                     WHERE repo = ?1 AND stack = ?2 AND workspace = ?3",
                    params![key.repo.to_string(), key.stack.to_string(), key.workspace],
                    lock_from_row,
                )
                .optional()?;
            let out = match existing {
                Some(row) if row.3 != pr.0 as i64 => Some(row),
                Some(_) => {
                    tx.execute(
                        "UPDATE locks SET sha = ?4 WHERE repo = ?1 AND stack = ?2 AND workspace = ?3",
                        params![key.repo.to_string(), key.stack.to_string(), key.workspace, sha.as_str()],
                    )?;
                    None
                }
                None => {
                    tx.execute(
                        "INSERT INTO locks (repo, stack, workspace, pr, sha, acquired_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![
                            key.repo.to_string(),
                            key.stack.to_string(),
                            key.workspace,
                            pr.0 as i64,
                            sha.as_str(),
                            now()
                        ],
                    )?;
                    None
                }
            };
            tx.commit()?;
            Ok(out)
        })?;
        Ok(match held {
            Some(row) => LockOutcome::HeldBy(to_lock(row)?),
            None => LockOutcome::Held,
        })
    }

    fn lock(&self, key: &LockKey) -> Result<Option<Lock>> {
        self.with(|c| {
            c.query_row(
                "SELECT repo, stack, workspace, pr, sha, acquired_at FROM locks
                 WHERE repo = ?1 AND stack = ?2 AND workspace = ?3",
                params![key.repo.to_string(), key.stack.to_string(), key.workspace],
                lock_from_row,
            )
            .optional()
        })?
        .map(to_lock)
        .transpose()
    }

    fn unlock(&self, key: &LockKey) -> Result<Option<Lock>> {
        self.with(|c| {
            c.query_row(
                "DELETE FROM locks WHERE repo = ?1 AND stack = ?2 AND workspace = ?3
                 RETURNING repo, stack, workspace, pr, sha, acquired_at",
                params![key.repo.to_string(), key.stack.to_string(), key.workspace],
                lock_from_row,
            )
            .optional()
        })?
        .map(to_lock)
        .transpose()
    }

    fn release_pr(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<Lock>> {
        let rows = self.with(|c| {
            let mut stmt = c.prepare(
                "DELETE FROM locks WHERE repo = ?1 AND pr = ?2
                 RETURNING repo, stack, workspace, pr, sha, acquired_at",
            )?;
            let rows = stmt
                .query_map(params![repo.to_string(), pr.0 as i64], lock_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })?;
        rows.into_iter().map(to_lock).collect()
    }

    fn put_pr(&self, pr: &PrRecord) -> Result<()> {
        let data = serde_json::to_string(pr)?;
        self.with(|c| {
            c.execute(
                "INSERT INTO prs (repo, pr, data) VALUES (?1, ?2, ?3)
                 ON CONFLICT (repo, pr) DO UPDATE SET data = excluded.data",
                params![pr.repo.to_string(), pr.pr.0 as i64, data],
            )
            .map(drop)
        })
    }

    fn pr(&self, repo: &RepoName, pr: PrNumber) -> Result<Option<PrRecord>> {
        let data: Option<String> = self.with(|c| {
            c.query_row(
                "SELECT data FROM prs WHERE repo = ?1 AND pr = ?2",
                params![repo.to_string(), pr.0 as i64],
                |r| r.get(0),
            )
            .optional()
        })?;
        Ok(data.map(|d| serde_json::from_str(&d)).transpose()?)
    }

    fn put_stack(&self, rec: &StackRecord) -> Result<()> {
        let state = rec.state.to_string();
        self.with(|c| {
            c.execute(
                "INSERT INTO stacks (repo, pr, stack, sha, state, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (repo, pr, stack) DO UPDATE
                 SET sha = excluded.sha, state = excluded.state, updated_at = excluded.updated_at",
                params![
                    rec.repo.to_string(),
                    rec.pr.0 as i64,
                    rec.stack.to_string(),
                    rec.sha.as_str(),
                    state,
                    rec.updated_at
                ],
            )
            .map(drop)
        })
    }

    fn stacks(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<StackRecord>> {
        let rows = self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT stack, sha, state, updated_at FROM stacks
                 WHERE repo = ?1 AND pr = ?2 ORDER BY rowid",
            )?;
            let rows = stmt
                .query_map(params![repo.to_string(), pr.0 as i64], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })?;
        rows.into_iter()
            .map(|(stack, sha, state, updated_at)| {
                Ok(StackRecord {
                    repo: repo.clone(),
                    pr,
                    stack: stack.parse().map_err(|e| StoreError(format!("{e}")))?,
                    sha: sha.parse().map_err(|e| StoreError(format!("{e}")))?,
                    state: serde_json::from_str(&state)?,
                    updated_at,
                })
            })
            .collect()
    }

    fn delete_stacks(&self, repo: &RepoName, pr: PrNumber) -> Result<()> {
        self.with(|c| {
            c.execute(
                "DELETE FROM stacks WHERE repo = ?1 AND pr = ?2",
                params![repo.to_string(), pr.0 as i64],
            )
            .map(drop)
        })
    }

    fn put_plan(&self, p: &PlanRecord) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO plans (repo, pr, stack, sha, plan_file, plan_json, plan_hash, report,
                                    applied, created_at, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,
                         (SELECT COALESCE(MAX(seq), 0) + 1 FROM plans))
                 ON CONFLICT (repo, pr, stack, sha) DO UPDATE SET
                   plan_file = excluded.plan_file, plan_json = excluded.plan_json,
                   plan_hash = excluded.plan_hash, report = excluded.report,
                   applied = excluded.applied, created_at = excluded.created_at,
                   seq = excluded.seq",
                params![
                    p.repo.to_string(),
                    p.pr.0 as i64,
                    p.stack.to_string(),
                    p.sha.as_str(),
                    p.plan_file,
                    p.plan_json,
                    p.plan_hash,
                    p.report,
                    p.applied as i64,
                    p.created_at
                ],
            )
            .map(drop)
        })
    }

    fn latest_plan(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
    ) -> Result<Option<PlanRecord>> {
        self.with(|c| {
            c.query_row(
                &format!(
                    "SELECT {PLAN_COLUMNS} FROM plans WHERE repo = ?1 AND pr = ?2 AND stack = ?3
                     ORDER BY seq DESC LIMIT 1"
                ),
                params![repo.to_string(), pr.0 as i64, stack.to_string()],
                plan_from_row,
            )
            .optional()
        })?
        .map(to_plan)
        .transpose()
    }

    fn mark_applied(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
        sha: &CommitSha,
    ) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE plans SET applied = 1 WHERE repo = ?1 AND pr = ?2 AND stack = ?3 AND sha = ?4",
                params![repo.to_string(), pr.0 as i64, stack.to_string(), sha.as_str()],
            )
            .map(drop)
        })
    }

    fn plans(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<PlanRecord>> {
        let rows = self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {PLAN_COLUMNS} FROM plans WHERE repo = ?1 AND pr = ?2 ORDER BY seq"
            ))?;
            let rows = stmt
                .query_map(params![repo.to_string(), pr.0 as i64], plan_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })?;
        rows.into_iter().map(to_plan).collect()
    }

    fn comment_ids(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<u64>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT comment_id FROM comments WHERE repo = ?1 AND pr = ?2 ORDER BY part",
            )?;
            let ids = stmt
                .query_map(params![repo.to_string(), pr.0 as i64], |r| {
                    r.get::<_, i64>(0).map(|i| i as u64)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(ids)
        })
    }

    fn set_comment_ids(&self, repo: &RepoName, pr: PrNumber, ids: &[u64]) -> Result<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "DELETE FROM comments WHERE repo = ?1 AND pr = ?2",
                params![repo.to_string(), pr.0 as i64],
            )?;
            for (part, id) in ids.iter().enumerate() {
                tx.execute(
                    "INSERT INTO comments (repo, pr, part, comment_id) VALUES (?1, ?2, ?3, ?4)",
                    params![repo.to_string(), pr.0 as i64, part as i64, *id as i64],
                )?;
            }
            tx.commit()
        })
    }

    fn check_run(&self, repo: &RepoName, sha: &CommitSha, name: &str) -> Result<Option<u64>> {
        self.with(|c| {
            c.query_row(
                "SELECT check_id FROM check_runs WHERE repo = ?1 AND sha = ?2 AND name = ?3",
                params![repo.to_string(), sha.as_str(), name],
                |r| r.get::<_, i64>(0).map(|i| i as u64),
            )
            .optional()
        })
    }

    fn set_check_run(&self, repo: &RepoName, sha: &CommitSha, name: &str, id: u64) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO check_runs (repo, sha, name, check_id) VALUES (?1, ?2, ?3, ?4)",
                params![repo.to_string(), sha.as_str(), name, id as i64],
            )
            .map(drop)
        })
    }

    fn approve(&self, repo: &RepoName, pr: PrNumber, a: &Approval) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO approvals (repo, pr, stack, plan_hash, policy_id, approver, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    repo.to_string(),
                    pr.0 as i64,
                    a.stack.to_string(),
                    a.plan_hash,
                    a.policy_id,
                    a.approver,
                    a.at
                ],
            )
            .map(drop)
        })
    }

    fn approvals(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        stack: &StackName,
        plan_hash: &str,
    ) -> Result<Vec<Approval>> {
        let rows = self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT policy_id, approver, at FROM approvals
                 WHERE repo = ?1 AND pr = ?2 AND stack = ?3 AND plan_hash = ?4 ORDER BY at",
            )?;
            let rows = stmt
                .query_map(
                    params![repo.to_string(), pr.0 as i64, stack.to_string(), plan_hash],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                        ))
                    },
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })?;
        Ok(rows
            .into_iter()
            .map(|(policy_id, approver, at)| Approval {
                stack: stack.clone(),
                plan_hash: plan_hash.to_owned(),
                policy_id,
                approver,
                at,
            })
            .collect())
    }

    fn claim_comment(&self, repo: &RepoName, comment_id: u64, job: JobId) -> Result<bool> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT OR IGNORE INTO acted_comments (repo, comment_id, job_id, at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![repo.to_string(), comment_id as i64, job, now()],
            )?;
            let holder: JobId = tx.query_row(
                "SELECT job_id FROM acted_comments WHERE repo = ?1 AND comment_id = ?2",
                params![repo.to_string(), comment_id as i64],
                |r| r.get(0),
            )?;
            tx.commit()?;
            Ok(holder == job)
        })
    }

    fn audit(&self, e: &AuditEntry) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO audit (at, actor, action, repo, pr, stack, sha, plan_hash, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    e.at,
                    e.actor,
                    e.action,
                    e.repo,
                    e.pr as i64,
                    e.stack,
                    e.sha,
                    e.plan_hash,
                    e.outcome
                ],
            )
            .map(drop)
        })
    }

    fn audit_log(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT * FROM (
                   SELECT id, at, actor, action, repo, pr, stack, sha, plan_hash, outcome FROM audit
                   WHERE (?1 IS NULL OR repo = ?1) AND (?2 IS NULL OR pr = ?2)
                   ORDER BY id DESC LIMIT ?3)
                 ORDER BY id",
            )?;
            let rows = stmt
                .query_map(
                    params![f.repo, f.pr.map(|p| p as i64), f.limit.max(1) as i64],
                    |r| {
                        Ok(AuditEntry {
                            id: r.get(0)?,
                            at: r.get(1)?,
                            actor: r.get(2)?,
                            action: r.get(3)?,
                            repo: r.get(4)?,
                            pr: r.get::<_, i64>(5)? as u64,
                            stack: r.get(6)?,
                            sha: r.get(7)?,
                            plan_hash: r.get(8)?,
                            outcome: r.get(9)?,
                        })
                    },
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> RepoName {
        "acme/infra".parse().unwrap()
    }
    fn sha(c: char) -> CommitSha {
        c.to_string().repeat(40).parse().unwrap()
    }
    fn plan_job(pr: u64, stack: &str) -> NewJob {
        NewJob {
            kind: JobKind::Plan,
            repo: repo(),
            pr: PrNumber(pr),
            stack: Some(stack.parse().unwrap()),
            lock_key: Some(format!("acme/infra|{stack}|default")),
            payload: serde_json::json!({"stack": stack}),
        }
    }

    #[test]
    fn a_comment_drives_one_job_only() {
        let s = SqliteStore::in_memory().unwrap();
        assert!(s.claim_comment(&repo(), 77, 1).unwrap(), "first claim");
        assert!(
            s.claim_comment(&repo(), 77, 1).unwrap(),
            "a retry of the same job"
        );
        assert!(
            !s.claim_comment(&repo(), 77, 2).unwrap(),
            "a replay in another job"
        );
        let other: RepoName = "acme/other".parse().unwrap();
        assert!(
            s.claim_comment(&other, 77, 2).unwrap(),
            "ids are per repository"
        );
    }

    #[test]
    fn a_delivery_is_stored_once() {
        let s = SqliteStore::in_memory().unwrap();
        let first = s
            .accept_delivery("d-1", "pull_request", Some(plan_job(1, "net")))
            .unwrap();
        assert!(matches!(first, Accepted::Queued(id) if id > 0));
        let again = s
            .accept_delivery("d-1", "pull_request", Some(plan_job(1, "net")))
            .unwrap();
        assert_eq!(again, Accepted::Duplicate);
        assert_eq!(s.job_counts().unwrap()[&JobState::Queued], 1);
    }

    #[test]
    fn one_stack_never_runs_twice_at_once() {
        let s = SqliteStore::in_memory().unwrap();
        s.enqueue(plan_job(1, "net")).unwrap();
        s.enqueue(plan_job(2, "net")).unwrap();
        s.enqueue(plan_job(1, "data")).unwrap();
        let a = s.claim().unwrap().unwrap();
        let b = s.claim().unwrap().unwrap();
        assert_eq!(a.stack.unwrap().as_str(), "net");
        assert_eq!(
            b.stack.unwrap().as_str(),
            "data",
            "the second net job must wait"
        );
        assert!(s.claim().unwrap().is_none());
        s.finish(a.id, JobState::Done, None).unwrap();
        let c = s.claim().unwrap().unwrap();
        assert_eq!((c.pr, c.stack.unwrap().as_str()), (PrNumber(2), "net"));
    }

    #[test]
    fn a_restart_requeues_interrupted_jobs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        {
            let s = SqliteStore::open(&path).unwrap();
            s.enqueue(plan_job(1, "net")).unwrap();
            let job = s.claim().unwrap().unwrap();
            assert_eq!(job.attempts, 1);
        }
        let s = SqliteStore::open(&path).unwrap();
        let recovered = s.recover(3).unwrap();
        assert_eq!(recovered.len(), 1);
        assert_eq!(recovered[0].state, JobState::Queued);
        assert_eq!(recovered[0].interruptions, 1);
        let again = s.claim().unwrap().unwrap();
        assert_eq!(again.attempts, 2);
    }

    #[test]
    fn a_job_that_keeps_killing_its_server_fails_after_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let id = SqliteStore::open(&path)
            .unwrap()
            .enqueue(plan_job(1, "net"))
            .unwrap();
        for restart in 1..=3 {
            // Each start claims the job and dies while it runs.
            let s = SqliteStore::open(&path).unwrap();
            let recovered = s.recover(3).unwrap();
            if restart > 1 {
                assert_eq!(recovered.len(), 1);
                assert_eq!(recovered[0].state, JobState::Queued, "restart {restart}");
            }
            assert_eq!(s.claim().unwrap().unwrap().id, id);
        }
        let s = SqliteStore::open(&path).unwrap();
        let recovered = s.recover(3).unwrap();
        assert_eq!(recovered.len(), 1);
        assert_eq!(recovered[0].state, JobState::Failed);
        assert_eq!(recovered[0].interruptions, 3);
        assert!(s.claim().unwrap().is_none(), "not requeued");
        let job = s.job(id).unwrap().unwrap();
        assert_eq!(job.state, JobState::Failed);
        assert_eq!(
            job.error.as_deref(),
            Some("interrupted by 3 restarts or crashes")
        );
    }

    #[test]
    fn an_interrupted_apply_is_never_run_again() {
        let s = SqliteStore::in_memory().unwrap();
        let id = s
            .enqueue(NewJob {
                kind: JobKind::Apply,
                ..plan_job(1, "net")
            })
            .unwrap();
        s.enqueue(plan_job(1, "data")).unwrap();
        s.claim().unwrap().unwrap();
        s.claim().unwrap().unwrap();
        let recovered = s.recover(3).unwrap();
        let states: Vec<(JobKind, JobState)> =
            recovered.iter().map(|j| (j.kind, j.state)).collect();
        assert_eq!(
            states,
            [
                (JobKind::Apply, JobState::Failed),
                (JobKind::Plan, JobState::Queued)
            ]
        );
        assert_eq!(s.claim().unwrap().unwrap().kind, JobKind::Plan);
        assert!(s.claim().unwrap().is_none());
        assert_eq!(s.job(id).unwrap().unwrap().state, JobState::Failed);
    }

    #[test]
    fn a_job_that_panics_is_retried_then_failed() {
        let s = SqliteStore::in_memory().unwrap();
        let id = s.enqueue(plan_job(1, "net")).unwrap();
        for _ in 0..2 {
            assert_eq!(s.claim().unwrap().unwrap().id, id);
            assert_eq!(s.crashed(id, "boom", 3, 0).unwrap(), JobState::Queued);
        }
        assert_eq!(s.claim().unwrap().unwrap().id, id);
        assert_eq!(s.crashed(id, "boom", 3, 0).unwrap(), JobState::Failed);
        assert!(s.claim().unwrap().is_none());
        let job = s.job(id).unwrap().unwrap();
        assert_eq!((job.interruptions, job.error.as_deref()), (3, Some("boom")));
    }

    #[test]
    fn workers_are_shared_fairly_between_pull_requests() {
        let s = SqliteStore::in_memory().unwrap();
        // PR 1 queues many stacks, then PR 2 queues one.
        for i in 0..50 {
            s.enqueue(plan_job(1, &format!("s{i}"))).unwrap();
        }
        s.enqueue(plan_job(2, "other")).unwrap();
        let first = s.claim().unwrap().unwrap();
        assert_eq!(first.pr, PrNumber(1));
        let second = s.claim().unwrap().unwrap();
        assert_eq!(
            second.pr,
            PrNumber(2),
            "the PR with no running job goes first"
        );
        // With one running job each, the PR whose job started longest ago goes next.
        s.enqueue(plan_job(2, "more")).unwrap();
        s.finish(first.id, JobState::Done, None).unwrap();
        assert_eq!(s.claim().unwrap().unwrap().pr, PrNumber(1));
    }

    #[test]
    fn a_version_one_database_gains_the_interruption_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
                   repo TEXT NOT NULL, pr INTEGER NOT NULL, stack TEXT, lock_key TEXT,
                   payload TEXT NOT NULL, state TEXT NOT NULL,
                   attempts INTEGER NOT NULL DEFAULT 0, not_before INTEGER NOT NULL DEFAULT 0,
                   error TEXT, created_at INTEGER NOT NULL, started_at INTEGER,
                   finished_at INTEGER);
                 INSERT INTO jobs (kind, repo, pr, stack, lock_key, payload, state, created_at)
                   VALUES ('plan', 'acme/infra', 1, 'net', 'k', '{}', 'running', 0);
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        let recovered = s.recover(3).unwrap();
        assert_eq!(recovered[0].interruptions, 1);
    }

    #[test]
    fn locks_belong_to_one_pr_and_waiting_jobs_wake_on_release() {
        let s = SqliteStore::in_memory().unwrap();
        let key = LockKey {
            repo: repo(),
            stack: "net".parse().unwrap(),
            workspace: "default".into(),
        };
        assert_eq!(
            s.try_lock(&key, PrNumber(1), &sha('a')).unwrap(),
            LockOutcome::Held
        );
        assert_eq!(
            s.try_lock(&key, PrNumber(1), &sha('b')).unwrap(),
            LockOutcome::Held
        );
        match s.try_lock(&key, PrNumber(2), &sha('c')).unwrap() {
            LockOutcome::HeldBy(l) => assert_eq!((l.pr, l.sha), (PrNumber(1), sha('b'))),
            other => panic!("{other:?}"),
        }
        let waiting = s.enqueue(plan_job(2, "net")).unwrap();
        let job = s.claim().unwrap().unwrap();
        s.wait_for_lock(job.id).unwrap();
        assert!(s.claim().unwrap().is_none());
        let released = s.release_pr(&repo(), PrNumber(1)).unwrap();
        assert_eq!(released.len(), 1);
        assert_eq!(s.wake(&key.as_text()).unwrap(), vec![waiting]);
        assert_eq!(s.claim().unwrap().unwrap().id, waiting);
    }

    #[test]
    fn a_newer_push_supersedes_queued_plans_of_the_same_stack() {
        let s = SqliteStore::in_memory().unwrap();
        let old = s.enqueue(plan_job(1, "net")).unwrap();
        let new = s.enqueue(plan_job(1, "net")).unwrap();
        assert_eq!(
            s.supersede(&repo(), PrNumber(1), &"net".parse().unwrap(), new)
                .unwrap(),
            1
        );
        assert_eq!(s.job(old).unwrap().unwrap().state, JobState::Superseded);
        assert_eq!(s.claim().unwrap().unwrap().id, new);
    }

    #[test]
    fn plans_approvals_and_audit_round_trip() {
        let s = SqliteStore::in_memory().unwrap();
        let stack: StackName = "net".parse().unwrap();
        for (c, hash) in [('a', "h1"), ('b', "h2")] {
            s.put_plan(&PlanRecord {
                repo: repo(),
                pr: PrNumber(3),
                stack: stack.clone(),
                sha: sha(c),
                plan_file: "p".into(),
                plan_json: "j".into(),
                plan_hash: hash.into(),
                report: "{}".into(),
                applied: false,
                created_at: 1,
            })
            .unwrap();
        }
        let latest = s
            .latest_plan(&repo(), PrNumber(3), &stack)
            .unwrap()
            .unwrap();
        assert_eq!(latest.plan_hash, "h2");
        s.mark_applied(&repo(), PrNumber(3), &stack, &sha('b'))
            .unwrap();
        assert!(
            s.latest_plan(&repo(), PrNumber(3), &stack)
                .unwrap()
                .unwrap()
                .applied
        );
        s.approve(
            &repo(),
            PrNumber(3),
            &Approval {
                stack: stack.clone(),
                plan_hash: "h2".into(),
                policy_id: "p1".into(),
                approver: "sec".into(),
                at: 5,
            },
        )
        .unwrap();
        assert_eq!(
            s.approvals(&repo(), PrNumber(3), &stack, "h2")
                .unwrap()
                .len(),
            1
        );
        assert!(s
            .approvals(&repo(), PrNumber(3), &stack, "h1")
            .unwrap()
            .is_empty());
        s.audit(&AuditEntry {
            id: 0,
            at: 1,
            actor: "alice".into(),
            action: "plan".into(),
            repo: "acme/infra".into(),
            pr: 3,
            stack: Some("net".into()),
            sha: None,
            plan_hash: None,
            outcome: "planned".into(),
        })
        .unwrap();
        let log = s
            .audit_log(&AuditFilter {
                repo: Some("acme/infra".into()),
                pr: Some(3),
                limit: 10,
            })
            .unwrap();
        assert_eq!(log.len(), 1);
        assert!(s
            .audit_log(&AuditFilter {
                pr: Some(4),
                limit: 10,
                ..Default::default()
            })
            .unwrap()
            .is_empty());
        // A limit keeps the newest entries.
        s.audit(&AuditEntry {
            action: "apply".into(),
            ..log[0].clone()
        })
        .unwrap();
        let newest = s
            .audit_log(&AuditFilter {
                limit: 1,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(newest.len(), 1);
        assert_eq!(newest[0].action, "apply");
    }
}
