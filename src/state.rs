//! What every request handler can reach: configuration, database, session store, hasher.

use crate::auth::password::PasswordHasher;
use crate::auth::throttle::Throttle;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Database;
use crate::store::AnyStore;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Database,
    /// SQLite users database: same-thread reads for the per-request lookups.
    pub reader: Option<Arc<crate::db::SqliteReader>>,
    pub sessions: AnyStore,
    pub hasher: Arc<PasswordHasher>,
    pub throttle: Arc<Throttle>,
    pub clock: SharedClock,
    /// Rendered `GET /` pages, reassembled around a fresh nonce (see `server::page_cache`).
    pub pages: Arc<crate::server::page_cache::PageCache>,
    /// DEV only: the tutorial's demo account exists with its demo password, so the login page
    /// may show it.
    pub demo_login: bool,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.config.leptos.clone()
    }
}
