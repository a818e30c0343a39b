//! The SQLite database: one pool for users and sessions, migrated at start-up.

use crate::config::DatabaseConfig;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
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

/// Opens (creating if needed) the database and applies pending migrations.
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

/// Opens the PostgreSQL session store's pool (bounded waits: a store that is down must fail a
/// request within seconds, not hang it) and applies its migrations.
pub async fn connect_postgres(url: &str, max_connections: u32) -> Result<sqlx::PgPool, DbError> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(2))
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
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user_info = &url[scheme + 3..at];
            let user = user_info.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}
