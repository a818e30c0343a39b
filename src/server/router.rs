//! The whole HTTP surface: the pages and server functions behind one middleware stack, plus
//! health checks, the front end's files and the fallback.

use super::cookies::{self, Signing};
use super::gate::{self, Gate};
use super::page_cache::{self, PageCache};
use super::shell::shell;
use super::{assets, errors, headers, health};
use crate::app::App;
use crate::error::BoxError;
use crate::state::AppState;
use axum::middleware::{from_fn, from_fn_with_state, map_response};
use axum::response::IntoResponse;
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::convert::Infallible;
use tower::util::BoxCloneSyncService;
use tower::ServiceBuilder;
use tower_sessions::SessionManagerLayer;

/// The whole app as one service (its type erased once, at the top).
pub type Edge = BoxCloneSyncService<axum::extract::Request, axum::response::Response, Infallible>;

/// The pages' middleware is one `ServiceBuilder` stack, listed outermost first, applied once:
/// every `Router::layer` call boxes the route again, and axum clones each box for every request
/// (~3% of a page view when these were ten separate calls); the same holds for what wraps
/// everything (security headers, the body limit). Signed and unsigned session layers
/// are different types: both are in the stack as optional layers, exactly one of them set.
/// Static files, health checks and the fallback get only the outer layers, not the session.
/// `origins`: where state-changing requests may come from (the site's public origin).
pub fn router(state: AppState, origins: Vec<String>) -> Result<Edge, BoxError> {
    let config = state.config.clone();
    let hsts = origins.iter().all(|o| o.starts_with("https://"));
    let session = &config.session;
    let signing = session.signed.then(|| Signing {
        key: tower_sessions::cookie::Key::from(state.secret.bytes()),
        name: session.cookie_name.as_str().into(),
    });
    // The session layer copies its settings for every request: a `'static` name is copied
    // without an allocation. (Leaked once per router, i.e. once per process outside tests.)
    let cookie_name: &'static str = Box::leak(session.cookie_name.clone().into_boxed_str());
    let session_layer = SessionManagerLayer::new(state.sessions.clone())
        .with_name(cookie_name)
        .with_http_only(true)
        .with_secure(session.secure)
        .with_same_site(cookies::same_site(session.same_site))
        .with_path("/");
    let (signed_sessions, plain_sessions) = match &signing {
        Some(signing) => (Some(session_layer.with_signed(signing.key.clone())), None),
        None => (None, Some(session_layer)),
    };

    let stack = ServiceBuilder::new()
        // Outside the session layer: it answers for the session layer's failed save and
        // rewrites its removal cookie.
        .layer(from_fn_with_state(
            Gate::new(state.clone(), origins, signing),
            gate::gate,
        ))
        .option_layer(signed_sessions)
        .option_layer(plain_sessions)
        .layer(from_fn_with_state(
            PageCache::new(state.clone()),
            page_cache::serve,
        ))
        .layer(headers::no_store())
        .layer(map_response(errors::server_fn_error_status));

    let routes = generate_route_list(App);
    // axum clones each route's handler for every request: capture an `Arc`, not the options.
    let shared = config.clone();
    let pages = Router::new()
        .leptos_routes(&state, routes, move || shell(shared.leptos.clone()))
        .layer(stack);
    let router = pages
        .merge(health::routes())
        .nest_service(
            &format!("/{}", config.leptos.site_pkg_dir),
            assets::front_end_files(&config.leptos),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell));
    // Only when metrics are on: a page view costs nothing more when they are off.
    let router = match config.metrics_addr {
        Some(_) => router.layer(from_fn(super::prometheus::track)),
        None => router,
    };
    // Around everything (static files, health checks and the fallback too): every response
    // gets the security headers (replacing any the handler set), and no request body is read
    // past the limit. Wrapped around the finished router rather than applied with
    // `Router::layer`, which would box every route again and clone each box per request.
    Ok(ServiceBuilder::new()
        .layer_fn(BoxCloneSyncService::new)
        .map_response(IntoResponse::into_response)
        .layer(map_response(headers::everywhere(hsts)))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            config.security.max_body_bytes,
        ))
        .service(router.with_state(state)))
}
