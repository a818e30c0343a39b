use crate::helpers::*;
use std::process::Stdio;

#[tokio::test]
async fn invalid_configuration_stops_start_up_with_an_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let leptos_toml =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml")).unwrap();
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
    .map(|(from, to, key)| (leptos_toml.replace(from, to), key))
    {
        let path = dir.path().join("Leptos.toml");
        std::fs::write(&path, bad).unwrap();
        let out = tokio::process::Command::new(bin())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("LATCHKEY_CONFIG", &path)
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/x.db", dir.path().display()),
            )
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .await
            .unwrap();
        assert!(!out.status.success(), "started with a bad {key}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(key),
            "error for {key} does not name it: {stderr}"
        );
    }
}
