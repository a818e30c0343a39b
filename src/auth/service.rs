//! What the server functions do, independent of how they are called.

use super::password::{validate_new_password, MAX_PASSWORD_BYTES};
use super::session::{AuthData, AuthSession, Deadlines, SessionUser};
use super::throttle::{Attempt, ThrottleError};
use super::user_agent::describe;
use crate::auth::api::SessionSummary;
use crate::error::{AppError, InputError};
use crate::state::AppState;
use crate::store::{self, SessionIndex};
use crate::users::{self, MAX_USERNAME_CHARS};

/// The caller, as far as throttling and the sessions page care.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub address: String,
    pub user_agent: Option<String>,
}

pub async fn login(
    state: &AppState,
    session: &AuthSession,
    client: &Client,
    username: &str,
    password: &str,
) -> Result<String, AppError> {
    // Refuse absurd input before it costs a hash, a query or a throttle slot.
    check_password_length(password)?;
    if username.chars().count() > MAX_USERNAME_CHARS {
        return Err(AppError::BadInput(InputError::UsernameTooLong));
    }
    let attempt = state
        .throttle
        .begin(username, &client.address)
        .await
        .map_err(throttled)?;
    let Some(user) = verify(state, username, password).await? else {
        tracing::info!(event = "login_failed", "login failed");
        return Err(AppError::InvalidCredentials);
    };
    forgive(state, attempt).await?;
    session.log_in(&user, client.user_agent.as_deref()).await?;
    tracing::info!(event = "login", user_id = user.id, "login succeeded");
    Ok(user.name)
}

/// The user with these credentials, or `None`. Unknown users are verified against a dummy
/// hash: same work, same answer, same time as a wrong password.
async fn verify(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<Option<SessionUser>, AppError> {
    let user = users::find_by_username(&state.db, username)
        .await
        .map_err(unavailable("user lookup failed"))?;
    let verified = state
        .hasher
        .verify(
            password.to_owned(),
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password verification failed");
            AppError::Internal
        })?;
    Ok(user.filter(|_| verified).map(|u| SessionUser {
        id: u.id,
        name: u.username,
        password_version: u.password_version,
    }))
}

fn throttled(err: ThrottleError) -> AppError {
    match err {
        ThrottleError::Throttled(retry_after) => {
            tracing::warn!(event = "login_throttled", retry_after, "login throttled");
            AppError::Throttled { retry_after }
        }
        ThrottleError::Db(err) => unavailable("throttle check failed")(err),
    }
}

/// A correct password: the attempt is taken back and the account's count cleared.
async fn forgive(state: &AppState, attempt: Attempt) -> Result<(), AppError> {
    state
        .throttle
        .succeeded(attempt)
        .await
        .map_err(unavailable("throttle update failed"))
}

fn check_password_length(password: &str) -> Result<(), AppError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::BadInput(InputError::PasswordTooLong));
    }
    Ok(())
}

/// The session's user, if the session is alive and the user's password has not changed since
/// it logged in (a login that raced a password change dies here, on its next request).
pub async fn authenticated(
    state: &AppState,
    session: &AuthSession,
) -> Result<Option<SessionUser>, AppError> {
    let Some(user) = session.user().await? else {
        return Ok(None);
    };
    // Read with the session when the store could (SQLite), else asked here.
    let current = match session.password_version_now().await {
        Some(read_with_session) => read_with_session,
        None => users::password_version(&state.db, state.reader.as_deref(), user.id)
            .await
            .map_err(unavailable("user lookup failed"))?,
    };
    if current != Some(user.password_version) {
        tracing::info!(
            event = "session_invalidated",
            user_id = user.id,
            "session predates a password change"
        );
        session.log_out().await?;
        return Ok(None);
    }
    Ok(Some(user))
}

pub async fn logout(session: &AuthSession) -> Result<(), AppError> {
    let user = session.user().await?;
    session.log_out().await?;
    if let Some(user) = user {
        tracing::info!(event = "logout", user_id = user.id, "logout");
    }
    Ok(())
}

pub async fn current_user(
    state: &AppState,
    session: &AuthSession,
) -> Result<Option<String>, AppError> {
    Ok(authenticated(state, session).await?.map(|u| u.name))
}

async fn require_user(state: &AppState, session: &AuthSession) -> Result<SessionUser, AppError> {
    authenticated(state, session)
        .await?
        .ok_or(AppError::Unauthenticated)
}

/// Maps a database failure to the user-facing 503, logging what failed (`context`).
fn unavailable<E: std::fmt::Display>(context: &'static str) -> impl FnOnce(E) -> AppError {
    move |e| {
        tracing::error!(error = %e, "{context}");
        AppError::Unavailable
    }
}

fn store_error(err: store::StoreError) -> AppError {
    unavailable("session index failure")(err)
}

pub async fn list_sessions(
    state: &AppState,
    session: &AuthSession,
) -> Result<Vec<SessionSummary>, AppError> {
    let user = require_user(state, session).await?;
    let current = session.id().map(|id| store::handle(&id));
    let deadlines = Deadlines::from_config(&state.config.session);
    let now = state.clock.unix();
    let stored = state
        .sessions
        .list_user_sessions(user.id)
        .await
        .map_err(store_error)?;
    Ok(stored
        .into_iter()
        .filter_map(|s| {
            let data = AuthData::from_record(&s.data)?;
            // Idle sessions linger in the store until their absolute deadline; they are dead.
            deadlines.check(&data, now).ok()?;
            Some(SessionSummary {
                current: current.as_deref() == Some(s.handle.as_str()),
                handle: s.handle,
                created: format_time(data.created),
                last_active: format_time(data.seen),
                browser: describe(data.user_agent.as_deref()),
            })
        })
        .collect())
}

pub async fn revoke_session(
    state: &AppState,
    session: &AuthSession,
    handle: &str,
) -> Result<(), AppError> {
    let user = require_user(state, session).await?;
    if session.id().is_some_and(|id| store::handle(&id) == handle) {
        return logout(session).await;
    }
    if state
        .sessions
        .delete_user_session(user.id, handle)
        .await
        .map_err(store_error)?
    {
        tracing::info!(
            event = "session_revoked",
            user_id = user.id,
            "session revoked"
        );
    }
    // Unknown or someone else's handle: nothing to do, and nothing to reveal.
    Ok(())
}

pub async fn revoke_other_sessions(
    state: &AppState,
    session: &AuthSession,
) -> Result<u64, AppError> {
    let user = require_user(state, session).await?;
    let ended = state
        .sessions
        .delete_user_sessions(user.id, session.id().as_ref())
        .await
        .map_err(store_error)?;
    tracing::info!(
        event = "sessions_revoked",
        user_id = user.id,
        count = ended,
        "other sessions revoked"
    );
    Ok(ended)
}

pub async fn change_password(
    state: &AppState,
    session: &AuthSession,
    client: &Client,
    current: &str,
    new: &str,
    confirm: &str,
) -> Result<(), AppError> {
    let user = require_user(state, session).await?;
    check_password_length(current)?;
    validate_new_password(new).map_err(|_| AppError::BadInput(InputError::NewPasswordPolicy))?;
    if new != confirm {
        return Err(AppError::BadInput(InputError::PasswordsDiffer));
    }
    // Guessing the current password from a stolen session is throttled like a login.
    let attempt = state
        .throttle
        .begin(&user.name, &client.address)
        .await
        .map_err(throttled)?;
    if verify(state, &user.name, current).await?.is_none() {
        tracing::info!(
            event = "password_change_failed",
            user_id = user.id,
            "wrong current password"
        );
        return Err(AppError::BadInput(InputError::WrongCurrentPassword));
    }
    forgive(state, attempt).await?;
    let hash = state.hasher.hash(new.to_owned()).await.map_err(|e| {
        tracing::error!(error = %e, "hashing failed");
        AppError::Internal
    })?;
    let (_, version) = users::set_password_hash(&state.db, &user.name, &hash)
        .await
        .map_err(unavailable("password update failed"))?;
    // Everyone else out, then a fresh id for this session.
    let ended = state
        .sessions
        .delete_user_sessions(user.id, session.id().as_ref())
        .await
        .map_err(store_error)?;
    session.renew(version).await?;
    tracing::info!(
        event = "password_changed",
        user_id = user.id,
        other_sessions_ended = ended,
        "password changed"
    );
    Ok(())
}

fn format_time(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => "unknown".into(),
    }
}
