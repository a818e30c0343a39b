//! latchkey: session-based login for the web.
//!
//! Layers, each importing only those before it (`tests/layers.rs` keeps it so):
//! `config < limits < clock, error < db < store, users < auth < state < api < components < app
//! < server < cli`. Shared by both builds: the input limits, the wire error, the
//! server-function API (`api`), the UI (`components`, `app`). Server only (`ssr`): everything
//! that touches a store, the database or HTTP.

pub mod api;
pub mod app;
pub mod components;
pub mod error;
pub mod limits;
pub mod wire;

#[cfg(feature = "ssr")]
pub mod auth;
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
