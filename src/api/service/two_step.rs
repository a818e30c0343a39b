//! Two-step login: the code step of a login, turning it on (enrolment, confirmed with a code),
//! recovery codes, and turning it off. Every change is sudo mode's.

use super::login::{attempt, complete_login, require_sudo, require_user, LoggedIn};
use super::sessions::format_time;
use crate::api::context::Caller;
use crate::api::types::{TwoStepEnrolment, TwoStepInfo};
use crate::auth::session::{Method, SessionUser};
use crate::auth::two_step::{
    looks_like_app_code, new_recovery_codes, normalize_recovery_code, qr_svg, AppSecret,
};
use crate::error::{AppError, InputError};
use crate::state::AppState;
use crate::users::two_step::{self as table, join_codes, TwoStepRow};

/// Longer than any code anyone types (an app code, a recovery code, with spaces).
const MAX_CODE_CHARS: usize = 32;

/// Whether a login waits for its code in this session.
pub async fn pending(caller: &Caller) -> Result<bool, AppError> {
    Ok(caller.session.second_step().await?.is_some())
}

/// The login's second step: an app code or a recovery code for the login waiting in this
/// session. Wrong codes are throttled like wrong passwords (per account and per address).
pub async fn login_code(caller: &Caller, code: &str) -> Result<LoggedIn, AppError> {
    let Caller { state, session, .. } = caller;
    if code.chars().count() > MAX_CODE_CHARS {
        return Err(AppError::BadInput(InputError::Malformed));
    }
    let Some(step) = session.second_step().await? else {
        return Err(AppError::SecondStepExpired);
    };
    let attempt = attempt(caller, &step.name).await?;
    // The account went, changed its password or turned two-step off meanwhile: start again.
    let Some(row) = table::get(&state.db, step.user_id)
        .await?
        .filter(|row| row.is_on() && row.password_version == step.password_version)
    else {
        session.log_out().await?;
        return Err(AppError::SecondStepExpired);
    };
    let Some(used) = accept(state, step.user_id, &row, code).await? else {
        tracing::info!(
            event = "login_failed",
            user_id = step.user_id,
            method = "code",
            "wrong two-step code"
        );
        metrics::counter!("latchkey_logins_total", "method" => "code", "result" => "failure")
            .increment(1);
        return Err(AppError::WrongCode);
    };
    state.throttle.succeeded(attempt).await?;
    if let Used::RecoveryCode { left } = used {
        tracing::info!(
            event = "recovery_code_used",
            user_id = step.user_id,
            left,
            "recovery code used"
        );
    }
    let user = SessionUser {
        id: step.user_id,
        name: step.name,
        password_version: step.password_version,
    };
    complete_login(caller, user, Method::TwoStep).await
}

enum Used {
    AppCode,
    RecoveryCode { left: usize },
}

/// Checks `code` against the account and uses it up: an app code's time step (never again,
/// nor an earlier one), or the recovery code. `None`: wrong, or already used.
async fn accept(
    state: &AppState,
    user_id: i64,
    row: &TwoStepRow,
    code: &str,
) -> Result<Option<Used>, AppError> {
    let keys = &state.two_step;
    if looks_like_app_code(code) {
        let Some(secret) = row
            .totp_secret
            .as_deref()
            .and_then(|s| keys.open(user_id, s))
        else {
            tracing::error!(
                user_id,
                "two-step secret does not open: was the secrets key changed?"
            );
            return Err(AppError::Internal);
        };
        let Some(step) = secret.check(code, state.clock.unix()) else {
            return Ok(None);
        };
        return Ok(table::use_step(&state.db, user_id, step)
            .await?
            .then_some(Used::AppCode));
    }
    let Some(code) = normalize_recovery_code(code) else {
        return Ok(None);
    };
    let hash = keys.recovery_hash(user_id, &code);
    if !row.codes().any(|h| h == hash) {
        return Ok(None);
    }
    let left: Vec<&str> = row.codes().filter(|h| *h != hash).collect();
    let swapped = table::swap_codes(
        &state.db,
        user_id,
        &row.recovery_codes,
        &join_codes(left.iter().copied()),
    )
    .await?;
    Ok(swapped.then_some(Used::RecoveryCode { left: left.len() }))
}

/// The account page's two-step section.
pub async fn status(caller: &Caller) -> Result<TwoStepInfo, AppError> {
    let user = require_user(caller).await?;
    let row = table::get(&caller.state.db, user.id)
        .await?
        .unwrap_or_default();
    Ok(TwoStepInfo {
        since: row.two_step_since.map(format_time),
        codes_left: row.codes().count() as u32,
    })
}

/// The setup page (sudo): the secret to scan. The same one until it is confirmed (a reload
/// shows what the app may have scanned already), a new one if none waits.
pub async fn setup(caller: &Caller) -> Result<TwoStepEnrolment, AppError> {
    let user = require_sudo(caller).await?;
    let Caller { state, .. } = caller;
    let row = table::get(&state.db, user.id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if row.is_on() {
        return Err(AppError::BadInput(InputError::TwoStepOn));
    }
    let waiting = row
        .totp_pending
        .as_deref()
        .and_then(|s| state.two_step.open(user.id, s));
    let secret = match waiting {
        Some(secret) => secret,
        None => {
            let secret = AppSecret::generate();
            table::set_pending(&state.db, user.id, &state.two_step.seal(user.id, &secret)).await?;
            secret
        }
    };
    let uri = secret.uri(&user.name);
    Ok(TwoStepEnrolment {
        secret: secret.base32(),
        qr_svg: qr_svg(&uri),
        uri,
    })
}

/// Turns two-step login on (sudo) once a code from the app proves it has the secret; returns
/// the recovery codes, shown this once.
pub async fn enable(caller: &Caller, code: &str) -> Result<Vec<String>, AppError> {
    let user = require_sudo(caller).await?;
    let Caller { state, .. } = caller;
    if code.chars().count() > MAX_CODE_CHARS {
        return Err(AppError::BadInput(InputError::Malformed));
    }
    let row = table::get(&state.db, user.id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if row.is_on() {
        return Err(AppError::BadInput(InputError::TwoStepOn));
    }
    let Some((sealed, secret)) = row
        .totp_pending
        .as_deref()
        .and_then(|s| Some((s, state.two_step.open(user.id, s)?)))
    else {
        return Err(AppError::BadInput(InputError::NoTwoStepSetup));
    };
    // A guessed code here would need a session in sudo mode already; throttled all the same.
    let attempt = attempt(caller, &user.name).await?;
    let Some(step) = secret.check(code, state.clock.unix()) else {
        return Err(AppError::BadInput(InputError::WrongSetupCode));
    };
    state.throttle.succeeded(attempt).await?;
    let codes = new_recovery_codes();
    let hashes = hashes(state, user.id, &codes);
    let now = state.clock.unix();
    if !table::enable(&state.db, user.id, sealed, step, now, &hashes).await? {
        return Err(AppError::BadInput(InputError::NoTwoStepSetup));
    }
    tracing::info!(
        event = "two_step_on",
        user_id = user.id,
        "two-step login turned on"
    );
    Ok(codes)
}

/// A new set of recovery codes (sudo), replacing every earlier one; shown this once.
pub async fn regenerate_codes(caller: &Caller) -> Result<Vec<String>, AppError> {
    let user = require_sudo(caller).await?;
    let state = &caller.state;
    let codes = new_recovery_codes();
    if !table::replace_codes(&state.db, user.id, &hashes(state, user.id, &codes)).await? {
        return Err(AppError::BadInput(InputError::TwoStepOff));
    }
    tracing::info!(
        event = "recovery_codes_replaced",
        user_id = user.id,
        "recovery codes replaced"
    );
    Ok(codes)
}

/// Turns two-step login off (sudo).
pub async fn disable(caller: &Caller) -> Result<(), AppError> {
    let user = require_sudo(caller).await?;
    if !table::disable(&caller.state.db, user.id).await? {
        return Err(AppError::BadInput(InputError::TwoStepOff));
    }
    tracing::info!(
        event = "two_step_off",
        user_id = user.id,
        by = "user",
        "two-step login turned off"
    );
    Ok(())
}

fn hashes(state: &AppState, user_id: i64, codes: &[String]) -> String {
    let hashed: Vec<String> = codes
        .iter()
        .map(|c| state.two_step.recovery_hash(user_id, c))
        .collect();
    join_codes(hashed.iter().map(String::as_str))
}

/// Keeps fresh recovery codes, sealed, for the page a plain form (JavaScript off) goes to
/// next, which shows them once.
pub async fn keep_codes_for_next_page(caller: &Caller, codes: &[String]) -> Result<(), AppError> {
    let user = require_user(caller).await?;
    let sealed = caller
        .state
        .two_step
        .seal_bytes(user.id, codes.join(" ").as_bytes());
    caller.session.keep_fresh_codes(&sealed).await
}

/// The recovery codes kept for this page, taken (they show once); empty if none.
pub async fn take_kept_codes(caller: &Caller) -> Result<Vec<String>, AppError> {
    let user = require_user(caller).await?;
    let Some(sealed) = caller.session.take_fresh_codes().await? else {
        return Ok(Vec::new());
    };
    Ok(caller
        .state
        .two_step
        .open_bytes(user.id, &sealed)
        .and_then(|b| String::from_utf8(b).ok())
        .map(|s| s.split(' ').map(str::to_owned).collect())
        .unwrap_or_default())
}
