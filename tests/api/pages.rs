//! `GET /` is rendered once per audience (anonymous, or each user) and then reassembled from
//! that render around a fresh nonce: the answers must be indistinguishable from fresh renders.

use crate::common::*;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

/// The page's CSP nonce, after checking that every inline script carries it.
fn script_nonce(headers: &HeaderMap, html: &str) -> String {
    let csp = headers["content-security-policy"].to_str().unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy")
        .to_owned();
    let inline: Vec<&str> = html
        .split("<script")
        .skip(1)
        .map(|s| s.split('>').next().unwrap())
        .filter(|tag| !tag.contains(" src="))
        .collect();
    assert!(!inline.is_empty());
    for tag in inline {
        assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "<script{tag}>");
    }
    nonce
}

#[tokio::test]
async fn repeated_pages_are_identical_but_for_a_fresh_nonce() {
    let app = TestApp::spawn().await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    for who in [None, Some(cookie.as_str())] {
        let mut pages = Vec::new();
        for _ in 0..3 {
            let (status, headers, html) = app.home(who).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(headers["cache-control"], "no-store");
            assert!(headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"));
            let nonce = script_nonce(&headers, &html);
            pages.push((nonce.clone(), html.replace(&nonce, "NONCE")));
        }
        assert_ne!(pages[0].0, pages[1].0);
        assert_ne!(pages[1].0, pages[2].0);
        assert_eq!(pages[0].1, pages[1].1);
        assert_eq!(pages[1].1, pages[2].1);
        let greeted = text(&pages[2].1).contains("Welcome, user1");
        assert_eq!(greeted, who.is_some());
    }
}

#[tokio::test]
async fn each_user_gets_their_own_page_and_logout_counts_at_once() {
    let app = TestApp::spawn().await;
    let out = app.cli(&["user", "add", "ada"], "correct horse\n").await;
    assert!(out.success, "{}", out.stderr);
    let user1 = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let ada = app.login_ok("ada", "correct horse").await;
    for _ in 0..2 {
        assert!(app.sees_welcome(&user1, DEMO_USER).await);
        assert!(app.sees_welcome(&ada, "ada").await);
        assert!(!app.sees_welcome(&ada, DEMO_USER).await);
    }
    // The page for ada is cached; her session is not.
    app.logout(&ada).await;
    assert!(!app.sees_welcome(&ada, "ada").await);
    assert!(app.sees_welcome(&user1, DEMO_USER).await);
}

/// The document's one `<title>`.
fn title(html: &str) -> &str {
    assert_eq!(html.matches("<title>").count(), 1, "{html}");
    html.split("<title>")
        .nth(1)
        .unwrap()
        .split("</title>")
        .next()
        .unwrap()
}

#[tokio::test]
async fn each_page_and_state_has_its_own_title_and_rendering_logs_no_warnings() {
    let app = TestApp::spawn().await;
    let (_, _, html) = app.home(None).await;
    assert_eq!(title(&html), "Log in – latchkey");
    assert!(html.contains("<meta name=\"description\""), "{html}");
    let html = app.page_html("/sessions", None).await;
    assert_eq!(title(&html), "Not logged in – latchkey");
    let html = app.page_html("/no-such-page", None).await;
    assert_eq!(title(&html), "Page not found – latchkey");

    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    // Twice: the second answer comes from the page cache.
    for _ in 0..2 {
        let (_, _, html) = app.home(Some(&cookie)).await;
        assert_eq!(title(&html), "Welcome – latchkey");
    }
    let html = app.page_html("/sessions", Some(&cookie)).await;
    assert_eq!(title(&html), "Your sessions – latchkey");

    // Rendering is quiet: a warning per page (say, a missing context) would flood the log.
    let warnings: Vec<String> = app
        .log()
        .into_iter()
        .filter(|l| l.contains("WARN") || l.contains("MetaContext"))
        // (A test binary has no hash.txt beside it: said once, at start-up.)
        .filter(|l| !l.contains("hash file is missing"))
        .collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
}
