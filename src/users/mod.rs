//! The users table: lookups for login and the CLI's `user` commands.
//!
//! Stores only PHC hash strings; hashing itself lives in `auth::password`. Each statement is
//! written once, in SQL that SQLite and PostgreSQL both accept, and run by `on_db!`.

use crate::db::{on_db, Database};
use crate::limits::MAX_USERNAME_CHARS;
pub mod passkeys;
pub mod two_step;

use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub password_version: i64,
    /// Locked by an administrator (`latchkey user lock`): every login is refused.
    pub locked: bool,
}

/// One account as `latchkey user list` shows it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Account {
    #[serde(skip)]
    pub id: i64,
    pub username: String,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
    pub locked: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{0}")]
    InvalidName(String),
    #[error("user {0:?} already exists")]
    Exists(String),
    #[error("no user named {0:?}")]
    NotFound(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// Usernames are short, printable and unambiguous: ASCII letters, digits and `. _ - @`.
pub fn validate_username(name: &str) -> Result<(), UserError> {
    if name.is_empty() {
        return Err(UserError::InvalidName(
            "the username must not be empty".into(),
        ));
    }
    if name.chars().count() > MAX_USERNAME_CHARS {
        return Err(UserError::InvalidName(format!(
            "the username must be at most {MAX_USERNAME_CHARS} characters"
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
    {
        return Err(UserError::InvalidName(format!(
            "the username may contain only letters, digits and . _ - @ (found {bad:?})"
        )));
    }
    Ok(())
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub async fn find_by_username(db: &Database, username: &str) -> Result<Option<User>, sqlx::Error> {
    on_db!(
        db,
        "SELECT id, username, password_hash, password_version, locked FROM users WHERE username = ?",
        |sql, pool| sqlx::query_as(sql)
            .bind(username)
            .fetch_optional(pool)
            .await
    )
}

const PASSWORD_VERSION: &str = "SELECT password_version FROM users WHERE id = ?";

/// The user's current password version, or `None` if the user no longer exists. Asked on
/// every logged-in request: through the same-thread reader when there is one.
pub async fn password_version(db: &Database, id: i64) -> Result<Option<i64>, sqlx::Error> {
    if let Some(reader) = db.reader() {
        match reader.password_version(PASSWORD_VERSION, id) {
            Ok(version) => return Ok(version),
            Err(err) => tracing::debug!(error = %err, "same-thread read failed; using the pool"),
        }
    }
    if let Some(reader) = db.pg_reader() {
        static SQL: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| crate::db::numbered(PASSWORD_VERSION));
        let row = reader
            .query_opt(&SQL, &[&id])
            .await
            .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?;
        return row
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)));
    }
    on_db!(db, PASSWORD_VERSION, |sql, pool| sqlx::query_scalar(sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

pub async fn count(db: &Database) -> Result<i64, sqlx::Error> {
    on_db!(db, "SELECT COUNT(*) FROM users", |sql, pool| {
        sqlx::query_scalar(sql).fetch_one(pool).await
    })
}

/// Inserts a user with an already-computed hash; returns its id.
pub async fn create(db: &Database, username: &str, password_hash: &str) -> Result<i64, UserError> {
    validate_username(username)?;
    let id: Option<i64> = on_db!(
        db,
        "INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?) \
         ON CONFLICT (username) DO NOTHING RETURNING id",
        |sql, pool| sqlx::query_scalar(sql)
            .bind(username)
            .bind(password_hash)
            .bind(now_unix())
            .fetch_optional(pool)
            .await
    )?;
    id.ok_or_else(|| UserError::Exists(username.to_owned()))
}

/// Replaces a user's hash (and bumps its password version); returns the user's id and new
/// password version.
/// With sessions in Redis, callers bracket it with `AnyStore::password_version_changing` and
/// `password_version_changed`, so that Redis's copy of the version is never trusted behind it.
pub async fn set_password_hash(
    db: &Database,
    username: &str,
    password_hash: &str,
) -> Result<(i64, i64), UserError> {
    let row: Option<(i64, i64)> = on_db!(
        db,
        "UPDATE users SET password_hash = ?, password_version = password_version + 1 \
         WHERE username = ? RETURNING id, password_version",
        |sql, pool| sqlx::query_as(sql)
            .bind(password_hash)
            .bind(username)
            .fetch_optional(pool)
            .await
    )?;
    row.ok_or_else(|| UserError::NotFound(username.to_owned()))
}

/// Every account, by name.
pub async fn list(db: &Database) -> Result<Vec<Account>, sqlx::Error> {
    on_db!(
        db,
        "SELECT id, username, created_at, last_login_at, locked FROM users ORDER BY username",
        |sql, pool| sqlx::query_as(sql).fetch_all(pool).await
    )
}

/// The id of the user named `username`.
pub async fn id_of(db: &Database, username: &str) -> Result<i64, UserError> {
    let id: Option<i64> = on_db!(
        db,
        "SELECT id FROM users WHERE username = ?",
        |sql, pool| {
            sqlx::query_scalar(sql)
                .bind(username)
                .fetch_optional(pool)
                .await
        }
    )?;
    id.ok_or_else(|| UserError::NotFound(username.to_owned()))
}

/// Locks or unlocks an account; returns its id and password version. Locking also bumps the
/// password version, so that a session created by a login racing the lock dies on its next
/// request.
/// With sessions in Redis, callers bracket it with `AnyStore::password_version_changing` and
/// `password_version_changed`, so that Redis's copy of the version is never trusted behind it.
pub async fn set_locked(
    db: &Database,
    username: &str,
    locked: bool,
) -> Result<(i64, i64), UserError> {
    let row: Option<(i64, i64)> = on_db!(
        db,
        "UPDATE users SET locked = ?, password_version = password_version + ? \
         WHERE username = ? RETURNING id, password_version",
        |sql, pool| sqlx::query_as(sql)
            .bind(locked)
            .bind(i64::from(locked))
            .bind(username)
            .fetch_optional(pool)
            .await
    )?;
    row.ok_or_else(|| UserError::NotFound(username.to_owned()))
}

/// Notes a successful login (for `latchkey user list`).
pub async fn record_login(db: &Database, id: i64, at: i64) -> Result<(), sqlx::Error> {
    on_db!(
        db,
        "UPDATE users SET last_login_at = ? WHERE id = ?",
        |sql, pool| sqlx::query(sql)
            .bind(at)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    )
}

/// Deletes a user; returns its id (never given to another user: ids are not reused).
/// With sessions in Redis, callers bracket it with `AnyStore::password_version_changing` and
/// `password_version_changed`, so that Redis's copy of the version is never trusted behind it.
pub async fn delete(db: &Database, username: &str) -> Result<i64, UserError> {
    let id: Option<i64> = on_db!(
        db,
        "DELETE FROM users WHERE username = ? RETURNING id",
        |sql, pool| sqlx::query_scalar(sql)
            .bind(username)
            .fetch_optional(pool)
            .await
    )?;
    id.ok_or_else(|| UserError::NotFound(username.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::validate_username;

    #[test]
    fn usernames() {
        assert!(validate_username("user1").is_ok());
        assert!(validate_username("a.b_c-d@e").is_ok());
        assert!(validate_username("").is_err());
        assert!(validate_username("has space").is_err());
        assert!(validate_username("ünï").is_err());
        assert!(validate_username(&"x".repeat(65)).is_err());
    }
}
