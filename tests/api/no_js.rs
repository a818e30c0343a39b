//! JavaScript off: the same forms work as plain POST + redirect.

use crate::common::*;
use reqwest::StatusCode;

async fn form_post(
    app: &TestApp,
    path: &str,
    body: &[(&str, &str)],
    cookie: Option<&str>,
) -> reqwest::Response {
    let referer = app.url("/");
    let mut headers = vec![("accept", BROWSER_ACCEPT), ("referer", referer.as_str())];
    headers.extend(cookie.map(|c| ("cookie", c)));
    app.post_form(path, body, &headers).await
}

#[tokio::test]
async fn plain_form_login_and_logout_redirect_back_to_the_page() {
    let app = TestApp::spawn().await;
    let res = form_post(
        &app,
        "/api/login",
        &[("username", DEMO_USER), ("password", DEMO_PASSWORD)],
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with(&app.url("/")) && !location.contains("__err"),
        "{location}"
    );
    let cookie = session_cookie(res.headers())
        .expect("cookie on the redirect")
        .pair();
    assert!(app.sees_welcome(&cookie, DEMO_USER).await);

    let res = form_post(&app, "/api/logout", &[], Some(&cookie)).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert!(session_cookie(res.headers()).unwrap().is_removal());
    assert!(!app.sees_welcome(&cookie, DEMO_USER).await);
}

#[tokio::test]
async fn plain_form_login_failure_shows_the_error_on_the_page() {
    let app = TestApp::spawn().await;
    let res = form_post(
        &app,
        "/api/login",
        &[("username", DEMO_USER), ("password", "wrong")],
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert!(session_cookie(res.headers()).is_none());
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let page = app.page_text(&location).await;
    assert!(page.contains("Invalid username or password"), "{page}");
    assert!(page.contains("Username"));
}

#[tokio::test]
async fn plain_form_password_change_failure_shows_the_error_on_the_account_page() {
    let app = TestApp::spawn().await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let referer = app.url("/account");
    let res = app
        .post_form(
            "/api/change_password",
            &[
                ("current", "not the password"),
                ("new", "a new password 2"),
                ("confirm", "a new password 2"),
            ],
            &[
                ("accept", BROWSER_ACCEPT),
                ("referer", referer.as_str()),
                ("cookie", cookie.as_str()),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&referer), "{location}");
    let page = app.page_text_as(&location, Some(&cookie)).await;
    assert!(
        page.contains("The current password is not correct."),
        "{page}"
    );
    assert!(page.contains("Your account"), "{page}");
    // The error belongs to the password form: the login page does not show it.
    let home = app.page_text(&location.replace("/account", "/")).await;
    assert!(
        !home.contains("The current password is not correct."),
        "{home}"
    );
}

/// The `Set-Cookie` of `res` for cookie `name`, if any.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

#[tokio::test]
async fn plain_form_login_failure_puts_the_typed_name_back_into_the_form_once() {
    let app = TestApp::spawn().await;
    let typed = "someone-who-typed-this";
    let res = form_post(
        &app,
        "/api/login",
        &[("username", typed), ("password", "wrong")],
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let carried = set_cookie(&res, "latchkey_typed_name").expect("the typed name is carried");
    for attribute in ["HttpOnly", "SameSite=Strict", "Max-Age=60", "Path=/"] {
        assert!(carried.contains(attribute), "{attribute}: {carried}");
    }
    let pair = carried.split(';').next().unwrap().to_owned();
    assert!(
        !res.headers()["location"].to_str().unwrap().contains(typed),
        "the name must not travel in the URL"
    );

    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let res = app
        .client
        .get(&location)
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    let removal = set_cookie(&res, "latchkey_typed_name").expect("read once, then removed");
    assert!(removal.contains("Max-Age=0"), "{removal}");
    let html = res.text().await.unwrap();
    assert!(html.contains(&format!("value=\"{typed}\"")), "{html}");
    assert!(html.contains("autofocus"), "{html}");
    assert!(
        html.contains("<title>Error: Log in – latchkey</title>"),
        "{html}"
    );

    // A failed login from the hydrated page keeps its form as it is: no cookie.
    let res = app
        .client
        .post(app.url("/api/login"))
        .header("accept", "application/json")
        .form(&[("username", typed), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&res, "latchkey_typed_name").is_none());
}
