//! Session stores behind tower-sessions' `SessionStore`, plus the per-user session index.
//!
//! The contract every store here keeps (and the reason we do not use the stock sqlx store):
//! - `create` inserts a fresh id and never overwrites (an id collision draws a new id);
//! - `save` only *updates* a live record: a request that was in flight while its session was
//!   logged out, revoked or expired cannot write it back (no revival);
//! - `load` never returns an expired record, whether or not the cleanup task has run yet;
//! - ids are stored hashed, so the database alone gives no usable cookie.
//!
//! This module knows nothing of HTTP or Leptos.

pub mod record;
mod redis;
mod sql;
#[cfg(test)]
pub(crate) mod suite;

pub use self::redis::RedisStore;
pub use record::{
    handle, SessionIndex, StoreError, StoredSession, PASSWORD_VERSION_NOW, USER_ID_KEY,
};
pub use sql::SqlStore;

use crate::clock::SharedClock;
use crate::config::urls::redact;
use crate::config::{DatabaseConfig, StoreKind};
use crate::db::Database;
use crate::error::BoxError;
use std::sync::Arc;
use tower_sessions::session::{Id, Record};

/// A Redis store that could not be opened (kept typed: the CLI tells "unreachable" from other
/// failures by its source).
#[derive(Debug, thiserror::Error)]
#[error("cannot open the Redis session store {url}: {source}")]
pub struct OpenError {
    url: String,
    #[source]
    source: StoreError,
}

/// A change of a user's password version under way ([`AnyStore::password_version_changing`]).
#[must_use = "finish it with AnyStore::password_version_changed"]
pub struct VersionChange {
    user_id: i64,
    mark: Option<String>,
}

/// The configured session store. (An enum rather than a trait object: tower-sessions wants a
/// `Clone` store, and the set of stores is closed.) The session layer clones it for every
/// request, hence one `Arc` rather than each store's several.
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// SQLite or PostgreSQL.
    Sql(Arc<SqlStore>),
    Redis(Arc<RedisStore>),
}

/// Runs `$body` on whichever store this is; with a name, also times it for the metrics (a
/// no-op unless they are on).
macro_rules! each_store {
    ($self:ident, $s:ident => $body:expr) => {
        match $self {
            AnyStore::Sql($s) => $body,
            AnyStore::Redis($s) => $body,
        }
    };
    ($self:ident, $op:literal, $s:ident => $body:expr) => {{
        let started = std::time::Instant::now();
        let (store, out) = match $self {
            AnyStore::Sql($s) => ($s.kind(), $body),
            AnyStore::Redis($s) => ("redis", $body),
        };
        metrics::histogram!(
            "latchkey_store_operation_duration_seconds",
            "store" => store,
            "op" => $op
        )
        .record(started.elapsed().as_secs_f64());
        out
    }};
}

impl AnyStore {
    /// The store `[session] store` names: sessions beside the users (in `users`), in a
    /// PostgreSQL database of their own, or in Redis. Every remote operation is bounded by
    /// `database.timeout`.
    pub async fn open(
        kind: &StoreKind,
        users: &Database,
        database: &DatabaseConfig,
        clock: SharedClock,
    ) -> Result<Self, BoxError> {
        Ok(match kind {
            StoreKind::UsersDatabase => Self::Sql(Arc::new(SqlStore::new(users.clone(), clock))),
            StoreKind::Postgres(url) => {
                let db =
                    Database::connect_postgres(url, database.max_connections, database.timeout)
                        .await?;
                Self::Sql(Arc::new(SqlStore::sessions_only(db, clock)))
            }
            StoreKind::Redis(target) => Self::Redis(Arc::new(
                RedisStore::connect(target, clock, database.timeout)
                    .await
                    .map_err(|source| OpenError {
                        url: redact(&target.url),
                        source,
                    })?,
            )),
        })
    }

    /// At a login, the user's password version just read from the users database: a store
    /// that keeps a copy of it (Redis) starts one if it has none.
    pub async fn remember_password_version(
        &self,
        user_id: i64,
        version: i64,
    ) -> Result<(), StoreError> {
        match self {
            AnyStore::Sql(_) => Ok(()),
            AnyStore::Redis(s) => s.remember_password_version(user_id, version).await,
        }
    }

    /// Before a write to the users database that changes `user_id`'s password version (or
    /// deletes the user): a store's copy stops answering for it. An error here means the
    /// write must not happen, or pages could go on trusting the old version.
    pub async fn password_version_changing(
        &self,
        user_id: i64,
    ) -> Result<VersionChange, StoreError> {
        let mark = match self {
            AnyStore::Sql(_) => None,
            AnyStore::Redis(s) => Some(s.password_version_changing(user_id).await?),
        };
        Ok(VersionChange { user_id, mark })
    }

    /// After that write committed `version` (`None`: the user is gone, and its change stays
    /// pending). If the copy cannot be updated the change stays pending: pages ask the
    /// database, which is slower, never wrong.
    pub async fn password_version_changed(&self, change: VersionChange, version: Option<i64>) {
        let (AnyStore::Redis(s), Some(mark), Some(version)) = (self, &change.mark, version) else {
            return;
        };
        if let Err(err) = s
            .password_version_changed(change.user_id, mark, version)
            .await
        {
            tracing::warn!(
                error = %err,
                user_id = change.user_id,
                "a change of the password version stays pending in the session store; pages ask the users database"
            );
        }
    }

    /// Whether the store answers (for readiness checks).
    pub async fn ping(&self) -> Result<(), StoreError> {
        each_store!(self, s => s.ping().await)
    }
}

#[async_trait::async_trait]
impl tower_sessions::SessionStore for AnyStore {
    async fn create(&self, record: &mut Record) -> tower_sessions::session_store::Result<()> {
        each_store!(self, "create", s => s.create(record).await)
    }
    async fn save(&self, record: &Record) -> tower_sessions::session_store::Result<()> {
        each_store!(self, "save", s => s.save(record).await)
    }
    async fn load(&self, id: &Id) -> tower_sessions::session_store::Result<Option<Record>> {
        each_store!(self, "load", s => s.load(id).await)
    }
    async fn delete(&self, id: &Id) -> tower_sessions::session_store::Result<()> {
        each_store!(self, "delete", s => s.delete(id).await)
    }
}

#[async_trait::async_trait]
impl SessionIndex for AnyStore {
    async fn list_user_sessions(&self, user_id: i64) -> Result<Vec<StoredSession>, StoreError> {
        each_store!(self, "list_user_sessions", s => s.list_user_sessions(user_id).await)
    }
    async fn delete_user_session(&self, user_id: i64, handle: &str) -> Result<bool, StoreError> {
        each_store!(self, "delete_user_session", s => s.delete_user_session(user_id, handle).await)
    }
    async fn delete_user_sessions(
        &self,
        user_id: i64,
        keep: Option<&Id>,
    ) -> Result<u64, StoreError> {
        each_store!(self, "delete_user_sessions", s => s.delete_user_sessions(user_id, keep).await)
    }
    async fn trim_user_sessions(&self, user_id: i64, keep: usize) -> Result<u64, StoreError> {
        each_store!(self, "trim_user_sessions", s => s.trim_user_sessions(user_id, keep).await)
    }
    async fn delete_expired(&self) -> Result<u64, StoreError> {
        each_store!(self, "delete_expired", s => s.delete_expired().await)
    }
}
