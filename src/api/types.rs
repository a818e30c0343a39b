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
    /// Signed in with a passkey (else a password).
    pub passkey: bool,
}

/// One of the user's passkeys, as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeySummary {
    /// The credential id (base64url): names it for renaming and removal.
    pub id: String,
    pub name: String,
    pub created: String,
    pub last_used: Option<String>,
}

/// The passkeys section of the account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeysPage {
    pub passkeys: Vec<PasskeySummary>,
    /// In sudo mode now (sensitive changes need no confirmation first).
    pub confirmed: bool,
}

/// The two-step section of the account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoStepInfo {
    /// When two-step login was turned on; `None`: it is off.
    pub since: Option<String>,
    /// Unused recovery codes.
    pub codes_left: u32,
}

/// What the two-step setup page shows: the app secret three ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoStepEnrolment {
    /// Base32, for typing into an app.
    pub secret: String,
    /// `otpauth://totp/latchkey:NAME?secret=…&issuer=latchkey`.
    pub uri: String,
    /// The URI as a QR code, an inline SVG made on the server.
    pub qr_svg: String,
}
