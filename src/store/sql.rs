//! The SQL session stores: SQLite (the default; a real file, shared with the users table) and
//! PostgreSQL (shared by several instances). One implementation: the two differ only in how
//! a query names its parameters (`?` against `$1`), so the statements are written once and the
//! store methods are stamped out for each database by `impl_sql_store!`.

use super::{
    backend, hex, id_hash, record_user_id, unhex, SessionIndex, StoreError, StoredSession,
    PASSWORD_VERSION_NOW,
};
use crate::clock::SharedClock;
use crate::db::{SqliteReader, Within};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// The statements, with `?` parameters.
const INSERT: &str = "INSERT INTO sessions (id_hash, user_id, data, expires_at, created_at) \
                      VALUES (?, ?, ?, ?, ?) ON CONFLICT (id_hash) DO NOTHING";
// UPDATE, never upsert: zero rows means the session was deleted or expired meanwhile, and it
// stays dead.
const UPDATE: &str = "UPDATE sessions SET user_id = ?, data = ?, expires_at = ? \
                      WHERE id_hash = ? AND expires_at > ?";
const LOAD: &str = "SELECT data, expires_at FROM sessions WHERE id_hash = ? AND expires_at > ?";
/// LOAD plus the user's current password version (see [`super::PASSWORD_VERSION_NOW`]); used
/// by the same-thread SQLite reader, whose database always holds the users table.
const LOAD_WITH_PASSWORD_VERSION: &str = "SELECT s.data, s.expires_at, \
     (SELECT password_version FROM users WHERE id = s.user_id) \
     FROM sessions s WHERE s.id_hash = ? AND s.expires_at > ?";
const DELETE: &str = "DELETE FROM sessions WHERE id_hash = ?";
const LIST: &str = "SELECT id_hash, created_at, expires_at, data FROM sessions \
                    WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC";
const DELETE_ONE: &str = "DELETE FROM sessions WHERE id_hash = ? AND user_id = ?";
const DELETE_USER: &str = "DELETE FROM sessions WHERE user_id = ? AND (? IS NULL OR id_hash <> ?)";
const DELETE_EXPIRED: &str = "DELETE FROM sessions WHERE expires_at <= ?";

/// The statements in one database's parameter style.
#[derive(Debug)]
struct Statements {
    insert: String,
    update: String,
    load: String,
    delete: String,
    list: String,
    delete_one: String,
    delete_user: String,
    delete_expired: String,
}

impl Statements {
    fn new(numbered: bool) -> Self {
        let style = |sql: &str| {
            if numbered {
                crate::db::numbered(sql)
            } else {
                sql.to_owned()
            }
        };
        Self {
            insert: style(INSERT),
            update: style(UPDATE),
            load: style(LOAD),
            delete: style(DELETE),
            list: style(LIST),
            delete_one: style(DELETE_ONE),
            delete_user: style(DELETE_USER),
            delete_expired: style(DELETE_EXPIRED),
        }
    }
}

#[derive(Debug)]
pub struct SqlStore<DB: sqlx::Database> {
    pool: sqlx::Pool<DB>,
    clock: SharedClock,
    sql: std::sync::Arc<Statements>,
    /// PostgreSQL: each operation is bounded by [`crate::db::remote_timeout`].
    bounded: bool,
    /// SQLite: loads on the calling thread (see [`SqliteReader`]).
    reader: Option<std::sync::Arc<SqliteReader>>,
}

// By hand: a derived Clone would demand `DB: Clone`, which the database marker types are not.
impl<DB: sqlx::Database> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            clock: self.clock.clone(),
            sql: self.sql.clone(),
            bounded: self.bounded,
            reader: self.reader.clone(),
        }
    }
}

pub type SqliteStore = SqlStore<sqlx::Sqlite>;
pub type PgStore = SqlStore<sqlx::Postgres>;

impl SqliteStore {
    pub fn new(pool: sqlx::SqlitePool, clock: SharedClock) -> Self {
        Self {
            pool,
            clock,
            sql: std::sync::Arc::new(Statements::new(false)),
            bounded: false,
            reader: None,
        }
    }

    /// Loads through `reader` (falling back to the pool if it fails).
    pub fn with_reader(mut self, reader: Option<std::sync::Arc<SqliteReader>>) -> Self {
        self.reader = reader;
        self
    }
}

impl PgStore {
    pub fn new(pool: sqlx::PgPool, clock: SharedClock) -> Self {
        Self {
            pool,
            clock,
            sql: std::sync::Arc::new(Statements::new(true)),
            bounded: true,
            reader: None,
        }
    }
}

/// A loaded row as a record.
fn decode(id: &Id, row: Option<(Vec<u8>, i64)>) -> session_store::Result<Option<Record>> {
    let Some((data, expires_at)) = row else {
        return Ok(None);
    };
    Ok(Some(Record {
        id: *id,
        data: serde_json::from_slice(&data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?,
        expiry_date: OffsetDateTime::from_unix_timestamp(expires_at)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?,
    }))
}

/// A row read with its user's password version: the record, carrying the version under
/// [`PASSWORD_VERSION_NOW`] for this request only ([`encode`] never writes it).
fn decode_with_password_version(
    id: &Id,
    row: Option<crate::db::SessionRow>,
) -> session_store::Result<Option<Record>> {
    let Some((data, expires_at, version)) = row else {
        return Ok(None);
    };
    let mut record = decode(id, Some((data, expires_at)))?;
    if let Some(record) = &mut record {
        record
            .data
            .insert(PASSWORD_VERSION_NOW.to_owned(), version.into());
    }
    Ok(record)
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    /// The record's data minus what was only read for this request.
    struct Stored<'a>(&'a Record);
    impl serde::Serialize for Stored<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(
                self.0
                    .data
                    .iter()
                    .filter(|(k, _)| *k != PASSWORD_VERSION_NOW),
            )
        }
    }
    serde_json::to_vec(&Stored(record)).map_err(|e| session_store::Error::Encode(e.to_string()))
}

macro_rules! impl_sql_store {
    ($db:ty) => {
        impl SqlStore<$db> {
            fn now(&self) -> i64 {
                self.clock.unix()
            }

            /// Whether the database answers (for readiness checks).
            pub async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .within(self.bounded)
                    .await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl SessionStore for SqlStore<$db> {
            async fn create(&self, record: &mut Record) -> session_store::Result<()> {
                let data = encode(record)?;
                loop {
                    let inserted = sqlx::query(&self.sql.insert)
                        .bind(&id_hash(&record.id)[..])
                        .bind(record_user_id(record))
                        .bind(&data)
                        .bind(record.expiry_date.unix_timestamp())
                        .bind(self.now())
                        .execute(&self.pool)
                        .within(self.bounded)
                        .await
                        .map_err(backend)?
                        .rows_affected();
                    if inserted == 1 {
                        return Ok(());
                    }
                    // 2^-128 odds, but a collision must never hand out someone else's session.
                    record.id = Id::default();
                }
            }

            async fn save(&self, record: &Record) -> session_store::Result<()> {
                sqlx::query(&self.sql.update)
                    .bind(record_user_id(record))
                    .bind(encode(record)?)
                    .bind(record.expiry_date.unix_timestamp())
                    .bind(&id_hash(&record.id)[..])
                    .bind(self.now())
                    .execute(&self.pool)
                    .within(self.bounded)
                    .await
                    .map_err(backend)?;
                Ok(())
            }

            async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
                if let Some(reader) = &self.reader {
                    match reader.session(LOAD_WITH_PASSWORD_VERSION, &id_hash(id), self.now()) {
                        Ok(row) => return decode_with_password_version(id, row),
                        Err(err) => tracing::debug!(error = %err, "same-thread read failed; using the pool"),
                    }
                }
                let row: Option<(Vec<u8>, i64)> = sqlx::query_as(&self.sql.load)
                    .bind(&id_hash(id)[..])
                    .bind(self.now())
                    .fetch_optional(&self.pool)
                    .within(self.bounded)
                    .await
                    .map_err(backend)?;
                decode(id, row)
            }

            async fn delete(&self, id: &Id) -> session_store::Result<()> {
                sqlx::query(&self.sql.delete)
                    .bind(&id_hash(id)[..])
                    .execute(&self.pool)
                    .within(self.bounded)
                    .await
                    .map_err(backend)?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl SessionIndex for SqlStore<$db> {
            async fn list_user_sessions(
                &self,
                user_id: i64,
            ) -> Result<Vec<StoredSession>, StoreError> {
                let rows: Vec<(Vec<u8>, i64, i64, Vec<u8>)> = sqlx::query_as(&self.sql.list)
                    .bind(user_id)
                    .bind(self.now())
                    .fetch_all(&self.pool)
                    .within(self.bounded)
                    .await?;
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

            async fn delete_user_session(
                &self,
                user_id: i64,
                handle: &str,
            ) -> Result<bool, StoreError> {
                let Some(hash) = unhex(handle) else {
                    return Ok(false);
                };
                let res = sqlx::query(&self.sql.delete_one)
                    .bind(hash)
                    .bind(user_id)
                    .execute(&self.pool)
                    .within(self.bounded)
                    .await?;
                Ok(res.rows_affected() == 1)
            }

            async fn delete_user_sessions(
                &self,
                user_id: i64,
                keep: Option<&Id>,
            ) -> Result<u64, StoreError> {
                let keep = keep.map(id_hash).map(|h| h.to_vec());
                let res = sqlx::query(&self.sql.delete_user)
                    .bind(user_id)
                    .bind(keep.clone())
                    .bind(keep)
                    .execute(&self.pool)
                    .within(self.bounded)
                    .await?;
                Ok(res.rows_affected())
            }

            async fn delete_expired(&self) -> Result<u64, StoreError> {
                let res = sqlx::query(&self.sql.delete_expired)
                    .bind(self.now())
                    .execute(&self.pool)
                    .within(self.bounded)
                    .await?;
                Ok(res.rows_affected())
            }
        }
    };
}

impl_sql_store!(sqlx::Sqlite);
impl_sql_store!(sqlx::Postgres);
