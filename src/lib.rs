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

/// The WASM entry point. Only the islands (`#[island]` components) are hydrated; Leptos's island
/// script calls each one after this. Each marks the page interactive (`components::island`).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Panic messages in the browser console while developing; release builds leave the
    // formatting code out of the bundle (a panic there still stops with an error).
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
