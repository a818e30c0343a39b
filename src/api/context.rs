//! Who is asking: the typed session, the client address and user agent, as an axum extractor
//! ([`Caller`]), used by the server functions and by the page cache alike.

use crate::auth::session::{AuthSession, Deadlines};
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use leptos::prelude::*;
use std::net::{IpAddr, SocketAddr};

/// The caller, as far as throttling and the sessions page care.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The address as throttling counts it (see [`throttle_key`]).
    pub address: String,
    pub user_agent: Option<String>,
    /// The device cookie's value, if the browser sent one (see `auth::device`).
    pub device_cookie: Option<String>,
}

/// One request's view of the app: the shared state, the typed session and the client.
pub struct Caller {
    pub state: AppState,
    pub session: AuthSession,
    pub client: Client,
}

/// An extractor's refusal, as a server-function error: the status and the JSON error.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (self.status(), axum::Json(self)).into_response()
    }
}

/// The typed session over the session layer's (zero2prod's pattern: handlers never read the
/// raw key-value session).
impl FromRequestParts<AppState> for AuthSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Some(session) = parts.extensions.get::<tower_sessions::Session>().cloned() else {
            tracing::error!("session layer missing");
            return Err(AppError::Internal);
        };
        Ok(AuthSession::new(
            session,
            state.clock.clone(),
            Deadlines::from_config(&state.config.session),
        ))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let session = AuthSession::from_request_parts(parts, state).await?;
        let security = &state.config.security;
        let mut client = client(
            parts,
            security.trusted_proxy_header.as_deref(),
            &security.trusted_proxies,
        );
        client.device_cookie = cookie(parts, &state.config.session.device_cookie_name);
        Ok(Self {
            state: state.clone(),
            session,
            client,
        })
    }
}

impl Caller {
    /// The caller of the server function being run.
    pub async fn extract() -> Result<Self, AppError> {
        let Some(state) = use_context::<AppState>() else {
            tracing::error!("app state missing from the Leptos context");
            return Err(AppError::Internal);
        };
        leptos_axum::extract_with_state(&state).await.map_err(|e| {
            tracing::error!(error = %e, "cannot read the request");
            AppError::Internal
        })
    }
}

/// Who the page is for, as the page cache decided for this request: `None` for anonymous, or
/// the store failure that prevented deciding. The `current_user` server function answers from
/// it during this request's render, so the session is checked once per request, not twice.
#[derive(Debug, Clone)]
pub struct KnownUser(pub Result<Option<String>, AppError>);

/// The [`KnownUser`] of the request being rendered, if the page cache decided one.
pub fn known_user() -> Option<Result<Option<String>, AppError>> {
    use_context::<Parts>()?
        .extensions
        .get::<KnownUser>()
        .map(|known| known.0.clone())
}

/// For the reads a page makes while rendering: a server-side failure (store down) gives the
/// page itself that status (503), not a 200 with an error message in it. (Over HTTP the error
/// middleware sets the same status; form posts never call these.)
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
pub fn throttle_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        v4 => v4.to_string(),
    }
}

/// The client address (from the proxy header when one is configured and the TCP peer is one
/// of the trusted proxies, else the TCP peer) and the user agent.
fn client(parts: &Parts, trusted_header: Option<&str>, proxies: &[ipnet::IpNet]) -> Client {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    // The *last* entry of the *last* header line is the one our proxy wrote; anything before
    // it came from the client and may be forged.
    let from_proxy = trusted_header
        .filter(|_| peer.is_some_and(|p| proxies.iter().any(|net| net.contains(&p))))
        .and_then(|h| parts.headers.get_all(h).iter().next_back())
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(forwarded_address);
    Client {
        address: from_proxy
            .or(peer)
            .map_or_else(|| "unknown".into(), throttle_key),
        user_agent: parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        device_cookie: None,
    }
}

/// One forwarded entry's address: `ip`, `ip:port`, `[ipv6]` or `[ipv6]:port`.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

/// The value of the request's cookie `name`, if it sent one.
fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Sets the device cookie on this server function's response: long-lived, HttpOnly, Secure
/// outside DEV, kept across logout.
pub fn set_device_cookie(state: &AppState, value: String) {
    use tower_sessions::cookie::{Cookie, SameSite};
    let session = &state.config.session;
    let cookie = Cookie::build((session.device_cookie_name.clone(), value))
        .path("/")
        .http_only(true)
        .secure(session.secure)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::days(crate::auth::device::LIFETIME_DAYS))
        .build();
    if let (Some(options), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&cookie.to_string()),
    ) {
        options.append_header(http::header::SET_COOKIE, value);
    }
}

/// Whether this request is a plain form post (JavaScript off): it asked for HTML.
pub fn is_plain_form() -> bool {
    use_context::<Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// After a plain form post (JavaScript off) succeeds, the browser goes back to the page it came
/// from, as server functions do, but without that address's query: a confirmation made on a
/// page that showed a failed post's error (`?__err=…`) must not show the error again.
pub fn back_to_referring_page() {
    let Some(parts) = use_context::<Parts>().filter(|_| is_plain_form()) else {
        return;
    };
    let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let path = header(http::header::REFERER)
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| u.path().to_owned())
        .filter(|p| p.starts_with('/') && !p.starts_with("//"));
    if let (Some(options), Some(Ok(path))) = (
        use_context::<leptos_axum::ResponseOptions>(),
        path.map(|p| http::HeaderValue::from_str(&p)),
    ) {
        options.insert_header(http::header::LOCATION, path);
    }
}

/// The cookie that carries a failed plain-form login's user name to the form shown next.
const TYPED_NAME_COOKIE: &str = "latchkey_typed_name";

/// Without JavaScript a failed login is a redirect back to the form; so that the user name is
/// not lost on the way, a plain form post (one that asked for HTML) leaves it in a cookie for
/// a minute: HttpOnly, this site only, read once by [`take_typed_username`]. Never in the URL
/// (history, proxy logs), never in the store: people type passwords into that field.
pub fn remember_typed_username(state: &AppState, username: &str) {
    let wants_html = is_plain_form();
    // Only a name that could be one (a 60 KB "name" would make a header proxies refuse).
    let plausible = !username.is_empty()
        && username.chars().count() <= crate::limits::MAX_USERNAME_CHARS
        && !username.chars().any(char::is_control);
    if wants_html && plausible {
        set_cookie(
            state,
            TYPED_NAME_COOKIE,
            username,
            time::Duration::minutes(1),
        );
    }
}

/// The user name a failed plain-form login left (see [`remember_typed_username`]), removing
/// the cookie with this response.
pub fn take_typed_username() -> Option<String> {
    use tower_sessions::cookie::Cookie;
    let parts = use_context::<Parts>()?;
    let raw = cookie(&parts, TYPED_NAME_COOKIE)?;
    set_cookie(
        &use_context::<AppState>()?,
        TYPED_NAME_COOKIE,
        "",
        time::Duration::ZERO,
    );
    let name = Cookie::parse_encoded(format!("{TYPED_NAME_COOKIE}={raw}")).ok()?;
    Some(name.value().to_owned()).filter(|n| !n.is_empty())
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age: time::Duration) {
    use tower_sessions::cookie::{Cookie, SameSite};
    let cookie = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(state.config.session.secure)
        .same_site(SameSite::Strict)
        .max_age(max_age)
        .build();
    if let (Some(options), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&cookie.encoded().to_string()),
    ) {
        options.append_header(http::header::SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::forwarded_address;

    #[test]
    fn forwarded_entries_with_and_without_ports() {
        for (entry, ip) in [
            ("203.0.113.7", "203.0.113.7"),
            (" 203.0.113.7:51234", "203.0.113.7"),
            ("2001:db8::1", "2001:db8::1"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
        ] {
            assert_eq!(
                forwarded_address(entry),
                Some(ip.parse().unwrap()),
                "{entry}"
            );
        }
        assert_eq!(forwarded_address("unknown"), None);
    }
}
