//! What every page and server-function request passes on its way to the session layer, and
//! what its response gets on the way back, as one middleware. (Each axum `from_fn` layer
//! boxes a clone of everything inside it, and its own future, on every request: folding four
//! layers into this one, with the outer layers applied once, took a logged-in page from 17.5
//! to 15.9 µs of CPU; BENCHMARKS.md.)

use super::cookies::{self, Signing};
use super::{csrf, errors};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// The middleware's state (one `Arc`: it is cloned for every request).
#[derive(Clone)]
pub struct Gate(Arc<Inner>);

struct Inner {
    state: AppState,
    /// Where state-changing requests may come from (the site's public origins).
    origins: Vec<String>,
    /// The session cookie's key, when cookies are signed.
    signing: Option<Signing>,
}

impl Gate {
    pub fn new(state: AppState, origins: Vec<String>, signing: Option<Signing>) -> Self {
        Self(Arc::new(Inner {
            state,
            origins,
            signing,
        }))
    }
}

/// Refuses cross-site requests and logins the hashing queue has no room for, logs a tampered
/// session cookie; then, on the way out, turns a failed session save into a clear 503 and
/// gives a removed session cookie all its attributes.
pub async fn gate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let gate = &*gate.0;
    if let Some(refused) = csrf::refusal(&request, &gate.origins) {
        return refused;
    }
    if let Some(refused) = errors::login_refusal_when_busy(&gate.state, &request) {
        return refused;
    }
    if let Some(signing) = &gate.signing {
        cookies::log_tampered_cookie(signing, request.headers());
    }
    // Kept for a failed save's error answer (its bytes are shared, not copied).
    let uri = request.uri().clone();
    let json = errors::wants_json(&request);
    let response = next.run(request).await;
    let response = errors::session_save_failed(response, uri.path(), json);
    cookies::complete_removal_cookie(&gate.state.config, response)
}
