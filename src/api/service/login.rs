//! Logging in and out, and who is logged in.

use crate::api::context::Caller;
use crate::auth::session::{AuthSession, Method, SessionUser};
use crate::auth::throttle::Attempt;
use crate::error::{AppError, InputError};
use crate::limits::{MAX_PASSWORD_BYTES, MAX_USERNAME_CHARS};
use crate::state::AppState;
use crate::users;

/// A successful login: the user's name, and the browser's new device cookie.
pub struct LoggedIn {
    pub name: String,
    pub device_cookie: String,
}

pub async fn login(caller: &Caller, username: &str, password: &str) -> Result<LoggedIn, AppError> {
    let state = &caller.state;
    // Refuse absurd input before it costs a hash, a query or a throttle slot.
    check_password_length(password)?;
    check_username(username)?;
    // A full hashing queue refuses now, before the throttle's writes.
    if !state.hasher.has_room() {
        return Err(crate::auth::password::HashError::Busy.into());
    }
    let attempt = attempt(caller, username).await?;
    let Some(user) = verify(state, username, password).await? else {
        tracing::info!(event = "login_failed", "login failed");
        metrics::counter!("latchkey_logins_total", "method" => "password", "result" => "failure")
            .increment(1);
        return Err(AppError::InvalidCredentials);
    };
    // A correct password: the attempt is taken back.
    state.throttle.succeeded(attempt).await?;
    if users::two_step::is_on(&state.db, user.id).await? {
        // Not logged in yet: the session waits for the code.
        caller.session.begin_second_step(&user).await?;
        tracing::info!(
            event = "login_second_step",
            user_id = user.id,
            "password right; code needed"
        );
        return Err(AppError::CodeRequired);
    }
    complete_login(caller, user, Method::Password).await
}

/// The rest of a login once the user has proved who they are (password or passkey): room for
/// one more session, a new session id bound to the user, the bookkeeping, a device cookie.
pub(super) async fn complete_login(
    caller: &Caller,
    user: SessionUser,
    method: Method,
) -> Result<LoggedIn, AppError> {
    let Caller {
        state,
        session,
        client,
    } = caller;
    end_oldest_sessions(state, user.id).await?;
    session
        .log_in(&user, client.user_agent.as_deref(), method)
        .await?;
    // Redis's copy of the password version, if it has none yet, so that this user's pages read
    // it with their session. A failure costs those pages a read of the users database only.
    if let Err(err) = state
        .sessions
        .remember_password_version(user.id, user.password_version)
        .await
    {
        tracing::warn!(error = %err, user_id = user.id, "could not copy the password version");
    }
    // Bookkeeping for `user list`: the login has happened, so a failed write only says so.
    if let Err(err) = users::record_login(&state.db, user.id, state.clock.unix()).await {
        tracing::warn!(error = %err, user_id = user.id, "could not record the login time");
    }
    let method = method_label(method);
    tracing::info!(
        event = "login",
        user_id = user.id,
        method,
        "login succeeded"
    );
    metrics::counter!("latchkey_logins_total", "method" => method, "result" => "success")
        .increment(1);
    let device_cookie = state
        .devices
        .issue(&user.name, client.device_cookie.as_deref());
    Ok(LoggedIn {
        name: user.name,
        device_cookie,
    })
}

pub(super) fn method_label(method: Method) -> &'static str {
    match method {
        Method::Password => "password",
        Method::Passkey => "passkey",
        Method::TwoStep => "two_step",
    }
}

/// Makes room for one more session of `user_id` within `[session] max-per-user`: a new login
/// ends the oldest (so one valid account cannot pile up sessions without limit).
async fn end_oldest_sessions(state: &AppState, user_id: i64) -> Result<(), AppError> {
    use crate::store::SessionIndex;
    let keep = state.config.session.max_per_user.saturating_sub(1);
    let ended = state.sessions.trim_user_sessions(user_id, keep).await?;
    if ended > 0 {
        tracing::info!(
            event = "sessions_capped",
            user_id,
            ended,
            "oldest sessions ended"
        );
    }
    Ok(())
}

/// Counts an attempt to prove who the caller is as `account` (a login, a password change, a
/// confirmation), against the account (or the caller's device cookie for it, if valid) and
/// the address; refused while either is over its limit.
pub(super) async fn attempt(caller: &Caller, account: &str) -> Result<Attempt, AppError> {
    let Caller { state, client, .. } = caller;
    let device = state.devices.find(account, client.device_cookie.as_deref());
    Ok(state
        .throttle
        .begin(account, device.as_deref(), &client.address)
        .await?)
}

/// A name that no account can have is bad input, on every database (a NUL, say, which
/// PostgreSQL's text type cannot even hold).
fn check_username(username: &str) -> Result<(), AppError> {
    if username.chars().count() > MAX_USERNAME_CHARS {
        return Err(AppError::BadInput(InputError::UsernameTooLong));
    }
    if username.chars().any(char::is_control) {
        return Err(AppError::BadInput(InputError::Malformed));
    }
    Ok(())
}

/// The user with these credentials, or `None`. Unknown users are verified against a dummy
/// hash: same work, same answer, same time as a wrong password.
pub(super) async fn verify(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<Option<SessionUser>, AppError> {
    let user = users::find_by_username(&state.db, username).await?;
    let verified = state
        .hasher
        .verify(
            password.to_owned(),
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
    // A locked account gets the wrong-password answer, after the same work.
    if let Some(u) = user.as_ref().filter(|u| verified && u.locked) {
        tracing::info!(
            event = "login_locked",
            user_id = u.id,
            "login refused: account locked"
        );
        // (Counted as a failure by the caller; the log tells the two apart.)
        return Ok(None);
    }
    Ok(user.filter(|_| verified).map(|u| SessionUser {
        id: u.id,
        name: u.username,
        password_version: u.password_version,
    }))
}

pub(super) fn check_password_length(password: &str) -> Result<(), AppError> {
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
        None => users::password_version(&state.db, user.id).await?,
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

/// The logged-in user, or [`AppError::Unauthenticated`].
pub(super) async fn require_user(caller: &Caller) -> Result<SessionUser, AppError> {
    authenticated(&caller.state, &caller.session)
        .await?
        .ok_or(AppError::Unauthenticated)
}

/// The logged-in user, if they proved who they are within `[security] sudo-seconds` (sudo
/// mode); else [`AppError::SudoRequired`].
pub(super) async fn require_sudo(caller: &Caller) -> Result<SessionUser, AppError> {
    let user = require_user(caller).await?;
    if !in_sudo_mode(caller).await? {
        return Err(AppError::SudoRequired);
    }
    Ok(user)
}

/// Sudo mode starts: the caller has just proved who they are (`method`), and the attempt
/// that did it is taken back.
pub(super) async fn enter_sudo_mode(
    caller: &Caller,
    user: &SessionUser,
    attempt: Attempt,
    method: &'static str,
) -> Result<(), AppError> {
    caller.state.throttle.succeeded(attempt).await?;
    caller.session.mark_verified().await?;
    tracing::info!(
        event = "sudo",
        user_id = user.id,
        method,
        "identity confirmed"
    );
    Ok(())
}

/// Whether the caller's session is in sudo mode now.
pub(super) async fn in_sudo_mode(caller: &Caller) -> Result<bool, AppError> {
    let window = caller.state.config.security.sudo.as_secs() as i64;
    caller.session.verified_within(window).await
}

pub async fn current_user(caller: &Caller) -> Result<Option<String>, AppError> {
    Ok(authenticated(&caller.state, &caller.session)
        .await?
        .map(|u| u.name))
}

pub async fn logout(session: &AuthSession) -> Result<(), AppError> {
    let user = session.user().await?;
    session.log_out().await?;
    if let Some(user) = user {
        tracing::info!(event = "logout", user_id = user.id, "logout");
        metrics::counter!("latchkey_logouts_total").increment(1);
    }
    Ok(())
}
