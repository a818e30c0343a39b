//! Login throttling: attempts per account and per client address, counted in the users
//! database, so every instance that shares it enforces one limit (spreading guesses over
//! instances gains nothing) and a restart forgets nothing.
//!
//! Fixed windows: a key's window opens with its first attempt and lasts `window`; within it at
//! most `limit` attempts. An attempt is counted when it *starts* (and forgiven when it
//! succeeds), so a burst of concurrent guesses cannot all slip past before the first failure
//! is recorded. Each count is one atomic upsert, which SQLite and PostgreSQL both serialise
//! per row: no read-then-write race, within an instance or between instances.
//! The account key is the name as submitted, whether or not such a user exists: throttling
//! looks the same for real and made-up accounts. A client with a valid device cookie for the
//! account (see `device`) is counted under its device instead, with a budget of its own, so
//! strangers' failures cannot lock the owner out of their usual browser.
//!
//! Keys are stored as keyed hashes (HMAC with a key derived from the server's secret), never
//! as typed text: people type passwords into the user name field. A request that is refused
//! writes nothing (it only reads), so a throttled flood costs no write lock.

use super::secret::{mac, Secret};
use crate::clock::SharedClock;
use crate::config::ThrottleConfig;
use crate::db::{on_db, Database};

/// Counts one attempt; returns the key's count and window start after it.
const COUNT: &str = "INSERT INTO login_throttle (key, window_start, attempts) VALUES (?, ?, 1) \
     ON CONFLICT (key) DO UPDATE SET \
     attempts = CASE WHEN login_throttle.window_start <= ? THEN 1 \
                ELSE login_throttle.attempts + 1 END, \
     window_start = CASE WHEN login_throttle.window_start <= ? THEN excluded.window_start \
                    ELSE login_throttle.window_start END \
     RETURNING attempts, window_start";
/// Takes back one attempt, if its window is still the current one.
const UNCOUNT: &str = "UPDATE login_throttle SET attempts = attempts - 1 \
                       WHERE key = ? AND window_start = ? AND attempts > 0";
/// A key's attempts in a window that is still open.
const PEEK: &str = "SELECT attempts, window_start FROM login_throttle \
                    WHERE key = ? AND window_start > ?";
const PRUNE: &str = "DELETE FROM login_throttle WHERE window_start <= ?";
/// One key, or every key when none is given.
const CLEAR: &str = "DELETE FROM login_throttle WHERE ? IS NULL OR key = ?";

/// Which counts [`Throttle::clear`] forgets.
#[derive(Debug, Clone, Copy)]
pub enum Clear<'a> {
    All,
    /// An account's, by the name as typed at login (not its devices': they are keyed by
    /// cookies the server cannot list, and a device's budget is its own).
    Account(&'a str),
    /// A client address's, as throttling counts it (`api::context::throttle_key`).
    Address(&'a str),
}

#[derive(Debug, thiserror::Error)]
pub enum ThrottleError {
    /// Over a limit: allowed again after this many seconds.
    #[error("throttled for {0} s")]
    Throttled(u64),
    #[error("throttle database error: {0}")]
    Db(#[from] sqlx::Error),
}

#[derive(Debug)]
pub struct Throttle {
    config: ThrottleConfig,
    clock: SharedClock,
    db: Database,
    key: [u8; 32],
}

/// A counted attempt; call [`Throttle::succeeded`] with it when the login works.
#[derive(Debug)]
pub struct Attempt {
    account: (String, i64),
    address: (String, i64),
}

impl Throttle {
    pub fn new(config: ThrottleConfig, clock: SharedClock, db: Database, secret: &Secret) -> Self {
        Self {
            config,
            clock,
            db,
            key: secret.derive("throttle"),
        }
    }

    /// The stored key for `value` of `kind`: its kind and a keyed hash, never the text.
    fn stored_key(&self, kind: &str, value: &str) -> String {
        let hash = mac(&self.key, &[kind.as_bytes(), value.as_bytes()]);
        let hex: String = hash[..20].iter().map(|b| format!("{b:02x}")).collect();
        format!("{kind}:{hex}")
    }

    fn window(&self) -> i64 {
        self.config.window.as_secs() as i64
    }

    /// Counts an attempt for `account` from `address` (by `device`, the nonce of the client's
    /// valid device cookie for this account, if it has one), or refuses it (writing nothing)
    /// with the seconds until one is allowed again.
    pub async fn begin(
        &self,
        account: &str,
        device: Option<&str>,
        address: &str,
    ) -> Result<Attempt, ThrottleError> {
        let now = self.clock.unix();
        let first = match device {
            Some(nonce) => (
                self.stored_key("device", nonce),
                self.config.max_failures_per_device,
            ),
            None => (
                self.stored_key("account", account),
                self.config.max_failures_per_account,
            ),
        };
        let second = (
            self.stored_key("address", address),
            self.config.max_failures_per_address,
        );
        // Read first: a refused request must not write.
        for (key, limit) in [&first, &second] {
            if let Some((attempts, window_start)) = self.peek(key, now).await? {
                if attempts >= i64::from(*limit) {
                    return Err(self.refusal(window_start, now));
                }
            }
        }
        let account = self.take(first.0, first.1, now, None).await?;
        let address = self.take(second.0, second.1, now, Some(&account)).await?;
        Ok(Attempt { account, address })
    }

    fn refusal(&self, window_start: i64, now: i64) -> ThrottleError {
        ThrottleError::Throttled((window_start + self.window() - now).max(1) as u64)
    }

    async fn peek(&self, key: &str, now: i64) -> Result<Option<(i64, i64)>, ThrottleError> {
        let cutoff = now - self.window();
        Ok(on_db!(&self.db, PEEK, |sql, pool| sqlx::query_as(sql)
            .bind(key)
            .bind(cutoff)
            .fetch_optional(pool)
            .await)?)
    }

    /// Counts one attempt for `key`. Over `limit`, it is taken back, with `earlier` (this
    /// attempt's count on another key), and refused.
    async fn take(
        &self,
        key: String,
        limit: u32,
        now: i64,
        earlier: Option<&(String, i64)>,
    ) -> Result<(String, i64), ThrottleError> {
        let (attempts, window_start) = self.count(&key, now).await?;
        if attempts > i64::from(limit) {
            self.uncount(&key, window_start).await?;
            if let Some((key, start)) = earlier {
                self.uncount(key, *start).await?;
            }
            return Err(self.refusal(window_start, now));
        }
        Ok((key, window_start))
    }

    /// A successful login takes back this attempt's counts (and only those: the owner
    /// logging in does not hand a guesser a fresh budget).
    pub async fn succeeded(&self, attempt: Attempt) -> Result<(), ThrottleError> {
        self.uncount(&attempt.account.0, attempt.account.1).await?;
        self.uncount(&attempt.address.0, attempt.address.1).await
    }

    /// Forgets counts (an administrator's `latchkey throttle clear`); returns how many keys.
    pub async fn clear(&self, scope: Clear<'_>) -> Result<u64, ThrottleError> {
        let key = match scope {
            Clear::All => None,
            Clear::Account(name) => Some(self.stored_key("account", name)),
            Clear::Address(address) => Some(self.stored_key("address", address)),
        };
        let done = on_db!(&self.db, CLEAR, |sql, pool| sqlx::query(sql)
            .bind(&key)
            .bind(&key)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done)
    }

    /// Counts one request of `kind` from `address` and refuses it beyond `limit` per window
    /// (for requests that cost a store write but are no login attempt: a passkey sign-in's
    /// challenge).
    pub async fn limit(&self, kind: &str, address: &str, limit: u32) -> Result<(), ThrottleError> {
        let now = self.clock.unix();
        self.take(self.stored_key(kind, address), limit, now, None)
            .await
            .map(|_| ())
    }

    /// Whether this is the first use of `value` (a ceremony's state) within the window: one
    /// atomic count in the database, so that two requests racing with the same session (each
    /// holding its own copy of the ceremony) cannot both use it.
    pub async fn first_use(&self, kind: &str, value: &str) -> Result<bool, ThrottleError> {
        let (uses, _) = self
            .count(&self.stored_key(kind, value), self.clock.unix())
            .await?;
        Ok(uses == 1)
    }

    /// Forgets windows that have passed (called by the periodic cleanup task).
    pub async fn prune(&self) -> Result<u64, ThrottleError> {
        let cutoff = self.clock.unix() - self.window();
        let done = on_db!(&self.db, PRUNE, |sql, pool| sqlx::query(sql)
            .bind(cutoff)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done)
    }

    async fn count(&self, key: &str, now: i64) -> Result<(i64, i64), ThrottleError> {
        let cutoff = now - self.window();
        let row = on_db!(&self.db, COUNT, |sql, pool| sqlx::query_as(sql)
            .bind(key)
            .bind(now)
            .bind(cutoff)
            .bind(cutoff)
            .fetch_one(pool)
            .await)?;
        Ok(row)
    }

    async fn uncount(&self, key: &str, window_start: i64) -> Result<(), ThrottleError> {
        on_db!(&self.db, UNCOUNT, |sql, pool| sqlx::query(sql)
            .bind(key)
            .bind(window_start)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::db::testing::TestDb;
    use std::sync::Arc;
    use std::time::Duration;

    fn throttle(db: &TestDb, clock: Arc<ManualClock>) -> Throttle {
        let config = ThrottleConfig {
            window: Duration::from_secs(600),
            max_failures_per_account: 3,
            max_failures_per_address: 5,
            max_failures_per_device: 4,
        };
        let secret = Secret::from_bytes([9; crate::auth::secret::SECRET_BYTES]);
        Throttle::new(config, clock, db.db.clone(), &secret)
    }

    fn refused(result: Result<Attempt, ThrottleError>) -> u64 {
        match result {
            Err(ThrottleError::Throttled(retry_after)) => retry_after,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    async fn account_limit_then_window_expiry(db: TestDb) {
        let clock = Arc::new(ManualClock::default());
        let t = throttle(&db, clock.clone());
        for _ in 0..3 {
            t.begin("alice", None, "10.0.0.1").await.unwrap();
        }
        let retry = refused(t.begin("alice", None, "10.0.0.2").await);
        assert!((590..=600).contains(&retry), "{retry}");
        // Other accounts are unaffected; the refused attempt did not count against its address.
        t.begin("bob", None, "10.0.0.2").await.unwrap();
        clock.advance(Duration::from_secs(601));
        t.begin("alice", None, "10.0.0.3").await.unwrap();
        // Passed windows are pruned: alice's (reopened) window and bob's remain... then go.
        clock.advance(Duration::from_secs(601));
        assert!(t.prune().await.unwrap() >= 3);
        db.finish().await;
    }

    async fn address_limit_spans_accounts_and_success_forgives(db: TestDb) {
        let clock = Arc::new(ManualClock::default());
        let t = throttle(&db, clock);
        for name in ["a", "b", "c", "d"] {
            t.begin(name, None, "10.0.0.9").await.unwrap();
        }
        let ok = t.begin("e", None, "10.0.0.9").await.unwrap();
        t.succeeded(ok).await.unwrap();
        t.begin("f", None, "10.0.0.9").await.unwrap();
        refused(t.begin("g", None, "10.0.0.9").await);
        db.finish().await;
    }

    /// Two instances = two `Throttle`s on one database: the limit is shared.
    async fn instances_share_one_limit(db: TestDb) {
        let clock = Arc::new(ManualClock::default());
        let a = Arc::new(throttle(&db, clock.clone()));
        let b = Arc::new(throttle(&db, clock));
        a.begin("carol", None, "10.0.0.1").await.unwrap();
        b.begin("carol", None, "10.0.0.2").await.unwrap();
        a.begin("carol", None, "10.0.0.3").await.unwrap();
        refused(b.begin("carol", None, "10.0.0.4").await);
        // A concurrent burst cannot overshoot the limit either.
        let burst: Vec<_> = (0..20)
            .map(|i| {
                let t = if i % 2 == 0 { a.clone() } else { b.clone() };
                tokio::spawn(async move { t.begin("dave", None, "10.0.1.1").await.is_ok() })
            })
            .collect();
        let mut allowed = 0;
        for attempt in burst {
            allowed += usize::from(attempt.await.unwrap());
        }
        assert_eq!(allowed, 3);
        db.finish().await;
    }

    /// Names as typed never reach the database, and a refused attempt writes nothing.
    async fn keys_are_hashed_and_refusals_write_nothing(db: TestDb) {
        let clock = Arc::new(ManualClock::default());
        let t = throttle(&db, clock);
        for i in 0..5 {
            t.begin(&format!("typed-secret-{i}"), None, "10.9.9.9")
                .await
                .unwrap();
        }
        let rows = || async {
            on_db!(&db.db, "SELECT key FROM login_throttle", |sql, pool| {
                sqlx::query_scalar::<_, String>(sql).fetch_all(pool).await
            })
            .unwrap()
        };
        let before = rows().await;
        assert!(before
            .iter()
            .all(|k| !k.contains("typed-secret") && !k.contains("10.9.9.9")));
        for i in 5..50 {
            refused(
                t.begin(&format!("typed-secret-{i}"), None, "10.9.9.9")
                    .await,
            );
        }
        assert_eq!(rows().await, before, "a refused attempt wrote");
        db.finish().await;
    }

    /// The owner's browser (a device) has its own budget: strangers exhausting the account's
    /// do not lock it out, and a device that keeps failing is locked out itself.
    async fn a_device_has_its_own_budget(db: TestDb) {
        let clock = Arc::new(ManualClock::default());
        let t = throttle(&db, clock);
        for i in 0..3 {
            t.begin("erin", None, &format!("10.1.0.{i}")).await.unwrap();
        }
        refused(t.begin("erin", None, "10.1.0.9").await);
        let ok = t.begin("erin", Some("nonce-1"), "10.2.0.1").await.unwrap();
        t.succeeded(ok).await.unwrap();
        for _ in 0..4 {
            t.begin("erin", Some("nonce-2"), "10.2.0.2").await.unwrap();
        }
        refused(t.begin("erin", Some("nonce-2"), "10.2.0.2").await);
        t.begin("erin", Some("nonce-1"), "10.2.0.1").await.unwrap();
        db.finish().await;
    }

    macro_rules! throttle_suite {
        ($name:ident, $db:path) => {
            mod $name {
                #[tokio::test]
                async fn account_limit_then_window_expiry() {
                    super::account_limit_then_window_expiry($db().await).await;
                }
                #[tokio::test]
                async fn address_limit_spans_accounts_and_success_forgives() {
                    super::address_limit_spans_accounts_and_success_forgives($db().await).await;
                }
                #[tokio::test]
                async fn keys_are_hashed_and_refusals_write_nothing() {
                    super::keys_are_hashed_and_refusals_write_nothing($db().await).await;
                }
                #[tokio::test]
                async fn a_device_has_its_own_budget() {
                    super::a_device_has_its_own_budget($db().await).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn instances_share_one_limit() {
                    super::instances_share_one_limit($db().await).await;
                }
            }
        };
    }

    throttle_suite!(sqlite, crate::db::testing::TestDb::sqlite);
    throttle_suite!(postgres, crate::db::testing::TestDb::postgres);
}
