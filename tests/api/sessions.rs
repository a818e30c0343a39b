//! The user's own sessions: list, revoke, log out everywhere else, change password
//! (SECURITY.md items 14-15).

use crate::common::*;
use reqwest::StatusCode;

async fn login_as_browser(app: &TestApp, user_agent: &str) -> String {
    let form = [("username", DEMO_USER), ("password", DEMO_PASSWORD)];
    let res = app
        .post_form("/api/login", &form, &[("user-agent", user_agent)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    session_cookie(res.headers()).unwrap().pair()
}

async fn api(app: &TestApp, path: &str, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.post_form(path, form, &[("cookie", cookie)]).await
}

async fn list(app: &TestApp, cookie: &str) -> Vec<serde_json::Value> {
    let res = api(app, "/api/sessions", cookie, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    serde_json::from_str(&res.text().await.unwrap()).unwrap()
}

const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

#[tokio::test]
async fn the_user_sees_their_sessions_and_can_revoke_one() {
    let app = TestApp::spawn().await;
    let laptop = login_as_browser(&app, FIREFOX).await;
    let desktop = login_as_browser(&app, CHROME).await;
    let sessions = list(&app, &desktop).await;
    assert_eq!(sessions.len(), 2);
    let current: Vec<_> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["browser"], "Chrome 156 on Linux");
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["browser"], "Firefox 133 on Windows");
    assert!(other["created"].as_str().unwrap().ends_with("UTC"));
    // The page shows the same.
    let page = app
        .page_text_as(&app.url("/sessions"), Some(&desktop))
        .await;
    assert!(page.contains("Firefox 133 on Windows") && page.contains("This session"));

    let handle = other["handle"].as_str().unwrap();
    assert!(
        !laptop.contains(handle) && handle.len() == 64,
        "the handle is not the cookie"
    );
    assert_eq!(
        api(&app, "/api/revoke_session", &desktop, &[("handle", handle)])
            .await
            .status(),
        StatusCode::OK
    );
    assert!(
        !app.sees_welcome(&laptop, DEMO_USER).await,
        "revoked session still works"
    );
    assert!(app.sees_welcome(&desktop, DEMO_USER).await);
    assert_eq!(list(&app, &desktop).await.len(), 1);
}

#[tokio::test]
async fn nobody_can_revoke_or_list_someone_elses_sessions() {
    let app = TestApp::spawn().await;
    let victim = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let victim_handle = list(&app, &victim).await[0]["handle"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        app.cli(&["user", "add", "mallory"], "mallorys password\n")
            .await
            .success
    );
    let mallory = app.login_ok("mallory", "mallorys password").await;
    assert_eq!(
        list(&app, &mallory).await.len(),
        1,
        "mallory sees only her own"
    );
    api(
        &app,
        "/api/revoke_session",
        &mallory,
        &[("handle", &victim_handle)],
    )
    .await;
    assert!(
        app.sees_welcome(&victim, DEMO_USER).await,
        "another user's session was revoked"
    );
    // Anonymous callers get a clear 401.
    let res = api(&app, "/api/sessions", "", &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = api(
        &app,
        "/api/revoke_session",
        "",
        &[("handle", &victim_handle)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(app.sees_welcome(&victim, DEMO_USER).await);
}

#[tokio::test]
async fn log_out_everywhere_else_keeps_only_this_session() {
    let app = TestApp::spawn().await;
    let others = [
        app.login_ok(DEMO_USER, DEMO_PASSWORD).await,
        app.login_ok(DEMO_USER, DEMO_PASSWORD).await,
    ];
    let me = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let res = api(&app, "/api/revoke_other_sessions", &me, &[]).await;
    assert_eq!(res.text().await.unwrap(), "2");
    for cookie in &others {
        assert!(!app.sees_welcome(cookie, DEMO_USER).await);
    }
    assert!(app.sees_welcome(&me, DEMO_USER).await);
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_and_renews_this_one() {
    let app = TestApp::spawn().await;
    let other = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let me = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let change = |current: &'static str, new: &'static str, confirm: &'static str| {
        let (app, me) = (&app, me.clone());
        async move {
            api(
                app,
                "/api/change_password",
                &me,
                &[("current", current), ("new", new), ("confirm", confirm)],
            )
            .await
        }
    };
    for (current, new, confirm, message) in [
        (
            "wrong",
            "new password 1",
            "new password 1",
            "WrongCurrentPassword",
        ),
        (DEMO_PASSWORD, "short", "short", "NewPasswordPolicy"),
        (
            DEMO_PASSWORD,
            "new password 1",
            "new password 2",
            "PasswordsDiffer",
        ),
    ] {
        let res = change(current, new, confirm).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert!(res.text().await.unwrap().contains(message), "{message}");
    }
    assert!(
        app.sees_welcome(&other, DEMO_USER).await,
        "a failed change must change nothing"
    );

    let res = change(DEMO_PASSWORD, "new password 1", "new password 1").await;
    assert_eq!(res.status(), StatusCode::OK);
    let renewed = session_cookie(res.headers()).expect("a renewed id").pair();
    assert_ne!(renewed, me);
    assert!(
        !app.sees_welcome(&me, DEMO_USER).await,
        "the old id survived"
    );
    assert!(
        !app.sees_welcome(&other, DEMO_USER).await,
        "another session survived"
    );
    assert!(app.sees_welcome(&renewed, DEMO_USER).await);
    assert_eq!(
        app.login(DEMO_USER, DEMO_PASSWORD, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.login_ok(DEMO_USER, "new password 1").await;
}

#[tokio::test]
async fn a_login_that_raced_a_password_change_dies_on_its_next_request() {
    // The race: a login verified with the old password inserts its session just after the
    // password change deleted every other session. Recreate that end state directly: a live
    // session, and the password changed without touching the sessions table.
    let app = InProcessApp::spawn(&[]).await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let url = format!("sqlite://{}/latchkey.db", app.data.path().display());
    let db = latchkey::db::Database::connect(&latchkey::config::DatabaseConfig {
        url,
        max_connections: 1,
        timeout: latchkey::config::DEFAULT_TIMEOUT,
    })
    .await
    .unwrap();
    latchkey::users::set_password_hash(
        &db,
        DEMO_USER,
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    )
    .await
    .unwrap();
    assert_eq!(app.session_count().await, 1);
    assert!(
        !app.sees_welcome(&cookie, DEMO_USER).await,
        "a pre-change session still works"
    );
    assert_eq!(app.session_count().await, 0, "and it is deleted");
}

/// One valid account cannot pile up sessions: beyond `max-sessions-per-user` a new login ends
/// the oldest.
#[tokio::test]
async fn a_new_login_beyond_the_cap_ends_the_oldest_session() {
    let app =
        InProcessApp::spawn(&[("max-sessions-per-user = 100", "max-sessions-per-user = 3")]).await;
    let mut cookies = Vec::new();
    for _ in 0..5 {
        cookies.push(app.login_ok(DEMO_USER, DEMO_PASSWORD).await);
        // "Oldest" is by login time, to the second.
        app.clock().advance(std::time::Duration::from_secs(1));
    }
    assert_eq!(app.session_count().await, 3);
    for (i, cookie) in cookies.iter().enumerate() {
        assert_eq!(
            app.sees_welcome(cookie, DEMO_USER).await,
            i >= 2,
            "login {i}"
        );
    }
}
