use crate::common::*;
use std::process::Stdio;

#[tokio::test]
async fn invalid_configuration_stops_start_up_with_an_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (bad, key) in [
        (
            "lifetime-seconds = 86400",
            "lifetime-seconds = 5",
            "session.lifetime-seconds",
        ),
        (
            "same-site = \"lax\"",
            "same-site = \"sometimes\"",
            "same-site",
        ),
        (
            "max-connections = 8",
            "max-conections = 8",
            "max-conections",
        ),
    ]
    // `config_text` fails the test if a replacement no longer matches the file.
    .map(|(from, to, key)| (config_text(&[(from, to)]), key))
    {
        let path = dir.path().join("Leptos.toml");
        std::fs::write(&path, bad).unwrap();
        let run = tokio::process::Command::new(bin())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("LATCHKEY_CONFIG", &path)
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/x.db", dir.path().display()),
            )
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output();
        // A server that started anyway would serve forever: that is a failure, not a hang.
        let out = tokio::time::timeout(std::time::Duration::from_secs(60), run)
            .await
            .unwrap_or_else(|_| panic!("started with a bad {key}"))
            .unwrap();
        assert!(!out.status.success(), "started with a bad {key}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(key),
            "error for {key} does not name it: {stderr}"
        );
    }
}
