//! A render cache for `GET /`, the page every visit starts with.
//!
//! Rendering the page with Leptos (a reactive pass, the async data, the island's props) costs far more
//! than deciding who is asking. But the page is a pure function of that answer: the login form
//! for anyone anonymous, "Welcome, NAME" for a user — except for the CSP nonce, which must be
//! fresh on every response. So the first render for each answer is kept as a template split
//! at its nonce; later requests re-check the session (every time: no authentication decision
//! is cached, so a logout or revocation on any instance counts at once) and reassemble the
//! template around a new nonce.
//!
//! The decision made here is handed to the render on a miss ([`KnownUser`]), so the stored
//! page is exactly the one for its key. Only plain `GET /` with a 200 answer is cached: a
//! query string (a no-JavaScript error message), a login waiting for its code, a store failure
//! (503) or any other page goes through Leptos every time.

use super::headers;
use crate::api::context::KnownUser;
use crate::api::service::login::authenticated;
use crate::auth::session::AuthSession;
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// Distinct pages kept (a few KB each); the least recently used go first.
const CAPACITY: usize = 1024;
/// A page larger than this is served but not cached (ours are a few KB).
const MAX_PAGE_BYTES: usize = 256 * 1024;

#[derive(Debug)]
struct Template {
    /// The response headers, minus the policy (rebuilt per nonce) and the length.
    headers: HeaderMap,
    /// The body, split wherever the render's nonce appeared.
    parts: Vec<Bytes>,
}

/// The middleware's own state: the app, and the pages rendered so far (one `Arc`: it is
/// cloned for every request).
#[derive(Clone)]
pub struct PageCache(Arc<Inner>);

struct Inner {
    app: AppState,
    pages: quick_cache::sync::Cache<Option<String>, Arc<Template>>,
}

impl PageCache {
    pub fn new(app: AppState) -> Self {
        Self(Arc::new(Inner {
            app,
            pages: quick_cache::sync::Cache::new(CAPACITY),
        }))
    }
}

/// The middleware (inside the session layer, around the Leptos routes).
pub async fn serve(State(cache): State<PageCache>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET
        || request.uri().path() != "/"
        || request.uri().query().is_some()
    {
        return next.run(request).await;
    }
    let state = &cache.0.app;
    let (mut parts, body) = request.into_parts();
    let session = AuthSession::from_request_parts(&mut parts, state).await;
    let mut request = Request::from_parts(parts, body);
    let Ok(session) = session else {
        return next.run(request).await;
    };
    let key = match authenticated(state, &session).await {
        Ok(user) => user.map(|u| u.name),
        Err(err) => {
            // The render shows the failure (a 503 page); it is not cached.
            request.extensions_mut().insert(KnownUser(Err(err)));
            return next.run(request).await;
        }
    };
    // A login waiting for its code gets the code step, never a stored page.
    if key.is_none() && !matches!(session.second_step().await, Ok(None)) {
        return next.run(request).await;
    }
    if let Some(template) = cache.0.pages.get(&key) {
        return assemble(state, &template);
    }
    request.extensions_mut().insert(KnownUser(Ok(key.clone())));
    let response = next.run(request).await;
    remember(&cache, key, response).await
}

/// A fresh nonce: 128 random bits, made as Leptos makes its own (a thread-local CSPRNG, no
/// system call per response; `OsRng` here was ~1.5% of a page view).
fn nonce() -> String {
    leptos::nonce::Nonce::new().to_string()
}

fn assemble(state: &AppState, template: &Template) -> Response {
    let nonce = nonce();
    let mut body = Vec::with_capacity(
        template.parts.iter().map(Bytes::len).sum::<usize>() + nonce.len() * template.parts.len(),
    );
    for (i, part) in template.parts.iter().enumerate() {
        if i > 0 {
            body.extend_from_slice(nonce.as_bytes());
        }
        body.extend_from_slice(part);
    }
    let mut response = Response::new(Body::from(body));
    *response.headers_mut() = template.headers.clone();
    let policy = headers::content_security_policy(&state.config, &nonce);
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// Stores a freshly rendered page as the template for `key` (when it is one), and returns it.
async fn remember(cache: &PageCache, key: Option<String>, response: Response) -> Response {
    let nonce = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .and_then(headers::nonce_of)
        .map(str::to_owned);
    let (Some(nonce), StatusCode::OK) = (nonce, response.status()) else {
        return response;
    };
    let (parts, body) = response.into_parts();
    // Our own render, of bounded size (the only input in it is a ≤ 64-character name).
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        let mut failed = Response::new(Body::empty());
        *failed.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        return failed;
    };
    if bytes.len() > MAX_PAGE_BYTES {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let mut headers = parts.headers.clone();
    headers.remove(header::CONTENT_SECURITY_POLICY);
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::SET_COOKIE);
    let template = Template {
        headers,
        parts: split(&bytes, nonce.as_bytes()),
    };
    cache.0.pages.insert(key, Arc::new(template));
    metrics::gauge!("latchkey_page_cache_entries").set(cache.0.pages.len() as f64);
    Response::from_parts(parts, Body::from(bytes))
}

/// `bytes` cut at every occurrence of `needle` (which is dropped).
fn split(bytes: &Bytes, needle: &[u8]) -> Vec<Bytes> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + needle.len() <= bytes.len() {
        if &bytes[i..i + needle.len()] == needle {
            parts.push(bytes.slice(start..i));
            i += needle.len();
            start = i;
        } else {
            i += 1;
        }
    }
    parts.push(bytes.slice(start..));
    parts
}

#[cfg(test)]
mod tests {
    use super::split;
    use axum::body::Bytes;

    #[test]
    fn split_at_every_occurrence() {
        let page = Bytes::from_static(b"<a nonce=\"N0NCE\">x</a><b nonce=\"N0NCE\"></b>");
        let parts = split(&page, b"N0NCE");
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts.join(&b"fresh"[..]),
            b"<a nonce=\"fresh\">x</a><b nonce=\"fresh\"></b>"
        );
        assert_eq!(split(&Bytes::from_static(b"none here"), b"N0NCE").len(), 1);
    }
}
