//! Several instances sharing one session store: PostgreSQL, Redis, and users on PostgreSQL too.

use crate::common::*;
use std::sync::Arc;

/// Two instances started with `spawn` (and one users database): what one does to a session,
/// the other sees at once.
async fn two_instances_share_sessions(spawn: Spawn) -> (TestApp, TestApp) {
    let data = Arc::new(tempfile::tempdir().unwrap()); // the users database, unless `spawn` names one
    let a = TestApp::start(data.clone(), spawn.clone()).await;
    let b = TestApp::start(data, spawn).await;

    // Log in on A: welcome on B. Log out on B: A is anonymous at once.
    let cookie = a.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    assert!(b.sees_welcome(&cookie, DEMO_USER).await);
    b.logout(&cookie).await;
    assert!(!a.sees_welcome(&cookie, DEMO_USER).await);

    // Revoke on A: B is anonymous at once; A's own session lives on, on both.
    let victim = b.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let me = a.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let res = a
        .post_form("/api/revoke_other_sessions", &[], &[("cookie", &me)])
        .await;
    assert_eq!(res.text().await.unwrap(), "1");
    assert!(!b.sees_welcome(&victim, DEMO_USER).await);
    assert!(b.sees_welcome(&me, DEMO_USER).await);
    for app in [&a, &b] {
        let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), reqwest::StatusCode::OK);
    }
    (a, b)
}

#[tokio::test]
async fn two_instances_sharing_postgres_see_the_same_sessions() {
    let (store, schema) = postgres_schema().await;
    let (a, b) = two_instances_share_sessions(Spawn {
        session_store: Some(store),
        ..Spawn::default()
    })
    .await;
    // SQLite holds no sessions: they all went to PostgreSQL.
    assert_eq!(a.session_count().await, 0);
    assert_eq!(postgres_count(&schema, "sessions").await, 1);
    drop((a, b));
    drop_postgres_schema(&schema).await;
}

#[tokio::test]
async fn two_instances_sharing_redis_see_the_same_sessions() {
    let (store, prefix) = redis_prefix().await;
    let (a, b) = two_instances_share_sessions(Spawn {
        session_store: Some(store),
        ..Spawn::default()
    })
    .await;
    assert_eq!(a.session_count().await, 0);
    // One live session (A's), user 1's index, and the copy of its password version.
    let mut keys = redis_keys_of(&prefix).await;
    keys.sort();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys[0].starts_with(&format!("{prefix}s:")), "{keys:?}");
    assert_eq!(keys[1..], [format!("{prefix}u:1"), format!("{prefix}v:1")]);
    drop((a, b));
    drop_redis_prefix(&prefix).await;
}

/// With sessions in Redis, a page reads its user's password version from Redis's copy, in the
/// same round trip as the session. A session that the revocation at a change of that version
/// missed (a login racing the change writes it after the revocation ran) must still die on
/// its next page, exactly as when the page asks the users database. Runs `latchkey ARGS` as
/// the change, restores the session as the racing login would, and checks it is refused;
/// returns the app and its Redis prefix.
async fn a_session_restored_after(args: &[&str], stdin: &str) -> (TestApp, String) {
    let (store, prefix) = redis_prefix().await;
    let app = TestApp::spawn_with(Spawn {
        session_store: Some(store),
        ..Spawn::default()
    })
    .await;
    let client = redis::Client::open(redis_base()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let copy = format!("{prefix}v:1");
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    assert!(app.sees_welcome(&cookie, DEMO_USER).await);
    let key = redis_keys_of(&prefix)
        .await
        .into_iter()
        .find(|k| k.starts_with(&format!("{prefix}s:")))
        .unwrap();
    let fields: Vec<(String, Vec<u8>)> = redis::cmd("HGETALL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        redis_get(&copy).await.as_deref(),
        Some("0"),
        "the login started the copy"
    );
    let out = app.cli(args, stdin).await;
    assert!(out.success, "{}", out.stderr);
    assert!(!app.sees_welcome(&cookie, DEMO_USER).await);
    assert_eq!(
        redis_get(&copy).await.as_deref(),
        Some("1"),
        "the change raised the copy"
    );

    // The racing login's write lands now: the session is back, made under the old version.
    let mut restore = redis::cmd("HSET");
    restore.arg(&key);
    for (field, value) in &fields {
        restore.arg(field).arg(value);
    }
    let () = restore.query_async(&mut conn).await.unwrap();
    assert!(
        !app.sees_welcome(&cookie, DEMO_USER).await,
        "a session made before the change must not be let in"
    );
    (app, prefix)
}

#[tokio::test]
async fn with_redis_a_session_that_outlives_a_password_change_dies_on_its_next_page() {
    let (app, prefix) =
        a_session_restored_after(&["user", "passwd", DEMO_USER], "a brand new password\n").await;
    let fresh = app.login_ok(DEMO_USER, "a brand new password").await;
    assert!(app.sees_welcome(&fresh, DEMO_USER).await);
    drop(app);
    drop_redis_prefix(&prefix).await;
}

#[tokio::test]
async fn with_redis_a_session_that_outlives_a_lock_dies_on_its_next_page() {
    let (app, prefix) = a_session_restored_after(&["user", "lock", DEMO_USER], "").await;
    drop(app);
    drop_redis_prefix(&prefix).await;
}

#[tokio::test]
async fn users_and_sessions_on_postgres_need_no_local_file() {
    let (url, schema) = postgres_schema().await;
    let (a, b) = two_instances_share_sessions(Spawn {
        database: Some(url.clone()),
        ..Spawn::default()
    })
    .await;
    assert_eq!(postgres_count(&schema, "users").await, 1);
    assert_eq!(postgres_count(&schema, "sessions").await, 1);
    assert!(!a.data.path().join("latchkey.db").exists());

    // The CLI manages users in PostgreSQL too; both instances see a new one at once.
    let spawn = Spawn {
        database: Some(url),
        ..Spawn::default()
    };
    let out = cli_with(
        a.data.path(),
        &spawn,
        &["user", "add", "ada"],
        "correct horse\n",
    )
    .await;
    assert!(out.success, "{}", out.stderr);
    let cookie = b.login_ok("ada", "correct horse").await;
    assert!(a.sees_welcome(&cookie, "ada").await);
    drop((a, b));
    drop_postgres_schema(&schema).await;
}
