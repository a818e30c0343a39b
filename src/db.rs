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
