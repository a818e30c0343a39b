//! The users database: SQLite (a file, the default) or PostgreSQL (shared by several
//! instances), opened and migrated at start-up. By default sessions live in it too.
//!
//! One way to run SQL on either: statements are written once, with `?` parameters, in SQL both
//! databases accept, and run through [`on_db!`], which numbers them for PostgreSQL and bounds
//! every PostgreSQL operation by the database's deadline (`[database] timeout-ms`).

mod batched;
mod pg_reader;
mod reader;
pub mod scratch;

pub use batched::Batched;
pub use pg_reader::{PgReadError, PgReader};
pub use reader::{SessionRow, SqliteReader};

use crate::config::urls::{is_postgres, redact};
use crate::config::DatabaseConfig;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid database URL {url:?}: {source}")]
    Url { url: String, source: sqlx::Error },
    #[error("cannot create the database file or its directory {dir}: {source}")]
    Dir { dir: String, source: std::io::Error },
    #[error("cannot open the database {url:?}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Runs `$run` with `$sql` (written with `?` parameters) in `$db`'s dialect and `$pool` bound
/// to its pool, within [`Database::within`]. A macro because the two drivers' query types
/// differ: `$run` is type-checked once per database.
macro_rules! on_db {
    ($db:expr, $sql:expr, |$q:ident, $pool:ident| $run:expr) => {{
        let db: &$crate::db::Database = $db;
        match db.pool() {
            $crate::db::Pool::Sqlite($pool) => {
                let $q: &str = $sql;
                $run
            }
            $crate::db::Pool::Postgres($pool) => {
                let numbered = $crate::db::numbered($sql);
                let $q: &str = &numbered;
                db.within(async { $run }).await
            }
        }
    }};
}
pub(crate) use on_db;

/// A pool of either kind. An enum rather than `sqlx::Any`: each arm keeps its driver's own
/// types, migrations and connection settings.
#[derive(Debug, Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open database: its pool, the deadline of each remote operation, and a reader for the
/// per-request lookups (SQLite files: on the calling thread; PostgreSQL: pipelined).
#[derive(Debug, Clone)]
pub struct Database {
    pool: Pool,
    deadline: Duration,
    reader: Option<Arc<SqliteReader>>,
    pg_reader: Option<Arc<PgReader>>,
}

impl Database {
    /// Opens the database `config.url` names (`sqlite:` or `postgres://`) and migrates it.
    pub async fn connect(config: &DatabaseConfig) -> Result<Self, DbError> {
        if is_postgres(&config.url) {
            Self::connect_postgres(&config.url, config.max_connections, config.timeout).await
        } else {
            connect_sqlite(config).await
        }
    }

    /// Opens a PostgreSQL pool (bounded waits: a database that is down must fail a request
    /// within seconds, not hang it) and applies its migrations (users and sessions tables).
    pub async fn connect_postgres(
        url: &str,
        max_connections: u32,
        deadline: Duration,
    ) -> Result<Self, DbError> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(deadline)
            .connect(url)
            .await
            .map_err(|source| DbError::Open {
                url: redact(url),
                source,
            })?;
        migrate(sqlx::migrate!("migrations/postgres"), &pool).await?;
        // sqlx's pool pings each connection before lending it (a second round trip, so that
        // one that died while idle, e.g. across a server restart, fails no request): fine
        // for writes and rare reads. The per-page reads go through the pipelined reader.
        // One pipelined connection per core this process runs on, and at least two, so that
        // the server can work on two of our queries at once.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // A URL tokio-postgres cannot use (an option only sqlx knows) costs speed, not service.
        let pg_reader = match PgReader::connect(url, cores.max(2), deadline).await {
            Ok(reader) => Some(Arc::new(reader)),
            Err(err) => {
                tracing::warn!(url = %redact(url), error = %err, "no pipelined PostgreSQL reads; every read goes through the pool");
                None
            }
        };
        Ok(Self {
            pool: Pool::Postgres(pool),
            deadline,
            reader: None,
            pg_reader,
        })
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// SQLite files: reads on the calling thread (see [`SqliteReader`]).
    pub fn reader(&self) -> Option<&SqliteReader> {
        self.reader.as_deref()
    }

    /// PostgreSQL: pipelined reads (see [`PgReader`]).
    pub fn pg_reader(&self) -> Option<&PgReader> {
        self.pg_reader.as_deref()
    }

    /// The budget of one operation.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Runs one operation: PostgreSQL within the deadline (a server that stops answering
    /// mid-query would otherwise hang the request for as long as TCP takes to give up); SQLite
    /// as is (a local file, with its own busy timeout).
    pub async fn within<T>(
        &self,
        op: impl std::future::Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, sqlx::Error> {
        match self.pool {
            Pool::Sqlite(_) => op.await,
            Pool::Postgres(_) => tokio::time::timeout(self.deadline, op)
                .await
                .unwrap_or_else(|_| {
                    Err(sqlx::Error::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "PostgreSQL did not answer in time",
                    )))
                }),
        }
    }

    /// Whether the database answers (for readiness checks).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, "SELECT 1", |sql, pool| sqlx::query(sql)
            .execute(pool)
            .await
            .map(|_| ()))
    }
}

/// A statement written with `?` parameters, in PostgreSQL's `$1, $2, …` style.
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Applies pending migrations. Migrations a newer version applied are tolerated: during a
/// rolling upgrade (or a rollback) an older instance must still start against a database the
/// newer one has migrated (each migration only adds what older code ignores).
async fn migrate<'a, A>(
    mut migrator: sqlx::migrate::Migrator,
    pool: A,
) -> Result<(), sqlx::migrate::MigrateError>
where
    A: sqlx::Acquire<'a>,
    <A::Connection as std::ops::Deref>::Target: sqlx::migrate::Migrate,
{
    migrator.set_ignore_missing(true);
    migrator.run(pool).await
}

/// Opens (creating if needed) a SQLite database and applies pending migrations.
async fn connect_sqlite(config: &DatabaseConfig) -> Result<Database, DbError> {
    let options = SqliteConnectOptions::from_str(&config.url)
        .map_err(|source| DbError::Url {
            url: config.url.clone(),
            source,
        })?
        .create_if_missing(true)
        // WAL: readers never block the writer. NORMAL sync in WAL mode keeps every committed
        // transaction across a process crash (kill -9); only an OS crash can lose the last ones.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));

    // `./data/latchkey.db` should work on a fresh clone: create the directory it lives in,
    // private (0700), and the file itself 0600 before SQLite opens it: SQLite gives its WAL and
    // shared-memory files the database file's mode, so none of them is world-readable.
    let path = options.get_filename().to_owned();
    if !is_in_memory(&path) {
        private_file(&path).map_err(|source| DbError::Dir {
            dir: path.display().to_string(),
            source,
        })?;
    }

    let pool = SqlitePoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(|source| DbError::Open {
            url: config.url.clone(),
            source,
        })?;
    migrate(sqlx::migrate!("migrations/sqlite"), &pool).await?;
    Ok(Database {
        pool: Pool::Sqlite(pool),
        deadline: config.timeout,
        reader: SqliteReader::new(&path).map(Arc::new),
        pg_reader: None,
    })
}

#[cfg(test)]
mod tests {
    use super::numbered;

    /// tokio-postgres refuses options only sqlx knows: such a URL still opens, every read then
    /// going through the pool.
    #[tokio::test]
    async fn a_url_only_sqlx_understands_opens_without_the_pipelined_reader() {
        use super::{scratch, Database, Pool};
        let (url, schema) = scratch::postgres_schema().await;
        let timeout = crate::config::DEFAULT_TIMEOUT;
        let plain = Database::connect_postgres(&url, 2, timeout).await.unwrap();
        assert!(plain.pg_reader().is_some());
        let sep = if url.contains('?') { '&' } else { '?' };
        let sqlx_only = format!("{url}{sep}statement-cache-capacity=50");
        let db = Database::connect_postgres(&sqlx_only, 2, timeout)
            .await
            .unwrap();
        assert!(db.pg_reader().is_none());
        db.ping().await.unwrap();
        for db in [plain, db] {
            if let Pool::Postgres(pool) = db.pool() {
                pool.close().await;
            }
        }
        scratch::drop_postgres_schema(&schema).await;
    }

    #[test]
    fn statements_are_numbered_for_postgres() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = $2"
        );
    }
}

fn is_in_memory(path: &std::path::Path) -> bool {
    let name = path.to_string_lossy();
    name.is_empty() || name.contains(":memory:") || name.contains("mode=memory")
}

/// Creates `path`'s folder (0700) and the file itself (0600) if they are missing.
fn private_file(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// Fresh databases for unit tests: a SQLite file, or a schema of the test PostgreSQL
/// ([`scratch`]), migrated like the real thing.
#[cfg(test)]
pub mod testing {
    use super::*;

    pub struct TestDb {
        pub db: Database,
        _dir: Option<tempfile::TempDir>,
        /// PostgreSQL: the test's own schema, dropped by `finish`.
        schema: Option<String>,
    }

    impl TestDb {
        pub async fn sqlite() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let config = DatabaseConfig {
                url: format!("sqlite://{}/t.db", dir.path().display()),
                max_connections: 4,
                timeout: crate::config::DEFAULT_TIMEOUT,
            };
            Self {
                db: Database::connect(&config).await.unwrap(),
                _dir: Some(dir),
                schema: None,
            }
        }

        pub async fn postgres() -> Self {
            let (url, schema) = scratch::postgres_schema().await;
            Self {
                db: Database::connect_postgres(&url, 4, crate::config::DEFAULT_TIMEOUT)
                    .await
                    .unwrap(),
                _dir: None,
                schema: Some(schema),
            }
        }

        pub async fn finish(self) {
            if let Pool::Postgres(pool) = self.db.pool() {
                pool.close().await;
            }
            if let Some(schema) = self.schema {
                scratch::drop_postgres_schema(&schema).await;
            }
        }
    }
}
