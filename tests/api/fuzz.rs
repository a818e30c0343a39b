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
