//! Liveness and readiness for load balancers and orchestrators.
//!
//! `/healthz`: the process answers (no I/O). `/readyz`: the stores answer within a bounded time;
//! 503 otherwise, so a balancer stops sending traffic to an instance that cannot serve logins.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use std::time::Duration;

/// How long readiness waits for a store before calling it unreachable.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
}

async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let users = async { state.db.ping().await.map_err(|e| e.to_string()) };
    let sessions = async { state.sessions.ping().await.map_err(|e| e.to_string()) };
    let probe = async { tokio::try_join!(users, sessions) };
    match tokio::time::timeout(READY_TIMEOUT, probe).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready\n"),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness: a store failed");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n")
        }
        Err(_) => {
            tracing::warn!("readiness: a store timed out");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n")
        }
    }
}
