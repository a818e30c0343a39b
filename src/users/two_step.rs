//! Each user's two-step login settings, in the users table: the sealed app secret, an
//! enrolment's secret until confirmed, the last accepted time step, and the unused recovery
//! codes' hashes. Sealing and hashing are `auth::two_step`'s; this module stores text.
//!
//! Every change is one conditional UPDATE, so that two requests racing (the same code sent
//! twice, two enrolments) cannot both win.

use crate::db::{on_db, Database};

/// A user's two-step settings as stored.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct TwoStepRow {
    /// The sealed app secret; `None`: two-step login is off.
    pub totp_secret: Option<String>,
    /// An enrolment's sealed secret, until a code confirms it.
    pub totp_pending: Option<String>,
    pub totp_last_step: Option<i64>,
    /// When two-step login was turned on (unix seconds); `None` while it is off.
    pub two_step_since: Option<i64>,
    /// The unused recovery codes' hashes, space-separated.
    pub recovery_codes: String,
    /// The password's version, read with the rest: a login's code step checks that the
    /// password it started with is still the one.
    pub password_version: i64,
}

impl TwoStepRow {
    pub fn is_on(&self) -> bool {
        self.totp_secret.is_some()
    }

    /// The unused recovery codes' hashes.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.recovery_codes.split_ascii_whitespace()
    }
}

/// Joins recovery code hashes for storing.
pub fn join_codes<'a>(hashes: impl IntoIterator<Item = &'a str>) -> String {
    hashes.into_iter().collect::<Vec<_>>().join(" ")
}

/// The user's settings; `None`: no such user.
pub async fn get(db: &Database, user_id: i64) -> Result<Option<TwoStepRow>, sqlx::Error> {
    on_db!(
        db,
        "SELECT totp_secret, totp_pending, totp_last_step, two_step_since, recovery_codes, \
         password_version FROM users WHERE id = ?",
        |sql, pool| sqlx::query_as(sql).bind(user_id).fetch_optional(pool).await
    )
}

/// Whether the account needs a code after its password.
pub async fn is_on(db: &Database, user_id: i64) -> Result<bool, sqlx::Error> {
    Ok(get(db, user_id).await?.is_some_and(|row| row.is_on()))
}

/// Starts an enrolment: `sealed` waits for a code to confirm it (replacing an earlier one).
pub async fn set_pending(db: &Database, user_id: i64, sealed: &str) -> Result<(), sqlx::Error> {
    on_db!(
        db,
        "UPDATE users SET totp_pending = ? WHERE id = ?",
        |sql, pool| sqlx::query(sql)
            .bind(sealed)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|_| ())
    )
}

/// Confirms the enrolment of `pending` (still the one waiting): it becomes the app secret, its
/// code's `step` is used, and `codes` are the recovery codes. `false`: another enrolment or a
/// confirmation got there first.
pub async fn enable(
    db: &Database,
    user_id: i64,
    pending: &str,
    step: i64,
    now: i64,
    codes: &str,
) -> Result<bool, sqlx::Error> {
    let done = on_db!(
        db,
        "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = ?, \
         two_step_since = ?, recovery_codes = ? WHERE id = ? AND totp_pending = ?",
        |sql, pool| sqlx::query(sql)
            .bind(step)
            .bind(now)
            .bind(codes)
            .bind(user_id)
            .bind(pending)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    )?;
    Ok(done == 1)
}

/// Uses time step `step` of the app secret: `false` if it (or a later one) was used already,
/// so that a code is accepted once.
pub async fn use_step(db: &Database, user_id: i64, step: i64) -> Result<bool, sqlx::Error> {
    let done = on_db!(
        db,
        "UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_secret IS NOT NULL \
         AND (totp_last_step IS NULL OR totp_last_step < ?)",
        |sql, pool| sqlx::query(sql)
            .bind(step)
            .bind(user_id)
            .bind(step)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    )?;
    Ok(done == 1)
}

/// Replaces the recovery codes `before` (as read) with `after`: `false` if they changed
/// meanwhile (the same code used twice at once: only one use wins).
pub async fn swap_codes(
    db: &Database,
    user_id: i64,
    before: &str,
    after: &str,
) -> Result<bool, sqlx::Error> {
    let done = on_db!(
        db,
        "UPDATE users SET recovery_codes = ? WHERE id = ? AND totp_secret IS NOT NULL \
         AND recovery_codes = ?",
        |sql, pool| sqlx::query(sql)
            .bind(after)
            .bind(user_id)
            .bind(before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    )?;
    Ok(done == 1)
}

/// Replaces the whole set of recovery codes with `codes` (a new set: whatever the old one
/// held, used meanwhile or not, is gone); `false`: two-step login is off.
pub async fn replace_codes(db: &Database, user_id: i64, codes: &str) -> Result<bool, sqlx::Error> {
    let done = on_db!(
        db,
        "UPDATE users SET recovery_codes = ? WHERE id = ? AND totp_secret IS NOT NULL",
        |sql, pool| sqlx::query(sql)
            .bind(codes)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    )?;
    Ok(done == 1)
}

/// Turns two-step login off: the secret, any enrolment and the recovery codes are gone.
/// `false`: it was not on.
pub async fn disable(db: &Database, user_id: i64) -> Result<bool, sqlx::Error> {
    let done = on_db!(
        db,
        "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL, \
         two_step_since = NULL, recovery_codes = '' WHERE id = ? AND totp_secret IS NOT NULL",
        |sql, pool| sqlx::query(sql)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    )?;
    Ok(done == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::TestDb;

    /// The contract, on either database: an enrolment becomes the secret only while it is the
    /// one waiting; a step is used once and never an earlier one; a swap of the codes wins
    /// only against what was read, a new set replaces any; turning off clears everything.
    async fn contract(t: TestDb) {
        let db = &t.db;
        let a = crate::users::create(db, "alice", "hash").await.unwrap();
        let fresh = get(db, a).await.unwrap().unwrap();
        assert!(!fresh.is_on());
        assert_eq!(fresh.codes().count(), 0);
        assert!(get(db, a + 100).await.unwrap().is_none());
        assert!(!use_step(db, a, 5).await.unwrap(), "off: no step to use");

        set_pending(db, a, "first").await.unwrap();
        set_pending(db, a, "second").await.unwrap();
        assert!(!enable(db, a, "first", 10, 1000, "h1 h2").await.unwrap());
        assert!(enable(db, a, "second", 10, 1000, "h1 h2").await.unwrap());
        assert!(!enable(db, a, "second", 10, 1000, "h1 h2").await.unwrap());
        let on = get(db, a).await.unwrap().unwrap();
        assert_eq!(on.totp_secret.as_deref(), Some("second"));
        assert_eq!(
            (on.totp_pending.as_deref(), on.two_step_since),
            (None, Some(1000))
        );
        assert_eq!(on.codes().collect::<Vec<_>>(), ["h1", "h2"]);

        assert!(
            !use_step(db, a, 10).await.unwrap(),
            "the confirming code's step"
        );
        assert!(!use_step(db, a, 9).await.unwrap(), "an earlier step");
        assert!(use_step(db, a, 11).await.unwrap());
        assert!(!use_step(db, a, 11).await.unwrap(), "replayed");

        assert!(swap_codes(db, a, "h1 h2", "h2").await.unwrap());
        assert!(!swap_codes(db, a, "h1 h2", "h1").await.unwrap(), "stale");
        assert_eq!(join_codes(["x", "y"]), "x y");
        assert!(replace_codes(db, a, "n1 n2").await.unwrap());
        assert_eq!(get(db, a).await.unwrap().unwrap().recovery_codes, "n1 n2");
        assert_eq!(
            Some(get(db, a).await.unwrap().unwrap().password_version),
            crate::users::password_version(db, a).await.unwrap()
        );

        assert!(disable(db, a).await.unwrap());
        assert!(!disable(db, a).await.unwrap());
        let off = get(db, a).await.unwrap().unwrap();
        assert!(!off.is_on());
        assert_eq!(
            (off.totp_last_step, off.recovery_codes.as_str()),
            (None, "")
        );
        assert!(!swap_codes(db, a, "", "h9").await.unwrap(), "off: no codes");
        assert!(!replace_codes(db, a, "h9").await.unwrap(), "off: no codes");
        t.finish().await;
    }

    #[tokio::test]
    async fn sqlite() {
        contract(TestDb::sqlite().await).await;
    }

    #[tokio::test]
    async fn postgres() {
        contract(TestDb::postgres().await).await;
    }
}
