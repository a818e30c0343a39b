use super::island::Submission;
use crate::api::Logout;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn Welcome(
    name: String,
    state: Submission,
    on_submit: impl FnMut(leptos::ev::SubmitEvent) + 'static,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="welcome-title">
            <h1 id="welcome-title" tabindex="-1">"Welcome, " {name}</h1>
            <p>"You are logged in. Log out when you are done, especially on a shared computer."</p>
            <form method="post" action=Logout::PATH on:submit=on_submit>
                <button type="submit" aria-disabled=move || state.pending.get().then_some("true")>"Log out"</button>
            </form>
            <p class="error" aria-live="assertive">{state.message()}</p>
            <p class="hint">
                <a href="/account">"Your account"</a> " · "
                <a href="/sessions">"Your sessions"</a>
            </p>
        </section>
    }
}
