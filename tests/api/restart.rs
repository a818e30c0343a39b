use crate::common::*;

#[tokio::test]
async fn sessions_survive_a_server_restart() {
    let app = TestApp::spawn().await;
    let cookie = app.login_ok(DEMO_USER, DEMO_PASSWORD).await;
    let app = app.restart().await;
    assert!(app.sees_welcome(&cookie, DEMO_USER).await);
    // And logging out after the restart still works.
    app.logout(&cookie).await;
    assert!(!app.sees_welcome(&cookie, DEMO_USER).await);
}
