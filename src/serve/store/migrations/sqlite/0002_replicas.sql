-- Replicas and retention: job leases, an insertion order for stacks, saved plan files in the
-- database, and what retention needs to find closed pull requests.
ALTER TABLE jobs ADD COLUMN owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_by_finish ON jobs (finished_at);
ALTER TABLE stacks ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE stacks SET seq = rowid;
ALTER TABLE prs ADD COLUMN open INTEGER NOT NULL DEFAULT 1;
ALTER TABLE prs ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deliveries_by_time ON deliveries (received_at);
CREATE TABLE plan_files (
    repo TEXT NOT NULL,
    pr INTEGER NOT NULL,
    stack TEXT NOT NULL,
    sha TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (repo, pr, stack, sha)
);
