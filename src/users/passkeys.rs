//! The passkeys table, and each user's passkey handle. The passkey itself is stored as the
//! serialized text `auth::passkey` gives; this module never looks inside it.

use crate::db::{on_db, Database};

/// One stored passkey.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredPasskey {
    /// base64url of the credential id.
    pub credential_id: String,
    pub user_id: i64,
    pub name: String,
    /// The serialized credential (public key, counter, backup flags).
    pub passkey: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// The account a passkey handle names, for a discoverable sign-in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HandleOwner {
    pub id: i64,
    pub username: String,
    pub password_version: i64,
    pub locked: bool,
}

const COLUMNS: &str = "credential_id, user_id, name, passkey, created_at, last_used_at";

/// The user's handle, made (from `fresh`) if the user has none yet; `None`: no such user.
pub async fn handle(
    db: &Database,
    user_id: i64,
    fresh: &str,
) -> Result<Option<String>, sqlx::Error> {
    // One statement: two first registrations racing both end up with the handle that won.
    on_db!(
        db,
        "UPDATE users SET passkey_handle = COALESCE(passkey_handle, ?) WHERE id = ? \
         RETURNING passkey_handle",
        |sql, pool| sqlx::query_scalar(sql)
            .bind(fresh)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    )
}

pub async fn owner_of_handle(
    db: &Database,
    handle: &str,
) -> Result<Option<HandleOwner>, sqlx::Error> {
    on_db!(
        db,
        "SELECT id, username, password_version, locked FROM users WHERE passkey_handle = ?",
        |sql, pool| sqlx::query_as(sql).bind(handle).fetch_optional(pool).await
    )
}

/// The user's passkeys, oldest first (by name within a second).
pub async fn list(db: &Database, user_id: i64) -> Result<Vec<StoredPasskey>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM passkeys WHERE user_id = ? ORDER BY created_at, name, credential_id"
    );
    on_db!(db, &sql, |sql, pool| sqlx::query_as(sql)
        .bind(user_id)
        .fetch_all(pool)
        .await)
}

pub async fn find(
    db: &Database,
    credential_id: &str,
) -> Result<Option<StoredPasskey>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM passkeys WHERE credential_id = ?");
    on_db!(db, &sql, |sql, pool| sqlx::query_as(sql)
        .bind(credential_id)
        .fetch_optional(pool)
        .await)
}

/// Stores a new passkey; `false` if its credential id is already registered (to anyone).
pub async fn insert(db: &Database, passkey: &StoredPasskey) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "INSERT INTO passkeys ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (credential_id) DO NOTHING"
    );
    let done = on_db!(db, &sql, |sql, pool| sqlx::query(sql)
        .bind(&passkey.credential_id)
        .bind(passkey.user_id)
        .bind(&passkey.name)
        .bind(&passkey.passkey)
        .bind(passkey.created_at)
        .bind(passkey.last_used_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Records a sign-in with the passkey: its updated credential (counter, backup flags) and when.
pub async fn record_use(
    db: &Database,
    credential_id: &str,
    passkey: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    on_db!(
        db,
        "UPDATE passkeys SET passkey = ?, last_used_at = ? WHERE credential_id = ?",
        |sql, pool| sqlx::query(sql)
            .bind(passkey)
            .bind(at)
            .bind(credential_id)
            .execute(pool)
            .await
            .map(|_| ())
    )
}

/// Renames one of the user's passkeys; `false` if the user has no such passkey.
pub async fn rename(
    db: &Database,
    user_id: i64,
    credential_id: &str,
    name: &str,
) -> Result<bool, sqlx::Error> {
    let done = on_db!(
        db,
        "UPDATE passkeys SET name = ? WHERE credential_id = ? AND user_id = ?",
        |sql, pool| sqlx::query(sql)
            .bind(name)
            .bind(credential_id)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    )?;
    Ok(done == 1)
}

/// Removes one of the user's passkeys; `false` if the user has no such passkey.
pub async fn remove(db: &Database, user_id: i64, credential_id: &str) -> Result<bool, sqlx::Error> {
    let done = on_db!(
        db,
        "DELETE FROM passkeys WHERE credential_id = ? AND user_id = ?",
        |sql, pool| sqlx::query(sql)
            .bind(credential_id)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    )?;
    Ok(done == 1)
}

/// Removes every passkey of the user (a lost device); returns how many.
pub async fn remove_all(db: &Database, user_id: i64) -> Result<u64, sqlx::Error> {
    let done = on_db!(db, "DELETE FROM passkeys WHERE user_id = ?", |sql, pool| {
        sqlx::query(sql)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::TestDb;

    fn passkey(id: &str, user_id: i64, name: &str) -> StoredPasskey {
        StoredPasskey {
            credential_id: id.into(),
            user_id,
            name: name.into(),
            passkey: "{}".into(),
            created_at: 100,
            last_used_at: None,
        }
    }

    /// The table's contract, on either database: one credential id serves one account; each
    /// user changes only their own; a handle is made once; deleting a user deletes its passkeys.
    async fn contract(t: TestDb) {
        let db = &t.db;
        let a = crate::users::create(db, "alice", "hash").await.unwrap();
        let b = crate::users::create(db, "bob", "hash").await.unwrap();
        assert!(insert(db, &passkey("cred1", a, "Phone")).await.unwrap());
        assert!(!insert(db, &passkey("cred1", b, "Stolen")).await.unwrap());
        assert!(insert(db, &passkey("cred2", a, "Laptop")).await.unwrap());
        let names: Vec<String> = list(db, a)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["Laptop", "Phone"]);
        assert!(list(db, b).await.unwrap().is_empty());

        assert!(!rename(db, b, "cred1", "Mine").await.unwrap());
        assert!(!remove(db, b, "cred1").await.unwrap());
        assert!(rename(db, a, "cred1", "Old phone").await.unwrap());
        record_use(db, "cred1", "{\"updated\":1}", 200)
            .await
            .unwrap();
        let used = find(db, "cred1").await.unwrap().unwrap();
        assert_eq!(
            (used.name.as_str(), used.last_used_at),
            ("Old phone", Some(200))
        );
        assert_eq!(used.passkey, "{\"updated\":1}");

        let handle = handle(db, a, "first").await.unwrap().unwrap();
        assert_eq!(handle, "first");
        assert_eq!(
            super::handle(db, a, "second").await.unwrap().unwrap(),
            "first"
        );
        assert_eq!(owner_of_handle(db, "first").await.unwrap().unwrap().id, a);
        assert!(owner_of_handle(db, "second").await.unwrap().is_none());

        assert!(remove(db, a, "cred2").await.unwrap());
        crate::users::delete(db, "alice").await.unwrap();
        assert!(
            find(db, "cred1").await.unwrap().is_none(),
            "deleted with its user"
        );
        assert!(insert(db, &passkey("cred3", b, "Key")).await.unwrap());
        assert_eq!(remove_all(db, b).await.unwrap(), 1);
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
