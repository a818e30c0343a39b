//! Server functions: the UI's whole API. Each has a stable URL under `/api/` so plain HTML forms
//! (JavaScript off) can post to it; on the client these compile to fetch calls.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The demo credentials a DEV login page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
}

/// Logs in; returns the user's name. Wrong password and unknown user are the same error.
#[server(endpoint = "login")]
pub async fn login(username: String, password: String) -> Result<String, AppError> {
    let (state, session) = server::context().await?;
    crate::auth::service::login(&state, &session, &username, &password).await
}

/// Ends the session: deletes it server-side and expires the cookie.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let (_, session) = server::context().await?;
    crate::auth::service::logout(&session).await
}

/// The logged-in user's name, or `None`.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<String>, AppError> {
    let (_, session) = server::context().await?;
    crate::auth::service::current_user(&session).await
}

/// DEV only: the demo account, while it still has its demo password.
#[server(endpoint = "demo_login")]
pub async fn demo_login() -> Result<Option<DemoAccount>, AppError> {
    let state = expect_context::<crate::state::AppState>();
    Ok(state.demo_login.then(|| DemoAccount {
        username: crate::server::DEMO_USERNAME.into(),
        password: crate::server::DEMO_PASSWORD.into(),
    }))
}

#[cfg(feature = "ssr")]
mod server {
    use crate::auth::session::AuthSession;
    use crate::error::AppError;
    use crate::state::AppState;
    use leptos::prelude::*;

    pub async fn context() -> Result<(AppState, AuthSession), AppError> {
        let state = expect_context::<AppState>();
        let session = leptos_axum::extract::<tower_sessions::Session>()
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "session layer missing");
                AppError::Internal
            })?;
        Ok((state, AuthSession::new(session)))
    }
}
