//! The typed session: the one place that knows which keys a session holds and when it ends.
//!
//! A logged-in session holds the user id (under [`USER_ID_KEY`], which the store indexes) and an
//! [`AuthData`] record. Two deadlines apply, both checked here on every access:
//! - absolute: `lifetime` after login (the cookie's Max-Age is the same instant);
//! - idle: `idle_timeout` after the last request that used the session. Activity moves it, but
//!   never past the absolute deadline. `seen` is rewritten at most once per
//!   [`Deadlines::touch`] seconds (a minute, or a tenth of a shorter idle timeout, so that
//!   activity always counts), so an active user costs one store write a minute, not one per
//!   request.

use crate::clock::SharedClock;
use crate::config::SessionConfig;
use crate::error::AppError;
use crate::store::{PASSWORD_VERSION_NOW, USER_ID_KEY};
use serde::{Deserialize, Serialize};
use tower_sessions::{Expiry, Session};

const AUTH_KEY: &str = "auth";
/// Granularity of the idle clock, in seconds, for idle timeouts of ten minutes or more.
const TOUCH_EVERY: i64 = 60;
const MAX_USER_AGENT_CHARS: usize = 256;

/// The user a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub id: i64,
    pub name: String,
    /// The user's password version when this session logged in.
    pub password_version: i64,
}

/// What a logged-in session records besides the user id (all times are unix seconds).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthData {
    pub name: String,
    pub created: i64,
    pub seen: i64,
    #[serde(default)]
    pub user_agent: Option<String>,
    #[serde(default)]
    pub password_version: i64,
    /// How the session signed in.
    #[serde(default)]
    pub method: Method,
    /// When the user last proved who they are in this session (signing in, or confirming
    /// with a password or passkey): sudo mode lasts `[security] sudo-seconds` from it.
    #[serde(default)]
    pub verified_at: i64,
}

/// How a session signed in (the sessions page shows it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    #[default]
    Password,
    Passkey,
    /// A password, then an authenticator-app or recovery code.
    TwoStep,
}

/// A WebAuthn ceremony in progress: its state is kept in the session between its two
/// requests (never sent to the client), and taken out by the second, so it serves once.
#[derive(Debug, Clone, Copy)]
pub enum Ceremony {
    /// Signing in with a passkey (anonymous session).
    SignIn,
    /// Adding a passkey (logged in).
    Register,
    /// Confirming a logged-in user with a passkey (sudo mode).
    Confirm,
}

impl Ceremony {
    fn key(self) -> &'static str {
        match self {
            Ceremony::SignIn => "webauthn_sign_in",
            Ceremony::Register => "webauthn_register",
            Ceremony::Confirm => "webauthn_confirm",
        }
    }
}

/// How long a ceremony's state is kept: the browser's own timeout is 5 minutes.
pub const CEREMONY_SECONDS: i64 = 300;

const SECOND_STEP_KEY: &str = "second_step";
const FRESH_CODES_KEY: &str = "fresh_recovery_codes";
/// How long a login may wait for its second step (the code) after the right password.
pub const SECOND_STEP_SECONDS: i64 = 300;

/// A login halfway: the password was right, the code is still to come. The session is not
/// logged in (no user id), so every page and server function treats it as anonymous.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondStep {
    pub user_id: i64,
    pub name: String,
    pub password_version: i64,
    /// When the first step ended; the second must come within [`SECOND_STEP_SECONDS`].
    pub at: i64,
}

impl AuthData {
    pub fn from_record(
        data: &std::collections::HashMap<String, serde_json::Value>,
    ) -> Option<Self> {
        serde_json::from_value(data.get(AUTH_KEY)?.clone()).ok()
    }
}

/// Deadlines, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    pub idle: i64,
    pub absolute: i64,
    /// How often activity is recorded: never more than a tenth of `idle`, or a user active
    /// every minute could still time out (an idle timeout of 60 s with a 60 s granularity
    /// ends every session a minute after login).
    pub touch: i64,
}

impl Deadlines {
    pub fn from_config(config: &SessionConfig) -> Self {
        Self::new(
            config.idle_timeout.as_secs() as i64,
            config.lifetime.as_secs() as i64,
        )
    }

    pub fn new(idle: i64, absolute: i64) -> Self {
        Self {
            idle,
            absolute,
            touch: (idle / 10).clamp(1, TOUCH_EVERY),
        }
    }

    /// Whether a session with `data` is still alive at `now`, and if not, why not.
    pub fn check(&self, data: &AuthData, now: i64) -> Result<(), &'static str> {
        if now >= data.created + self.absolute {
            Err("absolute")
        } else if now >= data.seen + self.idle {
            Err("idle")
        } else {
            Ok(())
        }
    }
}

pub struct AuthSession {
    session: Session,
    clock: SharedClock,
    deadlines: Deadlines,
}

impl AuthSession {
    pub fn new(session: Session, clock: SharedClock, deadlines: Deadlines) -> Self {
        Self {
            session,
            clock,
            deadlines,
        }
    }

    /// The session's own id, if it has one in the store.
    pub fn id(&self) -> Option<tower_sessions::session::Id> {
        self.session.id()
    }

    /// The logged-in user, if any; ends the session if a deadline has passed. Loads the record
    /// lazily: a request without a cookie never touches the store.
    pub async fn user(&self) -> Result<Option<SessionUser>, AppError> {
        let Some(id) = self.session.get::<i64>(USER_ID_KEY).await? else {
            return Ok(None);
        };
        let Some(mut data) = self.session.get::<AuthData>(AUTH_KEY).await? else {
            return Ok(None);
        };
        let now = self.clock.unix();
        if let Err(reason) = self.deadlines.check(&data, now) {
            tracing::info!(
                event = "session_expired",
                user_id = id,
                reason,
                "session expired"
            );
            metrics::counter!("latchkey_sessions_expired_total", "reason" => reason).increment(1);
            self.session.flush().await?;
            return Ok(None);
        }
        if now - data.seen >= self.deadlines.touch {
            data.seen = now;
            self.session.insert(AUTH_KEY, &data).await?;
            // The session layer saves it on the way out, as an update only: a session deleted
            // meanwhile stays deleted.
            self.pin_expiry(&data)?;
        }
        Ok(Some(SessionUser {
            id,
            name: data.name,
            password_version: data.password_version,
        }))
    }

    /// The user's current password version, if the store read it along with this session
    /// (`Some(None)`: the user no longer exists); `None` if it did not.
    pub async fn password_version_now(&self) -> Option<Option<i64>> {
        self.session
            .get::<Option<i64>>(PASSWORD_VERSION_NOW)
            .await
            .ok()
            .flatten()
    }

    /// Binds the session to `user` under a brand-new id (no fixation: whatever id the browser
    /// brought is deleted), valid until the absolute deadline.
    pub async fn log_in(
        &self,
        user: &SessionUser,
        user_agent: Option<&str>,
        method: Method,
    ) -> Result<(), AppError> {
        let now = self.clock.unix();
        self.session.cycle_id().await?;
        self.session.clear().await;
        self.session.insert(USER_ID_KEY, user.id).await?;
        let data = AuthData {
            name: user.name.clone(),
            created: now,
            seen: now,
            user_agent: user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect()),
            password_version: user.password_version,
            method,
            verified_at: now,
        };
        self.session.insert(AUTH_KEY, &data).await?;
        self.pin_expiry(&data)
    }

    /// Whether the logged-in user proved who they are within the last `seconds` (sudo mode).
    pub async fn verified_within(&self, seconds: i64) -> Result<bool, AppError> {
        let data = self.session.get::<AuthData>(AUTH_KEY).await?;
        Ok(data.is_some_and(|d| self.clock.unix() < d.verified_at + seconds))
    }

    /// Records that the logged-in user has just proved who they are again (sudo mode).
    pub async fn mark_verified(&self) -> Result<(), AppError> {
        let Some(mut data) = self.session.get::<AuthData>(AUTH_KEY).await? else {
            return Err(AppError::Unauthenticated);
        };
        data.verified_at = self.clock.unix();
        self.session.insert(AUTH_KEY, &data).await?;
        self.pin_expiry(&data)
    }

    /// Keeps a ceremony's state until its second request. A session with nobody logged in
    /// (signing in with a passkey) is then stored for the ceremony's few minutes only.
    pub async fn begin_ceremony<T: Serialize>(
        &self,
        ceremony: Ceremony,
        state: &T,
    ) -> Result<(), AppError> {
        let now = self.clock.unix();
        self.session.insert(ceremony.key(), (now, state)).await?;
        match self.session.get::<AuthData>(AUTH_KEY).await? {
            Some(data) => self.pin_expiry(&data),
            None => self.expire_at(now + CEREMONY_SECONDS),
        }
    }

    /// Takes a ceremony's state out of the session (it serves once); `None` if there is none,
    /// or it is older than [`CEREMONY_SECONDS`].
    pub async fn take_ceremony<T: serde::de::DeserializeOwned>(
        &self,
        ceremony: Ceremony,
    ) -> Result<Option<T>, AppError> {
        let taken = self
            .session
            .remove::<(i64, T)>(ceremony.key())
            .await
            .ok()
            .flatten();
        match (self.session.get::<AuthData>(AUTH_KEY).await?, &taken) {
            (Some(data), _) => self.pin_expiry(&data)?,
            // Nobody logged in: what is left of the session ends when the ceremony would have.
            (None, Some((at, _))) => {
                self.expire_at(at + CEREMONY_SECONDS)?;
            }
            (None, None) => {}
        }
        let now = self.clock.unix();
        Ok(taken
            .filter(|(at, _)| now < at + CEREMONY_SECONDS)
            .map(|(_, state)| state))
    }

    /// The password was right and a code is still needed: the session (under a new id, so that
    /// nobody who planted the old one shares it) waits for the code for
    /// [`SECOND_STEP_SECONDS`], and is stored no longer than that.
    pub async fn begin_second_step(&self, user: &SessionUser) -> Result<(), AppError> {
        let now = self.clock.unix();
        self.session.cycle_id().await?;
        self.session.clear().await;
        let step = SecondStep {
            user_id: user.id,
            name: user.name.clone(),
            password_version: user.password_version,
            at: now,
        };
        self.session.insert(SECOND_STEP_KEY, &step).await?;
        self.expire_at(now + SECOND_STEP_SECONDS)
    }

    /// The login waiting for its code in this session, if any and still in time. (Not taken
    /// out: a wrong code may be retried; [`log_in`](Self::log_in) clears it.)
    pub async fn second_step(&self) -> Result<Option<SecondStep>, AppError> {
        let Some(step) = self.session.get::<SecondStep>(SECOND_STEP_KEY).await? else {
            return Ok(None);
        };
        if self.clock.unix() >= step.at + SECOND_STEP_SECONDS {
            self.session.flush().await?;
            return Ok(None);
        }
        // Every save sets the expiry again (see `pin_expiry`).
        self.expire_at(step.at + SECOND_STEP_SECONDS)?;
        Ok(Some(step))
    }

    /// Keeps new recovery codes (sealed) for the next page, which shows them once: how a form
    /// posted without JavaScript gets to see them.
    pub async fn keep_fresh_codes(&self, sealed: &str) -> Result<(), AppError> {
        self.session.insert(FRESH_CODES_KEY, sealed).await?;
        self.repin().await
    }

    /// Takes what [`keep_fresh_codes`](Self::keep_fresh_codes) kept, if anything.
    pub async fn take_fresh_codes(&self) -> Result<Option<String>, AppError> {
        let taken = self.session.remove::<String>(FRESH_CODES_KEY).await?;
        if taken.is_some() {
            self.repin().await?;
        }
        Ok(taken)
    }

    /// Sets a logged-in session's expiry again before it is saved.
    async fn repin(&self) -> Result<(), AppError> {
        match self.session.get::<AuthData>(AUTH_KEY).await? {
            Some(data) => self.pin_expiry(&data),
            None => Ok(()),
        }
    }

    /// Keeps the user logged in under a new id after a password change, now bound to the new
    /// password version.
    pub async fn renew(&self, password_version: i64) -> Result<(), AppError> {
        let data = self.session.get::<AuthData>(AUTH_KEY).await?;
        self.session.cycle_id().await?;
        let Some(mut data) = data else {
            return Ok(());
        };
        data.password_version = password_version;
        // What the store read at the start of this request is out of date now.
        let _ = self.session.remove_value(PASSWORD_VERSION_NOW).await;
        self.session.insert(AUTH_KEY, &data).await?;
        self.pin_expiry(&data)
    }

    /// tower-sessions keeps a per-session expiry only for the request that set it; every save
    /// must set it again, or the record and the cookie fall back to the layer's default.
    fn pin_expiry(&self, data: &AuthData) -> Result<(), AppError> {
        self.expire_at(data.created + self.deadlines.absolute)
    }

    /// This session's record and cookie end at unix time `at`.
    fn expire_at(&self, at: i64) -> Result<(), AppError> {
        let end = time::OffsetDateTime::from_unix_timestamp(at).map_err(|_| AppError::Internal)?;
        self.session.set_expiry(Some(Expiry::AtDateTime(end)));
        Ok(())
    }

    /// Deletes the server-side record; the session layer then expires the cookie.
    pub async fn log_out(&self) -> Result<(), AppError> {
        self.session.flush().await.map_err(AppError::from)
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(err: tower_sessions::session::Error) -> Self {
        tracing::error!(error = %err, "session store failure");
        match err {
            tower_sessions::session::Error::Store(_) => AppError::Unavailable,
            _ => AppError::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use std::sync::Arc;

    /// After a password change the session is bound to the new version; the old version the
    /// store read at the start of the request must not log it out later in that request.
    #[tokio::test]
    async fn renew_forgets_the_password_version_read_with_the_session() {
        let f = crate::store::suite::sqlite().await;
        let session = Session::new(None, Arc::new(f.store.clone()), None);
        let auth = AuthSession::new(
            session.clone(),
            Arc::new(SystemClock),
            Deadlines::new(1800, 86400),
        );
        let user = SessionUser {
            id: 7,
            name: "user7".into(),
            password_version: 0,
        };
        auth.log_in(&user, None, Method::Password).await.unwrap();
        // As the store leaves it after reading the session at the start of a request.
        session.insert(PASSWORD_VERSION_NOW, Some(0)).await.unwrap();
        assert_eq!(auth.password_version_now().await, Some(Some(0)));

        auth.renew(1).await.unwrap();
        assert_eq!(auth.password_version_now().await, None);
        assert_eq!(auth.user().await.unwrap().unwrap().password_version, 1);
        f.finish().await;
    }

    /// A ceremony's state serves once, only its own kind, and not after five minutes.
    #[tokio::test]
    async fn a_ceremony_serves_once_and_not_after_five_minutes() {
        let f = crate::store::suite::sqlite().await;
        let clock = Arc::new(crate::clock::ManualClock::default());
        let session = Session::new(None, Arc::new(f.store.clone()), None);
        let auth = AuthSession::new(session, clock.clone(), Deadlines::new(1800, 86400));
        let take = |ceremony| auth.take_ceremony::<String>(ceremony);

        auth.begin_ceremony(Ceremony::SignIn, &"state")
            .await
            .unwrap();
        assert_eq!(take(Ceremony::Register).await.unwrap(), None);
        assert_eq!(
            take(Ceremony::SignIn).await.unwrap().as_deref(),
            Some("state")
        );
        assert_eq!(take(Ceremony::SignIn).await.unwrap(), None);

        auth.begin_ceremony(Ceremony::Confirm, &"late")
            .await
            .unwrap();
        clock.advance(std::time::Duration::from_secs(CEREMONY_SECONDS as u64));
        assert_eq!(take(Ceremony::Confirm).await.unwrap(), None);
        f.finish().await;
    }

    /// A login waiting for its code is not a login, has a new id, and lapses after five
    /// minutes; completing it clears it.
    #[tokio::test]
    async fn a_login_halfway_is_not_a_login_and_lapses() {
        let f = crate::store::suite::sqlite().await;
        let clock = Arc::new(crate::clock::ManualClock::default());
        let session = Session::new(None, Arc::new(f.store.clone()), None);
        session.insert("planted", 1).await.unwrap();
        session.save().await.unwrap();
        let planted = session.id();
        let auth = AuthSession::new(session.clone(), clock.clone(), Deadlines::new(1800, 86400));
        let user = SessionUser {
            id: 7,
            name: "user7".into(),
            password_version: 3,
        };
        auth.begin_second_step(&user).await.unwrap();
        assert_ne!(session.id(), planted, "a new id");
        assert_eq!(auth.user().await.unwrap(), None, "not logged in");
        let step = auth.second_step().await.unwrap().unwrap();
        assert_eq!((step.user_id, step.password_version), (7, 3));

        auth.log_in(&user, None, Method::Password).await.unwrap();
        assert_eq!(
            auth.second_step().await.unwrap(),
            None,
            "cleared by the login"
        );

        auth.begin_second_step(&user).await.unwrap();
        clock.advance(std::time::Duration::from_secs(
            SECOND_STEP_SECONDS as u64 - 1,
        ));
        assert!(auth.second_step().await.unwrap().is_some());
        clock.advance(std::time::Duration::from_secs(1));
        assert_eq!(auth.second_step().await.unwrap(), None, "lapsed");
        f.finish().await;
    }

    /// The race a logout runs against a page request, in the order that matters: the page
    /// reads the session (and, past the touch interval, will write it back), the logout ends
    /// it, then the page's end-of-request save runs. The session stays ended.
    #[tokio::test]
    async fn a_request_that_read_the_session_before_its_logout_cannot_write_it_back() {
        use tower_sessions::SessionStore;
        let f = crate::store::suite::sqlite().await;
        let store = Arc::new(f.store.clone());
        let clock = Arc::new(crate::clock::ManualClock::default());
        let deadlines = Deadlines::new(1800, 86400);
        let user = SessionUser {
            id: 7,
            name: "user7".into(),
            password_version: 0,
        };
        let login = Session::new(None, store.clone(), None);
        AuthSession::new(login.clone(), clock.clone(), deadlines)
            .log_in(&user, None, Method::Password)
            .await
            .unwrap();
        login.save().await.unwrap();
        let id = login.id().unwrap();

        clock.advance(std::time::Duration::from_secs(2 * deadlines.touch as u64));
        let page = Session::new(Some(id), store.clone(), None);
        let page_auth = AuthSession::new(page.clone(), clock.clone(), deadlines);
        assert!(page_auth.user().await.unwrap().is_some());
        assert!(
            page.is_modified(),
            "the page request will write the session back"
        );

        let logout = Session::new(Some(id), store.clone(), None);
        AuthSession::new(logout, clock.clone(), deadlines)
            .log_out()
            .await
            .unwrap();
        assert!(store.load(&id).await.unwrap().is_none());

        page.save().await.unwrap();
        assert!(
            store.load(&id).await.unwrap().is_none(),
            "the logged-out session came back"
        );
        f.finish().await;
    }
}
