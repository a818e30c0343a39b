//! Response headers: the ones every response carries, `no-store` for pages and answers, and
//! the Content-Security-Policy (written here, and read back here by the page cache).

use crate::config::Config;
use axum::http::{header, HeaderValue};
use tower_http::set_header::SetResponseHeaderLayer;

/// Pages and API answers carry user data (or set the cookie): never store them in any cache.
pub fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    )
}

/// Headers every response carries, static files included; `hsts` when the site is served
/// over HTTPS (its public URL says so).
pub fn static_headers(hsts: bool) -> Vec<(header::HeaderName, HeaderValue)> {
    let mut headers = vec![
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
        // No other window (a popup this page opened, or its opener) gets a handle on ours.
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    if hsts {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        ));
    }
    headers
}

/// Puts [`static_headers`] on every response, replacing any the handler set (a `map_response`
/// function, for responses of any body type).
pub fn everywhere<B>(
    hsts: bool,
) -> impl Fn(http::Response<B>) -> std::future::Ready<http::Response<B>> + Clone {
    let headers: std::sync::Arc<[_]> = static_headers(hsts).into();
    move |mut response| {
        for (name, value) in headers.iter() {
            response.headers_mut().insert(name, value.clone());
        }
        std::future::ready(response)
    }
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

/// The nonce a policy from [`content_security_policy`] allows.
pub fn nonce_of(policy: &str) -> Option<&str> {
    policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .filter(|n| n.len() >= 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nonce_is_read_back_from_the_policy() {
        let config = crate::config::Config::parse(
            "[package.metadata.leptos]\noutput-name = \"latchkey\"\n",
            std::path::Path::new("t"),
            |_| None,
        )
        .unwrap();
        let policy = content_security_policy(&config, "AbCdEfGhIjKlMnOpQr");
        assert_eq!(nonce_of(&policy), Some("AbCdEfGhIjKlMnOpQr"));
        assert_eq!(nonce_of("default-src 'self'"), None);
    }
}
