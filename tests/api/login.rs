use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn login_with_the_demo_credentials_welcomes_the_user() {
    let app = TestApp::spawn().await;
    let res = app.login(DEMO_USER, DEMO_PASSWORD, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let cookie = session_cookie(res.headers())
        .expect("session cookie")
        .pair();
    assert_eq!(res.text().await.unwrap(), r#""user1""#);

    assert!(app.sees_welcome(&cookie, DEMO_USER).await);
    let (_, headers, html) = app.home(Some(&cookie)).await;
    assert_eq!(headers["cache-control"], "no-store");
    assert!(
        html.contains("/api/logout"),
        "the welcome has a logout form"
    );
    assert_eq!(app.session_count().await, 1);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer_and_no_session() {
    let app = TestApp::spawn().await;
    let wrong = app.login(DEMO_USER, "not-my-password", None).await;
    let unknown = app.login("nobody", DEMO_PASSWORD, None).await;
    for res in [&wrong, &unknown] {
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(
            session_cookie(res.headers()).is_none(),
            "a failed login set a cookie"
        );
    }
    let (wrong, unknown) = (wrong.text().await.unwrap(), unknown.text().await.unwrap());
    assert_eq!(wrong, unknown);
    assert!(wrong.contains("InvalidCredentials"), "{wrong}");
    assert_eq!(app.session_count().await, 0);
}

#[tokio::test]
async fn cookie_attributes_in_dev() {
    let app = TestApp::spawn().await;
    let res = app.login(DEMO_USER, DEMO_PASSWORD, None).await;
    let c = session_cookie(res.headers()).unwrap();
    assert!(c.has("HttpOnly"));
    assert_eq!(c.attr("SameSite"), Some(Some("Lax")));
    assert_eq!(c.attr("Path"), Some(Some("/")));
    assert!(!c.has("Domain"));
    assert!(!c.has("Secure"), "DEV serves plain HTTP on localhost");
    // One day, like the tutorial's maxAge (allow a second of clock rounding).
    let max_age: i64 = c
        .attr("Max-Age")
        .flatten()
        .expect("Max-Age")
        .parse()
        .unwrap();
    assert!((86_399..=86_400).contains(&max_age), "Max-Age={max_age}");
}

#[tokio::test]
async fn cookie_is_secure_outside_dev() {
    let app = TestApp::spawn_with(Spawn {
        env: "PROD",
        ..Spawn::default()
    })
    .await;
    let out = app
        .cli(&["user", "add", "alice"], "correct horse battery\n")
        .await;
    assert!(out.success, "{}", out.stderr);
    let res = app.login("alice", "correct horse battery", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let c = session_cookie(res.headers()).unwrap();
    assert!(c.has("Secure") && c.has("HttpOnly"));
    assert_eq!(c.attr("SameSite"), Some(Some("Lax")));
    // Secure, so `__Host-`: no sibling subdomain can plant or overwrite it.
    assert_eq!(c.name, HOST_COOKIE);
    let device = device_cookie(res.headers()).unwrap();
    assert_eq!(device.name, format!("__Host-{DEVICE_COOKIE}"));
    assert!(device.has("Secure") && device.has("HttpOnly"));
}

#[tokio::test]
async fn control_characters_in_a_user_name_are_bad_input_on_every_database() {
    let (url, schema) = postgres_schema().await;
    for database in [None, Some(url)] {
        let app = TestApp::spawn_with(Spawn {
            database,
            ..Spawn::default()
        })
        .await;
        for name in ["a\0b", "tab\there", "\u{7f}"] {
            let res = app.login(name, "whatever password", None).await;
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{name:?}");
        }
        // The server is fine, and says nothing of a failure.
        assert_eq!(
            app.login(DEMO_USER, DEMO_PASSWORD, None).await.status(),
            StatusCode::OK
        );
        let (_, log) = app.stop().await;
        assert!(!log.iter().any(|l| l.contains("ERROR")), "{log:#?}");
    }
    drop_postgres_schema(&schema).await;
}

#[tokio::test]
async fn login_always_issues_a_new_id_and_the_old_one_dies() {
    let app = TestApp::spawn().await;
    let first = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    // Log in again from the same browser: the id must change (fixation defence).
    let res = app.login(DEMO_USER, DEMO_PASSWORD, Some(&first)).await;
    let second = session_cookie(res.headers()).expect("a new cookie").pair();
    assert_ne!(first, second);
    assert!(
        !app.sees_welcome(&first, DEMO_USER).await,
        "the old id still works"
    );
    assert!(app.sees_welcome(&second, DEMO_USER).await);
    assert_eq!(app.session_count().await, 1);
}

#[tokio::test]
async fn oversized_password_is_refused_with_a_clear_message() {
    let app = TestApp::spawn().await;
    let res = app.login(DEMO_USER, &"x".repeat(2048), None).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("PasswordTooLong"));
    // Long but legal Unicode passwords are fine (they just don't match).
    let res = app.login(DEMO_USER, &"pässwörd-".repeat(20), None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_malformed_login_request_is_a_clear_400() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url("/api/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=user1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(session_cookie(res.headers()).is_none());
}

#[tokio::test]
async fn security_events_are_logged_without_secrets() {
    let app = TestApp::spawn().await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let other = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    for _ in 0..6 {
        app.login(DEMO_USER, "a-wrong-password", None).await; // the last ones are throttled
    }
    app.client
        .post(app.url("/api/revoke_other_sessions"))
        .header("cookie", &other)
        .send()
        .await
        .unwrap();
    app.client
        .post(app.url("/api/logout"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    app.logout(&other).await;
    let (_, log) = app.stop().await;
    for event in [
        "login",
        "login_failed",
        "login_throttled",
        "sessions_revoked",
        "csrf_refused",
        "logout",
    ] {
        let needle = format!("event=\"{event}\"");
        assert!(
            log.iter().any(|l| l.contains(&needle)),
            "no {event} in {log:#?}"
        );
    }
    for secret in [&cookie, &other] {
        let id = secret.split_once('=').unwrap().1;
        assert!(
            !log.iter().any(|l| l.contains(id)),
            "a session id in the log"
        );
    }
    for password in ["a-wrong-password", DEMO_PASSWORD] {
        assert!(
            !log.iter().any(|l| l.contains(password)),
            "a password in the log"
        );
    }
}

/// A login flood meets a bounded queue: the excess is refused at once with 503 and
/// `Retry-After` (no waiting in line), the rest are answered; and a queued login whose client
/// has gone is dropped, not hashed.
#[tokio::test]
async fn a_full_hashing_queue_refuses_at_once_and_gone_clients_are_not_hashed() {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("Leptos.toml");
    std::fs::write(
        &config,
        config_text(&[
            ("# max-concurrent-hashes = 2", "max-concurrent-hashes = 1"),
            ("max-queued-hashes = 64", "max-queued-hashes = 4"),
            (
                "max-failures-per-address = 50",
                "max-failures-per-address = 1000",
            ),
            (
                "max-failures-per-account = 5",
                "max-failures-per-account = 1000",
            ),
        ]),
    )
    .unwrap();
    let app = TestApp::spawn_with(Spawn {
        config: Some(config),
        vars: vec![("RUST_LOG", "info,latchkey::auth::password=debug".into())],
        ..Spawn::default()
    })
    .await;
    let flood: Vec<_> = (0..40)
        .map(|_| {
            let (client, url) = (app.client.clone(), app.url("/api/login"));
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                let res = client
                    .post(url)
                    .form(&[("username", DEMO_USER), ("password", DEMO_PASSWORD)])
                    .send()
                    .await
                    .unwrap();
                (
                    res.status(),
                    res.headers().get("retry-after").cloned(),
                    started.elapsed(),
                )
            })
        })
        .collect();
    let mut busy = 0;
    for answer in flood {
        let (status, retry_after, took) = answer.await.unwrap();
        match status {
            StatusCode::OK => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                busy += 1;
                assert_eq!(retry_after.unwrap(), "2");
                assert!(took < std::time::Duration::from_secs(2), "{took:?}");
            }
            other => panic!("{other}"),
        }
    }
    assert!(
        busy > 0,
        "forty logins at once fit a queue of one thread and four places"
    );

    // Clients that give up while queued: their hashes are skipped.
    let gone: Vec<_> = (0..5)
        .map(|_| {
            let url = app.url("/api/login");
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_millis(20))
                .build()
                .unwrap();
            tokio::spawn(async move {
                let _ = client
                    .post(url.clone())
                    .header("origin", url.trim_end_matches("/api/login"))
                    .form(&[("username", DEMO_USER), ("password", DEMO_PASSWORD)])
                    .send()
                    .await;
            })
        })
        .collect();
    for g in gone {
        g.await.unwrap();
    }
    assert!(
        app.log_lines("hash_skipped", 1, std::time::Duration::from_secs(20))
            .await,
        "{:#?}",
        app.log()
    );
}
