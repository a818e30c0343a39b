use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn logout_deletes_the_session_and_the_old_cookie_is_anonymous() {
    let app = TestApp::spawn().await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    assert_eq!(app.session_count().await, 1);

    let res = app.logout(&cookie).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let removal = session_cookie(res.headers()).expect("logout expires the cookie");
    assert!(removal.is_removal(), "{removal:?}");
    assert_eq!(removal.attr("Path"), Some(Some("/")));
    assert_eq!(app.session_count().await, 0);

    // Replaying the old cookie gets the login form, and creates nothing.
    assert!(!app.sees_welcome(&cookie, DEMO_USER).await);
    let (_, _, html) = app.home(Some(&cookie)).await;
    assert!(html.contains(r#"name="password""#));
    assert_eq!(app.session_count().await, 0);
}
