//! [`SqlStore`]: every store role on sqlx, for SQLite and PostgreSQL alike.
//!
//! The SQL is written once, in the dialect both databases share (`$N` parameters, `ON
//! CONFLICT`, `RETURNING`, `BIGINT`-sized integers); [`Backend`] says where they differ (only
//! in how a claim is serialised between replicas). Queries are built at run time on sqlx's
//! `Any` driver: no database is needed to compile.
//!
//! SQLite is one file in WAL mode, one connection (writes are short transactions; one
//! connection makes every claim atomic, as before). `synchronous=NORMAL` in WAL mode keeps
//! every committed row across a process crash; only an operating system crash can lose the
//! last commits. PostgreSQL is a pool that several replicas may share.

mod approvals;
mod jobs;
mod locks;
mod plans;
mod reports;
mod retention;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Row};

use super::{Result, StoreError};

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The `database` setting, parsed: a `postgres://` (or `postgresql://`) URL, else a SQLite
/// file path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Database {
    pub fn parse(setting: &Path) -> Database {
        let text = setting.to_string_lossy();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Database::Postgres(text.into_owned())
        } else {
            Database::Sqlite(setting.to_path_buf())
        }
    }

    /// The setting as it can be logged: a URL without its password.
    pub fn redacted(&self) -> String {
        match self {
            Database::Sqlite(p) => p.display().to_string(),
            Database::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
                _ => url.clone(),
            },
        }
    }
}

/// How this replica uses the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// This replica's name, recorded on the jobs it claims. Stable across restarts of the
    /// same replica (so a restart resumes its own jobs at once).
    pub replica: String,
    /// How long a claimed job stays this replica's without a renewal.
    pub lease: Duration,
    /// Connections in the pool (PostgreSQL; SQLite uses one).
    pub max_connections: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            replica: "planguard".into(),
            lease: Duration::from_secs(60),
            max_connections: 10,
        }
    }
}

/// The store on SQLite or PostgreSQL.
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    replica: String,
    lease_secs: i64,
}

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "schema",
        include_str!("../migrations/sqlite/0001_schema.sql"),
    ),
    (
        2,
        "replicas",
        include_str!("../migrations/sqlite/0002_replicas.sql"),
    ),
    (
        3,
        "holds",
        include_str!("../migrations/sqlite/0003_holds.sql"),
    ),
];

const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "schema",
        include_str!("../migrations/postgres/0001_schema.sql"),
    ),
    (
        2,
        "holds",
        include_str!("../migrations/postgres/0002_holds.sql"),
    ),
];

fn migrator(backend: Backend) -> Migrator {
    let list = match backend {
        Backend::Sqlite => SQLITE_MIGRATIONS,
        Backend::Postgres => POSTGRES_MIGRATIONS,
    };
    Migrator {
        migrations: Cow::Owned(
            list.iter()
                .map(|(v, d, sql)| {
                    Migration::new(
                        *v,
                        Cow::Borrowed(*d),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect(),
        ),
        ..Migrator::DEFAULT
    }
}

impl SqlStore {
    /// Connects to the database the setting names and brings its schema up to date.
    pub async fn connect(database: &Database, options: StoreOptions) -> Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let (url, backend, pool) = match database {
            Database::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Permanent(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                let url = format!("sqlite://{}?mode=rwc", path.display());
                (url, Backend::Sqlite, sqlite_pool())
            }
            Database::Postgres(url) => (
                url.clone(),
                Backend::Postgres,
                AnyPoolOptions::new()
                    .max_connections(options.max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(10)),
            ),
        };
        let pool = pool.connect(&url).await?;
        Self::with_pool(pool, backend, options).await
    }

    /// Opens (creating if needed) a SQLite file with default options.
    pub async fn open(path: &Path) -> Result<SqlStore> {
        Self::connect(&Database::Sqlite(path.into()), StoreOptions::default()).await
    }

    /// An in-memory SQLite database (tests of the store itself).
    pub async fn in_memory() -> Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let pool = sqlite_pool()
            .idle_timeout(None)
            .max_lifetime(None)
            .connect("sqlite::memory:")
            .await?;
        Self::with_pool(pool, Backend::Sqlite, StoreOptions::default()).await
    }

    async fn with_pool(pool: AnyPool, backend: Backend, options: StoreOptions) -> Result<Self> {
        if backend == Backend::Sqlite {
            adopt_version_one(&pool).await?;
        }
        migrator(backend).run(&pool).await?;
        Ok(SqlStore {
            pool,
            backend,
            replica: options.replica,
            lease_secs: options.lease.as_secs().max(1) as i64,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn lease_until(&self) -> i64 {
        super::now() + self.lease_secs
    }
}

fn sqlite_pool() -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _| {
            Box::pin(async move {
                use sqlx::Executor;
                conn.execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .await
                .map(drop)
            })
        })
}

/// A database of planguard's first schema (before the interruption count) gains the column
/// its migration 0001 assumes.
async fn adopt_version_one(pool: &AnyPool) -> Result<()> {
    let columns: i64 =
        sqlx::query("SELECT COUNT(*) FROM pragma_table_info('jobs') WHERE name = 'interruptions'")
            .fetch_one(pool)
            .await?
            .try_get(0)?;
    let has_jobs: i64 =
        sqlx::query("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'jobs'")
            .fetch_one(pool)
            .await?
            .try_get(0)?;
    if has_jobs > 0 && columns == 0 {
        sqlx::query("ALTER TABLE jobs ADD COLUMN interruptions INTEGER NOT NULL DEFAULT 0")
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// A text column parsed into a domain value.
fn parsed<T>(row: &AnyRow, column: &str) -> Result<T>
where
    T: std::str::FromStr<Err = crate::serve::domain::InvalidValue>,
{
    let text: String = row.try_get(column)?;
    Ok(text.parse()?)
}

/// An integer column (every integer is stored as a signed 64-bit value).
fn int(row: &AnyRow, column: &str) -> Result<i64> {
    Ok(row.try_get::<i64, _>(column)?)
}
