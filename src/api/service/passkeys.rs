//! Passkeys: signing in with one, adding, renaming and removing them, and confirming who you
//! are with one (sudo mode). Each ceremony is two calls: the options for the browser (its
//! state kept in the session), then the browser's response, checked against that state.

use super::login::{
    attempt, complete_login, enter_sudo_mode, in_sudo_mode, require_sudo, require_user, LoggedIn,
};
use super::sessions::format_time;
use crate::api::context::Caller;
use crate::api::types::{PasskeySummary, PasskeysPage};
use crate::auth::passkey::{self, RelyingParty};
use crate::auth::session::{Ceremony, Method, SessionUser};
use crate::auth::user_agent::describe;
use crate::error::{AppError, InputError};
use crate::limits::MAX_PASSKEY_NAME_CHARS;
use crate::state::AppState;
use crate::users::passkeys::{self as table, StoredPasskey};

fn relying_party(state: &AppState) -> Result<&RelyingParty, AppError> {
    state.passkeys.as_ref().ok_or(AppError::PasskeysOff)
}

/// Sign-in challenges per address and throttle window: each stores a short-lived session, and
/// the login page asks for one per view (its autofill request).
const SIGN_IN_OPTIONS_PER_ADDRESS: u32 = 200;

/// Starts a sign-in: the request options for the browser.
pub async fn sign_in_options(caller: &Caller) -> Result<String, AppError> {
    let rp = relying_party(&caller.state)?;
    caller
        .state
        .throttle
        .limit(
            "sign_in_options",
            &caller.client.address,
            SIGN_IN_OPTIONS_PER_ADDRESS,
        )
        .await?;
    let (options, ceremony) = rp.start_sign_in()?;
    caller
        .session
        .begin_ceremony(Ceremony::SignIn, &ceremony)
        .await?;
    Ok(options)
}

/// Signs in with the browser's response: a full login, throttled like a password login.
pub async fn sign_in(caller: &Caller, response: &str) -> Result<LoggedIn, AppError> {
    let Caller { state, session, .. } = caller;
    let rp = relying_party(state)?;
    let claimed = rp.claimed(response)?;
    let failed = |why: &'static str| {
        tracing::info!(
            event = "login_failed",
            method = "passkey",
            why,
            "passkey login failed"
        );
        metrics::counter!("latchkey_logins_total", "method" => "passkey", "result" => "failure")
            .increment(1);
        AppError::PasskeyRefused
    };
    // Nothing can succeed without a ceremony in progress (none, or older than five minutes):
    // refused before it costs the account an attempt.
    let Some(ceremony) = session.take_ceremony(Ceremony::SignIn).await? else {
        return Err(failed("no sign-in in progress, or it took too long"));
    };
    once(state, &ceremony).await?;
    let owner = table::owner_of_handle(&state.db, &claimed.handle).await?;
    // Counted against the account the response names (or its unknown handle) and the address.
    let account = owner
        .as_ref()
        .map_or(claimed.handle.as_str(), |o| o.username.as_str());
    let attempt = attempt(caller, account).await?;
    let Some(owner) = owner else {
        return Err(failed("unknown user handle"));
    };
    let stored = table::find(&state.db, &claimed.credential_id).await?;
    // The credential must be registered, and to the account whose handle the authenticator
    // returned.
    let Some(stored) = stored.filter(|s| s.user_id == owner.id) else {
        return Err(failed("unknown credential"));
    };
    let updated = match rp.finish_sign_in(&claimed, ceremony, &stored.passkey) {
        Ok(updated) => updated,
        Err(err) => {
            tracing::info!(event = "passkey_refused", error = %err, "passkey refused");
            return Err(failed("verification failed"));
        }
    };
    if owner.locked {
        tracing::info!(
            event = "login_locked",
            user_id = owner.id,
            "login refused: account locked"
        );
        return Err(failed("account locked"));
    }
    state.throttle.succeeded(attempt).await?;
    record_use(state, &stored.credential_id, &updated).await;
    let user = SessionUser {
        id: owner.id,
        name: owner.username,
        password_version: owner.password_version,
    };
    complete_login(caller, user, Method::Passkey).await
}

/// The passkeys section of the account page.
pub async fn page(caller: &Caller) -> Result<PasskeysPage, AppError> {
    let user = require_user(caller).await?;
    let state = &caller.state;
    Ok(PasskeysPage {
        passkeys: list(state, user.id).await?,
        confirmed: in_sudo_mode(caller).await?,
    })
}

async fn list(state: &AppState, user_id: i64) -> Result<Vec<PasskeySummary>, AppError> {
    Ok(table::list(&state.db, user_id)
        .await?
        .into_iter()
        .map(|p| PasskeySummary {
            id: p.credential_id,
            name: p.name,
            created: format_time(p.created_at),
            last_used: p.last_used_at.map(format_time),
        })
        .collect())
}

/// Starts adding a passkey (sudo mode): the creation options for the browser.
pub async fn registration_options(caller: &Caller) -> Result<String, AppError> {
    let user = require_sudo(caller).await?;
    let Caller { state, session, .. } = caller;
    let rp = relying_party(state)?;
    let handle = table::handle(&state.db, user.id, &passkey::new_handle())
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let existing: Vec<String> = table::list(&state.db, user.id)
        .await?
        .into_iter()
        .map(|p| p.credential_id)
        .collect();
    let (options, ceremony) = rp.start_registration(&handle, &user.name, &existing)?;
    session
        .begin_ceremony(Ceremony::Register, &ceremony)
        .await?;
    Ok(options)
}

/// Adds the passkey the browser made (sudo mode), named `name` (empty: the browser's name).
pub async fn register(
    caller: &Caller,
    response: &str,
    name: &str,
) -> Result<PasskeySummary, AppError> {
    let user = require_sudo(caller).await?;
    let Caller {
        state,
        session,
        client,
    } = caller;
    let name = match checked_name(name)? {
        Some(name) => name,
        None => describe(client.user_agent.as_deref()),
    };
    let rp = relying_party(state)?;
    let Some(ceremony) = session.take_ceremony(Ceremony::Register).await? else {
        return Err(AppError::PasskeyRefused);
    };
    let new = rp.finish_registration(response, &ceremony)?;
    let now = state.clock.unix();
    let stored = StoredPasskey {
        credential_id: new.credential_id,
        user_id: user.id,
        name,
        passkey: new.passkey,
        created_at: now,
        last_used_at: None,
    };
    if !table::insert(&state.db, &stored).await? {
        tracing::info!(
            event = "passkey_taken",
            user_id = user.id,
            "passkey already registered"
        );
        return Err(AppError::PasskeyTaken);
    }
    tracing::info!(event = "passkey_added", user_id = user.id, "passkey added");
    metrics::counter!("latchkey_passkeys_total", "change" => "added").increment(1);
    Ok(PasskeySummary {
        id: stored.credential_id,
        name: stored.name,
        created: format_time(now),
        last_used: None,
    })
}

/// Renames one of the user's passkeys.
pub async fn rename(caller: &Caller, id: &str, name: &str) -> Result<(), AppError> {
    let user = require_user(caller).await?;
    let Some(name) = checked_name(name)? else {
        return Err(AppError::BadInput(InputError::Malformed));
    };
    if !table::rename(&caller.state.db, user.id, id, &name).await? {
        return Err(AppError::BadInput(InputError::NoSuchPasskey));
    }
    Ok(())
}

/// Removes one of the user's passkeys (sudo mode).
pub async fn remove(caller: &Caller, id: &str) -> Result<(), AppError> {
    let user = require_sudo(caller).await?;
    if !table::remove(&caller.state.db, user.id, id).await? {
        return Err(AppError::BadInput(InputError::NoSuchPasskey));
    }
    tracing::info!(
        event = "passkey_removed",
        user_id = user.id,
        "passkey removed"
    );
    metrics::counter!("latchkey_passkeys_total", "change" => "removed").increment(1);
    Ok(())
}

/// Starts confirming who you are with one of your passkeys (to enter sudo mode).
pub async fn confirm_options(caller: &Caller) -> Result<String, AppError> {
    let user = require_user(caller).await?;
    let Caller { state, session, .. } = caller;
    let rp = relying_party(state)?;
    let stored: Vec<String> = table::list(&state.db, user.id)
        .await?
        .into_iter()
        .map(|p| p.passkey)
        .collect();
    if stored.is_empty() {
        return Err(AppError::PasskeyRefused);
    }
    let (options, ceremony) = rp.start_confirm(&stored)?;
    session.begin_ceremony(Ceremony::Confirm, &ceremony).await?;
    Ok(options)
}

/// Confirms who you are with the browser's response: sudo mode starts. Throttled like a login.
pub async fn confirm(caller: &Caller, response: &str) -> Result<(), AppError> {
    let user = require_user(caller).await?;
    let Caller { state, session, .. } = caller;
    let rp = relying_party(state)?;
    let credential_id = passkey::response_credential_id(response)?;
    let ceremony = session.take_ceremony(Ceremony::Confirm).await?;
    if let Some(ceremony) = &ceremony {
        once(state, ceremony).await?;
    }
    let attempt = attempt(caller, &user.name).await?;
    let stored = table::find(&state.db, &credential_id)
        .await?
        .filter(|s| s.user_id == user.id);
    let verified = match (ceremony, stored) {
        (Some(ceremony), Some(stored)) => rp
            .finish_confirm(response, &ceremony, &stored.passkey)
            .inspect_err(
                |err| tracing::info!(event = "passkey_refused", error = %err, "passkey refused"),
            )
            .ok()
            .map(|updated| (stored, updated)),
        _ => None,
    };
    let Some((stored, updated)) = verified else {
        tracing::info!(
            event = "sudo_failed",
            user_id = user.id,
            method = "passkey",
            "confirmation failed"
        );
        return Err(AppError::PasskeyRefused);
    };
    record_use(state, &stored.credential_id, &updated).await;
    enter_sudo_mode(caller, &user, attempt, "passkey").await
}

/// Refuses a ceremony's state used before: a session's state is taken out by the request that
/// uses it, but two requests racing with the same cookie each hold a copy (most passkeys keep
/// no signature counter to catch the second).
async fn once<T: serde::Serialize>(state: &AppState, ceremony: &T) -> Result<(), AppError> {
    let id = serde_json::to_string(ceremony).map_err(|_| AppError::Internal)?;
    if state.throttle.first_use("ceremony", &id).await? {
        Ok(())
    } else {
        tracing::warn!(
            event = "passkey_replayed",
            "a ceremony's state was used twice"
        );
        Err(AppError::PasskeyRefused)
    }
}

/// Counter and backup flags after a use, and when: bookkeeping after the fact, so a failed
/// write only says so.
async fn record_use(state: &AppState, credential_id: &str, updated: &str) {
    let now = state.clock.unix();
    if let Err(err) = table::record_use(&state.db, credential_id, updated, now).await {
        tracing::warn!(error = %err, "could not record a passkey's use");
    }
}

/// A passkey name: trimmed, printable, at most [`MAX_PASSKEY_NAME_CHARS`]; `None` if empty.
fn checked_name(name: &str) -> Result<Option<String>, AppError> {
    let name = name.trim();
    if name.chars().count() > MAX_PASSKEY_NAME_CHARS {
        return Err(AppError::BadInput(InputError::PasskeyNameTooLong));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::BadInput(InputError::Malformed));
    }
    Ok((!name.is_empty()).then(|| name.to_owned()))
}
