use super::island::Submission;
use super::webauthn::Offer;
use crate::api::{DemoAccount, Login};
use crate::limits::{MAX_PASSWORD_BYTES, MAX_USERNAME_CHARS};
use leptos::either::Either;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn LoginForm(
    state: Submission,
    demo: Option<DemoAccount>,
    /// What was typed as the user name before a failed plain-form login.
    typed: Option<String>,
    /// Focus the user name on arrival (the page shows a failed login).
    autofocus: bool,
    on_submit: impl FnMut(leptos::ev::SubmitEvent) + 'static,
    /// The site has passkeys: the user-name field offers them among its suggestions.
    webauthn: bool,
    /// What the form offers for passkeys (nothing until the island is live).
    offer: RwSignal<Offer>,
    /// Signing in with a passkey: `true` for the button (a dialog), `false` for the user-name
    /// field's suggestions.
    on_passkey: Callback<bool>,
    passkey_pending: RwSignal<bool>,
    /// Changes when the suggestions need a new request (the last one ended without a login).
    rearm: RwSignal<u32>,
) -> impl IntoView {
    let pending = state.pending;
    // The browser's suggestions list this site's passkeys while the form is shown.
    Effect::new(move |_| {
        rearm.track();
        if offer.get() == Offer::Here {
            on_passkey.run(false);
            // The server keeps a challenge five minutes; the browser keeps offering the
            // suggestion: a fresh request before the challenge runs out.
            #[cfg(feature = "hydrate")]
            if let Ok(timer) = set_timeout_with_handle(
                move || rearm.update(|n| *n += 1),
                super::webauthn::AUTOFILL_RENEW,
            ) {
                on_cleanup(move || timer.clear());
            }
        }
    });
    let passkey = move || match offer.get() {
        Offer::None => None,
        Offer::Here => Some(Either::Left(view! {
            <div class="alternative">
                <button type="button" class="secondary"
                    on:click=move |_| on_passkey.run(true)
                    aria-disabled=move || passkey_pending.get().then_some("true")
                    aria-busy=move || passkey_pending.get().then_some("true")
                    aria-describedby="login-error"
                >
                    {move || if passkey_pending.get() { "Waiting for your passkey…" } else { "Sign in with a passkey" }}
                </button>
            </div>
        })),
        Offer::Elsewhere(origin) => Some(Either::Right(view! {
            <p class="hint">
                "Passkeys work at " <a href=origin.clone()>{origin.clone()}</a> "."
            </p>
        })),
    };
    let error = state.message();
    let has_error = move || state.error.with(Option::is_some);

    view! {
        <section class="card" aria-labelledby="login-title">
            <h1 id="login-title" tabindex="-1">"Log in"</h1>
            <form method="post" action=Login::PATH on:submit=on_submit>
                <div class="field">
                    <label for="username">"Username"</label>
                    <input
                        id="username" name="username" type="text" required maxlength=MAX_USERNAME_CHARS
                        value=typed autofocus=autofocus
                        autocomplete=if webauthn { "username webauthn" } else { "username" }
                        autocapitalize="none" spellcheck="false"
                        aria-invalid=move || has_error().then_some("true")
                        aria-describedby="login-error"
                    />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input
                        id="password" name="password" type="password" required maxlength=MAX_PASSWORD_BYTES
                        autocomplete="current-password"
                        aria-invalid=move || has_error().then_some("true")
                        aria-describedby="login-error"
                    />
                </div>
                // Always in the DOM so screen readers announce the message when it appears.
                <p id="login-error" class="error" aria-live="assertive">{error}</p>
                <button type="submit" aria-disabled=move || pending.get().then_some("true") aria-busy=move || pending.get().then_some("true")>
                    {move || if pending.get() { "Logging in…" } else { "Log in" }}
                </button>
            </form>
            {passkey}
            {demo.map(|d| view! {
                <p class="hint">
                    "Development mode: log in as " <code>{d.username}</code>
                    " with password " <code>{d.password}</code> "."
                </p>
            })}
        </section>
    }
}
