//! The whole HTTP surface: the pages and server functions behind one middleware stack, plus
//! health checks, the front end's files and the fallback.

use super::cookies::{self, Signing};
use super::page_cache::{self, PageCache};
use super::shell::shell;
use super::{assets, csrf, errors, headers, health};
use crate::app::App;
use crate::error::BoxError;
use crate::state::AppState;
use axum::middleware::{from_fn, from_fn_with_state, map_response};
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::ServiceBuilder;
use tower_sessions::SessionManagerLayer;

/// The pages' middleware is one `ServiceBuilder` stack, listed outermost first, applied once:
/// every `Router::layer` call boxes the route again, and axum clones each box for every request
/// (~3% of a page view when these were ten separate calls). Signed and unsigned session layers
/// are different types: both are in the stack as optional layers, exactly one of them set.
/// Static files, health checks and the fallback get only the outermost (security headers),
/// not the session.
/// `origins`: where state-changing requests may come from (the site's public origin).
pub fn router(state: AppState, origins: Vec<String>) -> Result<Router, BoxError> {
    let config = state.config.clone();
    let hsts = origins.iter().all(|o| o.starts_with("https://"));
    let everywhere: std::sync::Arc<[_]> = headers::static_headers(hsts).into();
    let origins = csrf::Origins(origins.into());
    let session = &config.session;
    let signing = session.signed.then(|| Signing {
        key: tower_sessions::cookie::Key::from(state.secret.bytes()),
        name: session.cookie_name.as_str().into(),
    });
    let session_layer = SessionManagerLayer::new(state.sessions.clone())
        .with_name(session.cookie_name.clone())
        .with_http_only(true)
        .with_secure(session.secure)
        .with_same_site(cookies::same_site(session.same_site))
        .with_path("/");
    let (signed_sessions, plain_sessions) = match &signing {
        Some(signing) => (Some(session_layer.with_signed(signing.key.clone())), None),
        None => (None, Some(session_layer)),
    };
    let removal_config = config.clone();

    let stack = ServiceBuilder::new()
        .layer(from_fn_with_state(origins, csrf::refuse_cross_site))
        .layer(from_fn_with_state(
            state.clone(),
            errors::refuse_logins_when_busy,
        ))
        .option_layer(signing.map(|s| from_fn_with_state(s, cookies::log_tampered_cookie)))
        // Outside the session layer: it rewrites the session layer's removal cookie.
        .layer(map_response(move |res| {
            std::future::ready(cookies::complete_removal_cookie(&removal_config, res))
        }))
        .layer(from_fn(errors::session_save_failed))
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
        // Its own layer: inside one stack it would hand the middleware it wraps a
        // `Limited<Body>`, where axum's `from_fn` middleware needs a plain `Body`.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            config.security.max_body_bytes,
        ))
        .merge(health::routes())
        .nest_service(
            &format!("/{}", config.leptos.site_pkg_dir),
            assets::front_end_files(&config.leptos),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        // Only when metrics are on: a page view costs nothing more when they are off.
        .layer(tower::util::option_layer(
            config
                .metrics_addr
                .map(|_| from_fn(super::prometheus::track)),
        ))
        // Every response (static files, errors and fallbacks included), replacing any the
        // handler set.
        .layer(map_response(move |mut res: axum::response::Response| {
            for (name, value) in everywhere.iter() {
                res.headers_mut().insert(name, value.clone());
            }
            std::future::ready(res)
        }));
    Ok(router.with_state(state))
}
