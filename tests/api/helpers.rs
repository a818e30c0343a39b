use latchkey::clock::ManualClock;
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{redirect, Client, StatusCode};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

pub const DEMO_USER: &str = "user1";
pub const DEMO_PASSWORD: &str = "mypassword";
pub const COOKIE: &str = "latchkey_session";

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
    pub base: String,
    pub client: Client,
    pub data: Arc<TempDir>,
    server: Server,
}

/// The server under test: the real binary in a child process, or (when a test must control
/// time) the same router served in-process with a [`ManualClock`].
enum Server {
    Process {
        spawn: Spawn,
        child: Box<Child>,
        log: Arc<Mutex<Vec<String>>>,
        drain: tokio::task::JoinHandle<()>,
    },
    InProcess {
        clock: Arc<ManualClock>,
        task: tokio::task::JoinHandle<()>,
    },
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Server::InProcess { task, .. } = &self.server {
            task.abort();
        }
    }
}

/// The project's `Leptos.toml` with `replacements` applied (each must match).
pub fn config_text(replacements: &[(&str, &str)]) -> String {
    let mut text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml")).unwrap();
    for (from, to) in replacements {
        assert!(text.contains(from), "Leptos.toml has no {from:?}");
        text = text.replace(from, to);
    }
    text
}

fn client() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// A parsed `Set-Cookie` header.
#[derive(Debug, Clone)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    pub attrs: Vec<(String, Option<String>)>,
}

impl SetCookie {
    pub fn attr(&self, name: &str) -> Option<Option<&str>> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }
    pub fn has(&self, name: &str) -> bool {
        self.attr(name).is_some()
    }
    /// `name=value`, as a browser would send it back.
    pub fn pair(&self) -> String {
        format!("{}={}", self.name, self.value)
    }
    /// True if this header deletes the cookie.
    pub fn is_removal(&self) -> bool {
        self.value.is_empty() || self.attr("Max-Age").flatten() == Some("0")
    }
}

pub fn set_cookies(headers: &HeaderMap) -> Vec<SetCookie> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| {
            let mut parts = v.to_str().unwrap().split(';').map(str::trim);
            let (name, value) = parts.next().unwrap().split_once('=').unwrap();
            let attrs = parts
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (p.to_string(), None),
                })
                .collect();
            SetCookie {
                name: name.into(),
                value: value.into(),
                attrs,
            }
        })
        .collect()
}

/// The session cookie a response sets, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<SetCookie> {
    set_cookies(headers).into_iter().find(|c| c.name == COOKIE)
}

/// The visible text of an HTML page: tags and hydration markers removed, whitespace collapsed.
pub fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_latchkey")
}

fn command(data: &Path, spawn: &Spawn) -> Command {
    let mut cmd = Command::new(spawn.binary.as_deref().unwrap_or(Path::new(bin())));
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
    cmd.envs(spawn.vars.iter().map(|(k, v)| (k, v)));
    cmd
}

/// A fresh schema in the test PostgreSQL (`LATCHKEY_TEST_POSTGRES_URL`, default: this
/// project's machines' `postgres://postgres@127.0.0.1:5432/test`); returns a URL that uses it
/// and the schema's name (for [`drop_postgres_schema`]).
pub async fn postgres_schema() -> (String, String) {
    let base = postgres_base();
    let admin = sqlx::PgPool::connect(&base).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is not reachable at {base} ({e}): start one, or point LATCHKEY_TEST_POSTGRES_URL at one")
    });
    let schema = format!(
        "lk_e2e_{}",
        &latchkey::store::handle(&tower_sessions::session::Id::default())[..12]
    );
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    (
        format!("{base}{sep}options=-csearch_path%3D{schema}"),
        schema,
    )
}

/// Rows in `schema.table` of the test PostgreSQL.
pub async fn postgres_count(schema: &str, table: &str) -> i64 {
    let admin = sqlx::PgPool::connect(&postgres_base()).await.unwrap();
    let n = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {schema}.{table}"))
        .fetch_one(&admin)
        .await
        .unwrap();
    admin.close().await;
    n
}

fn postgres_base() -> String {
    std::env::var("LATCHKEY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub async fn drop_postgres_schema(schema: &str) {
    let base = postgres_base();
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}

/// A Redis URL under a fresh key prefix on the test Redis (`LATCHKEY_TEST_REDIS_URL`, default:
/// this project's machines' `redis://127.0.0.1:6379`); [`drop_redis_prefix`] removes its keys.
pub async fn redis_prefix() -> (String, String) {
    let base = redis_base();
    let prefix = format!(
        "lk_e2e_{}:",
        &latchkey::store::handle(&tower_sessions::session::Id::default())[..12]
    );
    // Fail here, clearly, rather than in a server's start-up.
    redis_keys(&base, &prefix).await;
    (format!("{base}?key_prefix={prefix}"), prefix)
}

fn redis_base() -> String {
    std::env::var("LATCHKEY_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The keys under `prefix` on the test Redis.
pub async fn redis_keys_of(prefix: &str) -> Vec<String> {
    redis_keys(&redis_base(), prefix).await
}

/// The keys under `prefix`.
pub async fn redis_keys(base: &str, prefix: &str) -> Vec<String> {
    let client = redis::Client::open(base).unwrap();
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| {
            panic!("Redis is not reachable at {base} ({e}): start one, or point LATCHKEY_TEST_REDIS_URL at one")
        });
    redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap()
}

pub async fn drop_redis_prefix(prefix: &str) {
    let base = redis_base();
    let keys = redis_keys(&base, prefix).await;
    if !keys.is_empty() {
        let client = redis::Client::open(base).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let _: () = redis::cmd("DEL")
            .arg(keys)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

pub struct CliOutput {
    pub success: bool,
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
        let mut child = command(data.path(), &spawn)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start latchkey");
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
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
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = tokio::io::AsyncReadExt::read_to_string(&mut e, &mut stderr).await;
            }
            panic!(
                "server did not start.\nstdout: {:?}\nstderr: {stderr}",
                log.lock().unwrap()
            );
        };
        // Keep draining the log so the server never blocks on a full pipe.
        let sink = log.clone();
        let drain = tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        TestApp {
            base,
            client: client(),
            data,
            server: Server::Process {
                spawn,
                child: Box::new(child),
                log,
                drain,
            },
        }
    }

    /// Serves the app in this process with a controllable clock and `Leptos.toml` changed by
    /// `replacements` (DEV, fresh database, random port).
    pub async fn spawn_in_process(replacements: &[(&str, &str)]) -> Self {
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
        let state = latchkey::server::open_for_serving(config, clock.clone())
            .await
            .unwrap();
        let app = latchkey::server::router(state)
            .unwrap()
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TestApp {
            base,
            client: client(),
            data,
            server: Server::InProcess { clock, task },
        }
    }

    /// The clock of an in-process server.
    pub fn clock(&self) -> &ManualClock {
        match &self.server {
            Server::InProcess { clock, .. } => clock,
            Server::Process { .. } => panic!("only in-process servers have a manual clock"),
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> Vec<String> {
        match &self.server {
            Server::Process { log, .. } => log.lock().unwrap().clone(),
            Server::InProcess { .. } => Vec::new(),
        }
    }

    /// Waits (up to `limit`) until the log holds `count` lines containing `text`.
    pub async fn log_lines(&self, text: &str, count: usize, limit: Duration) -> bool {
        let seen = || self.log().iter().filter(|l| l.contains(text)).count() >= count;
        tokio::time::timeout(limit, async {
            while !seen() {
                // The drain task appends as the server writes; look again shortly.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .is_ok()
    }

    /// Sends `signal` (`TERM`, `KILL`, …) to the server process.
    pub fn signal(&self, signal: &str) {
        let Server::Process { child, .. } = &self.server else {
            panic!("signal() is for process servers");
        };
        let pid = child.id().expect("the server is running");
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the server process to exit; returns its status, data and whole log.
    pub async fn exited(mut self) -> (std::process::ExitStatus, Arc<TempDir>, Vec<String>) {
        let Server::Process {
            child, log, drain, ..
        } = &mut self.server
        else {
            panic!("exited() is for process servers");
        };
        let status = child.wait().await.unwrap();
        // The drain ends at EOF, so after this the log is complete.
        drain.await.unwrap();
        let log = std::mem::take(&mut *log.lock().unwrap());
        (status, self.data.clone(), log)
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

    fn spawn_settings(&self) -> Spawn {
        let Server::Process { spawn, .. } = &self.server else {
            panic!("restart() is for process servers");
        };
        spawn.clone()
    }

    /// Stops the server gracefully and starts it again on the same data.
    pub async fn restart(self) -> Self {
        let spawn = self.spawn_settings();
        let (data, _) = self.stop().await;
        Self::start(data, spawn).await
    }

    /// Kills the server (`kill -9`: no shutdown code runs) and starts it again on the same data.
    pub async fn crash_and_restart(self) -> Self {
        let spawn = self.spawn_settings();
        self.signal("KILL");
        let (status, data, _) = self.exited().await;
        assert!(!status.success());
        Self::start(data, spawn).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// POSTs a form with extra headers (a cookie, a forwarded address, a browser's Accept, …).
    pub async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).form(form);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send().await.unwrap()
    }

    /// The visible text of the page at `url` (absolute, e.g. a redirect's Location).
    pub async fn page_text(&self, url: &str) -> String {
        self.page_text_as(url, None).await
    }

    /// [`Self::page_text`] as the holder of `cookie` sees it.
    pub async fn page_text_as(&self, url: &str, cookie: Option<&str>) -> String {
        let mut req = self.client.get(url);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        text(&req.send().await.unwrap().text().await.unwrap())
    }

    /// The server function as the hydrated page calls it (a JSON client).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url("/api/login"))
            .form(&[("username", username), ("password", password)]);
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        req.send().await.unwrap()
    }

    /// Logs in and returns the `name=value` cookie pair to send back.
    pub async fn login_ok(&self, username: &str, password: &str) -> String {
        let res = self.login(username, password, None).await;
        assert_eq!(res.status(), StatusCode::OK);
        session_cookie(res.headers())
            .expect("login sets the session cookie")
            .pair()
    }

    pub async fn logout(&self, cookie: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/logout"))
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    /// GET `/`, optionally with a cookie; returns the response headers and the page's text.
    pub async fn home(&self, cookie: Option<&str>) -> (StatusCode, HeaderMap, String) {
        let mut req = self.client.get(self.url("/"));
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        (status, headers, res.text().await.unwrap())
    }

    /// Whether `/` shows the welcome for `user`.
    pub async fn sees_welcome(&self, cookie: &str, user: &str) -> bool {
        let (status, _, html) = self.home(Some(cookie)).await;
        assert_eq!(status, StatusCode::OK);
        text(&html).contains(&format!("Welcome, {user}"))
    }

    /// Number of session records in the store (read straight from the SQLite file).
    pub async fn session_count(&self) -> i64 {
        let url = format!("sqlite://{}/latchkey.db", self.data.path().display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let n = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    }

    pub async fn cli(&self, args: &[&str], stdin: &str) -> CliOutput {
        cli(self.data.path(), args, stdin).await
    }
}
