//! PostgreSQL reads for what every logged-in page reads (its session and its user's password
//! version), over a few pipelined connections.
//!
//! Through sqlx's pool each page view checked a connection out, wrote its query, waited for the
//! answer and checked the connection back in: one `sendto` and one wake-up of a PostgreSQL
//! backend per page, which measured at about half of latchkey's CPU per logged-in page on this
//! path, and as much again in the backends (BENCHMARKS.md). tokio-postgres pipelines instead:
//! every query waiting for a connection goes out in the connection task's next write, and the
//! answers come back together, so under load one system call and one wake-up serve many pages.
//! Statements are prepared once per connection. sqlx keeps everything else (writes,
//! migrations, the rare reads).

use super::batched::Batched;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, NoTls, Row, Statement};

#[derive(Debug, thiserror::Error)]
pub enum PgReadError {
    #[error(transparent)]
    Postgres(#[from] tokio_postgres::Error),
    #[error("PostgreSQL did not answer in time")]
    Timeout,
}

/// One pipelined connection and the statements prepared on it.
struct Conn {
    client: Client,
    prepared: Mutex<HashMap<&'static str, Statement>>,
}

/// A connection, or none until the next read (re)connects it; `connecting` lets one read at a
/// time open it (the others wait for that one instead of each opening their own).
#[derive(Default)]
struct Slot {
    conn: Mutex<Option<Arc<Conn>>>,
    connecting: tokio::sync::Mutex<()>,
}

impl Slot {
    fn current(&self) -> Option<Arc<Conn>> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner()).clone();
        conn.filter(|c| !c.client.is_closed())
    }

    /// Forgets `failed` (if it is still this slot's connection): the next read opens a new
    /// one. A query that timed out leaves its connection suspect (a silently dropped network
    /// keeps it "open" for as long as TCP takes to notice).
    fn reset(&self, failed: &Arc<Conn>) {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if conn.as_ref().is_some_and(|c| Arc::ptr_eq(c, failed)) {
            *conn = None;
        }
    }
}

pub struct PgReader {
    config: Config,
    deadline: Duration,
    slots: Box<[Slot]>,
    next: AtomicUsize,
}

impl std::fmt::Debug for PgReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgReader")
            .field("connections", &self.slots.len())
            .finish_non_exhaustive()
    }
}

impl PgReader {
    /// Readers over `connections` connections to `url`, the first one opened now (so that a URL
    /// this client cannot use is found at start-up, not on the first page).
    pub async fn connect(
        url: &str,
        connections: usize,
        deadline: Duration,
    ) -> Result<Self, PgReadError> {
        let config: Config = url.parse()?;
        let reader = Self {
            config,
            deadline,
            slots: (0..connections.max(1)).map(|_| Slot::default()).collect(),
            next: AtomicUsize::new(0),
        };
        reader.within(reader.conn(&reader.slots[0])).await?;
        Ok(reader)
    }

    /// The slot's live connection, (re)connecting it if it has none or its connection has
    /// closed (the server restarted, the network failed).
    async fn conn(&self, slot: &Slot) -> Result<Arc<Conn>, PgReadError> {
        if let Some(conn) = slot.current() {
            return Ok(conn);
        }
        let _only_one = slot.connecting.lock().await;
        if let Some(conn) = slot.current() {
            return Ok(conn);
        }
        let (client, connection) = self.config.connect(NoTls).await?;
        // The connection task does the socket I/O for every query on this client; it ends
        // when the client is dropped or the connection fails (then `is_closed` turns true).
        tokio::spawn(async move {
            if let Err(err) = Batched::new(connection).await {
                tracing::debug!(error = %err, "PostgreSQL read connection closed");
            }
        });
        let conn = Arc::new(Conn {
            client,
            prepared: Mutex::new(HashMap::new()),
        });
        *slot.conn.lock().unwrap_or_else(|e| e.into_inner()) = Some(conn.clone());
        Ok(conn)
    }

    /// The one row `sql` (a constant, written with `$n` parameters) returns, if any; the
    /// whole read (a reconnect and a first prepare included) within the database's deadline.
    pub async fn query_opt(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, PgReadError> {
        let slot = &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len()];
        let mut used = None;
        let read = self
            .within(async {
                let conn = self.conn(slot).await?;
                used = Some(conn.clone());
                let known = conn
                    .prepared
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(sql)
                    .cloned();
                let statement = match known {
                    Some(statement) => statement,
                    None => {
                        let statement = conn.client.prepare(sql).await?;
                        conn.prepared
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(sql, statement.clone());
                        statement
                    }
                };
                Ok(conn.client.query_opt(&statement, params).await?)
            })
            .await;
        if let (Err(_), Some(conn)) = (&read, &used) {
            slot.reset(conn);
        }
        read
    }

    async fn within<T>(
        &self,
        op: impl std::future::Future<Output = Result<T, PgReadError>>,
    ) -> Result<T, PgReadError> {
        tokio::time::timeout(self.deadline, op)
            .await
            .unwrap_or(Err(PgReadError::Timeout))
    }
}
