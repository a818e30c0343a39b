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

mod redis;
mod sql;
#[cfg(test)]
pub(crate) mod suite;

pub use self::redis::{RedisStore, RedisUrl};
pub use sql::{PgStore, SqliteStore};

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use tower_sessions::session::{Id, Record};

/// A record key no store ever writes: set on load by a store that read the user's current
/// password version along with the session (the SQLite users database, one query instead of
/// two per page view; `perf` showed SQLite's per-transaction file locking at ~12% of a
/// logged-in page). Its value is the version, or `null` if the user no longer exists.
pub const PASSWORD_VERSION_NOW: &str = "password_version_now";

/// The configured session store. (An enum rather than a trait object: tower-sessions wants a
/// `Clone` store, and the set of stores is closed.) The session layer clones it for every
/// request, hence one `Arc` rather than each store's several.
#[derive(Debug, Clone)]
pub enum AnyStore {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PgStore>),
    Redis(Arc<RedisStore>),
}

macro_rules! each_store {
    ($self:ident, $s:ident => $body:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $body,
            AnyStore::Postgres($s) => $body,
            AnyStore::Redis($s) => $body,
        }
    };
}

impl AnyStore {
    /// Whether the store answers (for readiness checks).
    pub async fn ping(&self) -> Result<(), StoreError> {
        each_store!(self, s => s.ping().await)
    }
}

#[async_trait::async_trait]
impl tower_sessions::SessionStore for AnyStore {
    async fn create(&self, record: &mut Record) -> tower_sessions::session_store::Result<()> {
        each_store!(self, s => s.create(record).await)
    }
    async fn save(&self, record: &Record) -> tower_sessions::session_store::Result<()> {
        each_store!(self, s => s.save(record).await)
    }
    async fn load(&self, id: &Id) -> tower_sessions::session_store::Result<Option<Record>> {
        each_store!(self, s => s.load(id).await)
    }
    async fn delete(&self, id: &Id) -> tower_sessions::session_store::Result<()> {
        each_store!(self, s => s.delete(id).await)
    }
}

#[async_trait::async_trait]
impl SessionIndex for AnyStore {
    async fn list_user_sessions(&self, user_id: i64) -> Result<Vec<StoredSession>, StoreError> {
        each_store!(self, s => s.list_user_sessions(user_id).await)
    }
    async fn delete_user_session(&self, user_id: i64, handle: &str) -> Result<bool, StoreError> {
        each_store!(self, s => s.delete_user_session(user_id, handle).await)
    }
    async fn delete_user_sessions(
        &self,
        user_id: i64,
        keep: Option<&Id>,
    ) -> Result<u64, StoreError> {
        each_store!(self, s => s.delete_user_sessions(user_id, keep).await)
    }
    async fn delete_expired(&self) -> Result<u64, StoreError> {
        each_store!(self, s => s.delete_expired().await)
    }
}

/// The record key that holds the logged-in user's id; stores index sessions by it.
pub const USER_ID_KEY: &str = "uid";

/// One of a user's live sessions, as the index lists it.
#[derive(Debug, Clone)]
pub struct StoredSession {
    /// A public handle for the session: hex of the stored id hash. It names the session (to
    /// revoke it) but cannot be turned back into a cookie.
    pub handle: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub data: HashMap<String, serde_json::Value>,
}

/// What the per-user index needs from a store, beyond tower-sessions' trait.
#[async_trait::async_trait]
pub trait SessionIndex {
    /// The live sessions of `user_id`, newest first.
    async fn list_user_sessions(&self, user_id: i64) -> Result<Vec<StoredSession>, StoreError>;
    /// Deletes one session of `user_id` by handle; `false` if it was not theirs or is gone.
    async fn delete_user_session(&self, user_id: i64, handle: &str) -> Result<bool, StoreError>;
    /// Deletes every session of `user_id`, except `keep` if given. Returns how many ended.
    async fn delete_user_sessions(
        &self,
        user_id: i64,
        keep: Option<&Id>,
    ) -> Result<u64, StoreError>;
    /// Removes records whose expiry has passed. Returns how many.
    async fn delete_expired(&self) -> Result<u64, StoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("session store error: {0}")]
    Backend(#[from] sqlx::Error),
    #[error("session store error: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("session store timed out")]
    Timeout,
    #[error("corrupt session record: {0}")]
    Corrupt(String),
}

/// The stored key for a session id (SHA-256 of its 16 bytes).
fn id_hash(id: &Id) -> [u8; 32] {
    Sha256::digest(id.0.to_le_bytes()).into()
}

/// The public handle of a session id (see [`StoredSession::handle`]).
pub fn handle(id: &Id) -> String {
    hex(&id_hash(id))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// The user a record belongs to, if any.
fn record_user_id(record: &Record) -> Option<i64> {
    record.data.get(USER_ID_KEY).and_then(|v| v.as_i64())
}

fn backend(err: impl std::fmt::Display) -> tower_sessions::session_store::Error {
    tower_sessions::session_store::Error::Backend(err.to_string())
}
