//! The front end's files: hashed names and a year of immutable caching when cargo-leptos wrote
//! a hash file beside the binary; plain names and revalidation otherwise.

use crate::common::*;
use reqwest::header::CACHE_CONTROL;
use reqwest::StatusCode;

/// A site folder holding one stylesheet, named `css_name`.
fn site(dir: &std::path::Path, css_name: &str) -> String {
    let pkg = dir.join("site/pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join(css_name), "body { margin: 0 }").unwrap();
    dir.join("site").display().to_string()
}

async fn cache_control(app: &Site, path: &str) -> String {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.headers()[CACHE_CONTROL].to_str().unwrap().to_owned()
}

/// What cargo-leptos puts in a file name: the MD5 of the content, unpadded base64url.
fn content_hash(content: &[u8]) -> String {
    use base64::Engine;
    use md5::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(md5::Md5::digest(content))
}

#[tokio::test]
async fn files_named_by_their_content_are_cached_for_a_year_and_no_others() {
    // A release layout: the binary with cargo-leptos's hash.txt beside it.
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("latchkey");
    std::fs::copy(bin(), &binary).unwrap();
    let css = content_hash(b"body { margin: 0 }");
    // A split build rewrites the main JS after naming it: its name's hash is not its content's.
    let js = content_hash(b"what the file held when it was named");
    std::fs::write(
        dir.path().join("hash.txt"),
        format!("js: {js}\nwasm: 3c4d\ncss: {css}\nsplit: 7a8b\n"),
    )
    .unwrap();
    let root = site(dir.path(), &format!("latchkey.{css}.css"));
    std::fs::write(
        dir.path().join(format!("site/pkg/latchkey.{js}.js")),
        "what it holds now",
    )
    .unwrap();
    // A split build's loader, which the main module imports: the page preloads it.
    std::fs::write(dir.path().join("site/pkg/__wasm_split.7a8b.js"), "").unwrap();
    let app = TestApp::spawn_with(Spawn {
        binary: Some(binary),
        vars: vec![("LEPTOS_SITE_ROOT", root)],
        ..Spawn::default()
    })
    .await;

    let (_, _, html) = app.home(None).await;
    for name in [
        format!("/pkg/latchkey.{css}.css"),
        format!("latchkey.{js}.js"),
        "latchkey.3c4d.wasm".to_owned(),
        r#"<link rel="modulepreload" href="/pkg/__wasm_split.7a8b.js">"#.to_owned(),
    ] {
        assert!(html.contains(&name), "the page should link {name}: {html}");
    }
    assert_eq!(
        cache_control(&app, &format!("/pkg/latchkey.{css}.css")).await,
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        cache_control(&app, &format!("/pkg/latchkey.{js}.js")).await,
        "no-cache"
    );
    // The page itself is never cached.
    let (_, headers, _) = app.home(None).await;
    assert_eq!(headers[CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn without_a_hash_file_names_are_plain_and_revalidated() {
    // The test binary has no hash.txt beside it: hashing is configured on, but must not be
    // used (nor panic).
    let dir = tempfile::tempdir().unwrap();
    let root = site(dir.path(), "latchkey.css");
    let root_line = format!("site-root = {root:?}");
    let app = InProcessApp::spawn(&[("site-root = \"target/site\"", &root_line)]).await;
    let (status, _, html) = app.home(None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("/pkg/latchkey.css"), "{html}");
    assert_eq!(cache_control(&app, "/pkg/latchkey.css").await, "no-cache");
}

/// A site folder with a front end built without `--precompress`: a WASM file (compressible
/// bytes), its TypeScript declarations, and a stylesheet that does have a `.br` beside it.
fn unprecompressed_site(dir: &std::path::Path) -> (String, Vec<u8>) {
    let pkg = dir.join("site/pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let wasm: Vec<u8> = (0..200_000u32).map(|i| (i % 7) as u8).collect();
    std::fs::write(pkg.join("latchkey.wasm"), &wasm).unwrap();
    // A split build hashes them too (`latchkey.d.<hash>.ts`).
    for name in ["latchkey.d.ts", "latchkey.d.QKYL56_BdJfad_tNXc09Zg.ts"] {
        std::fs::write(pkg.join(name), "export function hydrate(): void;").unwrap();
    }
    std::fs::write(pkg.join("latchkey.css"), "body { margin: 0 }").unwrap();
    let precompressed = b"not really brotli, but served as it is".to_vec();
    std::fs::write(pkg.join("latchkey.css.br"), &precompressed).unwrap();
    (dir.join("site").display().to_string(), precompressed)
}

#[tokio::test]
async fn a_front_end_built_without_precompress_is_still_served_compressed() {
    let dir = tempfile::tempdir().unwrap();
    let (root, precompressed) = unprecompressed_site(dir.path());
    let root_line = format!("site-root = {root:?}");
    let app = InProcessApp::spawn(&[("site-root = \"target/site\"", &root_line)]).await;

    let get = |path: &str, encoding: &str| {
        app.client
            .get(app.url(path))
            .header("accept-encoding", encoding)
            .send()
    };
    let res = get("/pkg/latchkey.wasm", "gzip, deflate, br")
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-encoding"], "br");
    let body = res.bytes().await.unwrap();
    assert!(body.len() < 20_000, "{} bytes", body.len());

    let res = get("/pkg/latchkey.wasm", "gzip").await.unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");

    // A client that takes no encoding gets the file as it is.
    let res = get("/pkg/latchkey.wasm", "identity").await.unwrap();
    assert!(res.headers().get("content-encoding").is_none());
    assert_eq!(res.bytes().await.unwrap().len(), 200_000);

    // A precompressed file is served as written, not compressed again.
    let res = get("/pkg/latchkey.css", "br").await.unwrap();
    assert_eq!(res.headers()["content-encoding"], "br");
    assert_eq!(res.bytes().await.unwrap().to_vec(), precompressed);
}

#[tokio::test]
async fn type_declarations_beside_the_front_end_are_not_served() {
    let dir = tempfile::tempdir().unwrap();
    let (root, _) = unprecompressed_site(dir.path());
    let root_line = format!("site-root = {root:?}");
    let app = InProcessApp::spawn(&[("site-root = \"target/site\"", &root_line)]).await;
    for path in [
        "/pkg/latchkey.d.ts",
        "/pkg/latchkey.d%2Ets",
        "/pkg/latchkey%2Ed%2ets",
        "/pkg/latchkey.d.QKYL56_BdJfad_tNXc09Zg.ts",
        "/pkg/latchkey.d.QKYL56_BdJfad_tNXc09Zg%2Ets",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        // A miss is not cached for a year.
        assert!(res.headers().get(CACHE_CONTROL).is_none(), "{path}");
    }
}
