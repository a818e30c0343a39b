//! Prometheus metrics (`[metrics] addr`, off by default) on a listener of their own, so that
//! they are never reachable through the site's own address or proxy. What is recorded, where it
//! happens: logins by method and result, logouts, sessions revoked and expired, CSRF refusals,
//! tampered cookies, password changes (counters, next to the matching log events); request
//! latency by route (this module's layer) and store operations by store and operation
//! (`store`); the hashing queue (sampled at each scrape) and the page cache (set as it fills).
//! Labels are fixed words and route templates: never a user name, session id or address.
//! With metrics off no recorder is installed and every `metrics::` call is a no-op.

use crate::error::BoxError;
use crate::state::AppState;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Latency buckets (seconds): a page takes tens of microseconds, a login tens of milliseconds,
/// a store timeout 1.5 s.
const BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Installs the recorder and serves `GET /metrics` on `addr`; returns the address bound.
pub async fn start(addr: SocketAddr, state: &AppState) -> Result<SocketAddr, BoxError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)?
        .install_recorder()?;
    describe();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen for metrics on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    let hasher = state.hasher.clone();
    let upkeep = handle.clone();
    let scrape = move || {
        let (pending, max) = hasher.load();
        metrics::gauge!("latchkey_hash_queue_depth").set(pending as f64);
        metrics::gauge!("latchkey_hash_queue_capacity").set(max as f64);
        std::future::ready(handle.render())
    };
    tokio::spawn(async move {
        // Histograms keep their samples until upkeep folds them in.
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    let app = axum::Router::new().route("/metrics", axum::routing::get(scrape));
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!(error = %err, "metrics listener failed");
        }
    });
    tracing::info!("metrics on http://{local}/metrics");
    Ok(local)
}

/// Records each request's latency under its route template (`/api/login`, `/pkg/{*path}`);
/// what no route matched is `other`.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics::histogram!("latchkey_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "latchkey_logins_total",
        "Login attempts by method and result (success, failure, throttled, busy)"
    );
    describe_counter!("latchkey_logouts_total", "Logouts");
    describe_counter!(
        "latchkey_sessions_revoked_total",
        "Sessions ended by their user (sessions page) or by an administrator"
    );
    describe_counter!(
        "latchkey_sessions_expired_total",
        "Sessions found expired (idle or absolute timeout)"
    );
    describe_counter!(
        "latchkey_csrf_refusals_total",
        "State-changing requests refused as cross-site"
    );
    describe_counter!(
        "latchkey_tampered_cookies_total",
        "Session cookies whose signature did not verify"
    );
    describe_counter!(
        "latchkey_password_changes_total",
        "Password changes by result"
    );
    describe_histogram!(
        "latchkey_http_request_duration_seconds",
        Unit::Seconds,
        "Request latency by route"
    );
    describe_histogram!(
        "latchkey_store_operation_duration_seconds",
        Unit::Seconds,
        "Session store operations by store and operation"
    );
    describe_gauge!(
        "latchkey_hash_queue_depth",
        "Password hashes running or waiting"
    );
    describe_gauge!(
        "latchkey_hash_queue_capacity",
        "Password hashes that may run or wait at once"
    );
    describe_gauge!(
        "latchkey_page_cache_entries",
        "Rendered pages held by the page cache"
    );
}
