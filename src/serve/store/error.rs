//! The store's error: what went wrong, sorted by what a caller can do about it.
//!
//! The worker retries a job only on [`StoreError::Transient`] (the database is down, busy, or
//! a serialisation conflict); a [`StoreError::Permanent`] failure (a row that does not decode,
//! a schema the binary does not know) fails the job at once, since retrying reads the same row.

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("database: {0} not found")]
    NotFound(String),
    /// A uniqueness rule refused the write (another replica did it first).
    #[error("database: conflict: {0}")]
    Conflict(String),
    /// Worth retrying: the database is unreachable, busy, or aborted a transaction.
    #[error("database unavailable: {0}")]
    Transient(String),
    /// Retrying will not help: bad stored data, or SQL the database refuses.
    #[error("database: {0}")]
    Permanent(String),
}

impl StoreError {
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Transient(_))
    }
}

/// SQLSTATE and SQLite codes that mean "try again".
const TRANSIENT_CODES: &[&str] = &[
    "40001", // serialization_failure
    "40P01", // deadlock_detected
    "55P03", // lock_not_available
    "57P01", // admin_shutdown
    "57P02", // crash_shutdown
    "57P03", // cannot_connect_now
    "53300", // too_many_connections
    "5",     // SQLITE_BUSY
    "6",     // SQLITE_LOCKED
    "517",   // SQLITE_BUSY_SNAPSHOT
    "261",   // SQLITE_BUSY_RECOVERY
];

/// SQLSTATE and SQLite codes of a uniqueness violation.
const CONFLICT_CODES: &[&str] = &["23505", "1555", "2067"];

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &e {
            E::RowNotFound => StoreError::NotFound("row".into()),
            E::Io(_)
            | E::Tls(_)
            | E::Protocol(_)
            | E::PoolTimedOut
            | E::PoolClosed
            | E::WorkerCrashed => StoreError::Transient(e.to_string()),
            E::Database(db) => {
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                if CONFLICT_CODES.contains(&code.as_str()) {
                    StoreError::Conflict(db.message().to_owned())
                } else if TRANSIENT_CODES.contains(&code.as_str()) || code.starts_with("08") {
                    StoreError::Transient(db.message().to_owned())
                } else {
                    StoreError::Permanent(e.to_string())
                }
            }
            _ => StoreError::Permanent(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        match e {
            sqlx::migrate::MigrateError::Execute(inner) => inner.into(),
            other => StoreError::Permanent(format!("migrations: {other}")),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Permanent(format!("stored JSON: {e}"))
    }
}

impl From<crate::serve::domain::InvalidValue> for StoreError {
    fn from(e: crate::serve::domain::InvalidValue) -> Self {
        StoreError::Permanent(format!("stored value: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unreachable_or_busy_database_is_worth_a_retry() {
        assert!(StoreError::from(sqlx::Error::PoolTimedOut).is_transient());
        assert!(!StoreError::from(sqlx::Error::RowNotFound).is_transient());
        assert!(matches!(
            StoreError::from(sqlx::Error::ColumnNotFound("x".into())),
            StoreError::Permanent(_)
        ));
    }
}
