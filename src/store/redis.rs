//! The Redis / Valkey session store: sessions shared by several instances through an
//! in-memory server.
//!
//! Layout, under a configurable key prefix (default `latchkey:`):
//! - `{prefix}s:{handle}`: a hash per session (`data`, `uid`, `created`, `exp`), which Redis
//!   itself expires at `exp` (`EXPIREAT`);
//! - `{prefix}u:{user id}`: the per-user index, a sorted set of handles scored by expiry, so
//!   the cleanup task can drop stale entries with one `ZREMRANGEBYSCORE` per user;
//! - `{prefix}v:{user id}`: a copy of the user's password version, so that a page reads its
//!   session and that version in one round trip (`lua/load.lua`), and `{prefix}p:{user id}`,
//!   the set of that user's pending changes of it. The users database stays the source of
//!   truth: every change adds a mark to the pending set before it commits (and stops if it
//!   cannot), and after it raises the copy to its version and removes its mark; while any
//!   mark is pending, or there is no copy, pages ask the database as before. A login writes the
//!   copy only where there is none.
//!
//! Every multi-step change runs as one Lua script, which Redis executes atomically: `save`
//! updates only a record that still exists (no revival), `create` never overwrites.
//!
//! Fault behaviour is explicit rather than the client's defaults (which never time out a
//! command): each connection attempt and each reply is bounded, reconnects back off briefly,
//! and every operation as a whole has a deadline, so a stalled or stopped server turns into
//! an error (→ 503) within `[database] timeout-ms` instead of a hung request.

use super::record::{
    self, backend, hex, id_hash, unhex, SessionIndex, StoreError, StoredSession,
    PASSWORD_VERSION_NOW,
};
use crate::clock::SharedClock;
use crate::config::RedisUrl;
use crate::db::Batched;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::Script;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

// The whole budget of one store operation, reconnect attempts included, is the deadline
// (`[database] timeout-ms`, 1.5 s by default); a connection attempt gets 2/3 of it and a
// reply 4/5.
const RECONNECT_RETRIES: usize = 2;
const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(50);
const RECONNECT_MAX_DELAY: Duration = Duration::from_millis(400);

#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    /// The page views' reads (plain TCP servers; others read through `conn`).
    reader: Option<Arc<Reader>>,
    prefix: Arc<str>,
    clock: SharedClock,
    deadline: Duration,
}

/// A multiplexed connection for the read every logged-in page makes, whose driver task latchkey
/// spawns itself, batched ([`Batched`]): the connection manager's driver writes each command
/// on its own, one system call and one wake-up of Redis per page. After any failure the next
/// read opens a fresh connection; one read at a time opens it.
struct Reader {
    host: String,
    port: u16,
    settings: redis::RedisConnectionInfo,
    /// The connection and its generation (so that a late failure report cannot drop a newer
    /// connection).
    conn: Mutex<Option<(u64, MultiplexedConnection)>>,
    connecting: tokio::sync::Mutex<u64>,
}

impl Reader {
    fn new(client: &redis::Client) -> Option<Self> {
        let info = client.get_connection_info();
        let redis::ConnectionAddr::Tcp(host, port) = info.addr() else {
            return None;
        };
        Some(Self {
            host: host.clone(),
            port: *port,
            settings: info.redis_settings().clone(),
            conn: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(0),
        })
    }

    fn current(&self) -> Option<(u64, MultiplexedConnection)> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn conn(&self) -> redis::RedisResult<(u64, MultiplexedConnection)> {
        if let Some(current) = self.current() {
            return Ok(current);
        }
        let mut generation = self.connecting.lock().await;
        if let Some(current) = self.current() {
            return Ok(current);
        }
        let stream = tokio::net::TcpStream::connect((self.host.as_str(), self.port)).await?;
        stream.set_nodelay(true)?;
        // No response timeout here: the store bounds each whole operation.
        let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
        let (conn, driver) =
            MultiplexedConnection::new_with_config(&self.settings, stream, config).await?;
        tokio::spawn(Batched::new(driver));
        *generation += 1;
        let current = (*generation, conn);
        *self.conn.lock().unwrap_or_else(|e| e.into_inner()) = Some(current.clone());
        Ok(current)
    }

    /// After a failure on generation `failed`: the next read opens a fresh connection
    /// (dropping this one's last handle ends its driver).
    fn reset(&self, failed: u64) {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if conn
            .as_ref()
            .is_some_and(|(generation, _)| *generation == failed)
        {
            *conn = None;
        }
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Runs `op` within `deadline`.
async fn bounded<T>(
    deadline: Duration,
    op: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(deadline, op).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(StoreError::Timeout),
    }
}

static CREATE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/create.lua")));

static SAVE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/save.lua")));

/// A page's read: the session and its user's password version, in one round trip.
static LOAD: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/load.lua")));

static VERSION_DONE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/version_done.lua")));

static DELETE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/delete.lua")));

static DELETE_ONE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/delete_one.lua")));

static TRIM_USER: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/trim_user.lua")));
static DELETE_USER: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/delete_user.lua")));

impl RedisStore {
    /// Connects (bounded by the timeouts above) and checks the server answers.
    pub async fn connect(
        target: &RedisUrl,
        clock: SharedClock,
        deadline: Duration,
    ) -> Result<Self, StoreError> {
        let client = redis::Client::open(target.url.as_str())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(deadline * 2 / 3))
            .set_response_timeout(Some(deadline * 4 / 5))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_min_delay(RECONNECT_MIN_DELAY)
            .set_max_delay(RECONNECT_MAX_DELAY);
        let reader = Reader::new(&client).map(Arc::new);
        let conn = bounded(deadline, ConnectionManager::new_with_config(client, config)).await?;
        let store = Self {
            conn,
            reader,
            prefix: target.key_prefix.as_str().into(),
            clock,
            deadline,
        };
        store.ping().await?;
        Ok(store)
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        self.bounded(redis::cmd("PING").query_async::<()>(&mut conn))
            .await
    }

    /// Runs one of the scripts over a user's sessions (KEYS: the user's index; ARGV: the key
    /// prefix, `arg`, the user id).
    async fn on_user(
        &self,
        script: &Script,
        user_id: i64,
        arg: impl redis::ToRedisArgs + Send + Sync,
    ) -> Result<u64, StoreError> {
        let uid = user_id.to_string();
        let mut conn = self.conn.clone();
        self.bounded(
            script
                .key(self.user_key(&uid))
                .arg(&*self.prefix)
                .arg(arg)
                .arg(&uid)
                .invoke_async(&mut conn),
        )
        .await
    }

    /// Runs `op` within the operation budget.
    async fn bounded<T>(
        &self,
        op: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        bounded(self.deadline, op).await
    }

    /// At a login: the password version just read from the users database becomes Redis's
    /// copy, unless there is one already. (Where a change has completed there is one, at
    /// least as new; while one is pending, pages do not trust the copy.)
    pub async fn remember_password_version(
        &self,
        user_id: i64,
        version: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        self.bounded(
            redis::cmd("SET")
                .arg(self.version_key(user_id))
                .arg(version)
                .arg("NX")
                .query_async::<()>(&mut conn),
        )
        .await
    }

    /// Before a change of the user's password version is committed: a mark unique to this
    /// change joins the user's pending set, so pages ask the users database until
    /// [`Self::password_version_changed`] (of this change and any other pending one).
    pub async fn password_version_changing(&self, user_id: i64) -> Result<String, StoreError> {
        let mark = Id::default().to_string();
        let mut conn = self.conn.clone();
        self.bounded(
            redis::cmd("SADD")
                .arg(self.pending_key(user_id))
                .arg(&mark)
                .query_async::<()>(&mut conn),
        )
        .await?;
        Ok(mark)
    }

    /// After the change marked `mark` has committed `version`: the copy keeps the highest
    /// version committed, and the mark leaves the pending set (`lua/version_done.lua`).
    pub async fn password_version_changed(
        &self,
        user_id: i64,
        mark: &str,
        version: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        self.bounded(
            VERSION_DONE
                .key(self.version_key(user_id))
                .key(self.pending_key(user_id))
                .arg(mark)
                .arg(version)
                .invoke_async::<i64>(&mut conn),
        )
        .await
        .map(drop)
    }

    fn pending_key(&self, user_id: i64) -> String {
        format!("{}p:{user_id}", self.prefix)
    }

    fn version_key(&self, user_id: i64) -> String {
        format!("{}v:{user_id}", self.prefix)
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
    record::user_id(record).map_or_else(String::new, |id| id.to_string())
}

#[async_trait::async_trait]
impl SessionStore for RedisStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = record::encode(record)?;
        let uid = uid_arg(record);
        loop {
            let handle = hex(&id_hash(&record.id));
            let mut conn = self.conn.clone();
            let created: i64 = self
                .bounded(
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
        self.bounded(
            SAVE.key(self.session_key(&handle))
                .key(self.user_key(&uid))
                .arg(record::encode(record)?)
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
        let mut key = String::with_capacity(self.prefix.len() + 66);
        key.push_str(&self.prefix);
        key.push_str("s:");
        record::push_hex(&mut key, &id_hash(id));
        let mut read = LOAD.key(&key);
        read.arg(&*self.prefix);
        let found: Result<Option<Vec<u8>>, StoreError> = match &self.reader {
            Some(reader) => {
                let mut used = None;
                let found = self
                    .bounded(async {
                        let (generation, mut conn) = reader.conn().await?;
                        used = Some(generation);
                        read.invoke_async(&mut conn).await
                    })
                    .await;
                if let (Err(_), Some(generation)) = (&found, used) {
                    reader.reset(generation);
                }
                found
            }
            None => {
                let mut conn = self.conn.clone();
                self.bounded(read.invoke_async(&mut conn)).await
            }
        };
        let Some(found) = found.map_err(backend)? else {
            return Ok(None);
        };
        let (exp, version, data) =
            loaded(&found).ok_or_else(|| backend("malformed session read from Redis"))?;
        // Redis expires the key on its own clock; ours decides (as in the SQL stores).
        if exp <= self.now() {
            return Ok(None);
        }
        let mut record = record::decode(id, data, exp)?;
        if let Some(version) = version {
            // Carried for this request only; `record::encode` never writes it.
            record
                .data
                .insert(PASSWORD_VERSION_NOW.to_owned(), Some(version).into());
        }
        Ok(Some(record))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let handle = hex(&id_hash(id));
        let mut conn = self.conn.clone();
        self.bounded(
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

/// What [`LOAD`] answers, `<exp> <version or -> <data>`: the expiry, the copy of the password
/// version, and the session's data.
fn loaded(reply: &[u8]) -> Option<(i64, Option<i64>, &[u8])> {
    fn number(field: &[u8]) -> Option<i64> {
        std::str::from_utf8(field).ok()?.parse().ok()
    }
    let mut fields = reply.splitn(3, |b| *b == b' ');
    let exp = number(fields.next()?)?;
    let version = match fields.next()? {
        b"-" => None,
        v => Some(number(v)?),
    };
    Some((exp, version, fields.next()?))
}

type Fields = (Option<Vec<u8>>, Option<String>, Option<i64>, Option<i64>);

#[async_trait::async_trait]
impl SessionIndex for RedisStore {
    async fn list_user_sessions(&self, user_id: i64) -> Result<Vec<StoredSession>, StoreError> {
        let now = self.now();
        let uid = user_id.to_string();
        let mut conn = self.conn.clone();
        let handles: Vec<String> = self
            .bounded(
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
        let rows: Vec<Fields> = self.bounded(pipe.query_async(&mut conn)).await?;
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
        let n: i64 = self
            .bounded(
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
        let keep = keep.map(|id| hex(&id_hash(id))).unwrap_or_default();
        self.on_user(&DELETE_USER, user_id, keep).await
    }

    async fn trim_user_sessions(&self, user_id: i64, keep: usize) -> Result<u64, StoreError> {
        self.on_user(&TRIM_USER, user_id, keep).await
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
            let (next, keys): (u64, Vec<String>) = self
                .bounded(
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
                let n: u64 = self
                    .bounded(
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

#[cfg(test)]
mod tests {
    use super::loaded;

    #[test]
    fn a_page_read_is_split_into_expiry_version_and_data_and_nothing_else_passes() {
        let data = br#"{"k":"v w"}"#;
        assert_eq!(
            loaded(b"1700000000 3 {\"k\":\"v w\"}"),
            Some((1_700_000_000, Some(3), &data[..]))
        );
        assert_eq!(
            loaded(b"1700000000 - {}"),
            Some((1_700_000_000, None, &b"{}"[..]))
        );
        for bad in [
            &b""[..],
            b"1700000000",
            b"1700000000 3",
            b"x 3 {}",
            b"1  {}",
        ] {
            assert_eq!(loaded(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
