//! Changing the password from the sessions page.

use super::login::{
    attempt, check_password_length, enter_sudo_mode, require_sudo, require_user, verify,
};
use crate::api::context::Caller;
use crate::auth::password::validate_new_password;
use crate::error::{AppError, InputError};
use crate::store::SessionIndex;
use crate::users;

pub async fn change_password(
    caller: &Caller,
    current: &str,
    new: &str,
    confirm: &str,
) -> Result<(), AppError> {
    let user = require_sudo(caller).await?;
    let Caller { state, session, .. } = caller;
    check_password_length(current)?;
    validate_new_password(new).map_err(|_| AppError::BadInput(InputError::NewPasswordPolicy))?;
    if new != confirm {
        return Err(AppError::BadInput(InputError::PasswordsDiffer));
    }
    // Guessing the current password from a stolen session is throttled like a login.
    let attempt = attempt(caller, &user.name).await?;
    if verify(state, &user.name, current).await?.is_none() {
        tracing::info!(
            event = "password_change_failed",
            user_id = user.id,
            "wrong current password"
        );
        metrics::counter!("latchkey_password_changes_total", "result" => "failure").increment(1);
        return Err(AppError::BadInput(InputError::WrongCurrentPassword));
    }
    state.throttle.succeeded(attempt).await?;
    let hash = state.hasher.hash(new.to_owned()).await?;
    let change = state.sessions.password_version_changing(user.id).await?;
    let (_, version) = users::set_password_hash(&state.db, &user.name, &hash).await?;
    state
        .sessions
        .password_version_changed(change, Some(version))
        .await;
    // Everyone else out, then a fresh id for this session.
    let ended = state
        .sessions
        .delete_user_sessions(user.id, session.id().as_ref())
        .await?;
    session.renew(version).await?;
    metrics::counter!("latchkey_password_changes_total", "result" => "success").increment(1);
    tracing::info!(
        event = "password_changed",
        user_id = user.id,
        other_sessions_ended = ended,
        "password changed"
    );
    Ok(())
}

/// Confirms who you are with your password: sudo mode starts. Throttled like a login.
pub async fn confirm_password(caller: &Caller, password: &str) -> Result<(), AppError> {
    let user = require_user(caller).await?;
    let state = &caller.state;
    check_password_length(password)?;
    let attempt = attempt(caller, &user.name).await?;
    if verify(state, &user.name, password).await?.is_none() {
        tracing::info!(
            event = "sudo_failed",
            user_id = user.id,
            method = "password",
            "confirmation failed"
        );
        return Err(AppError::BadInput(InputError::WrongPassword));
    }
    enter_sudo_mode(caller, &user, attempt, "password").await
}
