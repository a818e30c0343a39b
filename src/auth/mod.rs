//! The authentication domain: passwords, passkeys, two-step codes, the typed session,
//! throttling, the demo account and how a browser is described. Knows nothing of HTTP or
//! Leptos; the server functions in `api` put it to work.

pub mod demo;
pub mod device;
pub mod passkey;
pub mod password;
pub mod secret;
pub mod session;
pub mod throttle;
pub mod two_step;
pub mod user_agent;
