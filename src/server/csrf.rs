//! Cross-site request forgery: state-changing requests from other sites are refused.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

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
