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

/// One of the user's sessions, as the sessions page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// Names the session for revocation; not usable as a cookie.
    pub handle: String,
    pub created: String,
    pub last_active: String,
    pub browser: String,
    pub current: bool,
}

/// Logs in; returns the user's name. Wrong password and unknown user are the same error.
#[server(endpoint = "login")]
pub async fn login(username: String, password: String) -> Result<String, AppError> {
    let (state, session, client) = server::context().await?;
    crate::auth::service::login(&state, &session, &client, &username, &password).await
}

/// Ends the session: deletes it server-side and expires the cookie.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let (_, session, _) = server::context().await?;
    crate::auth::service::logout(&session).await
}

/// The logged-in user's name, or `None`.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<String>, AppError> {
    // Rendering `GET /`: the page cache has just checked the session for this very request.
    if let Some(known) = server::known_user() {
        return server::page_status(known);
    }
    let (state, session, _) = server::context().await?;
    server::page_status(crate::auth::service::current_user(&state, &session).await)
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

/// The logged-in user's sessions, newest first, the current one marked.
#[server(endpoint = "sessions")]
pub async fn list_sessions() -> Result<Vec<SessionSummary>, AppError> {
    let (state, session, _) = server::context().await?;
    server::page_status(crate::auth::service::list_sessions(&state, &session).await)
}

/// Ends one of the user's sessions (the current one: same as logging out).
#[server(endpoint = "revoke_session")]
pub async fn revoke_session(handle: String) -> Result<(), AppError> {
    let (state, session, _) = server::context().await?;
    crate::auth::service::revoke_session(&state, &session, &handle).await
}

/// Ends every session of the user except this one; returns how many ended.
#[server(endpoint = "revoke_other_sessions")]
pub async fn revoke_other_sessions() -> Result<u64, AppError> {
    let (state, session, _) = server::context().await?;
    crate::auth::service::revoke_other_sessions(&state, &session).await
}

/// Changes the password (the current one is required), ends every other session of the user
/// and renews this session's id.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current: String,
    new: String,
    confirm: String,
) -> Result<(), AppError> {
    let (state, session, client) = server::context().await?;
    crate::auth::service::change_password(&state, &session, &client, &current, &new, &confirm).await
}

#[cfg(feature = "ssr")]
mod server {
    use crate::auth::service::Client;
    use crate::auth::session::{AuthSession, Deadlines};
    use crate::error::AppError;
    use crate::state::AppState;
    use axum::extract::ConnectInfo;
    use http::request::Parts;
    use leptos::prelude::*;
    use std::net::SocketAddr;

    pub async fn context() -> Result<(AppState, AuthSession, Client), AppError> {
        let state = expect_context::<AppState>();
        let session = leptos_axum::extract::<tower_sessions::Session>()
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "session layer missing");
                AppError::Internal
            })?;
        let session = AuthSession::new(
            session,
            state.clock.clone(),
            Deadlines::from_config(&state.config.session),
        );
        let client = use_context::<Parts>()
            .map(|parts| {
                client(
                    &parts,
                    state.config.security.trusted_proxy_header.as_deref(),
                )
            })
            .unwrap_or_default();
        Ok((state, session, client))
    }

    /// The user the page cache decided this request is for, if it did.
    pub fn known_user() -> Option<Result<Option<String>, AppError>> {
        use_context::<Parts>()?
            .extensions
            .get::<crate::server::page_cache::KnownUser>()
            .map(|known| known.0.clone())
    }

    /// For the reads a page makes while rendering: a server-side failure (store down) gives the
    /// page itself that status (503), not a 200 with an error message in it. (Over HTTP the
    /// error middleware sets the same status; form posts never call these.)
    pub fn page_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(err) = &result {
            if err.status().is_server_error() {
                if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
                    options.set_status(err.status());
                }
            }
        }
        result
    }

    /// The address as throttling counts it: IPv6 clients by their /64 (one host usually holds a
    /// whole /64, so counting single addresses would hand out fresh limits for free).
    fn throttle_key(ip: std::net::IpAddr) -> String {
        match ip {
            std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
            v4 => v4.to_string(),
        }
    }

    /// Who is asking: the client address (from the trusted proxy header only if one is
    /// configured, else the TCP peer) and the user agent.
    fn client(parts: &Parts, trusted_header: Option<&str>) -> Client {
        // The *last* entry of the *last* header line is the one our proxy wrote; anything before
        // it came from the client and may be forged.
        let from_proxy = trusted_header
            .and_then(|h| parts.headers.get_all(h).iter().next_back())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse::<std::net::IpAddr>().ok());
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Client {
            address: from_proxy
                .or(peer)
                .map_or_else(|| "unknown".into(), throttle_key),
            user_agent: parts
                .headers
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }
}
