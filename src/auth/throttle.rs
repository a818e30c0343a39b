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
//! looks the same for real and made-up accounts.

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
const FORGET: &str = "DELETE FROM login_throttle WHERE key = ?";
const PRUNE: &str = "DELETE FROM login_throttle WHERE window_start <= ?";

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
}

/// A counted attempt; call [`Throttle::succeeded`] with it when the login works.
#[derive(Debug)]
pub struct Attempt {
    account: (String, i64),
    address: (String, i64),
}

impl Throttle {
    pub fn new(config: ThrottleConfig, clock: SharedClock, db: Database) -> Self {
        Self { config, clock, db }
    }

    fn window(&self) -> i64 {
        self.config.window.as_secs() as i64
    }

    /// Counts an attempt for `account` from `address`, or refuses it (counting nothing) with
    /// the seconds until one is allowed again.
    pub async fn begin(&self, account: &str, address: &str) -> Result<Attempt, ThrottleError> {
        let now = self.clock.unix();
        let keys = [
            (
                format!("account:{account}"),
                self.config.max_failures_per_account,
            ),
            (
                format!("address:{address}"),
                self.config.max_failures_per_address,
            ),
        ];
        let mut counted = Vec::with_capacity(2);
        for (key, limit) in keys {
            let (attempts, window_start) = self.count(&key, now).await?;
            counted.push((key, window_start));
            if attempts > i64::from(limit) {
                for (key, window_start) in &counted {
                    self.uncount(key, *window_start).await?;
                }
                let retry_after = (window_start + self.window() - now).max(1) as u64;
                return Err(ThrottleError::Throttled(retry_after));
            }
        }
        let address = counted.pop().expect("two keys");
        let account = counted.pop().expect("two keys");
        Ok(Attempt { account, address })
    }

    /// A successful login clears the account's count and takes back this attempt's.
    pub async fn succeeded(&self, attempt: Attempt) -> Result<(), ThrottleError> {
        on_db!(&self.db, FORGET, |sql, pool| sqlx::query(sql)
            .bind(&attempt.account.0)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        self.uncount(&attempt.address.0, attempt.address.1).await
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
        };
        Throttle::new(config, clock, db.db.clone())
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
            t.begin("alice", "10.0.0.1").await.unwrap();
        }
        let retry = refused(t.begin("alice", "10.0.0.2").await);
        assert!((590..=600).contains(&retry), "{retry}");
        // Other accounts are unaffected; the refused attempt did not count against its address.
        t.begin("bob", "10.0.0.2").await.unwrap();
        clock.advance(Duration::from_secs(601));
        t.begin("alice", "10.0.0.3").await.unwrap();
        // Passed windows are pruned: alice's (reopened) window and bob's remain... then go.
        clock.advance(Duration::from_secs(601));
        assert!(t.prune().await.unwrap() >= 3);
        db.finish().await;
    }

    async fn address_limit_spans_accounts_and_success_forgives(db: TestDb) {
        let clock = Arc::new(ManualClock::default());
        let t = throttle(&db, clock);
        for name in ["a", "b", "c", "d"] {
            t.begin(name, "10.0.0.9").await.unwrap();
        }
        let ok = t.begin("e", "10.0.0.9").await.unwrap();
        t.succeeded(ok).await.unwrap();
        t.begin("f", "10.0.0.9").await.unwrap();
        refused(t.begin("g", "10.0.0.9").await);
        db.finish().await;
    }

    /// Two instances = two `Throttle`s on one database: the limit is shared.
    async fn instances_share_one_limit(db: TestDb) {
        let clock = Arc::new(ManualClock::default());
        let a = Arc::new(throttle(&db, clock.clone()));
        let b = Arc::new(throttle(&db, clock));
        a.begin("carol", "10.0.0.1").await.unwrap();
        b.begin("carol", "10.0.0.2").await.unwrap();
        a.begin("carol", "10.0.0.3").await.unwrap();
        refused(b.begin("carol", "10.0.0.4").await);
        // A concurrent burst cannot overshoot the limit either.
        let burst: Vec<_> = (0..20)
            .map(|i| {
                let t = if i % 2 == 0 { a.clone() } else { b.clone() };
                tokio::spawn(async move { t.begin("dave", "10.0.1.1").await.is_ok() })
            })
            .collect();
        let mut allowed = 0;
        for attempt in burst {
            allowed += usize::from(attempt.await.unwrap());
        }
        assert_eq!(allowed, 3);
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
