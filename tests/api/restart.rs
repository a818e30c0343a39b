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

/// The database lives in a folder only the server's user can enter, in files only it can
/// read: the database, its write-ahead log and its shared-memory file.
#[tokio::test]
async fn the_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let data = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let dir = data.path().join("private");
    let app = TestApp::start(
        data.clone(),
        Spawn {
            vars: vec![(
                "DATABASE_URL",
                format!("sqlite://{}/latchkey.db", dir.display()),
            )],
            ..Spawn::default()
        },
    )
    .await;
    app.login_ok(DEMO_USER, DEMO_PASSWORD).await; // a write: the WAL is in use
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        files += 1;
    }
    assert!(files >= 3, "the database, its WAL and its shm file");
}
