//! Session id, cookie, request and header defences (SECURITY.md items 1-5, 8, 12, 13).

use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn a_planted_cookie_never_becomes_the_logged_in_id() {
    let app = TestApp::spawn().await;
    // An attacker gets a real id of their own (by logging in) and one they made up.
    let attackers = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    for planted in [
        attackers.clone(),
        format!("{COOKIE}=AAAAAAAAAAAAAAAAAAAAAA"),
    ] {
        let res = app.login(DEMO_USER, DEMO_PASSWORD, Some(&planted)).await;
        let issued = session_cookie(res.headers())
            .expect("login issues a cookie")
            .pair();
        assert_ne!(issued, planted);
        assert!(
            !app.sees_welcome(&planted, DEMO_USER).await,
            "planted id became a session"
        );
        assert!(app.sees_welcome(&issued, DEMO_USER).await);
    }
}

#[tokio::test]
async fn malformed_oversized_and_duplicated_cookies_are_anonymous_not_errors() {
    let app = TestApp::spawn().await;
    let huge = format!("{COOKIE}={}", "A".repeat(10 * 1024));
    let cases = [
        huge,
        format!("{COOKIE}=%%%; other=1"),
        format!("{COOKIE}=AAAAAAAAAAAAAAAAAAAAAA; {COOKIE}=BBBBBBBBBBBBBBBBBBBBBB"),
        COOKIE.to_string(),
        ";;;==;".into(),
    ];
    for cookie in cases {
        let res = app
            .client
            .get(app.url("/"))
            .header("cookie", cookie.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{:.60}", cookie);
        let body = res.text().await.unwrap();
        assert!(body.contains(r#"name="password""#), "{:.60}", cookie);
        let api = app
            .client
            .post(app.url("/api/current_user"))
            .header("cookie", cookie.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), StatusCode::OK);
        assert_eq!(api.text().await.unwrap(), "null");
    }
    // Bytes no HTTP client library will put in a header, sent as they are.
    for cookie in [&b"\x7f"[..], b"\xff\xfe", b"\x01\x02"] {
        let mut request =
            format!("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: {COOKIE}=")
                .into_bytes();
        request.extend_from_slice(cookie);
        request.extend_from_slice(b"\r\n\r\n");
        let (status, body) = app.raw(&request).await;
        assert!(
            status == 200 || status == 400,
            "cookie bytes {cookie:?}: {status}"
        );
        if status == 200 {
            assert!(body.contains(r#"name="password""#), "{cookie:?}");
        }
    }
    assert_eq!(app.session_count().await, 0);
}

#[tokio::test]
async fn session_ids_are_128_bit_random_and_unique() {
    let app = TestApp::spawn().await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
        let value = cookie.split_once('=').unwrap().1.to_string();
        // 22 base64url characters = 16 bytes = 128 bits.
        assert_eq!(value.len(), 22, "{value}");
        assert!(value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert!(seen.insert(value));
    }
}

#[tokio::test]
async fn same_site_strict_is_configurable() {
    let app = InProcessApp::spawn(&[("same-site = \"lax\"", "same-site = \"strict\"")]).await;
    let res = app.login(DEMO_USER, DEMO_PASSWORD, None).await;
    let c = session_cookie(res.headers()).unwrap();
    assert_eq!(c.attr("SameSite"), Some(Some("Strict")));
}

#[tokio::test]
async fn logout_expires_the_cookie_with_the_same_attributes_in_prod() {
    let app = TestApp::spawn_with(Spawn {
        env: "PROD",
        ..Spawn::default()
    })
    .await;
    assert!(
        app.cli(&["user", "add", "carol"], "carols password\n")
            .await
            .success
    );
    let res = app.login("carol", "carols password", None).await;
    let set = session_cookie(res.headers()).unwrap();
    let res = app.logout(&set.pair()).await;
    assert_eq!(res.headers()["cache-control"], "no-store");
    let removal = session_cookie(res.headers()).unwrap();
    assert!(removal.is_removal());
    for attr in ["HttpOnly", "Secure"] {
        assert!(removal.has(attr), "removal lacks {attr}: {removal:?}");
    }
    assert_eq!(removal.attr("SameSite"), set.attr("SameSite"));
    assert_eq!(removal.attr("Path"), Some(Some("/")));
    assert!(!removal.has("Domain"));
}

#[tokio::test]
async fn signed_cookies_reject_tampering_and_log_it() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("session.key");
    let config = dir.path().join("Leptos.toml");
    let key_line = format!("signing-key-file = {:?}", key_file.display().to_string());
    std::fs::write(
        &config,
        config_text(&[
            ("signed = false", "signed = true"),
            ("signing-key-file = \"data/session.key\"", &key_line),
        ]),
    )
    .unwrap();
    let app = TestApp::spawn_with(Spawn {
        config: Some(config),
        ..Spawn::default()
    })
    .await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let value = cookie.split_once('=').unwrap().1;
    // 44 characters of HMAC-SHA256 (base64) in front of the 22-character id.
    assert_eq!(value.len(), 66, "{value}");
    assert!(app.sees_welcome(&cookie, DEMO_USER).await);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Flip one character of the signature; and re-sign nothing: the bare id alone.
    let mut tampered: Vec<char> = value.chars().collect();
    tampered[3] = if tampered[3] == 'A' { 'B' } else { 'A' };
    let tampered = format!("{COOKIE}={}", tampered.into_iter().collect::<String>());
    let bare_id = format!("{COOKIE}={}", &value[44..]);
    for forged in [&tampered, &bare_id] {
        let (status, _, html) = app.home(Some(forged)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!text(&html).contains("Welcome"));
    }
    // The key file survives a restart, and so does the session.
    let app = app.restart().await;
    assert!(app.sees_welcome(&cookie, DEMO_USER).await);
    app.home(Some(&tampered)).await;
    let (_, log) = app.stop().await;
    assert!(
        log.iter().any(|l| l.contains("tampered_cookie")),
        "{log:#?}"
    );
    assert!(
        !log.iter().any(|l| l.contains(value)),
        "cookie value in the log"
    );
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_same_origin_ones_work() {
    let app = TestApp::spawn().await;
    let host = app.base.trim_start_matches("http://").to_string();
    let form = [("username", DEMO_USER), ("password", DEMO_PASSWORD)];
    let post = |headers: Vec<(&'static str, String)>| {
        let mut req = app.client.post(app.url("/api/login")).form(&form);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    for headers in [
        vec![("origin", "http://evil.example".to_string())],
        vec![("origin", "null".to_string())],
        // The whole origin counts: the right host and port over another scheme is another site.
        vec![("origin", app.base.replace("http://", "https://"))],
        vec![("origin", format!("{}1", app.base))],
        vec![("sec-fetch-site", "cross-site".to_string())],
        vec![
            ("origin", app.base.clone()),
            ("sec-fetch-site", "cross-site".to_string()),
        ],
    ] {
        let res = post(headers.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{headers:?}");
        assert!(session_cookie(res.headers()).is_none());
    }
    // No origin information at all: a form-encoded, multipart or text/plain post (what another
    // site's form can send) is refused; JSON (which it cannot send) is not.
    for content_type in [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=b",
        "text/plain",
    ] {
        let res = app
            .bare_client()
            .post(app.url("/api/logout"))
            .header("content-type", content_type)
            .body("")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{content_type}");
    }
    let res = app
        .bare_client()
        .post(app.url("/api/current_user"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), StatusCode::FORBIDDEN);
    let logout = app
        .client
        .post(app.url("/api/logout"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::FORBIDDEN);

    let ok = post(vec![
        ("origin", app.base.clone()),
        ("sec-fetch-site", "same-origin".to_string()),
        ("host", host),
    ])
    .await
    .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

/// Served over HTTPS (its public URL says so), every answer carries HSTS; every answer
/// carries `Cross-Origin-Opener-Policy: same-origin`.
#[tokio::test]
async fn https_sites_send_hsts_and_every_answer_isolates_its_window() {
    let plain = TestApp::spawn().await;
    let https = TestApp::spawn_with(Spawn {
        vars: vec![("LATCHKEY_PUBLIC_URL", "https://login.example.test".into())],
        ..Spawn::default()
    })
    .await;
    for path in ["/", "/favicon.svg", "/healthz", "/no-such-page"] {
        let res = plain.client.get(plain.url(path)).send().await.unwrap();
        assert_eq!(
            res.headers()["cross-origin-opener-policy"],
            "same-origin",
            "{path}"
        );
        assert!(
            !res.headers().contains_key("strict-transport-security"),
            "{path}"
        );
        let res = https.client.get(https.url(path)).send().await.unwrap();
        assert_eq!(
            res.headers()["strict-transport-security"],
            "max-age=63072000; includeSubDomains",
            "{path}"
        );
    }
    // Its forms must come from that origin now, not from the address it listens on.
    let res = https.login(DEMO_USER, DEMO_PASSWORD, None).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = https
        .client
        .post(https.url("/api/login"))
        .header("origin", "https://login.example.test")
        .form(&[("username", DEMO_USER), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn pages_carry_a_strict_content_security_policy_and_hardening_headers() {
    let app = TestApp::spawn().await;
    let (_, headers, html) = app.home(None).await;
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    // Every inline script carries the nonce, and there is at least the hydration script.
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert!(!scripts.is_empty());
    for script in scripts {
        let tag = script.split('>').next().unwrap();
        assert!(
            tag.contains(&format!("nonce=\"{nonce}\"")) || tag.contains(" src="),
            "<script{tag}>"
        );
    }
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert_eq!(headers["x-frame-options"], "DENY");
    // A second page gets a different nonce.
    let (_, again, _) = app.home(None).await;
    assert_ne!(
        again["content-security-policy"],
        headers["content-security-policy"]
    );

    // Static files: hardening headers, but cacheable and without a session.
    let res = app
        .client
        .get(app.url("/favicon.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res
        .headers()
        .get("cache-control")
        .is_none_or(|v| v != "no-store"));
}

#[tokio::test]
async fn request_bodies_over_the_limit_are_refused_before_reading() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/api/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=user1&password={}", "x".repeat(64 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(session_cookie(res.headers()).is_none());
}
