//! Cross-site request forgery: state-changing requests from other sites are refused.

use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

/// Refuses state-changing requests that do not come from the site itself (`origins`: the
/// site's public origins, `scheme://host[:port]`): a `Sec-Fetch-Site` of `cross-site` /
/// `same-site`; an `Origin` that is not the site's; and a form-encoded, multipart or
/// text/plain body (what another site's form can send without asking) that carries no origin
/// information at all. Same-origin forms (JavaScript on or off) send matching values and pass;
/// JSON from a client that is not a browser passes (a browser cannot send it cross-site
/// without a CORS preflight, which fails). `Some`: the refusal to answer with.
pub fn refusal(request: &Request, origins: &[String]) -> Option<Response> {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return None;
    }
    let reason = cross_site_reason(request.headers(), origins)?;
    metrics::counter!("latchkey_csrf_refusals_total").increment(1);
    tracing::warn!(event = "csrf_refused", reason, path = %request.uri().path(), "cross-site request refused");
    Some((StatusCode::FORBIDDEN, "Cross-site request refused.").into_response())
}

fn cross_site_reason(headers: &HeaderMap, origins: &[String]) -> Option<&'static str> {
    let get = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let site = get(header::HeaderName::from_static("sec-fetch-site"));
    if site.is_some_and(|s| {
        s.eq_ignore_ascii_case("cross-site") || s.eq_ignore_ascii_case("same-site")
    }) {
        return Some("sec-fetch-site");
    }
    match get(header::ORIGIN) {
        Some(origin) => {
            let origin = origin.trim_end_matches('/');
            (!origins.iter().any(|o| o.eq_ignore_ascii_case(origin))).then_some("origin")
        }
        None if site.is_some() => None,
        None => {
            let simple = get(header::CONTENT_TYPE).is_some_and(|t| {
                let t = t
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                matches!(
                    t.as_str(),
                    "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
                )
            });
            simple.then_some("no-origin")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cross_site_reason;
    use axum::http::HeaderMap;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn origin_check() {
        let site = ["https://example.test:3000".to_owned()];
        let check =
            |pairs: &[(&'static str, &'static str)]| cross_site_reason(&headers(pairs), &site);
        let form = ("content-type", "application/x-www-form-urlencoded");
        assert_eq!(
            check(&[("origin", "https://example.test:3000"), form]),
            None
        );
        // The whole origin counts: another scheme, host or port is another site.
        assert_eq!(
            check(&[("origin", "http://example.test:3000")]),
            Some("origin")
        );
        assert_eq!(
            check(&[("origin", "https://example.test:3001")]),
            Some("origin")
        );
        assert_eq!(check(&[("origin", "https://evil.test")]), Some("origin"));
        assert_eq!(check(&[("origin", "null")]), Some("origin"));
        assert_eq!(
            check(&[("sec-fetch-site", "cross-site")]),
            Some("sec-fetch-site")
        );
        assert_eq!(
            check(&[
                ("sec-fetch-site", "same-site"),
                ("origin", "https://example.test:3000")
            ]),
            Some("sec-fetch-site")
        );
        assert_eq!(check(&[("sec-fetch-site", "same-origin"), form]), None);
        // No origin information at all: what another site's form could send is refused...
        for t in [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "text/plain;charset=utf-8",
        ] {
            assert_eq!(check(&[("content-type", t)]), Some("no-origin"), "{t}");
        }
        // ...what it could not send passes.
        assert_eq!(check(&[("content-type", "application/json")]), None);
        assert_eq!(check(&[]), None);
    }
}
