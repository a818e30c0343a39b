//! The built front end's file names. With `hash-files`, cargo-leptos puts a content hash in
//! each file name (`latchkey.<hash>.wasm`) and lists the hashes in `hash.txt` beside the server
//! binary; the pages link those names. A file whose name carries the hash of its content can
//! be cached by browsers for a year without revalidation; but a split build (`--split`)
//! rewrites the main JS and every WASM file *after* naming them (the lazy loader's name is
//! patched in), so those names do not change when only a lazy chunk does. Hence each name is
//! checked against its content at start-up, and only what checks out is `immutable`.

use axum::http::{header, HeaderValue};
use leptos::config::LeptosOptions;
use std::collections::{HashMap, HashSet};
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

/// A split build's loader module (`__wasm_split.<hash>.js`), which the main module imports
/// before the WASM can start: preloaded beside the main module, it costs no extra round trip
/// (it measured ~25 ms of the login form's time to interactive without). `None` when the build
/// has none.
pub fn split_loader_href(options: &LeptosOptions) -> Option<String> {
    let pkg = &options.site_pkg_dir;
    let name = match hashes(options).get("split").filter(|_| options.hash_files) {
        Some(hash) => format!("__wasm_split.{hash}.js"),
        None => "__wasm_split.______________________.js".to_owned(),
    };
    let file = std::path::Path::new(options.site_root.as_ref())
        .join(pkg.as_ref())
        .join(&name);
    file.is_file().then(|| format!("/{pkg}/{name}"))
}

/// For a file served from `/pkg`: a year and `immutable` when its name carries the hash of its
/// content; otherwise revalidate each time (cheap: `Last-Modified`), so a rebuild is picked up
/// at once.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The built front end (`/pkg`): served from disk, preferring the `.br` / `.gz` files that
/// `cargo leptos build --release --precompress` writes next to each file, cached as the
/// constants above say. A build without them is still served compressed: what has no
/// precompressed file is compressed per response (brotli or gzip at level 5: ~10 ms for the
/// WASM, once per browser thanks to the caching). wasm-bindgen's TypeScript declarations
/// (`*.d.ts`, or `*.d.<hash>.ts` in a split build) sit in the same folder and are nobody's business: 404.
pub fn front_end_files(options: &LeptosOptions) -> axum::Router {
    use tower_http::compression::{CompressionLayer, CompressionLevel};
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    warn_if_not_precompressed(&dir);
    let immutable = std::sync::Arc::new(content_named(&dir));
    let files = tower_http::services::ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip();
    axum::Router::new()
        .fallback_service(files)
        // Leaves alone what already has a Content-Encoding (the precompressed files).
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(5)))
        .layer(axum::middleware::from_fn(move |request, next| {
            pkg_headers(immutable.clone(), request, next)
        }))
}

/// TypeScript (`*.d.ts`, hashed or not) → 404; `Cache-Control` on a file served (only then: a year of `immutable` on a
/// 404, an old page asking for a file a newer build replaced, would keep the miss in
/// browsers' caches).
async fn pkg_headers(
    immutable: std::sync::Arc<HashSet<String>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    // As the file server will read it: percent-decoded (`latchkey.d%2Ets` is the same file).
    let path = percent_encoding::percent_decode_str(request.uri().path())
        .decode_utf8_lossy()
        .into_owned();
    if path.ends_with(".ts") {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    }
    let mut res = next.run(request).await;
    let served = res.status().is_success() || res.status() == axum::http::StatusCode::NOT_MODIFIED;
    if served {
        let name = path.rsplit('/').next().unwrap_or_default();
        let value = if immutable.contains(name) {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

/// The files in `dir` whose name carries the MD5 of their content as cargo-leptos writes it
/// (`name.<22 characters of unpadded base64url>.ext`).
fn content_named(dir: &std::path::Path) -> HashSet<String> {
    use base64::Engine;
    use md5::Digest;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return HashSet::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| {
            let Some(claimed) = name_hash(name) else {
                return false;
            };
            let Ok(content) = std::fs::read(dir.join(name)) else {
                return false;
            };
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(md5::Md5::digest(&content))
                == claimed
        })
        .collect()
}

/// The hash part of `stem.<hash>.ext`, if it looks like one.
fn name_hash(name: &str) -> Option<&str> {
    let mut parts = name.rsplit('.');
    let _ext = parts.next()?;
    let hash = parts.next()?;
    parts.next()?;
    let base64url = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    (hash.len() == 22 && hash.chars().all(base64url)).then_some(hash)
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

#[cfg(test)]
mod tests {
    use super::name_hash;

    #[test]
    fn hashes_are_found_only_where_cargo_leptos_puts_them() {
        assert_eq!(
            name_hash("latchkey.SkuNJ243ZW1hNjYataJ6og.js"),
            Some("SkuNJ243ZW1hNjYataJ6og")
        );
        assert_eq!(
            name_hash("__wasm_split.a-b_cdefghijklmnopqrst.js"),
            Some("a-b_cdefghijklmnopqrst")
        );
        for plain in [
            "latchkey.js",
            "SkuNJ243ZW1hNjYataJ6og.js",
            "latchkey.short.wasm",
            "x.SkuNJ243ZW1hNjYataJ6o!.js",
        ] {
            assert_eq!(name_hash(plain), None, "{plain}");
        }
    }
}
