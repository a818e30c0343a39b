//! Configuration: `Leptos.toml` + environment → one typed, validated [`Config`].
//!
//! Read once at start-up and passed down; nothing deeper in the app reads the environment.
//! Leptos's own options come from the file's first table, `[package.metadata.leptos]`, with the
//! usual `LEPTOS_*` overrides (via `leptos_config`). Our tables follow it (`[session]`,
//! `[database]`, `[security]`) and are parsed here with unknown keys rejected, so a typo is a
//! start-up error that names the key instead of a silently ignored setting.
//!
//! The bottom layer: imports nothing from the crate. `file` is the file's shape, `resolve`
//! checks it, `urls` knows the database and store URLs;
//! `Config::load` and `Config::parse` live in `resolve`.

mod file;
mod resolve;
pub mod urls;

pub use urls::RedisUrl;

use leptos::config::{Env, LeptosOptions};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// Default of `[database] timeout-ms`: the budget of one PostgreSQL or Redis operation.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(1500);

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration in {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("invalid configuration: {key}: {message}")]
    Key { key: &'static str, message: String },
}

/// Everything the server needs, resolved and checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub leptos: LeptosOptions,
    pub server: ServerConfig,
    pub session: SessionConfig,
    pub database: DatabaseConfig,
    pub security: SecurityConfig,
    pub throttle: ThrottleConfig,
    /// Where Prometheus scrapes (`[metrics] addr` / `LATCHKEY_METRICS_ADDR`); `None`: off.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Running under `cargo leptos watch` (live reload): the CSP must allow its WebSocket.
    pub watch: bool,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The site's public origin (`https://login.example.com`), from `[server] public-url` /
    /// `LATCHKEY_PUBLIC_URL`: what requests must come from (CSRF) and whether to send HSTS.
    /// `None`: the listen address (`http://…`, and `localhost` for a loopback one).
    pub public_origin: Option<String>,
    /// A connection that has not sent a request's headers within this is closed (slow
    /// senders, and idle keep-alive connections).
    pub header_read_timeout: Duration,
    /// Open connections at most; one more gets a 503 and is closed.
    pub max_connections: usize,
}

#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Default: `__Host-latchkey_session` when the cookie is `Secure` (no sibling subdomain
    /// can plant or overwrite it), `latchkey_session` where it is not (DEV over plain HTTP).
    pub cookie_name: String,
    /// The device cookie (see `auth::device`), named by the same rule.
    pub device_cookie_name: String,
    /// How long a login lasts (absolute, from the moment of login). The tutorial's `maxAge`.
    pub lifetime: Duration,
    /// A session unused this long ends (server-side), even before `lifetime`.
    pub idle_timeout: Duration,
    /// Sign the cookie (HMAC) with a key from `LATCHKEY_SESSION_KEY` or `signing_key_file`.
    pub signed: bool,
    pub signing_key_file: PathBuf,
    /// Where sessions live.
    pub store: StoreKind,
    pub secure: bool,
    pub same_site: SameSite,
    /// A user's live sessions at most; a new login ends the oldest.
    pub max_per_user: usize,
    /// How often expired session records are purged from the store.
    pub cleanup_interval: Duration,
}

/// The session store `[session] store` / `SESSION_STORE_URL` chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKind {
    /// The users database (SQLite or PostgreSQL), the default.
    UsersDatabase,
    /// A PostgreSQL database of its own.
    Postgres(String),
    Redis(RedisUrl),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SameSite {
    Lax,
    Strict,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: String,
    pub max_connections: u32,
    /// PostgreSQL and Redis: the longest one operation may take, waiting for a connection
    /// included; beyond it the request gets a 503.
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct SecurityConfig {
    /// At most this many Argon2 hashes run at once (each holds 19 MiB); further logins queue.
    pub max_concurrent_hashes: usize,
    /// At most this many logins wait for a hashing thread; beyond, 503 + `Retry-After` at once.
    pub max_queued_hashes: usize,
    /// Request bodies larger than this are refused (413) before anything reads them.
    pub max_body_bytes: usize,
    /// Behind a reverse proxy: the header carrying the client address (its last entry is
    /// used, the one our proxy appended). Empty: the TCP peer address, headers ignored.
    pub trusted_proxy_header: Option<String>,
    /// The proxies whose header is believed (CIDRs); from any other peer it is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The base64 signing key from `LATCHKEY_SESSION_KEY`, if set.
    pub session_key: Option<String>,
    /// Sudo mode: sensitive changes (password, passkeys, ending other sessions) need the user
    /// to have proved who they are (password or passkey) within this long.
    pub sudo: Duration,
    /// Seals the two-step secrets at rest: from `LATCHKEY_SECRETS_KEY` (base64), else this
    /// file (generated if missing, unless the store is shared).
    pub secrets_key: Option<String>,
    pub secrets_key_file: PathBuf,
}

#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    pub window: Duration,
    /// Failures allowed per account to clients without a device cookie for it.
    pub max_failures_per_account: u32,
    pub max_failures_per_address: u32,
    /// Failures allowed per device cookie (a browser that has logged in as the account).
    pub max_failures_per_device: u32,
}

impl Config {
    /// Whether other instances may share this one's stores (PostgreSQL or Redis): they must
    /// then share its secret too.
    pub fn shares_stores(&self) -> bool {
        urls::is_postgres(&self.database.url) || self.session.store != StoreKind::UsersDatabase
    }

    /// `true` in development: demo user, non-`Secure` cookie by default.
    pub fn is_dev(&self) -> bool {
        matches!(self.leptos.env, Env::DEV)
    }
}
