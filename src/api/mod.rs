//! Server functions: the UI's whole API. Each has a stable URL under `/api/` so plain HTML forms
//! (JavaScript off) can post to it; on the client these compile to fetch calls. On the server
//! each reads its [`Caller`](context::Caller) and hands over to a use-case in `service`.

pub mod types;

#[cfg(feature = "ssr")]
pub mod context;
#[cfg(feature = "ssr")]
mod errors;
#[cfg(feature = "ssr")]
pub mod service;

pub use types::{DemoAccount, SessionSummary};

use crate::error::AppError;
use leptos::prelude::*;

/// Logs in; returns the user's name. Wrong password and unknown user are the same error.
#[server(endpoint = "login")]
pub async fn login(username: String, password: String) -> Result<String, AppError> {
    let caller = context::Caller::extract().await?;
    let done = match service::login::login(&caller, &username, &password).await {
        Ok(done) => done,
        Err(error) => {
            context::remember_typed_username(&caller.state, &username);
            return Err(error);
        }
    };
    context::set_device_cookie(&caller.state, done.device_cookie);
    Ok(done.name)
}

/// Ends the session: deletes it server-side and expires the cookie.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let caller = context::Caller::extract().await?;
    service::login::logout(&caller.session).await
}

/// The logged-in user's name, or `None`.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<String>, AppError> {
    // Rendering `GET /`: the page cache has just checked the session for this very request.
    if let Some(known) = context::known_user() {
        return context::page_status(known);
    }
    let caller = context::Caller::extract().await?;
    context::page_status(service::login::current_user(&caller).await)
}

/// DEV only: the demo account, while it still has its demo password.
#[server(endpoint = "demo_login")]
pub async fn demo_login() -> Result<Option<DemoAccount>, AppError> {
    use crate::auth::demo::{DEMO_PASSWORD, DEMO_USERNAME};
    let shown = use_context::<crate::state::AppState>().is_some_and(|s| s.demo_login);
    Ok(shown.then(|| DemoAccount {
        username: DEMO_USERNAME.into(),
        password: DEMO_PASSWORD.into(),
    }))
}

/// The logged-in user's sessions, newest first, the current one marked.
#[server(endpoint = "sessions")]
pub async fn list_sessions() -> Result<Vec<SessionSummary>, AppError> {
    let caller = context::Caller::extract().await?;
    context::page_status(service::sessions::list_sessions(&caller).await)
}

/// Ends one of the user's sessions (the current one: same as logging out).
#[server(endpoint = "revoke_session")]
pub async fn revoke_session(handle: String) -> Result<(), AppError> {
    let caller = context::Caller::extract().await?;
    service::sessions::revoke_session(&caller, &handle).await
}

/// Ends every session of the user except this one; returns how many ended.
#[server(endpoint = "revoke_other_sessions")]
pub async fn revoke_other_sessions() -> Result<u64, AppError> {
    let caller = context::Caller::extract().await?;
    service::sessions::revoke_other_sessions(&caller).await
}

/// Changes the password (the current one is required), ends every other session of the user
/// and renews this session's id.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current: String,
    new: String,
    confirm: String,
) -> Result<(), AppError> {
    let caller = context::Caller::extract().await?;
    service::password::change_password(&caller, &current, &new, &confirm).await
}
