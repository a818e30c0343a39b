//! Login, logout and "who am I", independent of how they are called (server function or test).

use super::password::MAX_PASSWORD_BYTES;
use super::session::{AuthSession, SessionUser};
use crate::error::AppError;
use crate::state::AppState;
use crate::users::{self, MAX_USERNAME_CHARS};

pub async fn login(
    state: &AppState,
    session: &AuthSession,
    username: &str,
    password: &str,
) -> Result<String, AppError> {
    // Refuse absurd input before it costs a hash or a query.
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::BadInput(format!(
            "Passwords are limited to {MAX_PASSWORD_BYTES} bytes."
        )));
    }
    if username.chars().count() > MAX_USERNAME_CHARS {
        return Err(AppError::BadInput(format!(
            "Usernames are limited to {MAX_USERNAME_CHARS} characters."
        )));
    }
    let user = users::find_by_username(&state.db, username)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "user lookup failed");
            AppError::Unavailable
        })?;
    // Unknown users are verified against a dummy hash: same work, same answer, same time.
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
    let Some(user) = user.filter(|_| verified) else {
        tracing::info!(event = "login_failed", "login failed");
        return Err(AppError::InvalidCredentials);
    };
    let session_user = SessionUser {
        id: user.id,
        name: user.username,
    };
    session
        .log_in(&session_user, state.config.session.lifetime)
        .await?;
    tracing::info!(
        event = "login",
        user_id = session_user.id,
        "login succeeded"
    );
    Ok(session_user.name)
}

pub async fn logout(session: &AuthSession) -> Result<(), AppError> {
    let user = session.user().await?;
    session.log_out().await?;
    if let Some(user) = user {
        tracing::info!(event = "logout", user_id = user.id, "logout");
    }
    Ok(())
}

pub async fn current_user(session: &AuthSession) -> Result<Option<String>, AppError> {
    Ok(session.user().await?.map(|u| u.name))
}
