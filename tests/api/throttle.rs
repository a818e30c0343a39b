//! Login throttling, timing and password limits (SECURITY.md items 9-11).

use crate::common::*;
use reqwest::StatusCode;
use std::time::{Duration, Instant};

const PROXIED: &[(&str, &str)] = &[
    (
        "trusted-proxy-header = \"\"",
        "trusted-proxy-header = \"x-forwarded-for\"",
    ),
    ("trusted-proxies = []", "trusted-proxies = [\"127.0.0.1\"]"),
    (
        "max-failures-per-account = 5",
        "max-failures-per-account = 3",
    ),
    (
        "max-failures-per-address = 50",
        "max-failures-per-address = 6",
    ),
];

async fn login_from(app: &Site, ip: &str, user: &str, password: &str) -> reqwest::Response {
    let forwarded = format!("203.0.113.250, {ip}");
    app.post_form(
        "/api/login",
        &[("username", user), ("password", password)],
        &[("x-forwarded-for", forwarded.as_str())],
    )
    .await
}

#[tokio::test]
async fn an_account_is_throttled_identically_whether_or_not_it_exists() {
    let app = InProcessApp::spawn(PROXIED).await;
    let mut answers = Vec::new();
    for user in [DEMO_USER, "no-such-user"] {
        for attempt in 0..3 {
            let ip = format!("198.51.100.{attempt}");
            assert_eq!(
                login_from(&app, &ip, user, "wrong").await.status(),
                StatusCode::UNAUTHORIZED
            );
        }
        let res = login_from(&app, "198.51.100.99", user, "wrong").await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&retry), "{retry}");
        answers.push((res.status(), retry / 60, res.text().await.unwrap()));
    }
    assert_eq!(
        answers[0], answers[1],
        "throttling reveals which account exists"
    );
    // Even the right password waits now...
    let res = login_from(&app, "198.51.100.100", DEMO_USER, DEMO_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // ...other accounts are unaffected...
    assert!(
        app.cli(&["user", "add", "dave"], "daves password\n")
            .await
            .success
    );
    assert_eq!(
        login_from(&app, "198.51.100.101", "dave", "daves password")
            .await
            .status(),
        StatusCode::OK
    );
    // ...and after the window, the account may try again.
    app.clock().advance(Duration::from_secs(901));
    assert_eq!(
        login_from(&app, "198.51.100.102", DEMO_USER, DEMO_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_client_address_is_throttled_across_accounts() {
    let app = InProcessApp::spawn(PROXIED).await;
    for i in 0..6 {
        let res = login_from(&app, "192.0.2.7", &format!("guess{i}"), "wrong").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_from(&app, "192.0.2.7", "guess-next", "wrong").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    // Another address is not affected.
    assert_eq!(
        login_from(&app, "192.0.2.8", DEMO_USER, DEMO_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_a_trusted_proxy_forwarded_headers_are_ignored() {
    // Default config: no trusted header, 50 failures per address.
    let app = InProcessApp::spawn(&[(
        "max-failures-per-address = 50",
        "max-failures-per-address = 4",
    )])
    .await;
    for i in 0..4 {
        // A spoofed, rotating X-Forwarded-For must not buy fresh limits.
        let res = login_from(&app, &format!("10.9.9.{i}"), &format!("spoof{i}"), "wrong").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_from(&app, "10.9.9.200", "spoof-next", "wrong").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_throttled_plain_form_post_shows_the_wait_on_the_page() {
    let app = InProcessApp::spawn(PROXIED).await;
    for _ in 0..3 {
        login_from(&app, "198.51.100.1", DEMO_USER, "wrong").await;
    }
    let referer = app.url("/");
    let res = app
        .post_form(
            "/api/login",
            &[("username", DEMO_USER), ("password", "wrong")],
            &[("accept", "text/html"), ("referer", &referer)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let page = app.page_text(&location).await;
    assert!(page.contains("Too many failed attempts"), "{page}");
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test]
async fn unknown_user_and_wrong_password_take_the_same_time() {
    let app = InProcessApp::spawn(&[
        (
            "max-failures-per-account = 5",
            "max-failures-per-account = 1000",
        ),
        (
            "max-failures-per-address = 50",
            "max-failures-per-address = 1000",
        ),
    ])
    .await;
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    // Interleaved, so that machine load drifts affect both alike.
    for i in 0..15 {
        let t = Instant::now();
        assert_eq!(
            app.login(&format!("nobody{i}"), "some password", None)
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
        unknown.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(
            app.login(DEMO_USER, "some password", None).await.status(),
            StatusCode::UNAUTHORIZED
        );
        wrong.push(t.elapsed());
    }
    let (u, w) = (median(unknown), median(wrong));
    let ratio = u.as_secs_f64() / w.as_secs_f64();
    // Without the dummy hash an unknown user answers ~50x faster; allow generous noise.
    assert!(
        (0.6..=1.6).contains(&ratio),
        "unknown {u:?} vs wrong password {w:?}"
    );
}

#[tokio::test]
async fn long_unicode_passwords_work() {
    let app = TestApp::spawn().await;
    let password = "correct horse battery staple — ünïcödé 🔑 ".repeat(3);
    assert!(password.chars().count() > 64);
    let out = app
        .cli(&["user", "add", "erin"], &format!("{password}\n"))
        .await;
    assert!(out.success, "{}", out.stderr);
    let cookie = app.login_ok("erin", &password).await;
    assert!(app.sees_welcome(&cookie, "erin").await);
}

#[tokio::test]
async fn only_the_last_forwarded_entry_counts_even_across_header_lines() {
    let app = InProcessApp::spawn(PROXIED).await;
    // A client forges its own X-Forwarded-For line; our proxy appends another with the truth.
    for i in 0..6 {
        let res = app
            .client
            .post(app.url("/api/login"))
            .header("x-forwarded-for", format!("10.0.0.{i}"))
            .header("x-forwarded-for", "192.0.2.77")
            .form(&[
                ("username", format!("line{i}").as_str()),
                ("password", "wrong"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_from(&app, "192.0.2.77", "line-next", "wrong").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_limits_hold_across_instances_sharing_a_database() {
    // Two instances on one users database: guesses spread over both count as one.
    let data = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let a = TestApp::start(data.clone(), Spawn::default()).await;
    let b = TestApp::start(data, Spawn::default()).await;
    for n in 0..5 {
        let app = if n % 2 == 0 { &a } else { &b };
        let res = app.login(DEMO_USER, "wrong", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    for app in [&a, &b] {
        let res = app.login(DEMO_USER, DEMO_PASSWORD, None).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(res.headers().contains_key("retry-after"));
    }
    // And a restart forgets nothing.
    let a = a.restart().await;
    let res = a.login(DEMO_USER, DEMO_PASSWORD, None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// OWASP's device cookies: a stranger who knows only the user name cannot keep its owner out of
/// their usual browser, and still gets 429 however many addresses it uses.
#[tokio::test]
async fn strangers_cannot_lock_the_owner_out_of_their_usual_browser() {
    let app = TestApp::spawn().await;
    let form = |password| [("username", DEMO_USER), ("password", password)];
    let owner = app.client_at("127.0.0.1");
    let res = owner
        .post(app.url("/api/login"))
        .form(&form(DEMO_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let device = device_cookie(res.headers())
        .expect("a device cookie")
        .pair();
    let session = session_cookie(res.headers()).unwrap().pair();
    // Logging out keeps the device cookie.
    let res = app.logout(&session).await;
    assert!(
        device_cookie(res.headers()).is_none(),
        "logout touched the device cookie"
    );

    let attacker = app.client_at("127.0.0.2");
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let res = attacker
            .post(app.url("/api/login"))
            .form(&form("guess"))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses[..5], [401; 5]);
    assert_eq!(statuses[5..], [429; 7]);

    // The owner's browser logs in with the right password...
    let res = owner
        .post(app.url("/api/login"))
        .header("cookie", &device)
        .form(&form(DEMO_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // ...the attacker's stays refused even with it, from any address.
    for client in [&attacker, &app.client_at("127.0.0.3")] {
        let res = client
            .post(app.url("/api/login"))
            .form(&form(DEMO_PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    // A device cookie that keeps failing is locked out itself (its budget: 10).
    let mut statuses = Vec::new();
    for password in ["guess"; 10].into_iter().chain([DEMO_PASSWORD]) {
        let res = app
            .client_at("127.0.0.4")
            .post(app.url("/api/login"))
            .header("cookie", &device)
            .form(&form(password))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses[..10], [401; 10]);
    assert_eq!(statuses[10], 429);
}

/// People type passwords into the user name field: what they type is stored only as a keyed
/// hash, in no file of the database.
#[tokio::test]
async fn a_typed_user_name_is_never_stored_in_clear() {
    let app = TestApp::spawn().await;
    let typed = format!("typed-{}", &app.base[app.base.len() - 5..]) + "-CorrectHorse";
    for _ in 0..8 {
        let status = app.login(&typed, "wrong", None).await.status();
        assert!(status == 401 || status == 429, "{status}");
    }
    let (data, _) = app.stop().await;
    let mut files = 0;
    for entry in std::fs::read_dir(data.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("latchkey.db") {
            files += 1;
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(typed.len()).any(|w| w == typed.as_bytes()),
                "{} holds the typed name",
                path.display()
            );
        }
    }
    assert!(files >= 1);
}

/// Forwarded entries with ports (`ip:port`, `[ipv6]:port`) are their own clients, not the
/// proxy; and the header is believed only from a trusted proxy (127.0.0.1 here): from any other
/// peer it is ignored and the peer is the client.
#[tokio::test]
async fn forwarded_addresses_with_ports_count_and_only_trusted_proxies_are_believed() {
    let app = InProcessApp::spawn(PROXIED).await;
    // A fresh account name each time: only the address limits are in play.
    let names = std::sync::atomic::AtomicUsize::new(0);
    let from = |client: reqwest::Client, forwarded: &'static str| {
        let url = app.url("/api/login");
        let name = format!(
            "nobody{}",
            names.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        async move {
            client
                .post(url)
                .header("x-forwarded-for", forwarded)
                .form(&[("username", name.as_str()), ("password", "wrong")])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // Six failures (the address limit) from one client behind the proxy, by its address
    // with a port: then that client waits, while another (IPv6, with a port) does not.
    for port in 1000..1006 {
        let entry: &'static str = Box::leak(format!("198.51.100.77:{port}").into_boxed_str());
        let status = from(app.client.clone(), entry).await;
        assert!(status == 401 || status == 429, "{status}");
    }
    assert_eq!(from(app.client.clone(), "198.51.100.77:2000").await, 429);
    assert_ne!(from(app.client.clone(), "[2001:db8::5]:443").await, 429);
    // From a peer that is not a trusted proxy the header means nothing: its failures are its
    // own (127.0.0.2's), and the spoofed address is not charged.
    for _ in 0..6 {
        from(app.client_at("127.0.0.2"), "198.51.100.88").await;
    }
    assert_eq!(from(app.client_at("127.0.0.2"), "198.51.100.99").await, 429);
    assert_ne!(from(app.client.clone(), "198.51.100.88").await, 429);
}
