//! Errors as HTTP: server-function errors get their real status, and a failed end-of-request
//! session save becomes the same clear 503 as every other store failure.

use crate::error::AppError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

/// A full hashing queue drains in about a second at the default bound; ask for two.
const BUSY_RETRY_AFTER: u64 = 2;

/// Gives server-function errors their real status code. server_fn answers every error with
/// 500 (including undecodable arguments, which never reach our code); the body is the
/// JSON-encoded [`AppError`], whose [`AppError::status`] is the one mapping to HTTP. Plain form
/// posts are redirects, not 500s, so they pass untouched.
pub async fn server_fn_error_status(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Error bodies are a few dozen bytes; the limit only guards against surprises.
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = err.status();
        let retry_after = match err {
            AppError::Throttled { retry_after } => Some(retry_after),
            AppError::Busy => Some(BUSY_RETRY_AFTER),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            parts
                .headers
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// tower-sessions answers a failed end-of-request save (the store went away after the handler
/// ran) with a bare, empty 500. Turn it into what every other store failure gives: a 503 with
/// the fixed "temporarily unavailable" message, as an [`AppError`] for server-function clients
/// (`json`) and as a page for browsers. Nothing was saved, so the request may simply be retried.
pub fn session_save_failed(response: Response, path: &str, json: bool) -> Response {
    // The signature of that response: a 500 with no headers at all (ours always have some).
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR || !response.headers().is_empty() {
        return response;
    }
    error_response(AppError::Unavailable, path, json, 5)
}

/// A login while the hashing queue is full: refused at the door, before the session layer and
/// the server-function machinery (which cost a debug build ~1 ms a request: under a flood of
/// 1,500, seconds), with the same 503 + `Retry-After` the login itself would give. `Some`: the
/// refusal to answer with.
pub fn login_refusal_when_busy(state: &AppState, request: &Request) -> Option<Response> {
    if request.method() != http::Method::POST
        || request.uri().path() != "/api/login"
        || state.hasher.has_room()
    {
        return None;
    }
    log_busy();
    Some(error_response(
        AppError::Busy,
        "/api/login",
        wants_json(request),
        BUSY_RETRY_AFTER,
    ))
}

/// Counts refusals and says so at most every 10 seconds (with how many so far): a flood must
/// not become a flood of log lines, whose writes would stall the server once its log pipe
/// is full.
#[derive(Default)]
pub struct Refusals {
    count: std::sync::atomic::AtomicU64,
    last_logged: std::sync::atomic::AtomicI64,
}

impl Refusals {
    /// Counts one; `log(refused_so_far)` when it is time to say so.
    pub fn note(&self, log: impl FnOnce(u64)) {
        use std::sync::atomic::Ordering::Relaxed;
        let count = self.count.fetch_add(1, Relaxed) + 1;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let last = self.last_logged.load(Relaxed);
        if now - last >= 10
            && self
                .last_logged
                .compare_exchange(last, now, Relaxed, Relaxed)
                .is_ok()
        {
            log(count);
        }
    }
}

fn log_busy() {
    metrics::counter!("latchkey_logins_total", "method" => "password", "result" => "busy")
        .increment(1);
    static BUSY: std::sync::LazyLock<Refusals> = std::sync::LazyLock::new(Refusals::default);
    BUSY.note(|refused| {
        tracing::warn!(
            event = "login_busy",
            refused_so_far = refused,
            "hashing queue full; refusing logins with 503"
        )
    });
}

/// A server-function call (not a browser's form post or page), which gets JSON errors.
pub fn wants_json(request: &Request) -> bool {
    request.uri().path().starts_with("/api/")
        && !request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// `error` as a server-function client decodes it (JSON), or as a page that says it.
fn error_response(error: AppError, path: &str, json: bool, retry_after: u64) -> Response {
    let (content_type, body) = if json {
        (
            "application/json",
            serde_json::to_string(&error).unwrap_or_default(),
        )
    } else {
        (
            "text/html; charset=utf-8",
            format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>latchkey</title></head>\
                 <body><main><h1>Unavailable</h1><p role=\"alert\">{error}</p></main></body></html>"
            ),
        )
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = error.status();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if json {
        if let Ok(path) = HeaderValue::from_str(path) {
            headers.insert(SERVER_FN_ERROR_HEADER, path);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tower::ServiceExt;

    /// What tower-sessions returns when its end-of-request save fails.
    async fn bare_500() -> Response {
        let mut res = Response::default();
        *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        res
    }

    async fn call(path: &str, accept: &str) -> (StatusCode, String) {
        let app = axum::Router::new()
            .route("/api/login", axum::routing::post(bare_500))
            .route("/", get(bare_500))
            .route(
                "/ours",
                get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "ours") }),
            )
            .layer(axum::middleware::from_fn(
                |request: Request, next: axum::middleware::Next| async move {
                    let (path, json) = (request.uri().path().to_owned(), wants_json(&request));
                    session_save_failed(next.run(request).await, &path, json)
                },
            ));
        let method = if path == "/api/login" { "POST" } else { "GET" };
        let req = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header(header::ACCEPT, accept)
            .body(Body::empty())
            .unwrap();
        let res = app.oneshot(req).await.unwrap();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn a_failed_session_save_becomes_a_clear_503() {
        // The hydrated client gets an error it can decode.
        let (status, body) = call("/api/login", "application/json").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            serde_json::from_str::<AppError>(&body).unwrap(),
            AppError::Unavailable
        );
        // A browser (form post or page) gets a page that says what happened.
        for path in ["/api/login", "/"] {
            let (status, body) = call(path, "text/html,*/*").await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(body.contains(&AppError::Unavailable.to_string()), "{body}");
        }
        // Our own 500s (they carry headers) pass untouched.
        assert_eq!(
            call("/ours", "*/*").await,
            (StatusCode::INTERNAL_SERVER_ERROR, "ours".into())
        );
    }
}
