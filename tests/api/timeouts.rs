//! Idle and absolute deadlines, with the clock moved by the test (no sleeping). (A request
//! that read a session before its logout cannot write it back: the store suite's
//! `save_after_delete_does_not_revive` holds it for every store, and `auth::session`'s
//! `a_request_that_read_the_session_before_its_logout_cannot_write_it_back` in the order
//! that matters, step by step.)

use crate::common::*;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn an_idle_session_ends_and_activity_extends_it() {
    let app = InProcessApp::spawn(&[]).await; // idle timeout: 30 minutes
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    for _ in 0..3 {
        app.clock().advance(25 * MINUTE);
        assert!(
            app.sees_welcome(&cookie, DEMO_USER).await,
            "activity should keep it alive"
        );
    }
    app.clock().advance(31 * MINUTE);
    assert!(
        !app.sees_welcome(&cookie, DEMO_USER).await,
        "idle session still alive"
    );
    assert_eq!(
        app.session_count().await,
        0,
        "an expired session is deleted when seen"
    );
}

/// The shortest idle timeout allowed (60 s): a user active every 30 s stays logged in (activity
/// is recorded often enough), and one who stops is out a minute later.
#[tokio::test]
async fn a_one_minute_idle_timeout_still_follows_activity() {
    let app =
        InProcessApp::spawn(&[("idle-timeout-seconds = 1800", "idle-timeout-seconds = 60")]).await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    for step in 1..=10 {
        app.clock().advance(Duration::from_secs(30));
        assert!(
            app.sees_welcome(&cookie, DEMO_USER).await,
            "logged out after {} s of activity",
            step * 30
        );
    }
    app.clock().advance(Duration::from_secs(61));
    assert!(!app.sees_welcome(&cookie, DEMO_USER).await);
}

#[tokio::test]
async fn activity_never_extends_past_the_absolute_deadline() {
    let app = InProcessApp::spawn(&[]).await; // lifetime: one day
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    // Active every 20 minutes for 23h40m: alive throughout.
    for step in 1..=71 {
        app.clock().advance(20 * MINUTE);
        let (_, _, html) = app.home(Some(&cookie)).await;
        assert!(
            text(&html).contains("Welcome, user1"),
            "ended after {} minutes: {}",
            step * 20,
            text(&html)
        );
    }
    app.clock().advance(20 * MINUTE); // 24h00m after login
    assert!(
        !app.sees_welcome(&cookie, DEMO_USER).await,
        "alive past the absolute deadline"
    );
}

#[tokio::test]
async fn expired_records_are_not_loaded_even_before_cleanup() {
    let app = InProcessApp::spawn(&[]).await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    app.clock().advance(Duration::from_secs(24 * 3600 + 1));
    assert!(!app.sees_welcome(&cookie, DEMO_USER).await);
}

/// Collects this thread's log (the in-process server runs on the test's single thread).
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn expiry_is_logged_without_the_session_id() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = InProcessApp::spawn(&[]).await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    app.clock().advance(31 * MINUTE);
    let (status, _, html) = app.home(Some(&cookie)).await;
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert_eq!(status, reqwest::StatusCode::OK, "{log}");
    assert!(!text(&html).contains("Welcome"));
    assert!(
        log.contains("event=\"session_expired\"") && log.contains("reason=\"idle\""),
        "{log}"
    );
    assert!(!log.contains(cookie.split_once('=').unwrap().1));
}
