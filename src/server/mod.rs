//! The HTTP edge: the router and its middleware, and serving until SIGTERM / Ctrl-C.

mod assets;
mod cleanup;
mod cookies;
mod csrf;
mod errors;
mod headers;
mod health;
mod keys;
mod page_cache;
mod router;
mod shell;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::error::BoxError;
use crate::state::AppState;
use axum::serve::ListenerExt;
use axum::Router;

/// The app as a router, ready to serve: state opened (with the demo user in DEV), front-end
/// names checked. Tests serve it in-process with a clock they control.
pub async fn app(mut config: Config, clock: SharedClock) -> Result<(Router, AppState), BoxError> {
    assets::check_hash_file(&mut config.leptos);
    let state = AppState::open_for_serving(config, clock).await?;
    Ok((router::router(state.clone())?, state))
}

pub async fn serve(config: Config, clock: SharedClock) -> Result<(), BoxError> {
    let (app, state) = app(config, clock).await?;
    cleanup::spawn(&state);

    let addr = state.config.leptos.site_addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    if state.config.is_dev() && !local.ip().is_loopback() {
        tracing::warn!("running in DEV mode (demo user, non-Secure cookie) on a non-loopback address; set LEPTOS_ENV=PROD in production");
    }
    let shutdown = shutdown_signal()?;
    tracing::info!("listening on http://{local}");

    // Without TCP_NODELAY each streamed (chunked) response waits ~40 ms on Nagle + delayed ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::warn!(error = %err, "cannot set TCP_NODELAY");
        }
    });
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is *called*, so calling
/// it before announcing the address means a SIGTERM right after start still shuts down cleanly.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, BoxError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        tracing::info!("shutdown signal received; finishing in-flight requests");
    })
}
