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
//! query string (a no-JavaScript error message), a store failure (503) or any other page goes
//! through Leptos every time.

use crate::auth::service;
use crate::auth::session::{AuthSession, Deadlines};
use crate::error::AppError;
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// Distinct pages kept (a few KB each); the least recently used go first.
const CAPACITY: usize = 1024;
/// A page larger than this is served but not cached (ours are a few KB).
const MAX_PAGE_BYTES: usize = 256 * 1024;

/// Who the page is for, as decided by the cache for this request: `None` for anonymous, or the
/// store failure that prevented deciding. The `current_user` server function answers from it
/// during this request's render, so the session is checked once per request, not twice.
#[derive(Debug, Clone)]
pub struct KnownUser(pub Result<Option<String>, AppError>);

#[derive(Debug)]
struct Template {
    /// The response headers, minus the policy (rebuilt per nonce) and the length.
    headers: HeaderMap,
    /// The body, split wherever the render's nonce appeared.
    parts: Vec<Bytes>,
}

pub struct PageCache {
    pages: quick_cache::sync::Cache<Option<String>, Arc<Template>>,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache")
            .field("pages", &self.pages.len())
            .finish()
    }
}

impl Default for PageCache {
    fn default() -> Self {
        Self {
            pages: quick_cache::sync::Cache::new(CAPACITY),
        }
    }
}

/// The middleware (inside the session layer, around the Leptos routes).
pub async fn serve(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if request.method() != Method::GET
        || request.uri().path() != "/"
        || request.uri().query().is_some()
    {
        return next.run(request).await;
    }
    let Some(session) = request
        .extensions()
        .get::<tower_sessions::Session>()
        .cloned()
    else {
        return next.run(request).await;
    };
    let session = AuthSession::new(
        session,
        state.clock.clone(),
        Deadlines::from_config(&state.config.session),
    );
    let key = match service::current_user(&state, &session).await {
        Ok(name) => name,
        Err(err) => {
            // The render shows the failure (a 503 page); it is not cached.
            request.extensions_mut().insert(KnownUser(Err(err)));
            return next.run(request).await;
        }
    };
    if let Some(template) = state.pages.pages.get(&key) {
        return assemble(&state, &template);
    }
    request.extensions_mut().insert(KnownUser(Ok(key.clone())));
    let response = next.run(request).await;
    remember(&state, key, response).await
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
    let policy = super::security::content_security_policy(&state.config, &nonce);
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// Stores a freshly rendered page as the template for `key` (when it is one), and returns it.
async fn remember(state: &AppState, key: Option<String>, response: Response) -> Response {
    let nonce = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .and_then(|policy| policy.split("'nonce-").nth(1))
        .and_then(|rest| rest.split('\'').next())
        .filter(|n| n.len() >= 16)
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
    state.pages.pages.insert(key, Arc::new(template));
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
