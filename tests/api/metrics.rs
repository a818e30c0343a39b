//! Prometheus metrics on their own listener: off by default; when on, counters that follow the
//! security events, latency histograms, gauges, and never a user name, session id or address.

use crate::common::*;
use reqwest::StatusCode;
use std::time::Duration;

/// The value of the sample `name{labels}` (labels as written by the exporter), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn metrics_url(app: &TestApp) -> String {
    assert!(
        app.log_lines("metrics on http://", 1, Duration::from_secs(10))
            .await
    );
    let line = app
        .log()
        .into_iter()
        .find(|l| l.contains("metrics on http://"))
        .unwrap();
    let url = line.split("metrics on ").nth(1).unwrap().trim().to_owned();
    assert!(url.ends_with("/metrics"), "{line}");
    url
}

#[tokio::test]
async fn after_known_events_the_scrape_counts_them_and_names_nobody() {
    let app = TestApp::spawn_with(Spawn {
        vars: vec![("LATCHKEY_METRICS_ADDR", "127.0.0.1:0".into())],
        ..Spawn::default()
    })
    .await;
    let url = metrics_url(&app).await;
    assert!(!url.contains(&app.base), "a listener of its own");

    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let wrong = app.login(DEMO_USER, "wrong password", None).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let cross_site = app
        .client
        .post(app.url("/api/login"))
        .header("origin", "http://evil.example")
        .form(&[("username", DEMO_USER), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert!(app.sees_welcome(&cookie, DEMO_USER).await);
    app.logout(&cookie).await;

    let res = reqwest::get(&url).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    let count = |series: &str| sample(&text, series).unwrap_or_else(|| panic!("{series}:\n{text}"));
    assert_eq!(
        count(r#"latchkey_logins_total{method="password",result="success"}"#),
        1.0
    );
    assert_eq!(
        count(r#"latchkey_logins_total{method="password",result="failure"}"#),
        1.0
    );
    assert_eq!(count("latchkey_logouts_total"), 1.0);
    assert_eq!(count("latchkey_csrf_refusals_total"), 1.0);
    assert!(count(r#"latchkey_http_request_duration_seconds_count{route="/api/login"}"#) >= 3.0);
    assert!(count(r#"latchkey_http_request_duration_seconds_count{route="/"}"#) >= 1.0);
    assert!(
        count(r#"latchkey_store_operation_duration_seconds_count{store="sqlite",op="create"}"#)
            >= 1.0
    );
    // Sampled at the scrape: a hashing thread may still be giving its slot back.
    let capacity = count("latchkey_hash_queue_capacity");
    assert!(capacity >= 1.0);
    assert!((0.0..=capacity).contains(&count("latchkey_hash_queue_depth")));
    assert!(text.contains("# HELP latchkey_logins_total"), "{text}");

    // Nobody is named: not the user, not the session, not the client's address.
    let session_id = cookie.split('=').nth(1).unwrap();
    for secret in [DEMO_USER, session_id, "127.0.0.1"] {
        assert!(!text.contains(secret), "{secret:?} in the metrics:\n{text}");
    }
    // And the site itself does not serve them.
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metrics_are_off_by_default() {
    let app = TestApp::spawn().await;
    app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    assert!(!app.log().iter().any(|l| l.contains("metrics on")));
}
