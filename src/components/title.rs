//! Each page and state has its own title ("Log in – latchkey", "Error: Log in – latchkey"):
//! the first thing a screen reader says on arrival, and what a tab or the history shows. The
//! server writes it while rendering (leptos_meta puts it into the head); an island that swaps
//! its view in place sets it again with [`set_document_title`].

use leptos::prelude::*;

/// The title of `page`; an error shown on it comes first, as GOV.UK does.
pub fn title(page: &str, error: bool) -> String {
    if error {
        format!("Error: {page} – latchkey")
    } else {
        format!("{page} – latchkey")
    }
}

/// Server rendering only: the document's `<title>`.
#[cfg(feature = "ssr")]
#[component]
pub fn PageTitle(text: String) -> impl IntoView {
    use leptos_meta::Title;
    view! { <Title text/> }
}

/// Pages are rendered on the server; the islands set the title themselves.
#[cfg(not(feature = "ssr"))]
#[component]
pub fn PageTitle(text: String) -> impl IntoView {
    let _ = text;
}

/// In the browser, after an in-place change.
pub fn set_document_title(text: &str) {
    #[cfg(feature = "hydrate")]
    document().set_title(text);
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}
