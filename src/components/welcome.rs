use crate::auth::api::Logout;
use leptos::prelude::*;

#[component]
pub fn Welcome(name: String, logout: ServerAction<Logout>) -> impl IntoView {
    let pending = logout.pending();
    view! {
        <section class="card" aria-labelledby="welcome-title">
            <h1 id="welcome-title">"Welcome, " {name}</h1>
            <p>"You are logged in. Log out when you are done, especially on a shared computer."</p>
            <ActionForm action=logout>
                <button type="submit" disabled=move || pending.get()>"Log out"</button>
            </ActionForm>
            <p class="hint"><a href="/sessions">"Your sessions and password"</a></p>
        </section>
    }
}
