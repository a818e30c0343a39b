use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn user_add_creates_an_account_that_can_log_in() {
    let app = TestApp::spawn().await;
    let out = app
        .cli(&["user", "add", "alice"], "s3cret passphrase\n")
        .await;
    assert!(out.success, "{}", out.stderr);
    assert!(out.stdout.contains("created user \"alice\""));
    assert!(
        app.sees_welcome(&app.login_ok("alice", "s3cret passphrase").await, "alice")
            .await
    );
}

#[tokio::test]
async fn user_add_refuses_bad_input_with_clear_errors() {
    let data = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &["user", "add", "bad name"],
            "long enough pw\n",
            "may contain only",
        ),
        (&["user", "add", "bob"], "short\n", "at least 8 characters"),
        (&["user", "add", "bob"], "", "at least 8 characters"),
        (
            &["user", "passwd", "ghost"],
            "long enough pw\n",
            "no user named \"ghost\"",
        ),
    ];
    for (args, stdin, message) in cases {
        let out = cli(data.path(), args, stdin).await;
        assert!(!out.success, "{args:?} should fail");
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
    }
    let ok = cli(data.path(), &["user", "add", "bob"], "long enough pw\n").await;
    assert!(ok.success, "{}", ok.stderr);
    let dup = cli(data.path(), &["user", "add", "bob"], "long enough pw\n").await;
    assert!(
        !dup.success && dup.stderr.contains("already exists"),
        "{}",
        dup.stderr
    );
}

#[tokio::test]
async fn user_passwd_changes_the_password_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let a = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let b = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let out = app
        .cli(&["user", "passwd", DEMO_USER], "a brand new password\n")
        .await;
    assert!(out.success, "{}", out.stderr);
    assert!(out.stdout.contains("ended 2 session(s)"), "{}", out.stdout);
    for cookie in [&a, &b] {
        assert!(!app.sees_welcome(cookie, DEMO_USER).await);
    }
    assert_eq!(
        app.login(DEMO_USER, DEMO_PASSWORD, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.login_ok(DEMO_USER, "a brand new password").await;
}

#[tokio::test]
async fn user_delete_ends_every_session_at_once_and_ids_are_never_reused() {
    // Sessions in Redis: the user's sessions live in another store than the user.
    let (store, prefix) = redis_prefix().await;
    let app = TestApp::spawn_with(Spawn {
        session_store: Some(store),
        ..Spawn::default()
    })
    .await;
    for name in ["alice", "bob"] {
        assert!(
            app.cli(&["user", "add", name], "long enough pw\n")
                .await
                .success
        );
    }
    let cookie = app.login_ok("bob", "long enough pw").await;
    assert!(app.sees_welcome(&cookie, "bob").await);
    let out = app.cli(&["user", "delete", "bob"], "").await;
    assert!(out.success, "{}", out.stderr);
    assert!(out.stdout.contains("ended 1 session(s)"), "{}", out.stdout);
    assert!(!app.sees_welcome(&cookie, "bob").await);
    assert_eq!(
        app.login("bob", "long enough pw", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let again = app.cli(&["user", "delete", "bob"], "").await;
    assert!(!again.success && again.stderr.contains("no user named \"bob\""));

    // The highest id was bob's; the next user gets a new one, not bob's again.
    assert!(
        app.cli(&["user", "add", "carol"], "long enough pw\n")
            .await
            .success
    );
    let url = format!("sqlite://{}/latchkey.db", app.data.path().display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let ids: Vec<(String, i64)> = sqlx::query_as("SELECT username, id FROM users ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    let id = |n: &str| ids.iter().find(|(u, _)| u == n).unwrap().1;
    assert!(id("carol") > id("alice") + 1, "{ids:?}");
    drop_redis_prefix(&prefix).await;
}
