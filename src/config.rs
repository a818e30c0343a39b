//! Configuration: `Leptos.toml` + environment → one typed, validated [`Config`].
//!
//! Read once at start-up and passed down; nothing deeper in the app reads the environment.
//! Leptos's own options come from the file's first table, `[package.metadata.leptos]`, with the
//! usual `LEPTOS_*` overrides (via `leptos_config`). Our tables follow it (`[session]`,
//! `[database]`, `[security]`) and are parsed here with unknown keys rejected, so a typo is a
//! start-up error that names the key instead of a silently ignored setting.

use leptos::config::{Env, LeptosOptions};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    pub session: SessionConfig,
    pub database: DatabaseConfig,
    pub security: SecurityConfig,
    pub throttle: ThrottleConfig,
    /// Running under `cargo leptos watch` (live reload): the CSP must allow its WebSocket.
    pub watch: bool,
}

#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub cookie_name: String,
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
    Redis(crate::store::RedisUrl),
}

/// A URL's scheme, for error messages that must not echo credentials.
fn scheme(url: &str) -> &str {
    url.split("://").next().unwrap_or(url)
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
    /// Request bodies larger than this are refused (413) before anything reads them.
    pub max_body_bytes: usize,
    /// Behind a reverse proxy: the header carrying the client address (its last entry is
    /// used, the one our proxy appended). Empty: the TCP peer address, headers ignored.
    pub trusted_proxy_header: Option<String>,
    /// The base64 signing key from `LATCHKEY_SESSION_KEY`, if set.
    pub session_key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    pub window: Duration,
    pub max_failures_per_account: u32,
    pub max_failures_per_address: u32,
}

impl Config {
    /// `true` in development: demo user, non-`Secure` cookie by default.
    pub fn is_dev(&self) -> bool {
        matches!(self.leptos.env, Env::DEV)
    }

    /// Loads `path` (normally `Leptos.toml`) and applies environment overrides.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path, |key| {
            std::env::var(key).ok().filter(|v| !v.is_empty())
        })
    }

    /// Parses configuration text; `env` supplies the non-Leptos overrides (`DATABASE_URL`, …).
    pub fn parse(
        text: &str,
        path: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let leptos =
            leptos::config::get_config_from_str(text).map_err(|e| ConfigError::Invalid {
                path: path.to_owned(),
                message: format!("[package.metadata.leptos]: {e}"),
            })?;
        let file: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Self::resolve(leptos, file, env)
    }

    /// Pure resolution step, separate from I/O so that it can be unit-tested.
    fn resolve(
        leptos: LeptosOptions,
        file: FileConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let dev = matches!(leptos.env, Env::DEV);
        let s = file.session;

        let secure = match s.secure {
            SecureSetting::Auto => !dev,
            SecureSetting::Always => true,
            SecureSetting::Never => false,
        };
        let cookie_name = s.cookie_name;
        // RFC 6265 token characters only; anything else would be mangled by browsers.
        if cookie_name.is_empty()
            || !cookie_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        {
            return Err(ConfigError::Key {
                key: "session.cookie-name",
                message: format!(
                    "{cookie_name:?} is not a valid cookie name (use letters, digits, '-', '_')"
                ),
            });
        }
        if cookie_name.starts_with("__Host-") && !secure {
            return Err(ConfigError::Key {
                key: "session.cookie-name",
                message: "a \"__Host-\" cookie requires session.secure = \"always\" (or \"auto\" outside DEV)".into(),
            });
        }
        if s.lifetime_seconds < 60 || s.lifetime_seconds > 400 * 24 * 3600 {
            return Err(ConfigError::Key {
                key: "session.lifetime-seconds",
                message: format!("{} is out of range (60 ..= 34560000)", s.lifetime_seconds),
            });
        }
        if s.idle_timeout_seconds < 60 {
            return Err(ConfigError::Key {
                key: "session.idle-timeout-seconds",
                message: format!("{} is too short (at least 60)", s.idle_timeout_seconds),
            });
        }
        if s.cleanup_interval_seconds == 0 {
            return Err(ConfigError::Key {
                key: "session.cleanup-interval-seconds",
                message: "must be at least 1".into(),
            });
        }

        let db = file.database;
        let url = env("DATABASE_URL").unwrap_or(db.url);
        let users_in_postgres = crate::db::is_postgres(&url);
        if !url.starts_with("sqlite:") && !users_in_postgres {
            return Err(ConfigError::Key {
                key: "database.url",
                message: format!(
                    "unsupported database {:?} (expected sqlite://PATH or postgres://…)",
                    scheme(&url)
                ),
            });
        }
        let store = env("SESSION_STORE_URL").unwrap_or(s.store);
        let store = match store.trim() {
            // Sessions live beside the users, in the users database.
            "" | "sqlite" => {
                if store.trim() == "sqlite" && users_in_postgres {
                    return Err(ConfigError::Key {
                        key: "session.store",
                        message: "a SQLite session store lives in the users database, which is PostgreSQL here; leave session.store empty".into(),
                    });
                }
                StoreKind::UsersDatabase
            }
            u if crate::db::is_postgres(u) => StoreKind::Postgres(u.to_owned()),
            u if u.starts_with("redis://") || u.starts_with("rediss://") => {
                StoreKind::Redis(crate::store::RedisUrl::parse(u).map_err(|message| {
                    ConfigError::Key {
                        key: "session.store",
                        message,
                    }
                })?)
            }
            u => {
                return Err(ConfigError::Key {
                    key: "session.store",
                    message: format!(
                        "unsupported session store {:?} (expected \"\" for the users database, postgres://… or redis://…)",
                        scheme(u)
                    ),
                })
            }
        };
        if db.max_connections == 0 {
            return Err(ConfigError::Key {
                key: "database.max-connections",
                message: "must be at least 1".into(),
            });
        }
        if !(100..=60_000).contains(&db.timeout_ms) {
            return Err(ConfigError::Key {
                key: "database.timeout-ms",
                message: format!("{} is out of range (100 ..= 60000)", db.timeout_ms),
            });
        }
        let sec = file.security;
        if sec.max_concurrent_hashes == 0 {
            return Err(ConfigError::Key {
                key: "security.max-concurrent-hashes",
                message: "must be at least 1".into(),
            });
        }
        if sec.max_body_bytes < 1024 {
            return Err(ConfigError::Key {
                key: "security.max-body-bytes",
                message: "must be at least 1024".into(),
            });
        }
        let trusted_proxy_header =
            Some(sec.trusted_proxy_header.trim().to_ascii_lowercase()).filter(|h| !h.is_empty());
        if let Some(h) = &trusted_proxy_header {
            if http::HeaderName::from_bytes(h.as_bytes()).is_err() {
                return Err(ConfigError::Key {
                    key: "security.trusted-proxy-header",
                    message: format!("{h:?} is not a header name"),
                });
            }
        }
        let t = file.throttle;
        if t.window_seconds == 0
            || t.max_failures_per_account == 0
            || t.max_failures_per_address == 0
        {
            return Err(ConfigError::Key {
                key: "throttle",
                message: "window-seconds and the max-failures limits must be at least 1".into(),
            });
        }

        Ok(Config {
            leptos,
            session: SessionConfig {
                cookie_name,
                lifetime: Duration::from_secs(s.lifetime_seconds),
                idle_timeout: Duration::from_secs(s.idle_timeout_seconds),
                signed: s.signed,
                signing_key_file: s.signing_key_file,
                store,
                secure,
                same_site: s.same_site,
                cleanup_interval: Duration::from_secs(s.cleanup_interval_seconds),
            },
            database: DatabaseConfig {
                url,
                max_connections: db.max_connections,
                timeout: Duration::from_millis(db.timeout_ms),
            },
            security: SecurityConfig {
                max_concurrent_hashes: sec.max_concurrent_hashes,
                max_body_bytes: sec.max_body_bytes,
                trusted_proxy_header,
                session_key: env("LATCHKEY_SESSION_KEY"),
            },
            throttle: ThrottleConfig {
                window: Duration::from_secs(t.window_seconds),
                max_failures_per_account: t.max_failures_per_account,
                max_failures_per_address: t.max_failures_per_address,
            },
            watch: env("LEPTOS_WATCH").is_some_and(|v| v == "true"),
        })
    }
}

// ---- the file's shape -------------------------------------------------------------------------

/// The app's tables. `package` is the Leptos table, parsed by `leptos_config`, so it is skipped here.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileConfig {
    #[serde(default, rename = "package")]
    _package: Option<toml::Value>,
    #[serde(default)]
    session: FileSession,
    #[serde(default)]
    database: FileDatabase,
    #[serde(default)]
    security: FileSecurity,
    #[serde(default)]
    throttle: FileThrottle,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
struct FileSession {
    cookie_name: String,
    lifetime_seconds: u64,
    idle_timeout_seconds: u64,
    signed: bool,
    signing_key_file: PathBuf,
    store: String,
    secure: SecureSetting,
    same_site: SameSite,
    cleanup_interval_seconds: u64,
}

impl Default for FileSession {
    fn default() -> Self {
        Self {
            cookie_name: "latchkey_session".into(),
            lifetime_seconds: 24 * 3600,
            // OWASP's range for low-risk applications is 15-30 minutes of inactivity.
            idle_timeout_seconds: 30 * 60,
            signed: false,
            signing_key_file: "data/session.key".into(),
            store: String::new(),
            secure: SecureSetting::Auto,
            same_site: SameSite::Lax,
            cleanup_interval_seconds: 600,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SecureSetting {
    /// `Secure` everywhere except DEV (plain-HTTP development on localhost).
    Auto,
    Always,
    Never,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
struct FileDatabase {
    url: String,
    max_connections: u32,
    timeout_ms: u64,
}

impl Default for FileDatabase {
    fn default() -> Self {
        Self {
            url: "sqlite://data/latchkey.db".into(),
            max_connections: 8,
            timeout_ms: 1500,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
struct FileSecurity {
    max_concurrent_hashes: usize,
    max_body_bytes: usize,
    trusted_proxy_header: String,
}

impl Default for FileSecurity {
    fn default() -> Self {
        Self {
            // One hash per core keeps the CPU busy without queueing page requests behind hashes.
            max_concurrent_hashes: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_body_bytes: 16 * 1024,
            trusted_proxy_header: String::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
struct FileThrottle {
    window_seconds: u64,
    max_failures_per_account: u32,
    max_failures_per_address: u32,
}

impl Default for FileThrottle {
    fn default() -> Self {
        Self {
            window_seconds: 15 * 60,
            max_failures_per_account: 5,
            max_failures_per_address: 50,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(toml_text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let text = format!(
            "[package.metadata.leptos]\noutput-name = \"latchkey\"\nenv = \"PROD\"\n{toml_text}"
        );
        let leptos = leptos::config::get_config_from_str(&text).unwrap();
        let file: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: "test".into(),
            message: e.to_string(),
        })?;
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::resolve(leptos, file, |k| {
            env.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_match_the_tutorial_and_are_secure_outside_dev() {
        let c = resolve("", &[]).unwrap();
        assert_eq!(c.session.lifetime, Duration::from_secs(86400));
        assert!(c.session.secure);
        assert_eq!(c.session.same_site, SameSite::Lax);
        assert_eq!(c.database.url, "sqlite://data/latchkey.db");
    }

    #[test]
    fn database_url_env_overrides_the_file() {
        let c = resolve(
            "[database]\nurl = \"sqlite://a.db\"\n",
            &[("DATABASE_URL", "sqlite://b.db")],
        )
        .unwrap();
        assert_eq!(c.database.url, "sqlite://b.db");
    }

    #[test]
    fn the_session_store_follows_the_env_then_the_file() {
        let c = resolve("", &[]).unwrap();
        assert_eq!(c.session.store, StoreKind::UsersDatabase);
        let c = resolve(
            "[session]\nstore = \"postgres://db/s\"\n",
            &[("SESSION_STORE_URL", "redis://cache:6380/2?key_prefix=app1:")],
        )
        .unwrap();
        let StoreKind::Redis(redis) = &c.session.store else {
            panic!("{:?}", c.session.store)
        };
        assert_eq!(redis.key_prefix, "app1:");
        assert_eq!(redis.url, "redis://cache:6380/2");
        let c = resolve("", &[("DATABASE_URL", "postgresql://db/users")]).unwrap();
        assert_eq!(c.session.store, StoreKind::UsersDatabase);
        assert_eq!(c.database.url, "postgresql://db/users");
    }

    #[test]
    fn unknown_key_is_an_error_naming_it() {
        let err = resolve("[session]\nlifetime = 5\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("lifetime"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("[session]\ncookie-name = \"a b\"\n", "session.cookie-name"),
            (
                "[session]\nlifetime-seconds = 1\n",
                "session.lifetime-seconds",
            ),
            (
                "[session]\nsecure = \"never\"\ncookie-name = \"__Host-x\"\n",
                "session.cookie-name",
            ),
            ("[database]\nurl = \"mysql://x\"\n", "database.url"),
            ("[session]\nstore = \"memcached://x\"\n", "session.store"),
            ("[database]\ntimeout-ms = 5\n", "database.timeout-ms"),
            (
                "[session]\nstore = \"redis://h/0?key_prefix=a*b\"\n",
                "session.store",
            ),
            (
                "[session]\nstore = \"sqlite\"\n[database]\nurl = \"postgres://db/x\"\n",
                "session.store",
            ),
            (
                "[security]\nmax-concurrent-hashes = 0\n",
                "security.max-concurrent-hashes",
            ),
        ] {
            let err = resolve(text, &[]).unwrap_err().to_string();
            assert!(err.contains(key), "{text}: {err}");
        }
        let err = resolve("[session]\nsame-site = \"none\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("same-site"), "{err}");
    }
}
