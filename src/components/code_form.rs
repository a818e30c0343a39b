use super::island::Submission;
use crate::api::{LoginCode, Logout};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// A login's second step: the code from the authenticator app, or a recovery code. "Cancel"
/// ends the half-done login (a logout).
#[component]
pub fn CodeForm(
    state: Submission,
    on_submit: impl FnMut(leptos::ev::SubmitEvent) + 'static,
    cancelling: Submission,
    on_cancel: impl FnMut(leptos::ev::SubmitEvent) + 'static,
) -> impl IntoView {
    let pending = state.pending;
    let has_error = move || state.error.with(Option::is_some);
    view! {
        <section class="card" aria-labelledby="code-title">
            <h1 id="code-title" tabindex="-1">"Two-step login"</h1>
            <p id="code-help">
                "Enter the 6-digit code your authenticator app shows for latchkey. "
                "Lost your phone? Enter one of your recovery codes instead."
            </p>
            <form method="post" action=LoginCode::PATH on:submit=on_submit>
                <div class="field">
                    <label for="code">"Code"</label>
                    // Text, not digits only: a recovery code has letters.
                    <input id="code" name="code" type="text" required maxlength=32 autofocus
                        autocomplete="one-time-code" autocapitalize="none" spellcheck="false"
                        aria-invalid=move || has_error().then_some("true")
                        aria-describedby="code-help code-error"
                    />
                </div>
                <p id="code-error" class="error" aria-live="assertive">{state.message()}</p>
                <button type="submit" aria-disabled=move || pending.get().then_some("true") aria-busy=move || pending.get().then_some("true")>
                    {move || if pending.get() { "Checking…" } else { "Verify" }}
                </button>
            </form>
            <form method="post" action=Logout::PATH on:submit=on_cancel class="alternative">
                <button type="submit" class="secondary" aria-disabled=move || cancelling.pending.get().then_some("true")>
                    "Cancel and start again"
                </button>
            </form>
        </section>
    }
}
