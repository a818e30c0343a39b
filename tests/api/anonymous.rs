use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn anonymous_visit_gets_the_form_sets_no_cookie_and_stores_nothing() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        let (status, headers, html) = app.home(None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            session_cookie(&headers).is_none(),
            "anonymous visit set a cookie"
        );
        assert!(html.contains(r#"name="username""#) && html.contains(r#"name="password""#));
        assert!(text(&html).contains("Log in"));
        assert_eq!(headers["cache-control"], "no-store");
    }
    let res = app
        .client
        .post(app.url("/api/current_user"))
        .send()
        .await
        .unwrap();
    assert!(session_cookie(res.headers()).is_none());
    assert_eq!(res.text().await.unwrap(), "null");
    assert_eq!(app.session_count().await, 0);
}

#[tokio::test]
async fn a_cookie_the_server_never_issued_stays_anonymous_and_creates_nothing() {
    let app = TestApp::spawn().await;
    for forged in [
        "latchkey_session=AAAAAAAAAAAAAAAAAAAAAA",
        "latchkey_session=garbage!",
        "latchkey_session=",
    ] {
        let (status, _, html) = app.home(Some(forged)).await;
        assert_eq!(status, StatusCode::OK, "{forged}");
        assert!(!text(&html).contains("Welcome"), "{forged}");
    }
    assert_eq!(app.session_count().await, 0);
}

#[tokio::test]
async fn dev_mode_advertises_the_demo_user_and_prod_has_none() {
    let dev = TestApp::spawn().await;
    let (_, _, html) = dev.home(None).await;
    assert!(
        text(&html).contains("log in as user1 with password mypassword"),
        "{}",
        text(&html)
    );

    let prod = TestApp::spawn_with(Spawn {
        env: "PROD",
        ..Spawn::default()
    })
    .await;
    let (_, _, html) = prod.home(None).await;
    assert!(!text(&html).contains("mypassword"));
    let res = prod.login(DEMO_USER, DEMO_PASSWORD, None).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "PROD must not have a demo user"
    );
}

#[tokio::test]
async fn health_and_readiness_answer_without_a_session() {
    let app = TestApp::spawn().await;
    for (path, body) in [("/healthz", "ok\n"), ("/readyz", "ready\n")] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert!(session_cookie(res.headers()).is_none());
        assert_eq!(res.text().await.unwrap(), body);
    }
}

#[tokio::test]
async fn prod_refuses_to_start_while_the_demo_password_is_set() {
    let dev = TestApp::spawn().await; // creates user1 / mypassword
    let (data, _) = dev.stop().await;
    let out = tokio::process::Command::new(bin())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/latchkey.db", data.path().display()),
        )
        .env("LEPTOS_ENV", "PROD")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .output()
        .await
        .unwrap();
    assert!(
        !out.status.success(),
        "PROD started with the public demo password"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("still has the public demo password"));
    // Once the password is changed, PROD starts.
    assert!(
        cli(
            data.path(),
            &["user", "passwd", DEMO_USER],
            "a private password\n"
        )
        .await
        .success
    );
    let prod = TestApp::start(
        data,
        Spawn {
            env: "PROD",
            ..Spawn::default()
        },
    )
    .await;
    assert_eq!(prod.home(None).await.0, StatusCode::OK);
}
