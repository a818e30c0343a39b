use crate::auth::api::{DemoAccount, Login};
use leptos::prelude::*;

#[component]
pub fn LoginForm(login: ServerAction<Login>, demo: Option<DemoAccount>) -> impl IntoView {
    let pending = login.pending();
    let error = move || {
        login
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    let has_error = move || error().is_some();

    view! {
        <section class="card" aria-labelledby="login-title">
            <h1 id="login-title">"Log in"</h1>
            <ActionForm action=login>
                <div class="field">
                    <label for="username">"Username"</label>
                    <input
                        id="username" name="username" type="text" required maxlength="64"
                        autocomplete="username" autocapitalize="none" spellcheck="false"
                        aria-invalid=move || has_error().then_some("true")
                        aria-describedby="login-error"
                    />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input
                        id="password" name="password" type="password" required maxlength="1024"
                        autocomplete="current-password"
                        aria-invalid=move || has_error().then_some("true")
                        aria-describedby="login-error"
                    />
                </div>
                // Always in the DOM so screen readers announce the message when it appears.
                <p id="login-error" class="error" aria-live="assertive">{error}</p>
                <button type="submit" disabled=move || pending.get() aria-busy=move || pending.get().then_some("true")>
                    {move || if pending.get() { "Logging in…" } else { "Log in" }}
                </button>
            </ActionForm>
            {demo.map(|d| view! {
                <p class="hint">
                    "Development mode: log in as " <code>{d.username}</code>
                    " with password " <code>{d.password}</code> "."
                </p>
            })}
        </section>
    }
}
