//! The one error type that crosses the wire.
//!
//! Server functions return `Result<_, AppError>`; the client renders `Display`, the server maps
//! each variant to an HTTP status in one place ([`AppError::status`]). Messages are written for
//! the person at the login form: they never carry internal detail (that goes to the log).
//!
//! Every message is fixed text chosen here. With JavaScript off, a failed form post travels back
//! to the page inside the URL (`?__err=…`), so anyone can craft a link carrying any encoded
//! error: free-form strings would let them put their own words on our login page.

use crate::limits::{
    MAX_PASSKEY_NAME_CHARS, MAX_PASSWORD_BYTES, MAX_USERNAME_CHARS, MIN_NEW_PASSWORD_CHARS,
};
use serde::{Deserialize, Serialize};

/// Any error, for start-up and the command line (where the message is all that is needed).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Wrong password and unknown user are deliberately the same error (no user enumeration).
    #[error("Invalid username or password")]
    InvalidCredentials,
    /// Too many failed attempts; try again after this many seconds.
    #[error("Too many failed attempts. Please wait {} and try again.", wait_text(.retry_after))]
    Throttled { retry_after: u64 },
    /// The action needs a logged-in session.
    #[error("Please log in first.")]
    Unauthenticated,
    /// A sensitive change needs the user to prove who they are again (sudo mode).
    #[error("For your security, confirm it's you first.")]
    SudoRequired,
    /// A passkey ceremony failed a check, was not found, or took too long.
    #[error("That passkey was not accepted. Try again, or enter your password.")]
    PasskeyRefused,
    /// The passkey being added is already registered (to this or another account).
    #[error("That passkey is already registered.")]
    PasskeyTaken,
    /// This site offers no passkeys (no host name to be their relying party).
    #[error("Passkeys are not available on this site.")]
    PasskeysOff,
    /// The password was right; the account's second step (a code) is still needed.
    #[error("Enter the code from your authenticator app, or a recovery code.")]
    CodeRequired,
    /// A wrong, used or malformed code at the login's second step.
    #[error("That code is not right. Try again, or use a recovery code.")]
    WrongCode,
    /// No login waits for a code here (none was started, or five minutes have passed).
    #[error("Your login took too long. Please enter your password again.")]
    SecondStepExpired,
    /// Input that can never be valid, e.g. a 10 KB "password"; rejected before any hashing.
    #[error("{0}")]
    BadInput(InputError),
    /// Too many logins at once (the hashing queue is full); retry after a moment.
    #[error("The service is busy. Please try again in a few seconds.")]
    Busy,
    /// A store or the database is unreachable; the request may be retried.
    #[error("The service is temporarily unavailable. Please try again in a moment.")]
    Unavailable,
    /// Anything else on the server; details are in the server log, not here.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// Transport or encoding failures reported by the server-function machinery (the detail
    /// is for debugging; it is not shown).
    #[error("Could not reach the server. Please try again.")]
    Transport(String),
}

/// What was wrong with the input, as fixed messages.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    miniserde::Deserialize,
    thiserror::Error,
)]
pub enum InputError {
    #[error("The request could not be understood.")]
    Malformed,
    #[error("Passwords are limited to {} bytes.", MAX_PASSWORD_BYTES)]
    PasswordTooLong,
    #[error("Usernames are limited to {} characters.", MAX_USERNAME_CHARS)]
    UsernameTooLong,
    #[error(
        "The new password must be at least {} characters and at most {} bytes.",
        MIN_NEW_PASSWORD_CHARS,
        MAX_PASSWORD_BYTES
    )]
    NewPasswordPolicy,
    #[error("The new passwords do not match.")]
    PasswordsDiffer,
    #[error("The current password is not correct.")]
    WrongCurrentPassword,
    #[error("The password is not correct.")]
    WrongPassword,
    #[error("Passkey names are limited to {} characters.", MAX_PASSKEY_NAME_CHARS)]
    PasskeyNameTooLong,
    #[error("That passkey is not on your account.")]
    NoSuchPasskey,
    #[error("That code is not right. Check that your phone's clock is right, then enter the code the app shows now.")]
    WrongSetupCode,
    #[error("Two-step login is already on.")]
    TwoStepOn,
    #[error("Two-step login is off.")]
    TwoStepOff,
    #[error(
        "Two-step setup was not started, or was replaced. Scan the code on the setup page again."
    )]
    NoTwoStepSetup,
}

impl server_fn_error::FromServerFnError for AppError {
    // serde_json's JSON, read in the browser without serde_json (see `wire`).
    type Encoder = crate::wire::LiteJsonEncoding;

    fn from_server_fn_error(value: server_fn_error::ServerFnErrorErr) -> Self {
        use server_fn_error::ServerFnErrorErr as E;
        match value {
            // Undecodable arguments are the caller's fault: say so plainly.
            E::Args(_) | E::MissingArg(_) => AppError::BadInput(InputError::Malformed),
            // On the server, failing to decode is always about the request's arguments.
            #[cfg(feature = "ssr")]
            E::Deserialization(_) => AppError::BadInput(InputError::Malformed),
            other => AppError::Transport(other.to_string()),
        }
    }
}

fn wait_text(seconds: &u64) -> String {
    match *seconds {
        0..=90 => format!("{seconds} seconds"),
        s => format!("{} minutes", s.div_ceil(60)),
    }
}

/// Re-exports kept in one place so the rest of the crate does not depend on server_fn's layout.
mod server_fn_error {
    pub use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
}

/// How the browser reads an [`AppError`] that serde_json wrote (externally tagged: `"Name"`,
/// `{"BadInput":"Name"}`, `{"Throttled":{"retry_after":N}}`, `{"Transport":"…"}`).
mod lite {
    use super::{AppError, InputError};
    use miniserde::de::{Deserialize, Map, Visitor};
    use miniserde::{make_place, Error, Result};

    make_place!(Place);

    impl Deserialize for AppError {
        fn begin(out: &mut Option<Self>) -> &mut dyn Visitor {
            Place::new(out)
        }
    }

    impl Visitor for Place<AppError> {
        fn string(&mut self, name: &str) -> Result<()> {
            use AppError as E;
            self.out = Some(match name {
                "InvalidCredentials" => E::InvalidCredentials,
                "Unauthenticated" => E::Unauthenticated,
                "SudoRequired" => E::SudoRequired,
                "PasskeyRefused" => E::PasskeyRefused,
                "PasskeyTaken" => E::PasskeyTaken,
                "PasskeysOff" => E::PasskeysOff,
                "CodeRequired" => E::CodeRequired,
                "WrongCode" => E::WrongCode,
                "SecondStepExpired" => E::SecondStepExpired,
                "Busy" => E::Busy,
                "Unavailable" => E::Unavailable,
                "Internal" => E::Internal,
                _ => return Err(Error),
            });
            Ok(())
        }

        fn map(&mut self) -> Result<Box<dyn Map + '_>> {
            Ok(Box::new(Tagged {
                out: &mut self.out,
                input: None,
                wait: None,
                text: None,
            }))
        }
    }

    #[derive(miniserde::Deserialize)]
    struct Wait {
        retry_after: u64,
    }

    /// A variant with data: its one key names it.
    struct Tagged<'a> {
        out: &'a mut Option<AppError>,
        input: Option<InputError>,
        wait: Option<Wait>,
        text: Option<String>,
    }

    impl Map for Tagged<'_> {
        fn key(&mut self, k: &str) -> Result<&mut dyn Visitor> {
            match k {
                "BadInput" => Ok(Deserialize::begin(&mut self.input)),
                "Throttled" => Ok(Deserialize::begin(&mut self.wait)),
                "Transport" => Ok(Deserialize::begin(&mut self.text)),
                _ => Err(Error),
            }
        }

        fn finish(&mut self) -> Result<()> {
            let found = match (self.input.take(), self.wait.take(), self.text.take()) {
                (Some(input), None, None) => AppError::BadInput(input),
                (None, Some(wait), None) => AppError::Throttled {
                    retry_after: wait.retry_after,
                },
                (None, None, Some(text)) => AppError::Transport(text),
                _ => return Err(Error),
            };
            *self.out = Some(found);
            Ok(())
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// The HTTP status a JSON client sees for this error.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            AppError::InvalidCredentials
            | AppError::Unauthenticated
            | AppError::PasskeyRefused
            | AppError::CodeRequired
            | AppError::WrongCode
            | AppError::SecondStepExpired => S::UNAUTHORIZED,
            AppError::SudoRequired => S::FORBIDDEN,
            AppError::PasskeyTaken => S::CONFLICT,
            AppError::PasskeysOff => S::NOT_FOUND,
            AppError::Throttled { .. } => S::TOO_MANY_REQUESTS,
            AppError::BadInput(_) => S::BAD_REQUEST,
            AppError::Unavailable | AppError::Busy => S::SERVICE_UNAVAILABLE,
            AppError::Internal | AppError::Transport(_) => S::INTERNAL_SERVER_ERROR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{from_json, to_json};

    /// Every error the server can send, each variant once (a new variant fails to compile in
    /// the match below until it is listed here).
    fn every_error() -> Vec<AppError> {
        let all = vec![
            AppError::InvalidCredentials,
            AppError::Throttled { retry_after: 90 },
            AppError::Unauthenticated,
            AppError::SudoRequired,
            AppError::PasskeyRefused,
            AppError::PasskeyTaken,
            AppError::PasskeysOff,
            AppError::CodeRequired,
            AppError::WrongCode,
            AppError::SecondStepExpired,
            AppError::BadInput(InputError::Malformed),
            AppError::Busy,
            AppError::Unavailable,
            AppError::Internal,
            AppError::Transport("a \"quoted\"\n\u{1F511} detail".into()),
        ];
        for e in &all {
            match e {
                AppError::InvalidCredentials
                | AppError::Throttled { .. }
                | AppError::Unauthenticated
                | AppError::SudoRequired
                | AppError::PasskeyRefused
                | AppError::PasskeyTaken
                | AppError::PasskeysOff
                | AppError::CodeRequired
                | AppError::WrongCode
                | AppError::SecondStepExpired
                | AppError::BadInput(_)
                | AppError::Busy
                | AppError::Unavailable
                | AppError::Internal
                | AppError::Transport(_) => {}
            }
        }
        all
    }

    #[test]
    fn the_browser_reads_every_error_the_server_writes() {
        for error in every_error() {
            let json = to_json(&error);
            assert_eq!(from_json::<AppError>(&json), Some(error), "{json}");
        }
        let inputs = [
            InputError::Malformed,
            InputError::PasswordTooLong,
            InputError::UsernameTooLong,
            InputError::NewPasswordPolicy,
            InputError::PasswordsDiffer,
            InputError::WrongCurrentPassword,
            InputError::WrongPassword,
            InputError::PasskeyNameTooLong,
            InputError::NoSuchPasskey,
            InputError::WrongSetupCode,
            InputError::TwoStepOn,
            InputError::TwoStepOff,
            InputError::NoTwoStepSetup,
        ];
        for input in inputs {
            let error = AppError::BadInput(input);
            assert_eq!(from_json::<AppError>(&to_json(&error)), Some(error));
        }
        // What the server writes, literally (the JSON API's callers read the same).
        assert_eq!(to_json(&AppError::SudoRequired), r#""SudoRequired""#);
        assert_eq!(
            to_json(&AppError::Throttled { retry_after: 30 }),
            r#"{"Throttled":{"retry_after":30}}"#
        );
    }

    #[test]
    fn what_the_browser_cannot_read_is_no_error_at_all() {
        for bad in [
            "",
            "\"NoSuchError\"",
            "{\"BadInput\":\"Nope\"}",
            "{}",
            "{\"Throttled\":{\"retry_after\":-1}}",
            "{\"Transport\":\"x\",\"BadInput\":\"Malformed\"}",
            "[1]",
        ] {
            assert_eq!(from_json::<AppError>(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_browser_reads_the_login_pages_answers_as_written() {
        for name in [
            "user1",
            "",
            "é \"quoted\" \\ back\nslash \u{1F511}",
            "\u{7f}\u{0}",
        ] {
            let json = to_json(&name);
            assert_eq!(from_json::<String>(&json).as_deref(), Some(name), "{json}");
            let json = to_json(&Some(name));
            assert_eq!(
                from_json::<Option<String>>(&json),
                Some(Some(name.to_owned()))
            );
        }
        assert_eq!(
            from_json::<Option<String>>(&to_json(&None::<String>)),
            Some(None)
        );
        assert_eq!(from_json::<()>(&to_json(&())), Some(()));
        assert_eq!(from_json::<bool>(&to_json(&true)), Some(true));
    }
}
