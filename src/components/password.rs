use super::island::Submission;
use crate::api::ChangePassword;
use crate::limits::{MAX_PASSWORD_BYTES, MIN_NEW_PASSWORD_CHARS};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The account page's password change; `changed` shows the success until the next try.
#[component]
pub fn PasswordForm(
    state: Submission,
    changed: RwSignal<bool>,
    on_submit: impl FnMut(leptos::ev::SubmitEvent) + 'static,
) -> impl IntoView {
    let done = move || {
        changed
            .get()
            .then_some("Password changed. Every other session has been logged out.")
    };
    view! {
        <section class="card wide" aria-labelledby="password-title">
            <h2 id="password-title">"Change password"</h2>
            <form method="post" action=ChangePassword::PATH on:submit=on_submit>
                <div class="field">
                    <label for="current">"Current password"</label>
                    <input id="current" name="current" type="password" required maxlength=MAX_PASSWORD_BYTES autocomplete="current-password"/>
                </div>
                <div class="field">
                    <label for="new">"New password"</label>
                    <input id="new" name="new" type="password" required minlength=MIN_NEW_PASSWORD_CHARS maxlength=MAX_PASSWORD_BYTES autocomplete="new-password"/>
                </div>
                <div class="field">
                    <label for="confirm">"Repeat the new password"</label>
                    <input id="confirm" name="confirm" type="password" required minlength=MIN_NEW_PASSWORD_CHARS maxlength=MAX_PASSWORD_BYTES autocomplete="new-password"/>
                </div>
                <p id="password-error" class="error" aria-live="assertive">{state.message()}</p>
                <p class="status" aria-live="polite">{done}</p>
                <button type="submit" aria-disabled=move || state.pending.get().then_some("true")>"Change password"</button>
            </form>
        </section>
    }
}
