//! What every request handler can reach: configuration, database, session store, hasher,
//! throttle and clock, opened once from the configuration.

use crate::auth::demo;
use crate::auth::device::DeviceCookies;
use crate::auth::passkey::RelyingParty;
use crate::auth::password::PasswordHasher;
use crate::auth::secret::Secret;
use crate::auth::throttle::Throttle;
use crate::auth::two_step::TwoStepKeys;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Database;
use crate::error::BoxError;
use crate::store::AnyStore;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Cloned for every request (axum's `State`, the Leptos context): one reference count to
/// bump, not one per field (`perf` showed the field-by-field clone and drop, with the session
/// store's, at ~5% of a logged-in page view).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub config: Arc<Config>,
    pub db: Database,
    pub sessions: AnyStore,
    pub hasher: Arc<PasswordHasher>,
    pub throttle: Arc<Throttle>,
    pub clock: SharedClock,
    /// Signs cookies; keys the throttle's and the device cookies' MACs.
    pub secret: Secret,
    pub devices: DeviceCookies,
    /// DEV only: the tutorial's demo account exists with its demo password, so the login page
    /// may show it.
    pub demo_login: bool,
    /// Passkeys, where the site has a host name to be their relying party (see
    /// [`AppState::open_for_serving`]); `None`: the pages offer none.
    pub passkeys: Option<RelyingParty>,
    /// Seals two-step secrets and keys the recovery codes' hashes (from the secrets key).
    pub two_step: TwoStepKeys,
}

impl AppState {
    /// Opens the database and the session store (the CLI's user commands use this as is).
    pub async fn open(config: Config, clock: SharedClock) -> Result<Self, BoxError> {
        // A secret several instances must share cannot be made up by one of them.
        let secret = Secret::load_or_create(
            "LATCHKEY_SESSION_KEY",
            config.security.session_key.as_deref(),
            &config.session.signing_key_file,
            !config.shares_stores(),
        )?;
        let secrets = Secret::load_or_create(
            "LATCHKEY_SECRETS_KEY",
            config.security.secrets_key.as_deref(),
            &config.security.secrets_key_file,
            !config.shares_stores(),
        )?;
        let db = Database::connect(&config.database).await?;
        let sessions =
            AnyStore::open(&config.session.store, &db, &config.database, clock.clone()).await?;
        let hasher = PasswordHasher::new(
            config.security.max_concurrent_hashes,
            config.security.max_queued_hashes,
        )?;
        let throttle = Throttle::new(config.throttle.clone(), clock.clone(), db.clone(), &secret);
        Ok(Self(Arc::new(Shared {
            config: Arc::new(config),
            db,
            sessions,
            hasher,
            throttle: Arc::new(throttle),
            clock,
            devices: DeviceCookies::new(&secret),
            secret,
            demo_login: false,
            passkeys: None,
            two_step: TwoStepKeys::new(&secrets),
        })))
    }

    /// [`Self::open`] for serving: in DEV, the demo user (and whether to show it); in PROD, a
    /// refusal while it still has the public password. Passkeys work on `passkey_origin`
    /// (the site's public URL, or `http://localhost:PORT` in development), if it has a host
    /// name: WebAuthn refuses IP addresses.
    pub async fn open_for_serving(
        config: Config,
        clock: SharedClock,
        passkey_origin: Option<&str>,
    ) -> Result<Self, BoxError> {
        let mut state = Self::open(config, clock).await?;
        let shown = demo::prepare(state.config.is_dev(), &state.db, &state.hasher).await?;
        let passkeys = passkey_origin.and_then(|origin| match RelyingParty::new(origin) {
            Ok(rp) => Some(rp),
            Err(why) => {
                tracing::warn!("passkeys are off: {why}");
                None
            }
        });
        if let Some(shared) = Arc::get_mut(&mut state.0) {
            shared.demo_login = shown;
            shared.passkeys = passkeys;
        }
        Ok(state)
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
