//! Property tests: arbitrary login bodies and cookie headers never crash the server or get a
//! 5xx (SECURITY.md item 18).

use crate::common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn check(method: &str, path: &str, cases: u32, strategy: impl Strategy<Value = (Vec<u8>, String)>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let app = rt.block_on(InProcessApp::spawn(&[
        (
            "max-failures-per-account = 5",
            "max-failures-per-account = 100000",
        ),
        (
            "max-failures-per-address = 50",
            "max-failures-per-address = 100000",
        ),
    ]));
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    runner
        .run(&strategy, |(body, cookie)| {
            let status = rt.block_on(async {
                let mut req = app
                    .client
                    .request(method.parse().unwrap(), app.url(path))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body);
                if let Ok(value) = reqwest::header::HeaderValue::from_str(&cookie) {
                    req = req.header("cookie", value);
                }
                req.send().await.map(|r| r.status())
            });
            let status = status.map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(!status.is_server_error(), "{status}");
            Ok(())
        })
        .unwrap();
    drop(app);
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("username".to_string()),
        Just("password".to_string()),
        "[a-z%=&+]{0,12}",
        any::<String>(),
    ]
}

#[test]
fn login_bodies_never_give_a_5xx() {
    let body = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        proptest::collection::vec((field(), any::<String>()), 0..4).prop_map(|pairs| {
            pairs
                .iter()
                .map(|(k, v)| format!("{k}={}", v.replace('&', "%26")))
                .collect::<Vec<_>>()
                .join("&")
                .into_bytes()
        }),
    ];
    check("POST", "/api/login", 128, (body, Just(String::new())));
}

#[test]
fn cookie_headers_never_give_a_5xx() {
    let cookie = prop_oneof![
        any::<String>(),
        "[ -~]{0,200}".prop_map(|v| format!("{COOKIE}={v}")),
        "[A-Za-z0-9_-]{20,24}".prop_map(|v| format!("{COOKIE}={v}; {COOKIE}={v}")),
    ];
    // Pages and the API both decode the session (and its deadlines) from the cookie.
    check("GET", "/", 64, (Just(Vec::new()), cookie.clone()));
    check("POST", "/api/current_user", 64, (Just(Vec::new()), cookie));
}

/// Any path, escape or query, GET or POST: never a 5xx (trailing slashes, `//`, `/%ff`, `%00`,
/// unknown `/api/…`, `/pkg/../…`, very long queries). Sent as raw bytes: an HTTP client
/// library would tidy the paths up first.
#[test]
fn no_path_or_query_gives_a_5xx() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let app = rt.block_on(InProcessApp::spawn(&[]));
    let segment = prop_oneof![
        Just("".to_string()),
        Just("sessions".to_string()),
        Just("api".to_string()),
        Just("login".to_string()),
        Just("current_user".to_string()),
        Just("no_such_function".to_string()),
        Just("pkg".to_string()),
        Just("..".to_string()),
        Just("%2e%2e".to_string()),
        Just("%ff".to_string()),
        Just("%00".to_string()),
        Just("%2F".to_string()),
        Just("favicon.svg".to_string()),
        Just("healthz".to_string()),
        "[a-z0-9._~-]{1,8}",
    ];
    let query = prop_oneof![
        Just(String::new()),
        Just("?__err=%7B%7D".to_string()),
        Just("?%00=%ff".to_string()),
        (1usize..12_000).prop_map(|n| format!("?q={}", "a".repeat(n))),
    ];
    let request = (
        prop_oneof![Just("GET"), Just("POST")],
        proptest::collection::vec(segment, 1..5),
        any::<bool>(),
        query,
    );
    let mut runner = TestRunner::new(Config {
        cases: 96,
        ..Config::default()
    });
    runner
        .run(&request, |(method, segments, trailing, query)| {
            let path = format!(
                "/{}{}{query}",
                segments.join("/"),
                if trailing { "/" } else { "" }
            );
            let raw = format!(
                "{method} {path} HTTP/1.1\r\nHost: x\r\nOrigin: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                app.base
            );
            let (status, _) = rt.block_on(app.raw(raw.as_bytes()));
            prop_assert!(status < 500, "{method} {path:.200}: {status}");
            Ok(())
        })
        .unwrap();
    // The ones the issue names, each once for sure.
    for path in [
        "/sessions/",
        "//",
        "/%ff",
        "/api/nope",
        "/pkg/../Cargo.toml",
        "/%00",
        "/sessions//",
    ] {
        for method in ["GET", "POST"] {
            let raw = format!(
                "{method} {path} HTTP/1.1\r\nHost: x\r\nOrigin: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                app.base
            );
            let (status, _) = rt.block_on(app.raw(raw.as_bytes()));
            assert!(status < 500, "{method} {path}: {status}");
        }
    }
    drop(app);
}
