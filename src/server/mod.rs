//! The HTTP edge: the router and its middleware, and serving until SIGTERM / Ctrl-C.

mod assets;
mod cleanup;
mod connections;
mod cookies;
mod csrf;
mod errors;
mod gate;
mod headers;
mod health;
mod page_cache;
mod prometheus;
mod router;
mod shell;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::error::BoxError;
use crate::state::AppState;
use std::net::SocketAddr;
use tower_http::normalize_path::NormalizePath;

/// The app as a router, ready to serve on `local` (its listening address): state opened (with
/// the demo user in DEV), front-end names checked. Tests serve it in-process with a clock they
/// control.
pub async fn app(
    mut config: Config,
    clock: SharedClock,
    local: SocketAddr,
) -> Result<(App, AppState), BoxError> {
    assets::check_hash_file(&mut config.leptos);
    let origins = origins(&config, local);
    let passkeys = passkey_origin(&config, local);
    let state = AppState::open_for_serving(config, clock, passkeys.as_deref()).await?;
    let router = router::router(state.clone(), origins)?;
    // Before routing: `/sessions/` is `/sessions` (with its session layer), not a fallback
    // that renders the page without one.
    Ok((NormalizePath::trim_trailing_slash(router), state))
}

/// The router behind its path normalisation.
pub type App = NormalizePath<router::Edge>;

/// The site's public origin, or without one the listen address's (plus `localhost` for a
/// loopback one: what a developer types).
fn origins(config: &Config, local: SocketAddr) -> Vec<String> {
    if let Some(origin) = &config.server.public_origin {
        return vec![origin.clone()];
    }
    if !config.is_dev() {
        tracing::warn!("no [server] public-url (LATCHKEY_PUBLIC_URL): accepting form posts from http://{local} only");
    }
    let mut origins = vec![format!("http://{local}")];
    if local.ip().is_loopback() {
        origins.push(format!("http://localhost:{}", local.port()));
    }
    origins
}

/// Where passkeys work: the site's public URL, or in development on a loopback address
/// `http://localhost:PORT` (a page reached on `127.0.0.1` points there). Otherwise none.
fn passkey_origin(config: &Config, local: SocketAddr) -> Option<String> {
    match &config.server.public_origin {
        Some(origin) => Some(origin.clone()),
        None if config.is_dev() && local.ip().is_loopback() => {
            Some(format!("http://localhost:{}", local.port()))
        }
        None => None,
    }
}

pub async fn serve(config: Config, clock: SharedClock) -> Result<(), BoxError> {
    let addr = config.leptos.site_addr;
    let listener = listen(addr, config.server.max_connections)
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    let metrics_addr = config.metrics_addr;
    let (app, state) = app(config, clock, local).await?;
    if let Some(addr) = metrics_addr {
        prometheus::start(addr, &state).await?;
    }
    cleanup::spawn(&state);
    if state.config.is_dev() && !local.ip().is_loopback() {
        tracing::warn!("running in DEV mode (demo user, non-Secure cookie) on a non-loopback address; set LEPTOS_ENV=PROD in production");
    }
    let shutdown = shutdown_signal()?;
    let server = &state.config.server;
    let cap = connections::connection_cap(server.max_connections);
    tracing::info!("listening on http://{local}");
    connections::serve(listener, app, server.header_read_timeout, cap, shutdown).await;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// A listening socket whose accept queue holds a burst as large as the connection cap (the
/// default 1,024 overflowed under 1,500 logins at once: the excess SYNs were retried after 1 s
/// and 3 s, so answers that take milliseconds arrived seconds late). The kernel caps it at
/// `net.core.somaxconn`.
fn listen(addr: SocketAddr, backlog: usize) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(u32::try_from(backlog).unwrap_or(u32::MAX).max(1024))
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
