-- The schema of planguard 0.1 (SQLite `user_version` 2), kept with IF NOT EXISTS so a database
-- created before versioned migrations is adopted as it is.
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
