//! The real `latchkey` binary in a child process, on a random port with its own data
//! directory: what most black-box tests talk to. Its log is kept; it can be signalled,
//! stopped, crashed and restarted.

use super::http::Site;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// How the server under test is started.
#[derive(Clone)]
pub struct Spawn {
    pub env: &'static str,
    pub config: Option<PathBuf>,
    /// Where sessions live (`SESSION_STORE_URL`); `None`: the users database.
    pub session_store: Option<String>,
    /// The users database (`DATABASE_URL`); `None`: SQLite in the test's data directory.
    pub database: Option<String>,
    /// Another copy of the server binary to run (e.g. one with a `hash.txt` beside it).
    pub binary: Option<PathBuf>,
    /// More environment variables.
    pub vars: Vec<(&'static str, String)>,
}

impl Default for Spawn {
    fn default() -> Self {
        Self {
            env: "DEV",
            config: None,
            session_store: None,
            database: None,
            binary: None,
            vars: Vec::new(),
        }
    }
}

pub struct TestApp {
    site: Site,
    spawn: Spawn,
    child: Box<Child>,
    log: Arc<Mutex<Vec<String>>>,
    /// Changes whenever the log grows.
    lines: tokio::sync::watch::Receiver<()>,
    drain: tokio::task::JoinHandle<()>,
}

impl Deref for TestApp {
    type Target = Site;
    fn deref(&self) -> &Site {
        &self.site
    }
}

/// The project's `Leptos.toml` with `replacements` applied (each must match: a test whose
/// replacement silently missed would test the wrong configuration).
pub fn config_text(replacements: &[(&str, &str)]) -> String {
    let mut text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml")).unwrap();
    for (from, to) in replacements {
        assert!(text.contains(from), "Leptos.toml has no {from:?}");
        text = text.replace(from, to);
    }
    text
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_latchkey")
}

fn command(data: &Path, spawn: &Spawn) -> Command {
    // LATCHKEY_TEST_BIN: run the tests against another build (e.g. the release binary).
    let other = std::env::var_os("LATCHKEY_TEST_BIN").map(PathBuf::from);
    let binary = spawn.binary.clone().or(other);
    let mut cmd = Command::new(binary.as_deref().unwrap_or(Path::new(bin())));
    let database = (spawn.database.clone())
        .unwrap_or_else(|| format!("sqlite://{}/latchkey.db", data.display()));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("DATABASE_URL", database)
        .env("LEPTOS_ENV", spawn.env)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env_remove("LATCHKEY_CONFIG");
    if let Some(config) = &spawn.config {
        cmd.env("LATCHKEY_CONFIG", config);
    }
    match &spawn.session_store {
        Some(url) => cmd.env("SESSION_STORE_URL", url),
        None => cmd.env_remove("SESSION_STORE_URL"),
    };
    // Instances that share PostgreSQL or Redis must be given their secrets (they refuse to
    // make them up): the tests' instances share these.
    if spawn.session_store.is_some() || spawn.database.is_some() {
        cmd.env("LATCHKEY_SESSION_KEY", SHARED_TEST_KEY);
        cmd.env("LATCHKEY_SECRETS_KEY", SHARED_TEST_SECRETS_KEY);
    } else {
        cmd.env_remove("LATCHKEY_SESSION_KEY");
        cmd.env_remove("LATCHKEY_SECRETS_KEY");
    }
    cmd.envs(spawn.vars.iter().map(|(k, v)| (k, v)));
    cmd
}

/// The secret of test instances that share a store (base64 of 64 bytes).
pub const SHARED_TEST_KEY: &str =
    "dGVzdHMgb25seTogdGhlIHNlY3JldCBvZiBpbnN0YW5jZXMgdGhhdCBzaGFyZSBhIHN0b3JlLCA2NCBieXRlcw==";
/// Their secrets key (base64 of 64 bytes).
pub const SHARED_TEST_SECRETS_KEY: &str =
    "dGVzdHMgb25seTogdGhlIHNlY3JldHMga2V5IG9mIGluc3RhbmNlcyB0aGF0IHNoYXJlIGEgc3RvcmUsIDY0IA==";
pub struct CliOutput {
    pub success: bool,
    /// The exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `latchkey ARGS` against the database in `data`, feeding `stdin`.
pub async fn cli(data: &Path, args: &[&str], stdin: &str) -> CliOutput {
    cli_with(data, &Spawn::default(), args, stdin).await
}

/// [`cli`] with the databases `spawn` names.
pub async fn cli_with(data: &Path, spawn: &Spawn, args: &[&str], stdin: &str) -> CliOutput {
    let mut child = command(data, spawn)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run latchkey");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    CliOutput {
        success: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Spawn::default()).await
    }

    pub async fn spawn_with(spawn: Spawn) -> Self {
        let data = Arc::new(tempfile::tempdir().unwrap());
        Self::start(data, spawn).await
    }

    /// Starts the server on `data`; waits for its "listening on" line (no sleeping).
    pub async fn start(data: Arc<TempDir>, spawn: Spawn) -> Self {
        // The server logs to stderr (and prints nothing else).
        let mut child = command(data.path(), &spawn)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start latchkey");
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let base = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                log.lock().unwrap().push(line.clone());
                if let Some(addr) = line.split("listening on ").nth(1) {
                    return Some(addr.trim().to_string());
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        let Some(base) = base else {
            panic!("server did not start; its log: {:#?}", log.lock().unwrap());
        };
        // Keep draining the log so the server never blocks on a full pipe; say when it grows.
        let sink = log.clone();
        let (grew, grown) = tokio::sync::watch::channel(());
        let drain = tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
                grew.send_replace(());
            }
        });
        TestApp {
            site: Site::new(base, data),
            spawn,
            child: Box::new(child),
            log,
            lines: grown,
            drain,
        }
    }
    /// The server's log so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits (up to `limit`) until the log holds `count` lines containing `text`.
    pub async fn log_lines(&self, text: &str, count: usize, limit: Duration) -> bool {
        let seen = || self.log().iter().filter(|l| l.contains(text)).count() >= count;
        let mut grown = self.lines.clone();
        // Woken by the drain task at every new line (and at its end, when the log is final).
        tokio::time::timeout(limit, grown.wait_for(|_| seen()))
            .await
            .is_ok_and(|r| r.is_ok())
            || seen()
    }

    /// The server process's resident memory, in MB.
    pub fn rss_mb(&self) -> u64 {
        let pid = self.child.id().expect("the server is running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap();
        kb / 1024
    }

    /// Sends `signal` (`TERM`, `KILL`, …) to the server process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("the server is running");
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the server process to exit; returns its status, data and whole log.
    pub async fn exited(mut self) -> (std::process::ExitStatus, Arc<TempDir>, Vec<String>) {
        let status = self.child.wait().await.unwrap();
        // The drain ends at EOF, so after this the log is complete.
        (&mut self.drain).await.unwrap();
        let log = std::mem::take(&mut *self.log.lock().unwrap());
        (status, self.site.data.clone(), log)
    }

    /// Stops the server with SIGTERM (graceful; it must exit 0) and returns its whole log.
    pub async fn stop(self) -> (Arc<TempDir>, Vec<String>) {
        self.signal("TERM");
        let (status, data, log) = self.exited().await;
        assert!(
            status.success(),
            "graceful shutdown should exit 0, got {status}"
        );
        (data, log)
    }

    /// Stops the server gracefully and starts it again on the same data.
    pub async fn restart(self) -> Self {
        let spawn = self.spawn.clone();
        let (data, _) = self.stop().await;
        Self::start(data, spawn).await
    }

    /// Kills the server (`kill -9`: no shutdown code runs) and starts it again on the same data.
    pub async fn crash_and_restart(self) -> Self {
        let spawn = self.spawn.clone();
        self.signal("KILL");
        let (status, data, _) = self.exited().await;
        assert!(!status.success());
        Self::start(data, spawn).await
    }
}

impl TestApp {
    /// Runs `latchkey ARGS` on this app's databases (its session store included).
    pub async fn cli(&self, args: &[&str], stdin: &str) -> CliOutput {
        cli_with(self.data.path(), &self.spawn, args, stdin).await
    }
}

impl Site {
    /// Runs `latchkey ARGS` on this app's database.
    pub async fn cli(&self, args: &[&str], stdin: &str) -> CliOutput {
        cli(self.data.path(), args, stdin).await
    }
}
