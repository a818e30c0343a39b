//! The command line: `latchkey` serves; `latchkey user|session|throttle …` administers, on
//! whatever users database and session store the configuration names.
//!
//! Exit codes: 0 done; 1 any other failure; 2 bad arguments (clap, or a malformed name); 3 no such user or
//! session; 4 the database or the session store cannot be reached.

mod session;
mod shared;
mod throttle;
mod user;

use crate::clock::SystemClock;
use crate::config::Config;
use crate::error::BoxError;
use crate::server;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(name = "latchkey", version, about = "Session-based login for the web")]
pub struct Cli {
    /// Configuration file (Leptos options plus [server], [session], [database], [security]).
    /// Default: `Leptos.toml` in the working directory if there is one, else the built-in
    /// defaults (the same as the shipped file). A file named here must exist.
    #[arg(long, env = "LATCHKEY_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the app (the default).
    Serve,
    /// Manage user accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// List and end a user's sessions.
    #[command(subcommand)]
    Session(session::SessionCommand),
    /// Forget login throttling counts.
    #[command(subcommand)]
    Throttle(throttle::ThrottleCommand),
}

pub async fn run(cli: Cli) -> Result<(), BoxError> {
    let config = Config::locate(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => server::serve(config, Arc::new(SystemClock)).await,
        Command::User(cmd) => user::run(config, cmd).await,
        Command::Session(cmd) => session::run(config, cmd).await,
        Command::Throttle(cmd) => throttle::run(config, cmd).await,
    }
}

/// The exit code for a failed command (see the module's comment).
pub fn exit_code(err: &(dyn std::error::Error + 'static)) -> u8 {
    use crate::api::service::admin::AdminError;
    use crate::users::UserError;
    let mut cause = Some(err);
    while let Some(mut e) = cause {
        // A transparent wrapper's `source()` skips the error it wraps: look inside it.
        if let Some(admin) = e.downcast_ref::<AdminError>() {
            e = admin.inner();
        }
        if matches!(e.downcast_ref(), Some(UserError::InvalidName(_))) {
            return 2;
        }
        if matches!(e.downcast_ref(), Some(UserError::NotFound(_)))
            || matches!(e.downcast_ref(), Some(AdminError::NoSuchSession(_)))
        {
            return 3;
        }
        if unreachable(e) {
            return 4;
        }
        cause = e.source();
    }
    1
}

/// Whether `e` says a server could not be reached (as opposed to refusing what was asked).
fn unreachable(e: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(e) = e.downcast_ref::<sqlx::Error>() {
        return matches!(
            e,
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_)
        );
    }
    if let Some(e) = e.downcast_ref::<redis::RedisError>() {
        return e.is_io_error() || e.is_timeout() || e.is_connection_refusal();
    }
    if let Some(e) = e.downcast_ref::<crate::store::StoreError>() {
        return matches!(e, crate::store::StoreError::Timeout);
    }
    e.downcast_ref::<std::io::Error>().is_some_and(|e| {
        matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::TimedOut
        )
    })
}
