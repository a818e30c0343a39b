//! The users database: SQLite (a file, the default) or PostgreSQL (shared by several
//! instances), opened and migrated at start-up. By default sessions live in it too.

mod reader;

pub use reader::{SessionRow, SqliteReader};

use crate::config::DatabaseConfig;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid database URL {url:?}: {source}")]
    Url { url: String, source: sqlx::Error },
    #[error("cannot create the database directory {dir}: {source}")]
    Dir { dir: String, source: std::io::Error },
    #[error("cannot open the database {url:?}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The users database. An enum rather than `sqlx::Any`: each arm keeps its driver's own types,
/// migrations and connection settings.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Database {
    /// Opens the database `config.url` names (`sqlite:` or `postgres://`) and migrates it.
    pub async fn connect(config: &DatabaseConfig) -> Result<Self, DbError> {
        if is_postgres(&config.url) {
            Ok(Self::Postgres(
                connect_postgres(&config.url, config.max_connections).await?,
            ))
        } else {
            Ok(Self::Sqlite(connect(config).await?))
        }
    }

    /// Whether the database answers (for readiness checks).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        match self {
            Self::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
            Self::Postgres(pool) => pg_deadline(sqlx::query("SELECT 1").execute(pool))
                .await
                .map(|_| ()),
        }
    }
}

/// A same-thread reader for the SQLite database `config` names (see [`SqliteReader`]);
/// `None` for PostgreSQL or an in-memory database.
pub fn sqlite_reader(config: &DatabaseConfig) -> Option<std::sync::Arc<SqliteReader>> {
    if is_postgres(&config.url) {
        return None;
    }
    let options = SqliteConnectOptions::from_str(&config.url).ok()?;
    SqliteReader::new(options.get_filename()).map(std::sync::Arc::new)
}

pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The whole budget of one PostgreSQL operation (getting a connection included). A server that
/// stops answering mid-query (frozen, or a network that drops packets) would otherwise hang
/// the request for as long as TCP takes to give up.
/// Default of `[database] timeout-ms`; set for the process by [`set_remote_timeout`].
pub const DEFAULT_REMOTE_TIMEOUT: Duration = Duration::from_millis(1500);
static REMOTE_TIMEOUT_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1500);

/// Sets the budget of each PostgreSQL and Redis operation for this process (from
/// `[database] timeout-ms`, read once at start-up).
pub fn set_remote_timeout(limit: Duration) {
    REMOTE_TIMEOUT_MS.store(
        limit.as_millis() as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// The budget of one PostgreSQL or Redis operation, waiting for a connection included.
pub fn remote_timeout() -> Duration {
    Duration::from_millis(REMOTE_TIMEOUT_MS.load(std::sync::atomic::Ordering::Relaxed))
}

/// Runs one PostgreSQL operation within [`remote_timeout`].
pub async fn pg_deadline<T>(
    op: impl std::future::Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, sqlx::Error> {
    tokio::time::timeout(remote_timeout(), op)
        .await
        .unwrap_or_else(|_| {
            Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "PostgreSQL did not answer in time",
            )))
        })
}

/// Runs `$run` with `$sql` (written with `?` parameters) in the users database's dialect and
/// `$pool` bound to its pool (PostgreSQL: within its deadline). Statements are written once,
/// in SQL both databases accept.
macro_rules! on_db {
    ($db:expr, $sql:expr, |$q:ident, $pool:ident| $run:expr) => {
        match $db {
            $crate::db::Database::Sqlite($pool) => {
                let $q: &str = $sql;
                $run
            }
            $crate::db::Database::Postgres($pool) => {
                let numbered = $crate::db::numbered($sql);
                let $q: &str = &numbered;
                $crate::db::pg_deadline(async { $run }).await
            }
        }
    };
}
pub(crate) use on_db;

/// `.within(bounded)` on a database future: [`pg_deadline`] when `bounded` (PostgreSQL), as
/// is otherwise (SQLite: a local file, with its own busy timeout).
pub(crate) trait Within<'a, T>:
    std::future::Future<Output = Result<T, sqlx::Error>> + Send + Sized + 'a
{
    fn within(
        self,
        bounded: bool,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, sqlx::Error>> + Send + 'a>>
    {
        Box::pin(async move {
            if bounded {
                pg_deadline(self).await
            } else {
                self.await
            }
        })
    }
}

impl<'a, T, F> Within<'a, T> for F where
    F: std::future::Future<Output = Result<T, sqlx::Error>> + Send + 'a
{
}

/// A statement written with `?` parameters, in PostgreSQL's `$1, $2, …` style. Statements are
/// written once, in SQL both databases accept, and numbered for PostgreSQL.
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

/// Opens (creating if needed) a SQLite database and applies pending migrations.
pub async fn connect(config: &DatabaseConfig) -> Result<SqlitePool, DbError> {
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

    // `./data/latchkey.db` should work on a fresh clone: create the directory it lives in.
    let path = options.get_filename();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| DbError::Dir {
            dir: dir.display().to_string(),
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
    sqlx::migrate!("migrations/sqlite").run(&pool).await?;
    Ok(pool)
}

/// Opens a PostgreSQL pool (bounded waits: a database that is down must fail a request within
/// seconds, not hang it) and applies its migrations (users and sessions tables).
pub async fn connect_postgres(url: &str, max_connections: u32) -> Result<sqlx::PgPool, DbError> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(remote_timeout())
        .connect(url)
        .await
        .map_err(|source| DbError::Open {
            url: redact(url),
            source,
        })?;
    sqlx::migrate!("migrations/postgres").run(&pool).await?;
    Ok(pool)
}

/// A URL fit for an error message: without its password.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user_info = &url[scheme + 3..at];
            let user = user_info.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// Databases for tests: a fresh SQLite file, or a fresh schema in the test PostgreSQL
/// (`LATCHKEY_TEST_POSTGRES_URL`, default: this project's machines'
/// `postgres://postgres@127.0.0.1:5432/test`), migrated like the real thing.
#[cfg(test)]
pub mod testing {
    use super::*;

    pub struct TestDb {
        pub db: Database,
        /// SQLite: a same-thread reader of the file.
        pub reader: Option<std::sync::Arc<SqliteReader>>,
        _dir: Option<tempfile::TempDir>,
        /// PostgreSQL: the admin pool and the test's own schema, dropped by `finish`.
        schema: Option<(PgPool, String)>,
    }

    impl TestDb {
        pub async fn sqlite() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let config = DatabaseConfig {
                url: format!("sqlite://{}/t.db", dir.path().display()),
                max_connections: 4,
                timeout: DEFAULT_REMOTE_TIMEOUT,
            };
            let pool = connect(&config).await.unwrap();
            Self {
                db: Database::Sqlite(pool),
                reader: sqlite_reader(&config),
                _dir: Some(dir),
                schema: None,
            }
        }

        pub async fn postgres() -> Self {
            let base = std::env::var("LATCHKEY_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let admin = PgPool::connect(&base).await.unwrap_or_else(|e| {
                panic!("PostgreSQL is not reachable at {base} ({e}): start one, or point LATCHKEY_TEST_POSTGRES_URL at one")
            });
            let mut random = [0u8; 6];
            getrandom(&mut random);
            let schema = format!(
                "lk_test_{}",
                random
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            );
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&admin)
                .await
                .unwrap();
            let sep = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
            let pool = connect_postgres(&url, 4).await.unwrap();
            Self {
                db: Database::Postgres(pool),
                reader: None,
                _dir: None,
                schema: Some((admin, schema)),
            }
        }

        pub async fn finish(self) {
            if let Some((admin, schema)) = self.schema {
                let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(&admin)
                    .await;
            }
        }
    }

    fn getrandom(buf: &mut [u8]) {
        use argon2::password_hash::rand_core::{OsRng, RngCore};
        OsRng.fill_bytes(buf);
    }
}
