//! Server assembly: open the stores, build the router, serve until SIGTERM / Ctrl-C.

pub mod assets;
mod headers;
mod health;
mod keys;
pub mod page_cache;
pub mod security;

use crate::app::{shell, App};
use crate::auth::password::PasswordHasher;
use crate::auth::throttle::Throttle;
use crate::clock::{SharedClock, SystemClock};
use crate::config::{Config, SameSite, StoreKind};
use crate::db::Database;
use crate::state::{AppState, Shared};
use crate::store::{AnyStore, PgStore, RedisStore, SessionIndex, SqliteStore};
use crate::users;
use axum::serve::ListenerExt;
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::Arc;
use tower::ServiceBuilder;
use tower_sessions::SessionManagerLayer;

/// The tutorial's demo account, created in DEV on an empty database (never in PROD).
pub const DEMO_USERNAME: &str = "user1";
pub const DEMO_PASSWORD: &str = "mypassword";

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Opens the database and builds the shared state (the CLI's user commands use this as is).
pub async fn open(config: Config) -> Result<AppState, BoxError> {
    open_with_clock(config, Arc::new(SystemClock)).await
}

/// The state a server runs on: [`open_with_clock`] plus, in DEV, the demo user.
pub async fn open_for_serving(
    mut config: Config,
    clock: SharedClock,
) -> Result<AppState, BoxError> {
    assets::check_hash_file(&mut config.leptos);
    let state = open_with_clock(config, clock).await?;
    let shown = prepare_demo_user(&state).await?;
    Ok(state.with_demo_login(shown))
}

/// [`open`] with a chosen clock (tests move time forward instead of sleeping).
pub async fn open_with_clock(config: Config, clock: SharedClock) -> Result<AppState, BoxError> {
    crate::db::set_remote_timeout(config.database.timeout);
    let db = Database::connect(&config.database).await?;
    let reader = crate::db::sqlite_reader(&config.database);
    let sessions = match &config.session.store {
        StoreKind::UsersDatabase => match &db {
            Database::Sqlite(pool) => AnyStore::Sqlite(Arc::new(
                SqliteStore::new(pool.clone(), clock.clone()).with_reader(reader.clone()),
            )),
            Database::Postgres(pool) => {
                AnyStore::Postgres(Arc::new(PgStore::new(pool.clone(), clock.clone())))
            }
        },
        StoreKind::Postgres(url) => AnyStore::Postgres(Arc::new(PgStore::new(
            crate::db::connect_postgres(url, config.database.max_connections).await?,
            clock.clone(),
        ))),
        StoreKind::Redis(target) => AnyStore::Redis(Arc::new(
            RedisStore::connect(target, clock.clone())
                .await
                .map_err(|e| {
                    format!(
                        "cannot open the Redis session store {}: {e}",
                        crate::db::redact(&target.url)
                    )
                })?,
        )),
    };
    let hasher = PasswordHasher::new(config.security.max_concurrent_hashes)?;
    Ok(AppState::new(Shared {
        sessions,
        throttle: Arc::new(Throttle::new(
            config.throttle.clone(),
            clock.clone(),
            db.clone(),
        )),
        config: Arc::new(config),
        db,
        hasher,
        clock,
        reader,
        pages: Arc::default(),
        demo_login: false,
    }))
}

pub async fn serve(config: Config) -> Result<(), BoxError> {
    let state = open_for_serving(config, Arc::new(SystemClock)).await?;
    spawn_cleanup(&state);

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
    let app = router(state)?.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// The whole HTTP surface. The pages' middleware is one `ServiceBuilder` stack, listed
/// outermost first; the `Router::layer` calls after it wrap what was added before them.
/// Static files, health checks and the fallback get only the outermost (security headers),
/// not the session.
pub fn router(state: AppState) -> Result<Router, BoxError> {
    let config = state.config.clone();
    let session = &config.session;
    let session_layer = SessionManagerLayer::new(state.sessions.clone())
        .with_name(session.cookie_name.clone())
        .with_http_only(true)
        .with_secure(session.secure)
        .with_same_site(same_site(session.same_site))
        .with_path("/");

    let routes = generate_route_list(App);
    // axum clones each route's handler for every request: capture an `Arc`, not the options.
    let shared = config.clone();
    let pages = Router::new().leptos_routes(&state, routes, move || shell(shared.leptos.clone()));

    // One layer stack (outermost first), applied once: every `Router::layer` call boxes the
    // route again, and axum clones each box for every request (~3% of a page view when these
    // were ten separate calls).
    let guard = ServiceBuilder::new().layer(axum::middleware::from_fn(security::refuse_cross_site));
    let inner = ServiceBuilder::new()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            page_cache::serve,
        ))
        .layer(headers::no_store())
        .layer(axum::middleware::map_response(
            headers::server_fn_error_status,
        ));
    // Signed and unsigned session layers are different types: branch here, once.
    let pages = if session.signed {
        let key = keys::load_or_create(
            config.security.session_key.as_deref(),
            &session.signing_key_file,
        )?;
        let name = session.cookie_name.clone();
        let tampered = key.clone();
        pages.layer(
            guard
                .layer(axum::middleware::from_fn(move |req, next| {
                    security::log_tampered_cookie(tampered.clone(), name.clone(), req, next)
                }))
                .layer(complete_removal_cookie(&config))
                .layer(axum::middleware::from_fn(headers::session_save_failed))
                .layer(session_layer.with_signed(key))
                .layer(inner),
        )
    } else {
        pages.layer(
            guard
                .layer(complete_removal_cookie(&config))
                .layer(axum::middleware::from_fn(headers::session_save_failed))
                .layer(session_layer)
                .layer(inner),
        )
    };
    let router = pages
        // Its own layer: inside one stack it would hand the middleware it wraps a
        // `Limited<Body>`, where axum's `from_fn` middleware needs a plain `Body`.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            config.security.max_body_bytes,
        ))
        .merge(health::routes())
        .nest_service(
            &format!("/{}", config.leptos.site_pkg_dir),
            headers::front_end_files(&config.leptos),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::map_response(security::add_static_headers));
    Ok(router.with_state(state))
}

/// See [`security::complete_removal_cookie`]; it must sit outside the session layer.
fn complete_removal_cookie(
    config: &Arc<Config>,
) -> axum::middleware::MapResponseLayer<
    impl Fn(axum::response::Response) -> std::future::Ready<axum::response::Response> + Clone,
    (),
    (),
> {
    let config = config.clone();
    axum::middleware::map_response(move |res| {
        std::future::ready(security::complete_removal_cookie(&config, res))
    })
}

pub(crate) fn same_site(s: SameSite) -> tower_sessions::cookie::SameSite {
    match s {
        SameSite::Lax => tower_sessions::cookie::SameSite::Lax,
        SameSite::Strict => tower_sessions::cookie::SameSite::Strict,
    }
}

/// DEV on an empty database: create the tutorial's demo user. Returns whether the login page
/// may advertise it (DEV, and the account still has the demo password).
async fn prepare_demo_user(state: &AppState) -> Result<bool, BoxError> {
    if !state.config.is_dev() {
        // A database that started life in DEV must not carry the public demo login into PROD.
        if let Some(user) = users::find_by_username(&state.db, DEMO_USERNAME).await? {
            if state
                .hasher
                .verify(DEMO_PASSWORD.into(), Some(user.password_hash))
                .await?
            {
                return Err(format!(
                    "user {DEMO_USERNAME:?} still has the public demo password; change it \
                     (`latchkey user passwd {DEMO_USERNAME}`) before running with LEPTOS_ENV=PROD"
                )
                .into());
            }
        }
        return Ok(false);
    }
    if users::count(&state.db).await? == 0 {
        let hash = state.hasher.hash(DEMO_PASSWORD.into()).await?;
        users::create(&state.db, DEMO_USERNAME, &hash).await?;
        tracing::info!(
            "DEV: created the demo user {DEMO_USERNAME:?} (the login page shows its password)"
        );
    }
    let Some(user) = users::find_by_username(&state.db, DEMO_USERNAME).await? else {
        return Ok(false);
    };
    Ok(state
        .hasher
        .verify(DEMO_PASSWORD.into(), Some(user.password_hash))
        .await?)
}

/// Purges expired records (and passed throttling windows) periodically. Errors are logged and
/// retried next round: a database hiccup must not end the task.
fn spawn_cleanup(state: &AppState) {
    let store = state.sessions.clone();
    let throttle = state.throttle.clone();
    let period = state.config.session.cleanup_interval;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tick.tick().await;
            if let Err(err) = throttle.prune().await {
                tracing::warn!(error = %err, "throttle cleanup failed; will retry");
            }
            match store.delete_expired().await {
                Ok(n) => {
                    if std::mem::take(&mut failing) {
                        tracing::info!("expired-session cleanup works again");
                    }
                    if n > 0 {
                        tracing::info!(event = "expired_sessions_purged", count = n);
                    }
                }
                Err(err) => {
                    failing = true;
                    tracing::warn!(error = %err, "expired-session cleanup failed; will retry")
                }
            }
        }
    });
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
