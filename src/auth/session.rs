//! The typed session: the one place that knows which keys a session holds.

use crate::error::AppError;
use crate::store::USER_ID_KEY;
use std::time::Duration;
use tower_sessions::{Expiry, Session};

const USER_NAME_KEY: &str = "name";

/// The user a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub id: i64,
    pub name: String,
}

pub struct AuthSession(Session);

impl AuthSession {
    pub fn new(session: Session) -> Self {
        Self(session)
    }

    /// The logged-in user, if any. Loads the record lazily: no cookie, no store access.
    pub async fn user(&self) -> Result<Option<SessionUser>, AppError> {
        let id = self
            .0
            .get::<i64>(USER_ID_KEY)
            .await
            .map_err(session_error)?;
        let name = self
            .0
            .get::<String>(USER_NAME_KEY)
            .await
            .map_err(session_error)?;
        Ok(id.zip(name).map(|(id, name)| SessionUser { id, name }))
    }

    /// Binds the session to `user` under a brand-new id (no fixation: whatever id the browser
    /// brought is deleted), valid for `lifetime` from now.
    pub async fn log_in(&self, user: &SessionUser, lifetime: Duration) -> Result<(), AppError> {
        self.0.cycle_id().await.map_err(session_error)?;
        self.0.clear().await;
        self.0
            .insert(USER_ID_KEY, user.id)
            .await
            .map_err(session_error)?;
        self.0
            .insert(USER_NAME_KEY, &user.name)
            .await
            .map_err(session_error)?;
        let lifetime = time::Duration::try_from(lifetime).map_err(|_| AppError::Internal)?;
        self.0.set_expiry(Some(Expiry::AtDateTime(
            time::OffsetDateTime::now_utc() + lifetime,
        )));
        Ok(())
    }

    /// Deletes the server-side record; the session layer then expires the cookie.
    pub async fn log_out(&self) -> Result<(), AppError> {
        self.0.flush().await.map_err(session_error)
    }
}

fn session_error(err: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %err, "session store failure");
    match err {
        tower_sessions::session::Error::Store(_) => AppError::Unavailable,
        _ => AppError::Internal,
    }
}
