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

/// Cloned for every request (axum's `State`, the page cache's middleware, the Leptos context):
/// one reference count to bump, not one per field (`perf` showed the field-by-field clone and
/// drop, with the session store's, at ~5% of a logged-in page view).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Clone)]
pub struct Shared {
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

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }

    /// The same state with the demo login shown or not (set once, before serving).
    pub fn with_demo_login(mut self, shown: bool) -> Self {
        Arc::make_mut(&mut self.0).demo_login = shown;
        self
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.config.leptos.clone()
    }
}
