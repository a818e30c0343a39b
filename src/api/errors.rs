//! The domain's failures as the wire's [`AppError`], each logged once, here, with what
//! failed: the person at the form sees a fixed message, the operator the cause.

use crate::auth::password::HashError;
use crate::auth::throttle::ThrottleError;
use crate::error::AppError;
use crate::store::StoreError;
use crate::users::UserError;

impl From<ThrottleError> for AppError {
    fn from(err: ThrottleError) -> Self {
        match err {
            ThrottleError::Throttled(retry_after) => {
                tracing::warn!(event = "login_throttled", retry_after, "login throttled");
                metrics::counter!("latchkey_logins_total", "method" => "password", "result" => "throttled").increment(1);
                AppError::Throttled { retry_after }
            }
            ThrottleError::Db(err) => err.into(),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(error = %err, "database operation failed");
        AppError::Unavailable
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        tracing::error!(error = %err, "session index operation failed");
        AppError::Unavailable
    }
}

impl From<HashError> for AppError {
    fn from(err: HashError) -> Self {
        if let HashError::Busy = err {
            tracing::warn!(event = "login_busy", "hashing queue full; login refused");
            metrics::counter!("latchkey_logins_total", "method" => "password", "result" => "busy")
                .increment(1);
            return AppError::Busy;
        }
        tracing::error!(error = %err, "password hashing failed");
        AppError::Internal
    }
}

impl From<UserError> for AppError {
    fn from(err: UserError) -> Self {
        match err {
            UserError::Db(err) => err.into(),
            other => {
                tracing::error!(error = %other, "user update failed");
                AppError::Internal
            }
        }
    }
}

impl From<crate::auth::passkey::PasskeyError> for AppError {
    fn from(err: crate::auth::passkey::PasskeyError) -> Self {
        use crate::auth::passkey::PasskeyError as E;
        match err {
            E::Malformed(e) => {
                tracing::info!(event = "passkey_malformed", error = %e, "malformed passkey response");
                AppError::BadInput(crate::error::InputError::Malformed)
            }
            E::Refused(e) => {
                tracing::info!(event = "passkey_refused", error = %e, "passkey refused");
                AppError::PasskeyRefused
            }
            E::Stored(e) => {
                tracing::error!(error = %e, "a stored passkey cannot be read");
                AppError::Internal
            }
        }
    }
}
