//! What an administrator does from the command line (`latchkey user|session|throttle …`):
//! the pages' use-cases, addressed by user name instead of by the caller's session, with
//! errors that keep their detail (the operator, unlike a visitor, is told what failed).

use super::sessions::live_sessions;
use crate::api::types::SessionSummary;
use crate::auth::throttle::{Clear, ThrottleError};
use crate::state::AppState;
use crate::store::{SessionIndex, StoreError};
use crate::users::{self, Account, UserError};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Throttle(#[from] ThrottleError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0:?} has no session with that handle")]
    NoSuchSession(String),
}

impl AdminError {
    /// The error this one wraps (itself if none): for classifying failures.
    pub fn inner(&self) -> &(dyn std::error::Error + 'static) {
        match self {
            AdminError::User(e) => e,
            AdminError::Store(e) => e,
            AdminError::Throttle(e) => e,
            AdminError::Db(e) => e,
            AdminError::NoSuchSession(_) => self,
        }
    }
}

/// An account and how many live sessions it has.
#[derive(Debug, serde::Serialize)]
pub struct AccountSummary {
    #[serde(flatten)]
    pub account: Account,
    pub sessions: usize,
}

pub async fn accounts(state: &AppState) -> Result<Vec<AccountSummary>, AdminError> {
    let mut out = Vec::new();
    for account in users::list(&state.db).await? {
        let sessions = live_sessions(state, account.id, None).await?.len();
        out.push(AccountSummary { account, sessions });
    }
    Ok(out)
}

/// Locks `name` and ends every session of it; returns how many ended.
pub async fn lock(state: &AppState, name: &str) -> Result<u64, AdminError> {
    let id = users::id_of(&state.db, name).await?;
    let change = state.sessions.password_version_changing(id).await?;
    let (_, version) = users::set_locked(&state.db, name, true).await?;
    state
        .sessions
        .password_version_changed(change, Some(version))
        .await;
    let ended = state.sessions.delete_user_sessions(id, None).await?;
    metrics::counter!("latchkey_sessions_revoked_total", "by" => "admin").increment(ended);
    tracing::info!(
        event = "account_locked",
        user_id = id,
        ended,
        "account locked"
    );
    Ok(ended)
}

/// Turns two-step login off for `name` (a lost phone, no recovery code left); `false`: it
/// was off.
pub async fn disable_two_step(state: &AppState, name: &str) -> Result<bool, AdminError> {
    let id = users::id_of(&state.db, name).await?;
    let done = users::two_step::disable(&state.db, id).await?;
    if done {
        tracing::info!(
            event = "two_step_off",
            user_id = id,
            by = "administrator",
            "two-step login turned off"
        );
    }
    Ok(done)
}

/// Unlocks `name` and forgets its throttle count; returns how many throttle keys went.
pub async fn unlock(state: &AppState, name: &str) -> Result<u64, AdminError> {
    // (The password version stays: sessions ended at the lock are not revived.)
    let (id, _) = users::set_locked(&state.db, name, false).await?;
    let cleared = state.throttle.clear(Clear::Account(name)).await?;
    tracing::info!(event = "account_unlocked", user_id = id, "account unlocked");
    Ok(cleared)
}

pub async fn sessions(state: &AppState, name: &str) -> Result<Vec<SessionSummary>, AdminError> {
    let id = users::id_of(&state.db, name).await?;
    Ok(live_sessions(state, id, None).await?)
}

/// Ends one session of `name` (by the handle `session list` shows).
pub async fn revoke(state: &AppState, name: &str, handle: &str) -> Result<(), AdminError> {
    let id = users::id_of(&state.db, name).await?;
    if !state.sessions.delete_user_session(id, handle).await? {
        return Err(AdminError::NoSuchSession(name.to_owned()));
    }
    metrics::counter!("latchkey_sessions_revoked_total", "by" => "admin").increment(1);
    tracing::info!(
        event = "session_revoked",
        user_id = id,
        "session revoked by an administrator"
    );
    Ok(())
}

/// Ends every session of `name`; returns how many.
pub async fn revoke_all(state: &AppState, name: &str) -> Result<u64, AdminError> {
    let id = users::id_of(&state.db, name).await?;
    let ended = state.sessions.delete_user_sessions(id, None).await?;
    metrics::counter!("latchkey_sessions_revoked_total", "by" => "admin").increment(ended);
    tracing::info!(
        event = "sessions_revoked",
        user_id = id,
        count = ended,
        "sessions revoked by an administrator"
    );
    Ok(ended)
}

/// Forgets throttle counts; returns how many keys went.
pub async fn clear_throttle(state: &AppState, scope: Clear<'_>) -> Result<u64, AdminError> {
    let cleared = state.throttle.clear(scope).await?;
    tracing::info!(
        event = "throttle_cleared",
        keys = cleared,
        "throttle counts cleared"
    );
    Ok(cleared)
}
