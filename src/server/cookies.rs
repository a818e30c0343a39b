//! The session cookie: its attributes, its removal, and (when signed) its key and the log of
//! cookies whose signature does not verify.

use crate::config::{Config, SameSite};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use std::sync::Arc;
use tower_sessions::cookie::{Cookie, CookieJar, Key};

/// The signing key and the cookie it signs.
#[derive(Clone)]
pub struct Signing {
    pub key: Key,
    pub name: Arc<str>,
}

pub fn same_site(s: SameSite) -> tower_sessions::cookie::SameSite {
    match s {
        SameSite::Lax => tower_sessions::cookie::SameSite::Lax,
        SameSite::Strict => tower_sessions::cookie::SameSite::Strict,
    }
}

/// With signed cookies: a session cookie whose signature does not verify is treated as absent
/// by tower-sessions, silently. Say so in the security log (never logging the value).
pub fn log_tampered_cookie(signing: &Signing, headers: &HeaderMap) {
    let (key, name) = (&signing.key, &*signing.name);
    let mut jar = CookieJar::new();
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for part in text.split(';') {
            if let Ok(cookie) = Cookie::parse_encoded(part.trim().to_owned()) {
                jar.add_original(cookie);
            }
        }
    }
    if jar.get(name).is_some() && jar.signed(key).get(name).is_none() {
        metrics::counter!("latchkey_tampered_cookies_total").increment(1);
        tracing::warn!(
            event = "tampered_cookie",
            "session cookie with an invalid signature; treated as anonymous"
        );
    }
}

/// tower-sessions expires the cookie with only `Path` set; give the removal the same
/// attributes as the cookie itself so browsers (and `__Host-` rules) apply it the same way.
pub fn complete_removal_cookie(config: &Config, mut response: Response) -> Response {
    let session = &config.session;
    let headers = response.headers_mut();
    let values: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    if values.is_empty() {
        return response;
    }
    headers.remove(header::SET_COOKIE);
    for value in values {
        let fixed = value
            .to_str()
            .ok()
            .and_then(|s| Cookie::parse(s.to_owned()).ok())
            .filter(|c| {
                c.name() == session.cookie_name && c.max_age() == Some(time::Duration::ZERO)
            })
            .and_then(|mut c| {
                c.set_http_only(true);
                c.set_secure(session.secure);
                c.set_same_site(same_site(session.same_site));
                HeaderValue::from_str(&c.to_string()).ok()
            });
        headers.append(header::SET_COOKIE, fixed.unwrap_or(value));
    }
    response
}
