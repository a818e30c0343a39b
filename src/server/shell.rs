//! The HTML document around the app, rendered on the server only, with its
//! Content-Security-Policy.

use super::{assets, headers};
use crate::app::App;
use crate::state::AppState;
use leptos::prelude::*;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    set_content_security_policy();
    // Where the pages' <Title>s register (leptos_axum then writes the title into the head).
    leptos_meta::provide_meta_context();
    let css = assets::stylesheet_href(&options);
    let split_loader = assets::split_loader_href(&options)
        .map(|href| view! { <link rel="modulepreload" href=href/> });
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                // Each page writes its own <title> (components::title; leptos_meta adds it here).
                <meta name="description" content="Log in to latchkey: your sessions, your password, your account, kept safe."/>
                <link rel="stylesheet" href=css/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
                {split_loader}
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// leptos_axum gives every page render a fresh nonce and puts it on each inline script it
/// writes; the policy allows exactly those. Set here, before the first byte is streamed.
fn set_content_security_policy() {
    let (Some(nonce), Some(response), Some(state)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
        use_context::<AppState>(),
    ) else {
        return;
    };
    let policy = headers::content_security_policy(&state.config, &nonce);
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}
