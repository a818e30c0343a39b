//! latchkey: session-based login for the web.
//!
//! Shared by both builds: the UI (`app`, `components`), the server-function API (`auth::api`) and
//! the wire error (`error`). Server only (`ssr`): everything that touches a store, the database
//! or HTTP.

pub mod app;
pub mod auth;
pub mod components;
pub mod error;

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod users;

/// The WASM entry point: hydrate the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Marks the page as interactive: end-to-end tests wait for it, and it is what
    // time-to-interactive is measured against.
    // Its value: milliseconds since navigation start.
    let at = leptos::prelude::window()
        .performance()
        .map_or(0.0, |p| p.now());
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", &format!("{at:.0}"));
    }
}
