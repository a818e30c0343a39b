//! What every store keeps and answers: how a session record is keyed and encoded (ids stored
//! hashed, public handles, the data as JSON minus what was only read for this request), and
//! the per-user index every store offers besides tower-sessions' trait.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store;

/// A record key no store ever writes: set on load by a store that read the user's current
/// password version along with the session (the SQLite users database, one query instead of
/// two per page view; `perf` showed SQLite's per-transaction file locking at ~12% of a
/// logged-in page). Its value is the version, or `null` if the user no longer exists.
pub const PASSWORD_VERSION_NOW: &str = "password_version_now";

/// The record key that holds the logged-in user's id; stores index sessions by it.
pub const USER_ID_KEY: &str = "uid";

/// The stored key for a session id (SHA-256 of its 16 bytes).
pub fn id_hash(id: &Id) -> [u8; 32] {
    Sha256::digest(id.0.to_le_bytes()).into()
}

/// The public handle of a session id: hex of its stored hash. It names the session (to revoke
/// it) but cannot be turned back into a cookie.
pub fn handle(id: &Id) -> String {
    hex(&id_hash(id))
}

pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    out
}

/// Appends `bytes` in hex (a Redis page view builds its key in one allocation).
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    // On every Redis page view: no `format!` per byte (it measured ~5% of the page's CPU).
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
}

/// A handle's hash bytes; `None` for anything that is not a handle.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// The user a record belongs to, if any.
pub fn user_id(record: &Record) -> Option<i64> {
    record.data.get(USER_ID_KEY).and_then(|v| v.as_i64())
}

/// The record's data as stored: without [`PASSWORD_VERSION_NOW`], which is read for one
/// request only.
pub fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
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

/// A stored record back from its data and expiry (unix seconds).
pub fn decode(id: &Id, data: &[u8], expires_at: i64) -> session_store::Result<Record> {
    Ok(Record {
        id: *id,
        data: serde_json::from_slice(data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?,
        expiry_date: OffsetDateTime::from_unix_timestamp(expires_at)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?,
    })
}

/// One of a user's live sessions, as the index lists it.
#[derive(Debug, Clone)]
pub struct StoredSession {
    /// The session's public handle ([`handle`]).
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
    /// Deletes the oldest sessions of `user_id` beyond the newest `keep`. Returns how many.
    async fn trim_user_sessions(&self, user_id: i64, keep: usize) -> Result<u64, StoreError>;
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

pub fn backend(err: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_round_trip_and_nothing_else_is_one() {
        let id = Id::default();
        let h = handle(&id);
        assert_eq!(unhex(&h).unwrap(), id_hash(&id));
        assert_eq!(unhex(&h[..63]), None);
        assert_eq!(unhex(&"g".repeat(64)), None);
    }
}
