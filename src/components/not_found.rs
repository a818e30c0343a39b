use super::title::{title, PageTitle};
use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <PageTitle text=title("Page not found", false)/>
        <section class="card">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to the login page"</a></p>
        </section>
    }
}
