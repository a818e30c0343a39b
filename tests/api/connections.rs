//! Connections an attacker holds open: idle, or sending headers a byte at a time. They are
//! closed after the header-read timeout, and at most `max-connections` are open at once (one
//! more gets an immediate 503); meanwhile a normal request still answers.

use crate::common::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(2);

/// The app (and the folder of its configuration, which must outlive it).
async fn app_with_limits(max_connections: usize) -> (TestApp, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("Leptos.toml");
    std::fs::write(
        &config,
        config_text(&[
            (
                "header-read-timeout-seconds = 20",
                "header-read-timeout-seconds = 2",
            ),
            (
                "max-connections = 10000",
                &format!("max-connections = {max_connections}"),
            ),
        ]),
    )
    .unwrap();
    let app = TestApp::spawn_with(Spawn {
        config: Some(config),
        ..Spawn::default()
    })
    .await;
    (app, data)
}

/// Whether the server closes `tcp` (EOF or reset) within `limit`.
async fn closed_within(tcp: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 256];
    let read = async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue, // e.g. a 408 before the close
            }
        }
    };
    tokio::time::timeout(limit, read).await.is_ok()
}

#[tokio::test]
async fn idle_and_slow_connections_are_closed_and_normal_requests_still_answer() {
    let (app, _config) = app_with_limits(2_000).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for i in 0..1_500 {
        let mut tcp = TcpStream::connect(&addr).await.unwrap();
        if i % 2 == 0 {
            // Slowloris: a request's first bytes, and then nothing more.
            tcp.write_all(b"GET / HTTP/1.1\r\nHo").await.unwrap();
        }
        held.push(tcp);
    }
    let started = Instant::now();
    let (status, _, _) = app.home(None).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Every held connection is closed after the timeout.
    let deadline = TIMEOUT + Duration::from_secs(5);
    for tcp in &mut held {
        assert!(
            closed_within(tcp, deadline).await,
            "a held connection stayed open"
        );
    }
    // A keep-alive connection left idle after a request is closed too.
    let mut tcp = TcpStream::connect(&addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    assert!(closed_within(&mut tcp, deadline).await);
}

#[tokio::test]
async fn beyond_the_connection_cap_a_client_gets_a_503_at_once() {
    let (app, _config) = app_with_limits(300).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for _ in 0..300 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    let mut refused = Vec::new();
    for _ in 0..20 {
        let mut tcp = TcpStream::connect(&addr).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer))
            .await
            .expect("answered at once")
            .ok();
        refused.push(String::from_utf8_lossy(&answer).into_owned());
    }
    for answer in &refused {
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    }
    // Said in the log, but not once per refusal.
    assert!(
        app.log_lines("connection_limit", 1, Duration::from_secs(5))
            .await
    );
    let logged = app
        .log()
        .iter()
        .filter(|l| l.contains("connection_limit"))
        .count();
    assert!((1..20).contains(&logged), "{logged} log lines");
    // Once the held ones are closed, there is room again: as soon as the server has seen them
    // close (each connection's task notices its end of file and gives its place back), which
    // may be a moment after the client closes them.
    drop(held);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, _, _) = app.home(None).await;
        if status == reqwest::StatusCode::OK {
            break;
        }
        assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            tokio::time::Instant::now() < deadline,
            "no room 5 s after the held connections closed"
        );
        tokio::task::yield_now().await;
    }
}
