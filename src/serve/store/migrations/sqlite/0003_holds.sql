-- Holds: short, expiring locks that serialise the updates of one thing on GitHub (a pull
-- request's comment, a check run) between replicas, so two never both create it.
CREATE TABLE holds (
    key TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    held_until INTEGER NOT NULL
);
