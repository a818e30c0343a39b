//! The Redis / Valkey session store: sessions shared by several instances through an
//! in-memory server.
//!
//! Layout, under a configurable key prefix (default `latchkey:`):
//! - `{prefix}s:{handle}`: a hash per session (`data`, `uid`, `created`, `exp`), which Redis
//!   itself expires at `exp` (`EXPIREAT`);
//! - `{prefix}u:{user id}`: the per-user index, a sorted set of handles scored by expiry, so
//!   the cleanup task can drop stale entries with one `ZREMRANGEBYSCORE` per user.
//!
//! Every multi-step change runs as one Lua script, which Redis executes atomically: `save`
//! updates only a record that still exists (no revival), `create` never overwrites.
//!
//! Fault behaviour is explicit rather than the client's defaults (which never time out a
//! command): each connection attempt and each reply is bounded, reconnects back off briefly,
//! and every operation as a whole has a deadline, so a stalled or stopped server turns into
//! an error (→ 503) within `[database] timeout-ms` instead of a hung request.

use super::{hex, id_hash, record_user_id, unhex, SessionIndex, StoreError, StoredSession};
use crate::clock::SharedClock;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

// The whole budget of one store operation, reconnect attempts included, is
// `crate::db::remote_timeout()` (`[database] timeout-ms`, 1.5 s by default); a connection
// attempt gets 2/3 of it and a reply 4/5.
const RECONNECT_RETRIES: usize = 2;
const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(50);
const RECONNECT_MAX_DELAY: Duration = Duration::from_millis(400);

pub const DEFAULT_KEY_PREFIX: &str = "latchkey:";

/// A `redis://` URL split into what the client connects to and our key prefix (the
/// `key_prefix` query parameter, which lets several apps or test runs share one server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisUrl {
    pub url: String,
    pub key_prefix: String,
}

impl RedisUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut url = url::Url::parse(text).map_err(|e| format!("invalid Redis URL: {e}"))?;
        let mut key_prefix = DEFAULT_KEY_PREFIX.to_owned();
        let rest: Vec<(String, String)> = url
            .query_pairs()
            .filter_map(|(k, v)| {
                if k == "key_prefix" {
                    key_prefix = v.into_owned();
                    None
                } else {
                    Some((k.into_owned(), v.into_owned()))
                }
            })
            .collect();
        // Keys are also used in SCAN patterns: no glob characters, nothing surprising.
        if key_prefix.is_empty()
            || key_prefix.len() > 64
            || !key_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":_-.".contains(&b))
        {
            return Err(format!(
                "key_prefix {key_prefix:?} must be 1-64 letters, digits or : _ - ."
            ));
        }
        if rest.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(rest);
        }
        Ok(Self {
            url: url.to_string(),
            key_prefix,
        })
    }
}

#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: Arc<str>,
    clock: SharedClock,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Runs `op` within the operation budget.
async fn bounded<T>(
    op: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(crate::db::remote_timeout(), op).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(StoreError::Timeout),
    }
}

fn backend(err: StoreError) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

// KEYS: session, user index. ARGV: data, uid ('' = none), created, exp, handle.
static CREATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'uid', ARGV[2], 'created', ARGV[3], 'exp', ARGV[4])
redis.call('EXPIREAT', KEYS[1], ARGV[4])
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5]) end
return 1",
    )
});

// Update only a live record: a request still in flight when its session was deleted must not
// write it back. KEYS: session, new user index. ARGV: data, uid, exp, handle, now, prefix.
static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local exp = redis.call('HGET', KEYS[1], 'exp')
if not exp or tonumber(exp) <= tonumber(ARGV[5]) then return 0 end
local old = redis.call('HGET', KEYS[1], 'uid')
if old and old ~= '' and old ~= ARGV[2] then
  redis.call('ZREM', ARGV[6] .. 'u:' .. old, ARGV[4])
end
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'uid', ARGV[2], 'exp', ARGV[3])
redis.call('EXPIREAT', KEYS[1], ARGV[3])
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4]) end
return 1",
    )
});

// KEYS: session. ARGV: handle, prefix.
static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local uid = redis.call('HGET', KEYS[1], 'uid')
local n = redis.call('DEL', KEYS[1])
if uid and uid ~= '' then redis.call('ZREM', ARGV[2] .. 'u:' .. uid, ARGV[1]) end
return n",
    )
});

// One session of one user. KEYS: user index, session. ARGV: uid, handle.
static DELETE_ONE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('ZREM', KEYS[1], ARGV[2])
if redis.call('HGET', KEYS[2], 'uid') == ARGV[1] then return redis.call('DEL', KEYS[2]) end
return 0",
    )
});

// Every session of one user but `keep`. KEYS: user index. ARGV: prefix, keep handle, uid.
static DELETE_USER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = 0
for _, h in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if h ~= ARGV[2] then
    local key = ARGV[1] .. 's:' .. h
    if redis.call('HGET', key, 'uid') == ARGV[3] then n = n + redis.call('DEL', key) end
    redis.call('ZREM', KEYS[1], h)
  end
end
return n",
    )
});

impl RedisStore {
    /// Connects (bounded by the timeouts above) and checks the server answers.
    pub async fn connect(target: &RedisUrl, clock: SharedClock) -> Result<Self, StoreError> {
        let client = redis::Client::open(target.url.as_str())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(crate::db::remote_timeout() * 2 / 3))
            .set_response_timeout(Some(crate::db::remote_timeout() * 4 / 5))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_min_delay(RECONNECT_MIN_DELAY)
            .set_max_delay(RECONNECT_MAX_DELAY);
        let conn = bounded(ConnectionManager::new_with_config(client, config)).await?;
        let store = Self {
            conn,
            prefix: target.key_prefix.as_str().into(),
            clock,
        };
        store.ping().await?;
        Ok(store)
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        bounded(redis::cmd("PING").query_async::<()>(&mut conn)).await
    }

    fn session_key(&self, handle: &str) -> String {
        format!("{}s:{handle}", self.prefix)
    }

    fn user_key(&self, user_id: &str) -> String {
        format!("{}u:{user_id}", self.prefix)
    }

    fn now(&self) -> i64 {
        self.clock.unix()
    }
}

fn uid_arg(record: &Record) -> String {
    record_user_id(record).map_or_else(String::new, |id| id.to_string())
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    serde_json::to_vec(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

#[async_trait::async_trait]
impl SessionStore for RedisStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(record)?;
        let uid = uid_arg(record);
        loop {
            let handle = hex(&id_hash(&record.id));
            let mut conn = self.conn.clone();
            let created: i64 = bounded(
                CREATE
                    .key(self.session_key(&handle))
                    .key(self.user_key(&uid))
                    .arg(&data)
                    .arg(&uid)
                    .arg(self.now())
                    .arg(record.expiry_date.unix_timestamp())
                    .arg(&handle)
                    .invoke_async(&mut conn),
            )
            .await
            .map_err(backend)?;
            if created == 1 {
                return Ok(());
            }
            // 2^-128 odds, but a collision must never hand out someone else's session.
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let handle = hex(&id_hash(&record.id));
        let uid = uid_arg(record);
        let mut conn = self.conn.clone();
        bounded(
            SAVE.key(self.session_key(&handle))
                .key(self.user_key(&uid))
                .arg(encode(record)?)
                .arg(&uid)
                .arg(record.expiry_date.unix_timestamp())
                .arg(&handle)
                .arg(self.now())
                .arg(&*self.prefix)
                .invoke_async::<i64>(&mut conn),
        )
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let key = self.session_key(&hex(&id_hash(id)));
        let mut conn = self.conn.clone();
        let (data, exp): (Option<Vec<u8>>, Option<i64>) = bounded(
            redis::cmd("HMGET")
                .arg(&key)
                .arg("data")
                .arg("exp")
                .query_async(&mut conn),
        )
        .await
        .map_err(backend)?;
        let (Some(data), Some(exp)) = (data, exp) else {
            return Ok(None);
        };
        // Redis expires the key on its own clock; ours decides (as in the SQL stores).
        if exp <= self.now() {
            return Ok(None);
        }
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_slice(&data)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
            expiry_date: OffsetDateTime::from_unix_timestamp(exp)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let handle = hex(&id_hash(id));
        let mut conn = self.conn.clone();
        bounded(
            DELETE
                .key(self.session_key(&handle))
                .arg(&handle)
                .arg(&*self.prefix)
                .invoke_async::<i64>(&mut conn),
        )
        .await
        .map_err(backend)?;
        Ok(())
    }
}

type Fields = (Option<Vec<u8>>, Option<String>, Option<i64>, Option<i64>);

#[async_trait::async_trait]
impl SessionIndex for RedisStore {
    async fn list_user_sessions(&self, user_id: i64) -> Result<Vec<StoredSession>, StoreError> {
        let now = self.now();
        let uid = user_id.to_string();
        let mut conn = self.conn.clone();
        let handles: Vec<String> = bounded(
            redis::cmd("ZRANGE")
                .arg(self.user_key(&uid))
                .arg(format!("({now}"))
                .arg("+inf")
                .arg("BYSCORE")
                .query_async(&mut conn),
        )
        .await?;
        if handles.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for handle in &handles {
            pipe.cmd("HMGET")
                .arg(self.session_key(handle))
                .arg(&["data", "uid", "created", "exp"]);
        }
        let rows: Vec<Fields> = bounded(pipe.query_async(&mut conn)).await?;
        let mut sessions = Vec::with_capacity(rows.len());
        for (handle, row) in handles.into_iter().zip(rows) {
            // Gone meanwhile, expired, or (stale index entry) someone else's: not listed.
            let (Some(data), Some(owner), Some(created_at), Some(expires_at)) = row else {
                continue;
            };
            if owner != uid || expires_at <= now {
                continue;
            }
            sessions.push(StoredSession {
                handle,
                created_at,
                expires_at,
                data: serde_json::from_slice(&data)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            });
        }
        sessions.sort_by_key(|s| std::cmp::Reverse(s.created_at));
        Ok(sessions)
    }

    async fn delete_user_session(&self, user_id: i64, handle: &str) -> Result<bool, StoreError> {
        if unhex(handle).is_none() {
            return Ok(false);
        }
        let uid = user_id.to_string();
        let mut conn = self.conn.clone();
        let n: i64 = bounded(
            DELETE_ONE
                .key(self.user_key(&uid))
                .key(self.session_key(handle))
                .arg(&uid)
                .arg(handle)
                .invoke_async(&mut conn),
        )
        .await?;
        Ok(n == 1)
    }

    async fn delete_user_sessions(
        &self,
        user_id: i64,
        keep: Option<&Id>,
    ) -> Result<u64, StoreError> {
        let uid = user_id.to_string();
        let keep = keep.map(|id| hex(&id_hash(id))).unwrap_or_default();
        let mut conn = self.conn.clone();
        bounded(
            DELETE_USER
                .key(self.user_key(&uid))
                .arg(&*self.prefix)
                .arg(keep)
                .arg(&uid)
                .invoke_async(&mut conn),
        )
        .await
    }

    /// Redis expires the session hashes itself; this prunes the per-user indexes, and an
    /// index left empty disappears with its last entry.
    async fn delete_expired(&self) -> Result<u64, StoreError> {
        let now = self.now();
        let pattern = format!("{}u:*", self.prefix);
        let mut conn = self.conn.clone();
        let mut cursor: u64 = 0;
        let mut removed = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = bounded(
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(500)
                    .query_async(&mut conn),
            )
            .await?;
            for key in keys {
                let n: u64 = bounded(
                    redis::cmd("ZREMRANGEBYSCORE")
                        .arg(&key)
                        .arg("-inf")
                        .arg(now)
                        .query_async(&mut conn),
                )
                .await?;
                removed += n;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }
}
