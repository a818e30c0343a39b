//! The built front end's file names. With `hash-files`, cargo-leptos puts a content hash in
//! each file name (`latchkey.<hash>.wasm`) and lists the hashes in `hash.txt` beside the server
//! binary; the pages link those names, and because a name changes whenever its content does,
//! the files can be cached by browsers for a year without revalidation.

use axum::http::{header, HeaderValue};
use leptos::config::LeptosOptions;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Where leptos looks for the hash file: beside the running binary.
fn hash_file(options: &LeptosOptions) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(PathBuf::from))
        .unwrap_or_default()
        .join(options.hash_file.as_ref())
}

/// Turns hashing off when there is no hash file (a binary run outside cargo-leptos's output,
/// e.g. by `cargo test`): leptos would otherwise panic on the first page it renders.
pub fn check_hash_file(options: &mut LeptosOptions) {
    if options.hash_files && !hash_file(options).is_file() {
        tracing::warn!(
            path = %hash_file(options).display(),
            "hash-files is on but the hash file is missing; serving unhashed front-end names"
        );
        options.hash_files = false;
    }
}

/// `kind` (`js`, `wasm`, `css`) → hash, read once.
fn hashes(options: &LeptosOptions) -> &'static HashMap<String, String> {
    static HASHES: OnceLock<HashMap<String, String>> = OnceLock::new();
    HASHES.get_or_init(|| {
        let text = std::fs::read_to_string(hash_file(options)).unwrap_or_default();
        text.lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(kind, hash)| (kind.trim().to_owned(), hash.trim().to_owned()))
            .collect()
    })
}

/// The stylesheet's URL (hashed when hashing is on).
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    let name = &options.output_name;
    let pkg = &options.site_pkg_dir;
    match hashes(options).get("css").filter(|_| options.hash_files) {
        Some(hash) => format!("/{pkg}/{name}.{hash}.css"),
        None => format!("/{pkg}/{name}.css"),
    }
}

/// `Cache-Control` for `/pkg`: a year and `immutable` for hashed names; otherwise revalidate
/// each time (cheap: `Last-Modified`), so a rebuild is picked up at once.
pub fn cache_control(options: &LeptosOptions) -> &'static str {
    if options.hash_files {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// The built front end (`/pkg`): served from disk, preferring the `.br` / `.gz` files that
/// `cargo leptos build --release --precompress` writes next to each file, cached as
/// [`cache_control`] says. A build without them is still served compressed: what has no
/// precompressed file is compressed per response (brotli or gzip at level 5: ~10 ms for the
/// WASM, once per browser thanks to the year of caching). wasm-bindgen's TypeScript
/// declarations (`*.d.ts`) sit in the same folder and are nobody's business: 404.
pub fn front_end_files(options: &LeptosOptions) -> axum::Router {
    use tower_http::compression::{CompressionLayer, CompressionLevel};
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    warn_if_not_precompressed(&dir);
    let files = tower_http::services::ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip();
    axum::Router::new()
        .fallback_service(files)
        .layer(axum::middleware::from_fn(hide_type_declarations))
        // Leaves alone what already has a Content-Encoding (the precompressed files).
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(5)))
        // Only on a file served: a year of `immutable` on a 404 (an old page asking for a file
        // a newer build replaced) would keep the miss in browsers' caches.
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            {
                let value = HeaderValue::from_static(cache_control(options));
                move |res: &axum::response::Response| {
                    let served = res.status().is_success()
                        || res.status() == axum::http::StatusCode::NOT_MODIFIED;
                    served.then(|| value.clone())
                }
            },
        ))
}

async fn hide_type_declarations(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    // As the file server will read it: percent-decoded (`latchkey.d%2Ets` is the same file).
    let path = percent_encoding::percent_decode_str(request.uri().path()).decode_utf8_lossy();
    if path.ends_with(".d.ts") {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    }
    next.run(request).await
}

/// Says once, at start-up, that the front end will be compressed per response.
fn warn_if_not_precompressed(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    let wasm = names.iter().any(|n| n.ends_with(".wasm"));
    if wasm && !names.iter().any(|n| n.ends_with(".wasm.br")) {
        tracing::info!(
            "front end not precompressed (cargo leptos build --release --precompress): compressing per response"
        );
    }
}
