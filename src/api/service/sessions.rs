//! The sessions page: a user's sessions, and ending them.

use super::login::{logout, require_sudo, require_user};
use crate::api::context::Caller;
use crate::api::types::SessionSummary;
use crate::auth::session::{AuthData, Deadlines, Method};
use crate::auth::user_agent::describe;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{self, SessionIndex};

pub async fn list_sessions(caller: &Caller) -> Result<Vec<SessionSummary>, AppError> {
    let user = require_user(caller).await?;
    let Caller { state, session, .. } = caller;
    let current = session.id().map(|id| store::handle(&id));
    Ok(live_sessions(state, user.id, current.as_deref()).await?)
}

/// The user's live sessions, newest first; `current` (a handle) is marked.
pub async fn live_sessions(
    state: &AppState,
    user_id: i64,
    current: Option<&str>,
) -> Result<Vec<SessionSummary>, store::StoreError> {
    let deadlines = Deadlines::from_config(&state.config.session);
    let now = state.clock.unix();
    let stored = state.sessions.list_user_sessions(user_id).await?;
    Ok(stored
        .into_iter()
        .filter_map(|s| {
            let data = AuthData::from_record(&s.data)?;
            // Idle sessions linger in the store until their absolute deadline; they are dead.
            deadlines.check(&data, now).ok()?;
            Some(SessionSummary {
                current: current == Some(s.handle.as_str()),
                handle: s.handle,
                created: format_time(data.created),
                last_active: format_time(data.seen),
                browser: describe(data.user_agent.as_deref()),
                passkey: data.method == Method::Passkey,
            })
        })
        .collect())
}

pub async fn revoke_session(caller: &Caller, handle: &str) -> Result<(), AppError> {
    let Caller { state, session, .. } = caller;
    if session.id().is_some_and(|id| store::handle(&id) == handle) {
        require_user(caller).await?;
        return logout(session).await;
    }
    // Ending another session is sudo mode's: a borrowed session cannot lock its owner out.
    let user = require_sudo(caller).await?;
    if state.sessions.delete_user_session(user.id, handle).await? {
        metrics::counter!("latchkey_sessions_revoked_total", "by" => "user").increment(1);
        tracing::info!(
            event = "session_revoked",
            user_id = user.id,
            "session revoked"
        );
    }
    // Unknown or someone else's handle: nothing to do, and nothing to reveal.
    Ok(())
}

pub async fn revoke_other_sessions(caller: &Caller) -> Result<u64, AppError> {
    let user = require_sudo(caller).await?;
    let Caller { state, session, .. } = caller;
    let ended = state
        .sessions
        .delete_user_sessions(user.id, session.id().as_ref())
        .await?;
    metrics::counter!("latchkey_sessions_revoked_total", "by" => "user").increment(ended);
    tracing::info!(
        event = "sessions_revoked",
        user_id = user.id,
        count = ended,
        "other sessions revoked"
    );
    Ok(ended)
}

pub(crate) fn format_time(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => "unknown".into(),
    }
}
