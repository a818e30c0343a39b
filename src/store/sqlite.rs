//! The SQLite session store (the default): a real file, shared with the users table.

use super::{
    backend, hex, id_hash, record_user_id, unhex, SessionIndex, StoreError, StoredSession,
};
use crate::clock::SharedClock;
use sqlx::SqlitePool;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    clock: SharedClock,
}

impl SqliteStore {
    pub fn new(pool: SqlitePool, clock: SharedClock) -> Self {
        Self { pool, clock }
    }

    fn now(&self) -> i64 {
        self.clock.unix()
    }
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    serde_json::to_vec(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

#[async_trait::async_trait]
impl SessionStore for SqliteStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(record)?;
        loop {
            let inserted = sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, data, expires_at, created_at) \
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT (id_hash) DO NOTHING",
            )
            .bind(&id_hash(&record.id)[..])
            .bind(record_user_id(record))
            .bind(&data)
            .bind(record.expiry_date.unix_timestamp())
            .bind(self.now())
            .execute(&self.pool)
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
        // UPDATE, never upsert: zero rows means the session was deleted or expired meanwhile,
        // and it stays dead.
        sqlx::query(
            "UPDATE sessions SET user_id = ?, data = ?, expires_at = ? \
             WHERE id_hash = ? AND expires_at > ?",
        )
        .bind(record_user_id(record))
        .bind(encode(record)?)
        .bind(record.expiry_date.unix_timestamp())
        .bind(&id_hash(&record.id)[..])
        .bind(self.now())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(Vec<u8>, i64)> = sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id_hash = ? AND expires_at > ?",
        )
        .bind(&id_hash(id)[..])
        .bind(self.now())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
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

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(&id_hash(id)[..])
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl SessionIndex for SqliteStore {
    async fn list_user_sessions(&self, user_id: i64) -> Result<Vec<StoredSession>, StoreError> {
        let rows: Vec<(Vec<u8>, i64, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT id_hash, created_at, expires_at, data FROM sessions \
             WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC",
        )
        .bind(user_id)
        .bind(self.now())
        .fetch_all(&self.pool)
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

    async fn delete_user_session(&self, user_id: i64, handle: &str) -> Result<bool, StoreError> {
        let Some(hash) = unhex(handle) else {
            return Ok(false);
        };
        let res = sqlx::query("DELETE FROM sessions WHERE id_hash = ? AND user_id = ?")
            .bind(hash)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(res.rows_affected() == 1)
    }

    async fn delete_user_sessions(
        &self,
        user_id: i64,
        keep: Option<&Id>,
    ) -> Result<u64, StoreError> {
        let keep = keep.map(id_hash);
        let res =
            sqlx::query("DELETE FROM sessions WHERE user_id = ? AND (? IS NULL OR id_hash <> ?)")
                .bind(user_id)
                .bind(keep.as_ref().map(|h| &h[..]))
                .bind(keep.as_ref().map(|h| &h[..]))
                .execute(&self.pool)
                .await?;
        Ok(res.rows_affected())
    }

    async fn delete_expired(&self) -> Result<u64, StoreError> {
        let res = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(self.now())
            .execute(&self.pool)
            .await?;
        Ok(res.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatabaseConfig;
    use std::collections::HashMap;

    async fn store() -> (SqliteStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let pool = crate::db::connect(&DatabaseConfig {
            url,
            max_connections: 2,
        })
        .await
        .unwrap();
        (
            SqliteStore::new(pool, std::sync::Arc::new(crate::clock::SystemClock)),
            dir,
        )
    }

    fn record(secs_from_now: i64) -> Record {
        Record {
            id: Id::default(),
            data: HashMap::from([("k".to_string(), serde_json::json!("v"))]),
            expiry_date: OffsetDateTime::now_utc() + time::Duration::seconds(secs_from_now),
        }
    }

    #[tokio::test]
    async fn save_after_delete_does_not_revive() {
        let (store, _dir) = store().await;
        let mut r = record(3600);
        store.create(&mut r).await.unwrap();
        assert!(store.load(&r.id).await.unwrap().is_some());
        store.delete(&r.id).await.unwrap();
        store.save(&r).await.unwrap();
        assert!(store.load(&r.id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn expired_records_do_not_load_and_are_purged() {
        let (store, _dir) = store().await;
        let mut r = record(-1);
        store.create(&mut r).await.unwrap();
        assert!(store.load(&r.id).await.unwrap().is_none());
        assert_eq!(store.delete_expired().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn create_never_overwrites_an_existing_id() {
        let (store, _dir) = store().await;
        let mut a = record(3600);
        store.create(&mut a).await.unwrap();
        let mut b = record(3600);
        b.id = a.id;
        b.data.insert("k".into(), serde_json::json!("other"));
        store.create(&mut b).await.unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(store.load(&a.id).await.unwrap().unwrap().data["k"], "v");
    }
}
