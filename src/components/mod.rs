//! The views. No server-only code here: everything below also compiles to WASM.

mod account;
mod call;
mod cards;
mod code_form;
mod confirm;
mod home;
mod island;
mod login_form;
mod not_found;
mod password;
mod sessions;
mod sync;
mod title;
mod two_step;
mod webauthn;
mod welcome;

pub use account::AccountPage;
pub use home::HomePage;
pub use login_form::LoginForm;
pub use not_found::NotFound;
pub use sessions::SessionsPage;
pub use two_step::{RecoveryCodesPage, TwoStepSetupPage};
pub use welcome::Welcome;
