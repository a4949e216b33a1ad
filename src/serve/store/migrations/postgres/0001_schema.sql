-- planguard's schema on PostgreSQL: the SQLite schema after its migration 0002, with
-- PostgreSQL's types (BIGINT for every integer, BYTEA for plan files).
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    job_id BIGINT,
    received_at BIGINT NOT NULL
);
CREATE INDEX deliveries_by_time ON deliveries (received_at);
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    repo TEXT NOT NULL,
    pr BIGINT NOT NULL,
    stack TEXT,
    lock_key TEXT,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    interruptions BIGINT NOT NULL DEFAULT 0,
    not_before BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_state ON jobs (state, id);
CREATE INDEX jobs_by_lock ON jobs (lock_key, state);
CREATE INDEX jobs_by_pr ON jobs (repo, pr, state);
CREATE INDEX jobs_by_finish ON jobs (finished_at);
CREATE TABLE locks (
    repo TEXT NOT NULL,
    stack TEXT NOT NULL,
    workspace TEXT NOT NULL,
    pr BIGINT NOT NULL,
    sha TEXT NOT NULL,
    acquired_at BIGINT NOT NULL,
    PRIMARY KEY (repo, stack, workspace)
);
CREATE TABLE prs (
    repo TEXT NOT NULL,
    pr BIGINT NOT NULL,
    data TEXT NOT NULL,
    open BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (repo, pr)
);
CREATE TABLE stacks (
    repo TEXT NOT NULL,
    pr BIGINT NOT NULL,
    stack TEXT NOT NULL,
    sha TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    seq BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (repo, pr, stack)
);
CREATE TABLE plans (
    repo TEXT NOT NULL,
    pr BIGINT NOT NULL,
    stack TEXT NOT NULL,
    sha TEXT NOT NULL,
    plan_file TEXT NOT NULL,
    plan_json TEXT NOT NULL,
    plan_hash TEXT NOT NULL,
    report TEXT NOT NULL,
    applied BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (repo, pr, stack, sha)
);
CREATE TABLE plan_files (
    repo TEXT NOT NULL,
    pr BIGINT NOT NULL,
    stack TEXT NOT NULL,
    sha TEXT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (repo, pr, stack, sha)
);
CREATE TABLE comments (
    repo TEXT NOT NULL,
    pr BIGINT NOT NULL,
    part BIGINT NOT NULL,
    comment_id BIGINT NOT NULL,
    PRIMARY KEY (repo, pr, part)
);
CREATE TABLE check_runs (
    repo TEXT NOT NULL,
    sha TEXT NOT NULL,
    name TEXT NOT NULL,
    check_id BIGINT NOT NULL,
    PRIMARY KEY (repo, sha, name)
);
CREATE TABLE approvals (
    repo TEXT NOT NULL,
    pr BIGINT NOT NULL,
    stack TEXT NOT NULL,
    plan_hash TEXT NOT NULL,
    policy_id TEXT NOT NULL,
    approver TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (repo, pr, stack, plan_hash, policy_id, approver)
);
CREATE TABLE audit (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    repo TEXT NOT NULL,
    pr BIGINT NOT NULL,
    stack TEXT,
    sha TEXT,
    plan_hash TEXT,
    outcome TEXT NOT NULL
);
CREATE INDEX audit_by_pr ON audit (repo, pr, id);
CREATE TABLE acted_comments (
    repo TEXT NOT NULL,
    comment_id BIGINT NOT NULL,
    job_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (repo, comment_id)
);
