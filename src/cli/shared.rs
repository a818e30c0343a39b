//! What the commands share (a leaf: the commands import it, it imports none of them).

use crate::clock::SystemClock;
use crate::config::Config;
use crate::error::BoxError;
use crate::state::AppState;
use std::sync::Arc;

/// The app's state on the configured databases, as the server would open it.
pub async fn open(config: Config) -> Result<AppState, BoxError> {
    // Say which database: with no configuration file, the built-in defaults' SQLite file is
    // relative to the working directory, perhaps not the server's.
    tracing::info!(
        users = %crate::config::urls::redact(&config.database.url),
        "opening the databases"
    );
    AppState::open(config, Arc::new(SystemClock)).await
}

/// A unix time for people: `2026-12-02 05:36 UTC`, or `-` for none.
pub fn when(unix: Option<i64>) -> String {
    unix.map_or_else(|| "-".into(), crate::api::service::sessions::format_time)
}
