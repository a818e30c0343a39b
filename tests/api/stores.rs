//! Several instances sharing one session store (issue #4's groundwork: PostgreSQL).

use crate::helpers::*;
use std::sync::Arc;

#[tokio::test]
async fn two_instances_sharing_postgres_see_the_same_sessions() {
    let (store, schema) = postgres_schema().await;
    let data = Arc::new(tempfile::tempdir().unwrap()); // the shared users database
    let spawn = Spawn {
        session_store: Some(store),
        ..Spawn::default()
    };
    let a = TestApp::start(data.clone(), spawn.clone()).await;
    let b = TestApp::start(data, spawn).await;

    // Log in on A: welcome on B. Log out on B: A is anonymous at once.
    let cookie = a.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    assert!(b.sees_welcome(&cookie, DEMO_USER).await);
    b.logout(&cookie).await;
    assert!(!a.sees_welcome(&cookie, DEMO_USER).await);

    // Revoke on A: B is anonymous at once.
    let victim = b.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let me = a.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let res = a
        .post_form("/api/revoke_other_sessions", &[], &[("cookie", &me)])
        .await;
    assert_eq!(res.text().await.unwrap(), "1");
    assert!(!b.sees_welcome(&victim, DEMO_USER).await);
    assert!(b.sees_welcome(&me, DEMO_USER).await);
    // SQLite holds no sessions: they all went to PostgreSQL.
    assert_eq!(a.session_count().await, 0);
    for app in [&a, &b] {
        let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), reqwest::StatusCode::OK);
    }
    drop(a);
    drop(b);
    drop_postgres_schema(&schema).await;
}
