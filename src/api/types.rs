//! What the server functions send the page (shared by both builds).

use serde::{Deserialize, Serialize};

/// The demo credentials a DEV login page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
}

/// One of the user's sessions, as the sessions page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// Names the session for revocation; not usable as a cookie.
    pub handle: String,
    pub created: String,
    pub last_active: String,
    pub browser: String,
    pub current: bool,
}
