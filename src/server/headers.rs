//! Response headers added by middleware.

use crate::error::AppError;
use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;
use tower::Layer;
use tower_http::set_header::SetResponseHeaderLayer;

/// Pages and API answers carry user data (or set the cookie): never store them in any cache.
pub fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    )
}

/// Gives server-function errors their real status code. server_fn answers every error with
/// 500 (including undecodable arguments, which never reach our code); the body is the
/// JSON-encoded [`AppError`], whose [`AppError::status`] is the one mapping to HTTP. Plain form
/// posts are redirects, not 500s, so they pass untouched.
pub async fn server_fn_error_status(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Error bodies are a few dozen bytes; the limit only guards against surprises.
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = err.status();
        if let AppError::Throttled { retry_after } = err {
            parts
                .headers
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The built front end (`/pkg`): served from disk, preferring the `.br` / `.gz` files that
/// `cargo leptos build --release --precompress` writes next to each file, and revalidated
/// cheaply (`Last-Modified`) instead of re-downloaded.
pub fn front_end_files(
    options: &leptos::config::LeptosOptions,
) -> tower_http::set_header::SetResponseHeader<tower_http::services::ServeDir, HeaderValue> {
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let files = tower_http::services::ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip();
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))
        .layer(files)
}
