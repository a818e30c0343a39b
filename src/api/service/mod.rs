//! What the server functions do, independent of how they are called: each use-case takes the
//! [`Caller`](super::context::Caller) and answers with the wire's `AppError`.

pub mod admin;
pub mod login;
pub mod passkeys;
pub mod password;
pub mod sessions;
pub mod two_step;
