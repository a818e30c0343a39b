//! Store faults: a store that stops or stalls mid-traffic turns into fast, clear 503s; the
//! process stays up and recovers without a restart; sessions survive. Also `kill -9` and
//! graceful shutdown. The stores that are stopped here are the tests' own (see `servers`).

use crate::common::*;
use crate::servers::{OwnPostgres, OwnRedis};
use reqwest::StatusCode;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The bound: a request against a dead store fails within this.
const FAIL_FAST: Duration = Duration::from_secs(2);
const UNAVAILABLE: &str = "The service is temporarily unavailable";

/// With the store down: the page and a server function fail fast with a clear 503, health
/// says alive but not ready.
async fn store_is_down(app: &TestApp, cookie: &str) {
    let started = Instant::now();
    let (status, _, html) = app.home(Some(cookie)).await;
    let elapsed = started.elapsed();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{}", text(&html));
    assert!(text(&html).contains(UNAVAILABLE), "{}", text(&html));
    assert!(elapsed < FAIL_FAST, "the page took {elapsed:?}");

    let started = Instant::now();
    let res = app.login(DEMO_USER, DEMO_PASSWORD, None).await;
    let elapsed = started.elapsed();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.text().await.unwrap().contains("Unavailable"));
    assert!(elapsed < FAIL_FAST, "login took {elapsed:?}");

    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    // The operator learns why from the log: the page's session load failed at the store.
    assert!(
        app.log()
            .iter()
            .any(|l| l.contains("ERROR") && l.contains("session store failure")),
        "{:#?}",
        app.log()
    );
}

/// The store is back: the old session is valid again and new logins work, same process.
async fn store_is_back(app: &TestApp, cookie: &str) {
    assert!(app.sees_welcome(cookie, DEMO_USER).await);
    let fresh = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    assert!(app.sees_welcome(&fresh, DEMO_USER).await);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_stopped_redis_fails_fast_and_recovers_without_a_restart() {
    let mut redis = OwnRedis::start().await;
    let app = TestApp::spawn_with(Spawn {
        session_store: Some(redis.url()),
        ..Spawn::default()
    })
    .await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;

    redis.stop().await;
    store_is_down(&app, &cookie).await;
    redis.restart().await;
    store_is_back(&app, &cookie).await;
}

#[tokio::test]
async fn a_frozen_redis_times_out_instead_of_hanging() {
    let redis = OwnRedis::start().await;
    let app = TestApp::spawn_with(Spawn {
        session_store: Some(redis.url()),
        ..Spawn::default()
    })
    .await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;

    // Connections stay open and nothing answers: only the command timeouts end the wait.
    redis.freeze();
    store_is_down(&app, &cookie).await;
    redis.thaw();
    store_is_back(&app, &cookie).await;
}

#[tokio::test]
async fn a_stopped_postgres_fails_fast_and_recovers_without_a_restart() {
    let mut pg = OwnPostgres::start().await;
    // Users and sessions both in this PostgreSQL.
    let app = TestApp::spawn_with(Spawn {
        database: Some(pg.url()),
        ..Spawn::default()
    })
    .await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;

    pg.stop().await;
    store_is_down(&app, &cookie).await;
    pg.restart().await;
    store_is_back(&app, &cookie).await;
}

#[tokio::test]
async fn a_frozen_postgres_times_out_instead_of_hanging() {
    let pg = OwnPostgres::start().await;
    let app = TestApp::spawn_with(Spawn {
        database: Some(pg.url()),
        ..Spawn::default()
    })
    .await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;

    // Open connections stay open and nothing answers: only our deadlines end the wait.
    pg.freeze();
    store_is_down(&app, &cookie).await;
    pg.thaw();
    store_is_back(&app, &cookie).await;
}

#[tokio::test]
async fn the_cleanup_task_outlives_store_errors() {
    let mut redis = OwnRedis::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("Leptos.toml");
    std::fs::write(
        &config,
        config_text(&[(
            "cleanup-interval-seconds = 600",
            "cleanup-interval-seconds = 1",
        )]),
    )
    .unwrap();
    let app = TestApp::spawn_with(Spawn {
        session_store: Some(redis.url()),
        config: Some(config),
        ..Spawn::default()
    })
    .await;

    redis.stop().await;
    // It fails, and keeps trying (a second failure a period later)...
    let failed = "expired-session cleanup failed; will retry";
    assert!(
        app.log_lines(failed, 2, Duration::from_secs(20)).await,
        "{:#?}",
        app.log()
    );
    // ...and once the store is back, it works again, same process.
    redis.restart().await;
    let recovered = "expired-session cleanup works again";
    assert!(
        app.log_lines(recovered, 1, Duration::from_secs(20)).await,
        "{:#?}",
        app.log()
    );
}

/// `kill -9` runs no shutdown code: whatever a response confirmed must already be stored.
async fn kill_9_keeps_sessions(spawn: Spawn) {
    let app = TestApp::spawn_with(spawn).await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let out = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    app.logout(&out).await;
    let app = app.crash_and_restart().await;
    assert!(app.sees_welcome(&cookie, DEMO_USER).await);
    assert!(!app.sees_welcome(&out, DEMO_USER).await);
}

#[tokio::test]
async fn kill_9_loses_no_committed_session_sqlite() {
    kill_9_keeps_sessions(Spawn::default()).await;
}

#[tokio::test]
async fn kill_9_loses_no_committed_session_postgres() {
    let (url, schema) = postgres_schema().await;
    kill_9_keeps_sessions(Spawn {
        database: Some(url),
        ..Spawn::default()
    })
    .await;
    drop_postgres_schema(&schema).await;
}

#[tokio::test]
async fn kill_9_loses_no_committed_session_redis() {
    let (url, prefix) = redis_prefix().await;
    kill_9_keeps_sessions(Spawn {
        session_store: Some(url),
        ..Spawn::default()
    })
    .await;
    drop_redis_prefix(&prefix).await;
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish() {
    let app = TestApp::spawn().await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let body = format!("username={DEMO_USER}&password={DEMO_PASSWORD}");

    // A login whose body is held back until the server asks for it: "100 Continue" proves
    // the request is inside the handler, so SIGTERM lands mid-request.
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/login HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut buf = [0u8; 64];
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 100"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );

    app.signal("TERM");
    tcp.write_all(body.as_bytes()).await.unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let cookie = response
        .lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .find(|c| c.starts_with("latchkey_session="))
        .and_then(|c| c.split(';').next())
        .expect("the login completed with a session cookie")
        .to_owned();

    let (status, data, log) = app.exited().await;
    assert!(status.success(), "{status}");
    assert!(
        log.iter().any(|l| l.contains("shut down cleanly")),
        "{log:?}"
    );
    // The session it created was committed.
    let app = TestApp::start(data, Spawn::default()).await;
    assert!(app.sees_welcome(&cookie, DEMO_USER).await);
}
