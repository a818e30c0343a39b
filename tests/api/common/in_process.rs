//! The app served inside the test process, with a clock the test moves: for what takes time
//! (idle and absolute timeouts, throttle windows) without waiting for it.

use super::http::Site;
use super::process::config_text;
use latchkey::clock::ManualClock;
use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

pub struct InProcessApp {
    site: Site,
    clock: Arc<ManualClock>,
    task: tokio::task::JoinHandle<()>,
}

impl Deref for InProcessApp {
    type Target = Site;
    fn deref(&self) -> &Site {
        &self.site
    }
}

impl Drop for InProcessApp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl InProcessApp {
    /// Serves the app with `Leptos.toml` changed by `replacements` (DEV, fresh database,
    /// random port).
    pub async fn spawn(replacements: &[(&str, &str)]) -> Self {
        let data = Arc::new(tempfile::tempdir().unwrap());
        let url = format!("sqlite://{}/latchkey.db", data.path().display());
        // In-process servers are development servers (demo user), like `scripts/dev`.
        let mut all = vec![("env = \"PROD\"", "env = \"DEV\"")];
        all.extend_from_slice(replacements);
        let text = config_text(&all);
        let config = latchkey::config::Config::parse(&text, Path::new("Leptos.toml"), |key| {
            (key == "DATABASE_URL").then(|| url.clone())
        })
        .unwrap();
        let clock = Arc::new(ManualClock::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let local = listener.local_addr().unwrap();
        let (router, _) = latchkey::server::app(config, clock.clone(), local)
            .await
            .unwrap();
        let app = axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
            std::net::SocketAddr,
        >(router);
        let base = format!("http://{local}");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            site: Site::new(base, data),
            clock,
            task,
        }
    }

    /// The server's clock.
    pub fn clock(&self) -> &ManualClock {
        &self.clock
    }
}
