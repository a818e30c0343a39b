//! Server assembly: open the stores, build the router, serve until SIGTERM / Ctrl-C.

mod headers;

use crate::app::{shell, App};
use crate::auth::password::PasswordHasher;
use crate::config::{Config, SameSite};
use crate::state::AppState;
use crate::store::{SessionIndex, SqliteStore};
use crate::users;
use axum::serve::ListenerExt;
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::Arc;
use tower_sessions::SessionManagerLayer;

/// The tutorial's demo account, created in DEV on an empty database (never in PROD).
pub const DEMO_USERNAME: &str = "user1";
pub const DEMO_PASSWORD: &str = "mypassword";

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Opens the database and builds the shared state (also used by the CLI's user commands).
pub async fn open(config: Config) -> Result<AppState, BoxError> {
    let db = crate::db::connect(&config.database).await?;
    let hasher = PasswordHasher::new(config.security.max_concurrent_hashes)?;
    Ok(AppState {
        sessions: SqliteStore::new(db.clone()),
        config: Arc::new(config),
        db,
        hasher,
        demo_login: false,
    })
}

pub async fn serve(config: Config) -> Result<(), BoxError> {
    let mut state = open(config).await?;
    state.demo_login = prepare_demo_user(&state).await?;
    spawn_expired_session_cleanup(&state);

    let addr = state.config.leptos.site_addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    if state.config.is_dev() && !local.ip().is_loopback() {
        tracing::warn!("running in DEV mode (demo user, non-Secure cookie) on a non-loopback address; set LEPTOS_ENV=PROD in production");
    }
    tracing::info!("listening on http://{local}");

    // Without TCP_NODELAY each streamed (chunked) response waits ~40 ms on Nagle + delayed ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::warn!(error = %err, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("shut down cleanly");
    Ok(())
}

pub fn router(state: AppState) -> Router {
    let session = &state.config.session;
    let session_layer = SessionManagerLayer::new(state.sessions.clone())
        .with_name(session.cookie_name.clone())
        .with_http_only(true)
        .with_secure(session.secure)
        .with_same_site(match session.same_site {
            SameSite::Lax => tower_sessions::cookie::SameSite::Lax,
            SameSite::Strict => tower_sessions::cookie::SameSite::Strict,
        })
        .with_path("/");

    let leptos_options = state.config.leptos.clone();
    let routes = generate_route_list(App);
    Router::new()
        .leptos_routes(&state, routes, move || shell(leptos_options.clone()))
        // Pages and server functions: layers wrap only what is above them, so static files
        // (the fallback below) get neither the session nor `no-store`.
        .layer(headers::no_store())
        .layer(axum::middleware::map_response(
            headers::server_fn_error_status,
        ))
        .layer(session_layer)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
}

/// DEV on an empty database: create the tutorial's demo user. Returns whether the login page
/// may advertise it (DEV, and the account still has the demo password).
async fn prepare_demo_user(state: &AppState) -> Result<bool, BoxError> {
    if !state.config.is_dev() {
        return Ok(false);
    }
    if users::count(&state.db).await? == 0 {
        let hash = state.hasher.hash(DEMO_PASSWORD.into()).await?;
        users::create(&state.db, DEMO_USERNAME, &hash).await?;
        tracing::info!("DEV: created demo user {DEMO_USERNAME:?} with password {DEMO_PASSWORD:?}");
    }
    let Some(user) = users::find_by_username(&state.db, DEMO_USERNAME).await? else {
        return Ok(false);
    };
    Ok(state
        .hasher
        .verify(DEMO_PASSWORD.into(), Some(user.password_hash))
        .await?)
}

/// Purges expired records periodically. Errors are logged and retried next round: a database
/// hiccup must not end the task.
fn spawn_expired_session_cleanup(state: &AppState) {
    let store = state.sessions.clone();
    let period = state.config.session.cleanup_interval;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match store.delete_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(event = "expired_sessions_purged", count = n),
                Err(err) => {
                    tracing::warn!(error = %err, "expired-session cleanup failed; will retry")
                }
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
