//! The HTML shell and the routes.

use crate::components::{HomePage, NotFound, SessionsPage};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    #[cfg(feature = "ssr")]
    let css = crate::server::assets::stylesheet_href(&options);
    #[cfg(not(feature = "ssr"))]
    let css = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <title>"latchkey"</title>
                <link rel="stylesheet" href=css/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// leptos_axum gives every page render a fresh nonce and puts it on each inline script it
/// writes; the policy allows exactly those. Set here, before the first byte is streamed.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    let (Some(nonce), Some(response), Some(state)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
        use_context::<crate::state::AppState>(),
    ) else {
        return;
    };
    let policy = crate::server::security::content_security_policy(&state.config, &nonce);
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <main>
                <Routes fallback=NotFound>
                    // Async: the page is complete before the response leaves, so (1) without
                    // JavaScript the browser gets the final content, not a streamed
                    // placeholder, and (2) every session change made while rendering (idle
                    // touch, expiry) is done before the session layer decides what to save and
                    // which cookie to send. Streaming would race the two.
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/sessions") view=SessionsPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
