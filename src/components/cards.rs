use crate::error::AppError;
use leptos::prelude::*;

/// Shown while a page's data loads (only without server rendering, e.g. after navigation).
#[component]
pub fn LoadingCard() -> impl IntoView {
    view! { <section class="card" aria-busy="true"><p>"Loading…"</p></section> }
}

/// A page that could not load its data: the error's fixed message, announced.
#[component]
pub fn ErrorCard(title: &'static str, error: AppError) -> impl IntoView {
    view! {
        <section class="card">
            <h1>{title}</h1>
            <p class="error" role="alert">{error.to_string()}</p>
        </section>
    }
}
