use super::island::Submission;
use crate::api::{DemoAccount, Login};
use crate::limits::{MAX_PASSWORD_BYTES, MAX_USERNAME_CHARS};
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
) -> impl IntoView {
    let pending = state.pending;
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
                        autocomplete="username" autocapitalize="none" spellcheck="false"
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
            {demo.map(|d| view! {
                <p class="hint">
                    "Development mode: log in as " <code>{d.username}</code>
                    " with password " <code>{d.password}</code> "."
                </p>
            })}
        </section>
    }
}
