//! Server functions: the UI's whole API. Each has a stable URL under `/api/` so plain HTML forms
//! (JavaScript off) can post to it; on the client these compile to fetch calls (the login
//! island calls its six through `components::call` instead, a smaller client). On the server
//! each reads its [`Caller`](context::Caller) and hands over to a use-case in `service`.

pub mod types;

#[cfg(feature = "ssr")]
pub mod context;
#[cfg(feature = "ssr")]
mod errors;
#[cfg(feature = "ssr")]
pub mod service;

pub use types::{
    DemoAccount, PasskeySummary, PasskeysPage, SessionSummary, TwoStepEnrolment, TwoStepInfo,
};

use crate::error::AppError;
use leptos::prelude::*;

/// Logs in; returns the user's name. Wrong password and unknown user are the same error.
#[server(endpoint = "login")]
pub async fn login(username: String, password: String) -> Result<String, AppError> {
    let caller = context::Caller::extract().await?;
    match service::login::login(&caller, &username, &password).await {
        Ok(done) => Ok(logged_in(&caller, done)),
        Err(error) => {
            // A right password whose code comes next needs no name put back.
            if error != AppError::CodeRequired {
                context::remember_typed_username(&caller.state, &username);
            }
            Err(error)
        }
    }
}

/// A login's second step: the code from the authenticator app, or a recovery code, for the
/// login waiting in this session (the password was right); returns the user's name.
#[server(endpoint = "login_code")]
pub async fn login_code(code: String) -> Result<String, AppError> {
    let caller = context::Caller::extract().await?;
    let done = service::two_step::login_code(&caller, &code).await?;
    Ok(logged_in(&caller, done))
}

/// Whether a login waits for its code in this session (its password was right).
#[server(endpoint = "second_step_pending")]
pub async fn second_step_pending() -> Result<bool, AppError> {
    let caller = context::Caller::extract().await?;
    service::two_step::pending(&caller).await
}

/// The end of every way to log in: the device cookie (the throttle's "known browser") is set,
/// and the user's name goes back.
#[cfg(feature = "ssr")]
fn logged_in(caller: &context::Caller, done: service::login::LoggedIn) -> String {
    context::set_device_cookie(&caller.state, done.device_cookie);
    done.name
}

/// Ends the session: deletes it server-side and expires the cookie.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let caller = context::Caller::extract().await?;
    service::login::logout(&caller.session).await
}

/// The logged-in user's name, or `None`.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<String>, AppError> {
    // Rendering `GET /`: the page cache has just checked the session for this very request.
    if let Some(known) = context::known_user() {
        return context::page_status(known);
    }
    let caller = context::Caller::extract().await?;
    context::page_status(service::login::current_user(&caller).await)
}

/// DEV only: the demo account, while it still has its demo password.
#[server(endpoint = "demo_login")]
pub async fn demo_login() -> Result<Option<DemoAccount>, AppError> {
    use crate::auth::demo::{DEMO_PASSWORD, DEMO_USERNAME};
    let shown = use_context::<crate::state::AppState>().is_some_and(|s| s.demo_login);
    Ok(shown.then(|| DemoAccount {
        username: DEMO_USERNAME.into(),
        password: DEMO_PASSWORD.into(),
    }))
}

/// The logged-in user's sessions, newest first, the current one marked.
#[server(endpoint = "sessions")]
pub async fn list_sessions() -> Result<Vec<SessionSummary>, AppError> {
    let caller = context::Caller::extract().await?;
    context::page_status(service::sessions::list_sessions(&caller).await)
}

/// Ends one of the user's sessions (the current one: same as logging out).
#[server(endpoint = "revoke_session")]
pub async fn revoke_session(handle: String) -> Result<(), AppError> {
    let caller = context::Caller::extract().await?;
    service::sessions::revoke_session(&caller, &handle).await
}

/// Ends every session of the user except this one; returns how many ended.
#[server(endpoint = "revoke_other_sessions")]
pub async fn revoke_other_sessions() -> Result<u64, AppError> {
    let caller = context::Caller::extract().await?;
    service::sessions::revoke_other_sessions(&caller).await
}

/// Changes the password (the current one is required), ends every other session of the user
/// and renews this session's id.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current: String,
    new: String,
    confirm: String,
) -> Result<(), AppError> {
    let caller = context::Caller::extract().await?;
    service::password::change_password(&caller, &current, &new, &confirm).await
}

/// Confirms who you are with your password: sensitive changes are allowed for
/// `[security] sudo-seconds` after it (sudo mode).
#[server(endpoint = "confirm_password")]
pub async fn confirm_password(password: String) -> Result<(), AppError> {
    let caller = context::Caller::extract().await?;
    service::password::confirm_password(&caller, &password).await?;
    context::back_to_referring_page();
    Ok(())
}

/// Where passkeys work (`http://localhost:3000`), for a page rendered on the server; `None`
/// where the site offers none (and always in the browser, which gets it as an island prop).
pub fn passkey_origin() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        let state = use_context::<crate::state::AppState>()?;
        state.passkeys.as_ref().map(|rp| rp.origin().to_owned())
    }
    #[cfg(not(feature = "ssr"))]
    None
}

/// How long a confirmation (sudo mode) lasts, in minutes, for a page rendered on the server.
pub fn sudo_minutes() -> u64 {
    #[cfg(feature = "ssr")]
    if let Some(state) = use_context::<crate::state::AppState>() {
        return state.config.security.sudo.as_secs().div_ceil(60);
    }
    10
}

/// Starts signing in with a passkey: the request options (WebAuthn JSON) for the browser.
#[server(endpoint = "passkey_sign_in_options")]
pub async fn passkey_sign_in_options() -> Result<String, AppError> {
    let caller = context::Caller::extract().await?;
    service::passkeys::sign_in_options(&caller).await
}

/// Signs in with the browser's passkey response (`PublicKeyCredential.toJSON()`, as JSON);
/// returns the user's name. A full login, like [`login`].
#[server(endpoint = "passkey_sign_in")]
pub async fn passkey_sign_in(response: String) -> Result<String, AppError> {
    let caller = context::Caller::extract().await?;
    let done = service::passkeys::sign_in(&caller, &response).await?;
    Ok(logged_in(&caller, done))
}

/// The logged-in user's passkeys, and whether sensitive changes need a confirmation first.
#[server(endpoint = "passkeys")]
pub async fn passkeys() -> Result<PasskeysPage, AppError> {
    let caller = context::Caller::extract().await?;
    context::page_status(service::passkeys::page(&caller).await)
}

/// Starts adding a passkey (sudo mode): the creation options (WebAuthn JSON) for the browser.
#[server(endpoint = "passkey_registration_options")]
pub async fn passkey_registration_options() -> Result<String, AppError> {
    let caller = context::Caller::extract().await?;
    service::passkeys::registration_options(&caller).await
}

/// Adds the passkey the browser made (sudo mode); `name` empty: the browser's name.
#[server(endpoint = "add_passkey")]
pub async fn add_passkey(response: String, name: String) -> Result<PasskeySummary, AppError> {
    let caller = context::Caller::extract().await?;
    service::passkeys::register(&caller, &response, &name).await
}

/// Renames one of the user's passkeys.
#[server(endpoint = "rename_passkey")]
pub async fn rename_passkey(id: String, name: String) -> Result<(), AppError> {
    let caller = context::Caller::extract().await?;
    service::passkeys::rename(&caller, &id, &name).await
}

/// Removes one of the user's passkeys (sudo mode).
#[server(endpoint = "remove_passkey")]
pub async fn remove_passkey(id: String) -> Result<(), AppError> {
    let caller = context::Caller::extract().await?;
    service::passkeys::remove(&caller, &id).await
}

/// Starts confirming who you are with a passkey: the request options for the browser.
#[server(endpoint = "passkey_confirm_options")]
pub async fn passkey_confirm_options() -> Result<String, AppError> {
    let caller = context::Caller::extract().await?;
    service::passkeys::confirm_options(&caller).await
}

/// Confirms who you are with the browser's passkey response (sudo mode starts).
#[server(endpoint = "confirm_with_passkey")]
pub async fn confirm_with_passkey(response: String) -> Result<(), AppError> {
    let caller = context::Caller::extract().await?;
    service::passkeys::confirm(&caller, &response).await
}

/// The account page's two-step section: on since when, recovery codes left.
#[server(endpoint = "two_step")]
pub async fn two_step_status() -> Result<TwoStepInfo, AppError> {
    let caller = context::Caller::extract().await?;
    context::page_status(service::two_step::status(&caller).await)
}

/// The setup page (sudo mode): the secret for the authenticator app, as text, URI and QR code.
#[server(endpoint = "two_step_setup")]
pub async fn two_step_setup() -> Result<TwoStepEnrolment, AppError> {
    let caller = context::Caller::extract().await?;
    context::page_status(service::two_step::setup(&caller).await)
}

/// Turns two-step login on (sudo mode) with a code from the app; returns the recovery codes.
/// Without JavaScript the browser goes on to the page that shows them.
#[server(endpoint = "enable_two_step")]
pub async fn enable_two_step(code: String) -> Result<Vec<String>, AppError> {
    let caller = context::Caller::extract().await?;
    let codes = service::two_step::enable(&caller, &code).await?;
    show_codes_on_next_page(&caller, &codes).await?;
    Ok(codes)
}

/// Replaces the recovery codes with a new set (sudo mode); returns it.
#[server(endpoint = "regenerate_recovery_codes")]
pub async fn regenerate_recovery_codes() -> Result<Vec<String>, AppError> {
    let caller = context::Caller::extract().await?;
    let codes = service::two_step::regenerate_codes(&caller).await?;
    show_codes_on_next_page(&caller, &codes).await?;
    Ok(codes)
}

/// Turns two-step login off (sudo mode).
#[server(endpoint = "disable_two_step")]
pub async fn disable_two_step() -> Result<(), AppError> {
    let caller = context::Caller::extract().await?;
    service::two_step::disable(&caller).await
}

/// The recovery codes a plain form just made, for the page that shows them once.
#[server(endpoint = "fresh_recovery_codes")]
pub async fn fresh_recovery_codes() -> Result<Vec<String>, AppError> {
    let caller = context::Caller::extract().await?;
    context::page_status(service::two_step::take_kept_codes(&caller).await)
}

/// A plain form (JavaScript off) cannot show what it gets back: its codes are kept for
/// `/account/recovery-codes`, where it goes next.
#[cfg(feature = "ssr")]
async fn show_codes_on_next_page(
    caller: &context::Caller,
    codes: &[String],
) -> Result<(), AppError> {
    if context::is_plain_form() {
        service::two_step::keep_codes_for_next_page(caller, codes).await?;
        leptos_axum::redirect(RECOVERY_CODES_PAGE);
    }
    Ok(())
}

/// Where fresh recovery codes are shown without JavaScript.
pub const RECOVERY_CODES_PAGE: &str = "/account/recovery-codes";
