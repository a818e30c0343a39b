//! The SQL session store: SQLite (the default; a real file, shared with the users table) or
//! PostgreSQL (shared by several instances). The statements are written once and run through
//! the database's one dialect helper ([`on_db!`]).

use super::record::{
    self, backend, hex, id_hash, unhex, SessionIndex, StoreError, StoredSession,
    PASSWORD_VERSION_NOW,
};
use crate::clock::SharedClock;
use crate::db::{on_db, Database, SessionRow};
use std::sync::LazyLock;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

const INSERT: &str = "INSERT INTO sessions (id_hash, user_id, data, expires_at, created_at) \
                      VALUES (?, ?, ?, ?, ?) ON CONFLICT (id_hash) DO NOTHING";
// UPDATE, never upsert: zero rows means the session was deleted or expired meanwhile, and it
// stays dead.
const UPDATE: &str = "UPDATE sessions SET user_id = ?, data = ?, expires_at = ? \
                      WHERE id_hash = ? AND expires_at > ?";
/// A live session: its data, its expiry, and (a store in the users' own database) its user's
/// current password version (see [`super::PASSWORD_VERSION_NOW`]): what every logged-in page
/// needs, in one statement (one round trip on PostgreSQL, one read transaction on SQLite).
const LOAD_WITH_PASSWORD_VERSION: &str = "SELECT s.data, s.expires_at, \
     (SELECT password_version FROM users WHERE id = s.user_id) \
     FROM sessions s WHERE s.id_hash = ? AND s.expires_at > ?";
/// The same row from a sessions-only database, whose users table (if any) is not the users'.
const LOAD: &str = "SELECT data, expires_at, CAST(NULL AS BIGINT) \
                    FROM sessions WHERE id_hash = ? AND expires_at > ?";
const DELETE: &str = "DELETE FROM sessions WHERE id_hash = ?";
const LIST: &str = "SELECT id_hash, created_at, expires_at, data FROM sessions \
                    WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC";
const DELETE_ONE: &str = "DELETE FROM sessions WHERE id_hash = ? AND user_id = ?";
const DELETE_USER: &str = "DELETE FROM sessions WHERE user_id = ? AND (? IS NULL OR id_hash <> ?)";
/// All but the newest `keep` (the OFFSET) of a user's sessions; the LIMIT is only there
/// because SQL wants one before an OFFSET.
const TRIM_USER: &str = "DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions \
                         WHERE user_id = ? ORDER BY created_at DESC, expires_at DESC LIMIT ? OFFSET ?)";
const DELETE_EXPIRED: &str = "DELETE FROM sessions WHERE expires_at <= ?";

#[derive(Debug, Clone)]
pub struct SqlStore {
    db: Database,
    clock: SharedClock,
    /// Whether `db` is the users' database (then a load also reads the password version).
    users_here: bool,
}

impl SqlStore {
    /// Sessions in the users' own database (the default).
    pub fn new(db: Database, clock: SharedClock) -> Self {
        Self {
            db,
            clock,
            users_here: true,
        }
    }

    /// Sessions in a database of their own (its users table, if any, is not the users').
    pub fn sessions_only(db: Database, clock: SharedClock) -> Self {
        Self {
            users_here: false,
            ..Self::new(db, clock)
        }
    }

    /// `sqlite` or `postgres` (a metrics label).
    pub fn kind(&self) -> &'static str {
        match self.db.pool() {
            crate::db::Pool::Sqlite(_) => "sqlite",
            crate::db::Pool::Postgres(_) => "postgres",
        }
    }

    fn now(&self) -> i64 {
        self.clock.unix()
    }

    /// Whether the database answers (for readiness checks).
    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(self.db.ping().await?)
    }

    /// The row `sql` (one of the LOADs) finds for `hash`, through the database's per-request
    /// reader (SQLite: on this thread, falling back to the pool on error; PostgreSQL:
    /// pipelined), or the pool when it has none.
    async fn read_session(
        &self,
        sql: &'static str,
        hash: &[u8],
    ) -> session_store::Result<Option<SessionRow>> {
        let now = self.now();
        if let Some(reader) = self.db.reader() {
            match reader.session(sql, hash, now) {
                Ok(row) => return Ok(row),
                Err(err) => {
                    tracing::debug!(error = %err, "same-thread read failed; using the pool")
                }
            }
        }
        if let Some(reader) = self.db.pg_reader() {
            let found = reader
                .query_opt(numbered_once(sql), &[&hash, &now])
                .await
                .map_err(backend)?;
            return found
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .transpose()
                .map_err(|e: tokio_postgres::Error| backend(e));
        }
        on_db!(&self.db, sql, |sql, pool| sqlx::query_as(sql)
            .bind(hash)
            .bind(now)
            .fetch_optional(pool)
            .await)
        .map_err(backend)
    }
}

/// The two LOADs, numbered for PostgreSQL once per process.
fn numbered_once(sql: &'static str) -> &'static str {
    static NUMBERED: LazyLock<[(&str, String); 2]> = LazyLock::new(|| {
        [LOAD, LOAD_WITH_PASSWORD_VERSION].map(|sql| (sql, crate::db::numbered(sql)))
    });
    let (_, numbered) = NUMBERED
        .iter()
        .find(|(plain, _)| *plain == sql)
        .expect("one of the LOADs");
    numbered
}

#[async_trait::async_trait]
impl SessionStore for SqlStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = record::encode(record)?;
        loop {
            let hash = id_hash(&record.id);
            let inserted = on_db!(&self.db, INSERT, |sql, pool| sqlx::query(sql)
                .bind(&hash[..])
                .bind(record::user_id(record))
                .bind(&data)
                .bind(record.expiry_date.unix_timestamp())
                .bind(self.now())
                .execute(pool)
                .await
                .map(|r| r.rows_affected()))
            .map_err(backend)?;
            if inserted == 1 {
                return Ok(());
            }
            // 2^-128 odds, but a collision must never hand out someone else's session.
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = record::encode(record)?;
        on_db!(&self.db, UPDATE, |sql, pool| sqlx::query(sql)
            .bind(record::user_id(record))
            .bind(&data)
            .bind(record.expiry_date.unix_timestamp())
            .bind(&id_hash(&record.id)[..])
            .bind(self.now())
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let sql = if self.users_here {
            LOAD_WITH_PASSWORD_VERSION
        } else {
            LOAD
        };
        let Some((data, expires_at, version)) = self.read_session(sql, &id_hash(id)).await? else {
            return Ok(None);
        };
        let mut record = record::decode(id, &data, expires_at)?;
        if self.users_here {
            // Carried for this request only; `record::encode` never writes it.
            record
                .data
                .insert(PASSWORD_VERSION_NOW.to_owned(), version.into());
        }
        Ok(Some(record))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        on_db!(&self.db, DELETE, |sql, pool| sqlx::query(sql)
            .bind(&id_hash(id)[..])
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(backend)
    }
}

#[async_trait::async_trait]
impl SessionIndex for SqlStore {
    async fn list_user_sessions(&self, user_id: i64) -> Result<Vec<StoredSession>, StoreError> {
        let rows: Vec<(Vec<u8>, i64, i64, Vec<u8>)> =
            on_db!(&self.db, LIST, |sql, pool| sqlx::query_as(sql)
                .bind(user_id)
                .bind(self.now())
                .fetch_all(pool)
                .await)?;
        rows.into_iter()
            .map(|(hash, created_at, expires_at, data)| {
                Ok(StoredSession {
                    handle: hex(&hash),
                    created_at,
                    expires_at,
                    data: serde_json::from_slice(&data)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }

    async fn delete_user_session(&self, user_id: i64, handle: &str) -> Result<bool, StoreError> {
        let Some(hash) = unhex(handle) else {
            return Ok(false);
        };
        let deleted = on_db!(&self.db, DELETE_ONE, |sql, pool| sqlx::query(sql)
            .bind(&hash)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(deleted == 1)
    }

    async fn delete_user_sessions(
        &self,
        user_id: i64,
        keep: Option<&Id>,
    ) -> Result<u64, StoreError> {
        let keep = keep.map(id_hash).map(|h| h.to_vec());
        Ok(on_db!(&self.db, DELETE_USER, |sql, pool| sqlx::query(sql)
            .bind(user_id)
            .bind(&keep)
            .bind(&keep)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?)
    }

    async fn trim_user_sessions(&self, user_id: i64, keep: usize) -> Result<u64, StoreError> {
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        Ok(on_db!(&self.db, TRIM_USER, |sql, pool| sqlx::query(sql)
            .bind(user_id)
            .bind(i64::MAX)
            .bind(keep)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?)
    }

    async fn delete_expired(&self) -> Result<u64, StoreError> {
        Ok(on_db!(&self.db, DELETE_EXPIRED, |sql, pool| sqlx::query(
            sql
        )
        .bind(self.now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?)
    }
}
