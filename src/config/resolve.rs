//! File + environment → [`Config`]: every value checked, every refusal naming its key. Pure (the
//! environment is a function), so it is unit-tested without touching the process.

use super::file::{FileConfig, SecureSetting};
use super::urls::{is_postgres, is_redis, scheme, RedisUrl};
use super::*;
use leptos::config::{Env, LeptosOptions};
use std::path::Path;

/// The shipped `Leptos.toml`, compiled in: an installed binary run away from the source folder
/// needs no file (`latchkey user list` on a server, say).
const BUILT_IN: &str = include_str!("../../Leptos.toml");
/// Looked for in the working directory when no file is named.
const DEFAULT_FILE: &str = "Leptos.toml";

impl Config {
    /// The configuration: the file named (`--config`, `LATCHKEY_CONFIG`), which must exist;
    /// else `Leptos.toml` in the working directory if there is one; else the built-in defaults,
    /// said in the log. Environment overrides apply to each.
    pub fn locate(named: Option<&Path>) -> Result<Self, ConfigError> {
        match named {
            Some(path) => Self::load(path),
            None if Path::new(DEFAULT_FILE).exists() => Self::load(Path::new(DEFAULT_FILE)),
            None => {
                tracing::info!(
                    "no configuration file named and no {DEFAULT_FILE} here: using the built-in defaults"
                );
                Self::parse(BUILT_IN, Path::new("(built-in defaults)"), |key| {
                    std::env::var(key).ok().filter(|v| !v.is_empty())
                })
            }
        }
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
        resolve(leptos, file, env)
    }
}

/// `Err` naming `key` unless `ok`.
fn ensure(
    ok: bool,
    key: &'static str,
    message: impl FnOnce() -> String,
) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Key {
            key,
            message: message(),
        })
    }
}

fn resolve(
    leptos: LeptosOptions,
    file: FileConfig,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let dev = matches!(leptos.env, Env::DEV);
    let session = session(file.session, dev)?;
    let database = database(file.database, &env)?;
    let store = store(
        env("SESSION_STORE_URL").unwrap_or(session.1),
        is_postgres(&database.url),
    )?;
    let sec = file.security;
    ensure(
        sec.max_concurrent_hashes > 0,
        "security.max-concurrent-hashes",
        || "must be at least 1".into(),
    )?;
    ensure(
        sec.max_body_bytes >= 1024,
        "security.max-body-bytes",
        || "must be at least 1024".into(),
    )?;
    let trusted_proxy_header =
        Some(sec.trusted_proxy_header.trim().to_ascii_lowercase()).filter(|h| !h.is_empty());
    if let Some(h) = &trusted_proxy_header {
        ensure(
            http::HeaderName::from_bytes(h.as_bytes()).is_ok(),
            "security.trusted-proxy-header",
            || format!("{h:?} is not a header name"),
        )?;
    }
    let mut trusted_proxies = Vec::new();
    for text in &sec.trusted_proxies {
        let net = text
            .parse::<ipnet::IpNet>()
            .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from));
        let Ok(net) = net else {
            return Err(ConfigError::Key {
                key: "security.trusted-proxies",
                message: format!("{text:?} is not an address or CIDR (e.g. \"10.0.0.0/8\")"),
            });
        };
        trusted_proxies.push(net);
    }
    ensure(
        trusted_proxy_header.is_none() || !trusted_proxies.is_empty(),
        "security.trusted-proxies",
        || "trusted-proxy-header is believed only from these proxies: list them".into(),
    )?;
    let t = file.throttle;
    ensure(
        t.window_seconds > 0
            && t.max_failures_per_account > 0
            && t.max_failures_per_address > 0
            && t.max_failures_per_device > 0,
        "throttle",
        || "window-seconds and the max-failures limits must be at least 1".into(),
    )?;
    ensure(
        (1..=3600).contains(&file.server.header_read_timeout_seconds),
        "server.header-read-timeout-seconds",
        || "must be 1 ..= 3600".into(),
    )?;
    ensure(
        file.server.max_connections > 0,
        "server.max-connections",
        || "must be at least 1".into(),
    )?;
    ensure(
        (1..=86_400).contains(&sec.sudo_seconds),
        "security.sudo-seconds",
        || "must be 1 ..= 86400".into(),
    )?;
    let metrics = env("LATCHKEY_METRICS_ADDR").unwrap_or(file.metrics.addr.clone());
    let metrics_addr = match metrics.trim() {
        "" => None,
        text => Some(text.parse().map_err(|_| ConfigError::Key {
            key: "metrics.addr",
            message: format!("{text:?} is not an address and port (e.g. \"127.0.0.1:9959\")"),
        })?),
    };
    let public_url = env("LATCHKEY_PUBLIC_URL").unwrap_or(file.server.public_url.clone());
    let public_origin = match public_url.trim() {
        "" => None,
        url => Some(origin(url)?),
    };
    Ok(Config {
        leptos,
        server: ServerConfig {
            public_origin,
            header_read_timeout: Duration::from_secs(file.server.header_read_timeout_seconds),
            max_connections: file.server.max_connections,
        },
        session: SessionConfig { store, ..session.0 },
        database,
        security: SecurityConfig {
            max_concurrent_hashes: sec.max_concurrent_hashes,
            max_queued_hashes: sec.max_queued_hashes,
            max_body_bytes: sec.max_body_bytes,
            trusted_proxy_header,
            trusted_proxies,
            session_key: env("LATCHKEY_SESSION_KEY"),
            sudo: Duration::from_secs(sec.sudo_seconds),
            secrets_key: env("LATCHKEY_SECRETS_KEY"),
            secrets_key_file: sec.secrets_key_file.clone(),
        },
        metrics_addr,
        throttle: ThrottleConfig {
            window: Duration::from_secs(t.window_seconds),
            max_failures_per_account: t.max_failures_per_account,
            max_failures_per_address: t.max_failures_per_address,
            max_failures_per_device: t.max_failures_per_device,
        },
        watch: env("LEPTOS_WATCH").is_some_and(|v| v == "true"),
    })
}

/// The `[session]` table, with the store still as text (it depends on the users database).
fn session(s: super::file::FileSession, dev: bool) -> Result<(SessionConfig, String), ConfigError> {
    let secure = match s.secure {
        SecureSetting::Auto => !dev,
        SecureSetting::Always => true,
        SecureSetting::Never => false,
    };
    let host_prefix = if secure { "__Host-" } else { "" };
    let name = match s.cookie_name.trim() {
        "" => format!("{host_prefix}latchkey_session"),
        name => name.to_owned(),
    };
    // RFC 6265 token characters only; anything else would be mangled by browsers.
    ensure(
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)),
        "session.cookie-name",
        || format!("{name:?} is not a valid cookie name (use letters, digits, '-', '_')"),
    )?;
    ensure(
        !name.starts_with("__Host-") || secure,
        "session.cookie-name",
        || {
            "a \"__Host-\" cookie requires session.secure = \"always\" (or \"auto\" outside DEV)"
                .into()
        },
    )?;
    ensure(
        (60..=400 * 24 * 3600).contains(&s.lifetime_seconds),
        "session.lifetime-seconds",
        || format!("{} is out of range (60 ..= 34560000)", s.lifetime_seconds),
    )?;
    ensure(
        s.idle_timeout_seconds >= 60,
        "session.idle-timeout-seconds",
        || format!("{} is too short (at least 60)", s.idle_timeout_seconds),
    )?;
    ensure(
        s.max_sessions_per_user > 0,
        "session.max-sessions-per-user",
        || "must be at least 1".into(),
    )?;
    ensure(
        s.cleanup_interval_seconds > 0,
        "session.cleanup-interval-seconds",
        || "must be at least 1".into(),
    )?;
    Ok((
        SessionConfig {
            cookie_name: name,
            device_cookie_name: format!("{host_prefix}latchkey_device"),
            lifetime: Duration::from_secs(s.lifetime_seconds),
            idle_timeout: Duration::from_secs(s.idle_timeout_seconds),
            signed: s.signed,
            signing_key_file: s.signing_key_file,
            store: StoreKind::UsersDatabase,
            secure,
            same_site: s.same_site,
            cleanup_interval: Duration::from_secs(s.cleanup_interval_seconds),
            max_per_user: s.max_sessions_per_user,
        },
        s.store,
    ))
}

fn database(
    db: super::file::FileDatabase,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<DatabaseConfig, ConfigError> {
    let url = env("DATABASE_URL").unwrap_or(db.url);
    ensure(
        url.starts_with("sqlite:") || is_postgres(&url),
        "database.url",
        || {
            format!(
                "unsupported database {:?} (expected sqlite://PATH or postgres://…)",
                scheme(&url)
            )
        },
    )?;
    ensure(db.max_connections > 0, "database.max-connections", || {
        "must be at least 1".into()
    })?;
    ensure(
        (100..=60_000).contains(&db.timeout_ms),
        "database.timeout-ms",
        || format!("{} is out of range (100 ..= 60000)", db.timeout_ms),
    )?;
    Ok(DatabaseConfig {
        url,
        max_connections: db.max_connections,
        timeout: Duration::from_millis(db.timeout_ms),
    })
}

/// The origin of `[server] public-url`: `http(s)://host[:port]`, nothing after it.
fn origin(text: &str) -> Result<String, ConfigError> {
    const KEY: &str = "server.public-url";
    let url = url::Url::parse(text).map_err(|e| ConfigError::Key {
        key: KEY,
        message: format!("{text:?} is not a URL: {e}"),
    })?;
    ensure(
        matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none()
            && url.username().is_empty(),
        KEY,
        || format!("{text:?}: expected http(s)://HOST[:PORT], nothing after it"),
    )?;
    Ok(url.origin().ascii_serialization())
}

/// `[session] store` / `SESSION_STORE_URL`.
fn store(text: String, users_in_postgres: bool) -> Result<StoreKind, ConfigError> {
    const KEY: &str = "session.store";
    match text.trim() {
        // Sessions live beside the users, in the users database.
        "" => Ok(StoreKind::UsersDatabase),
        "sqlite" => {
            ensure(!users_in_postgres, KEY, || {
                "a SQLite session store lives in the users database, which is PostgreSQL here; leave session.store empty".into()
            })?;
            Ok(StoreKind::UsersDatabase)
        }
        u if is_postgres(u) => Ok(StoreKind::Postgres(u.to_owned())),
        u if is_redis(u) => RedisUrl::parse(u)
            .map(StoreKind::Redis)
            .map_err(|message| ConfigError::Key { key: KEY, message }),
        u => Err(ConfigError::Key {
            key: KEY,
            message: format!(
                "unsupported session store {:?} (expected \"\" for the users database, postgres://… or redis://…)",
                scheme(u)
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(toml_text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
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
        resolve(leptos, file, |k| {
            env.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_match_the_tutorial_and_are_secure_outside_dev() {
        let c = resolved("", &[]).unwrap();
        assert_eq!(c.session.lifetime, Duration::from_secs(86400));
        assert!(c.session.secure);
        assert_eq!(c.session.same_site, SameSite::Lax);
        assert_eq!(c.database.url, "sqlite://data/latchkey.db");
    }

    #[test]
    fn database_url_env_overrides_the_file() {
        let c = resolved(
            "[database]\nurl = \"sqlite://a.db\"\n",
            &[("DATABASE_URL", "sqlite://b.db")],
        )
        .unwrap();
        assert_eq!(c.database.url, "sqlite://b.db");
    }

    #[test]
    fn the_session_store_follows_the_env_then_the_file() {
        let c = resolved("", &[]).unwrap();
        assert_eq!(c.session.store, StoreKind::UsersDatabase);
        let c = resolved(
            "[session]\nstore = \"postgres://db/s\"\n",
            &[("SESSION_STORE_URL", "redis://cache:6380/2?key_prefix=app1:")],
        )
        .unwrap();
        let StoreKind::Redis(redis) = &c.session.store else {
            panic!("{:?}", c.session.store)
        };
        assert_eq!(redis.key_prefix, "app1:");
        assert_eq!(redis.url, "redis://cache:6380/2");
        let c = resolved("", &[("DATABASE_URL", "postgresql://db/users")]).unwrap();
        assert_eq!(c.session.store, StoreKind::UsersDatabase);
        assert_eq!(c.database.url, "postgresql://db/users");
    }

    #[test]
    fn the_public_url_is_kept_as_an_origin() {
        let c = resolved(
            "",
            &[("LATCHKEY_PUBLIC_URL", "https://Login.Example.com:443/")],
        )
        .unwrap();
        assert_eq!(
            c.server.public_origin.as_deref(),
            Some("https://login.example.com")
        );
        assert_eq!(resolved("", &[]).unwrap().server.public_origin, None);
    }

    #[test]
    fn unknown_key_is_an_error_naming_it() {
        let err = resolved("[session]\nlifetime = 5\n", &[])
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
            ("[server]\npublic-url = \"ftp://x\"\n", "server.public-url"),
            (
                "[server]\npublic-url = \"https://x/login\"\n",
                "server.public-url",
            ),
        ] {
            let err = resolved(text, &[]).unwrap_err().to_string();
            assert!(err.contains(key), "{text}: {err}");
        }
        let err = resolved("[session]\nsame-site = \"none\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("same-site"), "{err}");
    }
}
