//! The administrator's commands (`latchkey user list|lock|unlock`, `session list|revoke`,
//! `throttle clear`), run as the real binary against the server's own databases.

use crate::common::*;
use reqwest::StatusCode;

/// A running app whose throttle allows `per_account` failures per account and `per_address`
/// per address (the CLI runs with the same configuration).
async fn app_with_limits(per_account: u32, per_address: u32) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Leptos.toml");
    let account = format!("max-failures-per-account = {per_account}");
    let address = format!("max-failures-per-address = {per_address}");
    std::fs::write(
        &path,
        config_text(&[
            ("max-failures-per-account = 5", &account),
            ("max-failures-per-address = 50", &address),
        ]),
    )
    .unwrap();
    let app = TestApp::spawn_with(Spawn {
        config: Some(path),
        ..Spawn::default()
    })
    .await;
    std::mem::forget(dir); // the configuration must outlive the app (a temporary folder)
    app
}

async fn run_ok(app: &TestApp, args: &[&str]) -> String {
    let out = app.cli(args, "").await;
    assert!(out.success, "{args:?}: {}", out.stderr);
    out.stdout
}

#[tokio::test]
async fn user_list_shows_each_account_its_last_login_lock_and_sessions() {
    let app = TestApp::spawn().await;
    app.cli(&["user", "add", "ada"], "correct horse 1\n").await;
    app.login_ok("ada", "correct horse 1").await;
    app.login_ok("ada", "correct horse 1").await;
    run_ok(&app, &["user", "lock", DEMO_USER]).await;

    let table = run_ok(&app, &["user", "list"]).await;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{table}");
    let ada = lines.iter().find(|l| l.starts_with("ada ")).expect(&table);
    assert!(
        ada.contains(" UTC") && ada.contains(" no ") && ada.trim_end().ends_with(" 2"),
        "{ada}"
    );
    let demo = lines
        .iter()
        .find(|l| l.starts_with("user1 "))
        .expect(&table);
    assert!(
        demo.contains(" - ") && demo.contains(" yes "),
        "never logged in, locked: {demo}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&run_ok(&app, &["user", "list", "--json"]).await).unwrap();
    let accounts = json.as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    let ada = accounts.iter().find(|a| a["username"] == "ada").unwrap();
    assert_eq!(ada["sessions"], 2);
    assert_eq!(ada["locked"], false);
    assert!(ada["last_login_at"].as_i64().unwrap() >= ada["created_at"].as_i64().unwrap());
    let demo = accounts
        .iter()
        .find(|a| a["username"] == DEMO_USER)
        .unwrap();
    assert_eq!(demo["locked"], true);
    assert!(demo["last_login_at"].is_null());
    assert!(ada.get("id").is_none(), "row ids are not for display");
}

/// Lock ends every session at once and answers the right password as if it were wrong;
/// unlock lets the user in again and forgets the account's throttle count.
async fn lock_and_unlock(spawn: Spawn) {
    let app = TestApp::spawn_with(spawn).await;
    let a = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let b = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let wrong = app.login(DEMO_USER, "not the password", None).await;
    let (wrong_status, wrong_body) = (wrong.status(), wrong.text().await.unwrap());

    let out = run_ok(&app, &["user", "lock", DEMO_USER]).await;
    assert!(out.contains("ended 2 session(s)"), "{out}");
    for cookie in [&a, &b] {
        assert!(!app.sees_welcome(cookie, DEMO_USER).await);
    }
    let refused = app.login(DEMO_USER, DEMO_PASSWORD, None).await;
    assert_eq!(refused.status(), wrong_status);
    assert!(session_cookie(refused.headers()).is_none());
    assert_eq!(refused.text().await.unwrap(), wrong_body);
    assert!(
        app.log_lines(
            "event=\"login_locked\"",
            1,
            std::time::Duration::from_secs(5)
        )
        .await
    );

    // Failures pile up meanwhile (the lock's refusals count as failures)...
    for _ in 0..4 {
        app.login(DEMO_USER, "not the password", None).await;
    }
    assert_eq!(
        app.login(DEMO_USER, DEMO_PASSWORD, None).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // ... and unlocking forgets them.
    run_ok(&app, &["user", "unlock", DEMO_USER]).await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    assert!(app.sees_welcome(&cookie, DEMO_USER).await);
}

#[tokio::test]
async fn lock_and_unlock_on_sqlite() {
    lock_and_unlock(Spawn::default()).await;
}

#[tokio::test]
async fn lock_and_unlock_on_postgres() {
    let (url, schema) = postgres_schema().await;
    lock_and_unlock(Spawn {
        database: Some(url),
        ..Spawn::default()
    })
    .await;
    drop_postgres_schema(&schema).await;
}

#[tokio::test]
async fn lock_and_unlock_with_sessions_in_redis() {
    let (url, prefix) = redis_prefix().await;
    lock_and_unlock(Spawn {
        session_store: Some(url),
        ..Spawn::default()
    })
    .await;
    drop_redis_prefix(&prefix).await;
}

#[tokio::test]
async fn session_list_and_revoke_by_handle_or_all() {
    let app = TestApp::spawn().await;
    let first = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let second = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let third = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;

    let listed = run_ok(&app, &["session", "list", DEMO_USER]).await;
    let handles: Vec<&str> = listed
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(handles.len(), 3, "{listed}");
    run_ok(&app, &["session", "revoke", DEMO_USER, handles[0]]).await;
    let mut alive = 0;
    for cookie in [&first, &second, &third] {
        alive += usize::from(app.sees_welcome(cookie, DEMO_USER).await);
    }
    assert_eq!(alive, 2, "exactly the one session revoked");

    // A handle that is not the user's (any more) is an error, exit code 3.
    let out = app
        .cli(&["session", "revoke", DEMO_USER, handles[0]], "")
        .await;
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(
        out.stderr.contains("has no session with that handle"),
        "{}",
        out.stderr
    );

    let out = run_ok(&app, &["session", "revoke", DEMO_USER, "--all"]).await;
    assert!(out.contains("ended 2 session(s)"), "{out}");
    for cookie in [&first, &second, &third] {
        assert!(!app.sees_welcome(cookie, DEMO_USER).await);
    }
}

#[tokio::test]
async fn throttle_clear_by_account_by_address_or_all() {
    let app = app_with_limits(2, 4).await;
    let fail = |ip: &'static str, name: &'static str| {
        let client = app.client_at(ip);
        let url = app.url("/api/login");
        async move {
            client
                .post(url)
                .form(&[("username", name), ("password", "wrong")])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // "victim" is throttled as an account; 127.0.0.3 as an address (over several names).
    for _ in 0..2 {
        fail("127.0.0.2", "victim").await;
    }
    for name in ["a", "b", "c", "d"] {
        fail("127.0.0.3", name).await;
    }
    assert_eq!(
        fail("127.0.0.2", "victim").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(fail("127.0.0.3", "e").await, StatusCode::TOO_MANY_REQUESTS);

    run_ok(&app, &["throttle", "clear", "--account", "victim"]).await;
    assert_eq!(fail("127.0.0.2", "victim").await, StatusCode::UNAUTHORIZED);
    assert_eq!(fail("127.0.0.3", "e").await, StatusCode::TOO_MANY_REQUESTS);

    run_ok(&app, &["throttle", "clear", "--address", "127.0.0.3"]).await;
    assert_eq!(fail("127.0.0.3", "e").await, StatusCode::UNAUTHORIZED);

    fail("127.0.0.2", "victim").await;
    assert_eq!(
        fail("127.0.0.2", "victim").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let out = run_ok(&app, &["throttle", "clear"]).await;
    assert!(out.starts_with("cleared "), "{out}");
    assert_eq!(fail("127.0.0.2", "victim").await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn commands_fail_with_clear_messages_and_exit_codes() {
    let app = TestApp::spawn().await;
    // No such user: 3.
    for args in [
        &["user", "lock", "ghost"][..],
        &["user", "unlock", "ghost"],
        &["session", "list", "ghost"],
        &["session", "revoke", "ghost", "--all"],
    ] {
        let out = app.cli(args, "").await;
        assert_eq!(out.code, Some(3), "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("no user named \"ghost\""),
            "{}",
            out.stderr
        );
    }
    // Bad arguments: 2, before anything is opened.
    for args in [
        &["session", "revoke", DEMO_USER][..],
        &["throttle", "clear", "--address", "not-an-address"],
        &[
            "throttle",
            "clear",
            "--account",
            "a",
            "--address",
            "127.0.0.1",
        ],
        &["user", "frobnicate"],
    ] {
        let out = app.cli(args, "").await;
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
    }
    // A store that cannot be reached: 4, and said.
    let data = tempfile::tempdir().unwrap();
    for spawn in [
        Spawn {
            database: Some("postgres://postgres@127.0.0.1:1/test".into()),
            ..Spawn::default()
        },
        Spawn {
            session_store: Some("redis://127.0.0.1:1".into()),
            ..Spawn::default()
        },
    ] {
        let out = cli_with(data.path(), &spawn, &["user", "list"], "").await;
        assert_eq!(out.code, Some(4), "{}", out.stderr);
        assert!(out.stderr.contains("latchkey: error:"), "{}", out.stderr);
    }
}

#[tokio::test]
async fn an_installed_binary_needs_no_configuration_file() {
    // Somewhere else entirely: no Leptos.toml in the working directory, none named.
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], config: Option<&str>| {
        let mut cmd = std::process::Command::new(bin());
        cmd.current_dir(dir.path())
            .args(args)
            .env_remove("LATCHKEY_CONFIG")
            .env_remove("DATABASE_URL")
            .env_remove("SESSION_STORE_URL")
            .env_remove("LEPTOS_ENV")
            .env("RUST_LOG", "info");
        if let Some(c) = config {
            cmd.env("LATCHKEY_CONFIG", c);
        }
        cmd.output().unwrap()
    };
    let out = run(&["user", "list"], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.starts_with("NAME"), "{stdout}");
    assert!(stderr.contains("using the built-in defaults"), "{stderr}");
    // The built-in defaults' database: ./data/latchkey.db, here.
    assert!(dir.path().join("data/latchkey.db").exists());

    // A file named explicitly must exist.
    let out = run(&["user", "list"], Some("missing.toml"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing.toml"), "{stderr}");
}
