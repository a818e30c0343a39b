//! SQLite reads on the calling thread, for what every logged-in page reads (its session, and
//! its user's password version, in one statement).
//!
//! sqlx runs each SQLite query on the connection's own worker thread and hands the rows back
//! through a channel: two thread handoffs and wake-ups per query, which measured at about half
//! of the CPU a cached logged-in page costs, far more than the primary-key lookup itself. Here
//! the same statements run synchronously through rusqlite on read-only connections. In WAL
//! mode a reader never waits for a writer, and these pages are in the OS cache, so a lookup
//! takes microseconds on the async worker. Any error falls back to the sqlx path.

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// Idle connections kept (one per concurrently reading worker is enough).
const MAX_IDLE: usize = 8;

/// A session row: its data, its expiry (unix seconds), its user's current password version.
pub type SessionRow = (Vec<u8>, i64, Option<i64>);

#[derive(Debug)]
pub struct SqliteReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl SqliteReader {
    /// A reader for the database file at `path`; `None` for an in-memory database (each
    /// connection would see its own, empty one).
    pub fn new(path: &Path) -> Option<Self> {
        let name = path.to_string_lossy();
        // sqlx names its in-memory databases `file:sqlx-in-memory-N`.
        if name.is_empty()
            || name.contains(":memory:")
            || name.contains("mode=memory")
            || name.starts_with("file:sqlx-in-memory")
        {
            return None;
        }
        Some(Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
        })
    }

    fn with<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                // Never wait long on the async worker: a busy database falls back to sqlx.
                conn.busy_timeout(Duration::from_millis(20))?;
                conn
            }
        };
        let result = read(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        result
    }

    /// `(data, expires_at, password version of its user)` of the live session stored under
    /// `id_hash`: the session and the version in one statement, i.e. one read transaction
    /// (each costs SQLite a handful of `fcntl` lock calls).
    pub fn session(
        &self,
        sql: &str,
        id_hash: &[u8],
        now: i64,
    ) -> rusqlite::Result<Option<SessionRow>> {
        self.with(|conn| {
            conn.prepare_cached(sql)?
                .query_row(rusqlite::params![id_hash, now], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .optional()
        })
    }

    /// The user's password version (`users::password_version`).
    pub fn password_version(&self, sql: &str, user_id: i64) -> rusqlite::Result<Option<i64>> {
        self.with(|conn| {
            conn.prepare_cached(sql)?
                .query_row([user_id], |row| row.get(0))
                .optional()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::SqliteReader;
    use std::path::Path;

    #[test]
    fn in_memory_databases_get_no_reader() {
        for name in [
            ":memory:",
            "file:sqlx-in-memory-3",
            "file:x?mode=memory",
            "",
        ] {
            assert!(SqliteReader::new(Path::new(name)).is_none(), "{name}");
        }
        assert!(SqliteReader::new(Path::new("data/latchkey.db")).is_some());
    }
}
