//! The file's shape: latchkey's own tables, with their defaults. Unknown keys are errors.

use super::SameSite;
use serde::Deserialize;
use std::path::PathBuf;

/// The app's tables. `package` is the Leptos table, parsed by `leptos_config`, so it is skipped here.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct FileConfig {
    #[serde(default, rename = "package")]
    _package: Option<toml::Value>,
    #[serde(default)]
    pub server: FileServer,
    #[serde(default)]
    pub session: FileSession,
    #[serde(default)]
    pub database: FileDatabase,
    #[serde(default)]
    pub security: FileSecurity,
    #[serde(default)]
    pub throttle: FileThrottle,
    #[serde(default)]
    pub metrics: FileMetrics,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub(super) struct FileMetrics {
    pub addr: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub(super) struct FileServer {
    pub public_url: String,
    pub header_read_timeout_seconds: u64,
    pub max_connections: usize,
}

impl Default for FileServer {
    fn default() -> Self {
        Self {
            public_url: String::new(),
            header_read_timeout_seconds: 20,
            max_connections: 10_000,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub(super) struct FileSession {
    pub cookie_name: String,
    pub lifetime_seconds: u64,
    pub idle_timeout_seconds: u64,
    pub signed: bool,
    pub signing_key_file: PathBuf,
    pub store: String,
    pub secure: SecureSetting,
    pub same_site: SameSite,
    pub cleanup_interval_seconds: u64,
    pub max_sessions_per_user: usize,
}

impl Default for FileSession {
    fn default() -> Self {
        Self {
            // Empty: chosen by whether the cookie is Secure (see `SessionConfig`).
            cookie_name: String::new(),
            lifetime_seconds: 24 * 3600,
            // OWASP's range for low-risk applications is 15-30 minutes of inactivity.
            idle_timeout_seconds: 30 * 60,
            signed: false,
            signing_key_file: "data/session.key".into(),
            store: String::new(),
            secure: SecureSetting::Auto,
            same_site: SameSite::Lax,
            cleanup_interval_seconds: 600,
            max_sessions_per_user: 100,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum SecureSetting {
    /// `Secure` everywhere except DEV (plain-HTTP development on localhost).
    Auto,
    Always,
    Never,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub(super) struct FileDatabase {
    pub url: String,
    pub max_connections: u32,
    pub timeout_ms: u64,
}

impl Default for FileDatabase {
    fn default() -> Self {
        Self {
            url: "sqlite://data/latchkey.db".into(),
            max_connections: 8,
            timeout_ms: super::DEFAULT_TIMEOUT.as_millis() as u64,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub(super) struct FileSecurity {
    pub max_concurrent_hashes: usize,
    pub max_queued_hashes: usize,
    pub max_body_bytes: usize,
    pub trusted_proxy_header: String,
    pub trusted_proxies: Vec<String>,
    pub sudo_seconds: u64,
    pub secrets_key_file: PathBuf,
}

impl Default for FileSecurity {
    fn default() -> Self {
        Self {
            // One hash per core keeps the CPU busy without queueing page requests behind hashes.
            max_concurrent_hashes: std::thread::available_parallelism().map_or(2, |n| n.get()),
            // At ~25 ms a hash on two cores, a full queue drains in under two seconds.
            max_queued_hashes: 64,
            max_body_bytes: 16 * 1024,
            trusted_proxy_header: String::new(),
            trusted_proxies: Vec::new(),
            // GitHub's sudo mode lasts a few hours; ten minutes keeps a borrowed session's
            // window small.
            sudo_seconds: 600,
            secrets_key_file: "data/secrets.key".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub(super) struct FileThrottle {
    pub window_seconds: u64,
    pub max_failures_per_account: u32,
    pub max_failures_per_address: u32,
    pub max_failures_per_device: u32,
}

impl Default for FileThrottle {
    fn default() -> Self {
        Self {
            window_seconds: 15 * 60,
            max_failures_per_account: 5,
            max_failures_per_address: 50,
            max_failures_per_device: 10,
        }
    }
}
