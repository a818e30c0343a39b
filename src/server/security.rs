//! Request and response hardening: CSRF origin check, security headers, Content-Security-Policy,
//! and the logout cookie's attributes.

use crate::config::Config;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::cookie::{Cookie, CookieJar, Key};

/// Refuses state-changing requests that a browser marks as coming from another site: a
/// `Sec-Fetch-Site` of `cross-site` / `same-site`, or an `Origin` other than this host.
/// Same-origin forms (JavaScript on or off) send matching values and pass; clients that send
/// neither header (curl, the CLI's peers) are not browsers and cannot carry a victim's cookie
/// by accident.
pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let authority = request.uri().authority().map(|a| a.as_str().to_owned());
    if let Some(reason) = cross_site_reason(request.headers(), authority.as_deref()) {
        tracing::warn!(event = "csrf_refused", reason, path = %request.uri().path(), "cross-site request refused");
        return (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response();
    }
    next.run(request).await
}

/// `authority`: the request URI's (HTTP/2 carries the host there rather than in `Host`).
fn cross_site_reason(headers: &HeaderMap, authority: Option<&str>) -> Option<&'static str> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        if site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site") {
            return Some("sec-fetch-site");
        }
    }
    if let Some(origin) = get("origin") {
        // An Origin we cannot compare with anything is refused, not waved through.
        let Some(host) = get("host").or(authority) else {
            return Some("origin");
        };
        let origin_host = origin
            .split_once("://")
            .map(|(_, rest)| rest.trim_end_matches('/'));
        if origin_host != Some(host) {
            return Some("origin");
        }
    }
    None
}

/// With signed cookies: a session cookie whose signature does not verify is treated as absent
/// by tower-sessions, silently. Say so in the security log (never logging the value).
pub async fn log_tampered_cookie(key: Key, name: String, request: Request, next: Next) -> Response {
    let mut jar = CookieJar::new();
    for value in request.headers().get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for part in text.split(';') {
            if let Ok(cookie) = Cookie::parse_encoded(part.trim().to_owned()) {
                jar.add_original(cookie);
            }
        }
    }
    if jar.get(&name).is_some() && jar.signed(&key).get(&name).is_none() {
        tracing::warn!(
            event = "tampered_cookie",
            "session cookie with an invalid signature; treated as anonymous"
        );
    }
    next.run(request).await
}

/// Headers every response carries, static files included.
pub fn static_headers() -> [(header::HeaderName, HeaderValue); 3] {
    [
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        // Same-origin requests keep the Referer: JavaScript-off form posts redirect back by it.
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ]
}

/// Sets [`static_headers`] on every response (replacing any the handler set).
pub async fn add_static_headers(mut response: Response) -> Response {
    for (name, value) in static_headers() {
        response.headers_mut().insert(name, value);
    }
    response
}

/// The Content-Security-Policy for an HTML page whose inline scripts carry `nonce`. No
/// `unsafe-inline`: only our own files and the nonce'd hydration scripts run.
pub fn content_security_policy(config: &Config, nonce: &str) -> String {
    // `cargo leptos watch` injects a live-reload script that connects back over a WebSocket.
    let reload = if config.watch {
        let port = config
            .leptos
            .reload_external_port
            .unwrap_or(config.leptos.reload_port);
        format!(" ws://localhost:{port} ws://127.0.0.1:{port}")
    } else {
        String::new()
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'{reload}; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
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
                c.set_same_site(super::same_site(session.same_site));
                HeaderValue::from_str(&c.to_string()).ok()
            });
        headers.append(header::SET_COOKIE, fixed.unwrap_or(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::cross_site_reason;

    fn check(h: &HeaderMap) -> Option<&'static str> {
        cross_site_reason(h, None)
    }
    use axum::http::HeaderMap;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn origin_check() {
        let h = |o| headers(&[("host", "example.test:3000"), ("origin", o)]);
        assert_eq!(check(&h("http://example.test:3000")), None);
        assert_eq!(check(&h("https://example.test:3000")), None);
        assert_eq!(check(&h("http://evil.test")), Some("origin"));
        assert_eq!(check(&h("null")), Some("origin"));
        assert_eq!(
            check(&headers(&[("sec-fetch-site", "cross-site")])),
            Some("sec-fetch-site")
        );
        assert_eq!(check(&headers(&[("sec-fetch-site", "same-origin")])), None);
        assert_eq!(check(&headers(&[])), None);
        // An Origin with nothing to compare it to is refused; HTTP/2's authority counts.
        let no_host = headers(&[("origin", "http://example.test:3000")]);
        assert_eq!(check(&no_host), Some("origin"));
        assert_eq!(cross_site_reason(&no_host, Some("example.test:3000")), None);
    }
}
