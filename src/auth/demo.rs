//! The tutorial's demo account: created in DEV on an empty database, shown on the login page
//! while it keeps its public password, and never allowed into PROD with that password.

use super::password::PasswordHasher;
use crate::db::Database;
use crate::error::BoxError;
use crate::users;
use std::sync::Arc;

pub const DEMO_USERNAME: &str = "user1";
pub const DEMO_PASSWORD: &str = "mypassword";

/// DEV: creates the demo user on an empty database, and returns whether the login page may
/// advertise it (it still has the demo password). PROD: refuses a database whose demo user
/// still has the public password, and advertises nothing.
pub async fn prepare(
    dev: bool,
    db: &Database,
    hasher: &Arc<PasswordHasher>,
) -> Result<bool, BoxError> {
    if dev && users::count(db).await? == 0 {
        let hash = hasher.hash(DEMO_PASSWORD.into()).await?;
        users::create(db, DEMO_USERNAME, &hash).await?;
        tracing::info!(
            "DEV: created the demo user {DEMO_USERNAME:?} (the login page shows its password)"
        );
    }
    let Some(user) = users::find_by_username(db, DEMO_USERNAME).await? else {
        return Ok(false);
    };
    let public = hasher
        .verify(DEMO_PASSWORD.into(), Some(user.password_hash))
        .await?;
    if public && !dev {
        // A database that started life in DEV must not carry the public demo login into PROD.
        return Err(format!(
            "user {DEMO_USERNAME:?} still has the public demo password; change it \
             (`latchkey user passwd {DEMO_USERNAME}`) before running with LEPTOS_ENV=PROD"
        )
        .into());
    }
    Ok(public && dev)
}
