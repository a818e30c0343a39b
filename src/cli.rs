//! The command line: `latchkey` serves; `latchkey user add|passwd NAME` manages accounts.

use crate::auth::password::validate_new_password;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::error::BoxError;
use crate::server;
use crate::state::AppState;
use crate::store::SessionIndex;
use crate::users;
use clap::{Parser, Subcommand};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(name = "latchkey", version, about = "Session-based login for the web")]
pub struct Cli {
    /// Configuration file (Leptos options plus [session], [database], [security]).
    #[arg(long, env = "LATCHKEY_CONFIG", default_value = "Leptos.toml")]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the app (the default).
    Serve,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from stdin (prompted without echo on a terminal).
    Add { name: String },
    /// Set a user's password and end all of that user's sessions.
    Passwd { name: String },
    /// Delete a user and end all of its sessions at once, in every store.
    Delete { name: String },
}

pub async fn run(cli: Cli) -> Result<(), BoxError> {
    let config = Config::load(&cli.config)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => server::serve(config, Arc::new(SystemClock)).await,
        Command::User(cmd) => user(config, cmd).await,
    }
}

async fn user(config: Config, cmd: UserCommand) -> Result<(), BoxError> {
    let (UserCommand::Add { name } | UserCommand::Passwd { name } | UserCommand::Delete { name }) =
        &cmd;
    // Check the name before asking for a password the user would then have typed in vain.
    users::validate_username(name)?;
    let state = AppState::open(config, Arc::new(SystemClock)).await?;
    if let UserCommand::Delete { name } = &cmd {
        let id = users::delete(&state.db, name).await?;
        // Its sessions may live in another store than the user (PostgreSQL, Redis).
        let ended = state.sessions.delete_user_sessions(id, None).await?;
        println!("deleted user {name:?}; ended {ended} session(s)");
        return Ok(());
    }
    if matches!(cmd, UserCommand::Passwd { .. })
        && users::find_by_username(&state.db, name).await?.is_none()
    {
        return Err(users::UserError::NotFound(name.clone()).into());
    }
    let password = read_new_password()?;
    let hash = state.hasher.hash(password).await?;
    match cmd {
        UserCommand::Add { name } => {
            users::create(&state.db, &name, &hash).await?;
            println!("created user {name:?}");
        }
        UserCommand::Passwd { name } => {
            let (id, _) = users::set_password_hash(&state.db, &name, &hash).await?;
            let ended = state.sessions.delete_user_sessions(id, None).await?;
            println!("changed the password of {name:?}; ended {ended} session(s)");
        }
        UserCommand::Delete { .. } => {} // done above, before asking for a password
    }
    Ok(())
}

/// A terminal gets a no-echo prompt and a confirmation; a pipe gives its first line.
fn read_new_password() -> Result<String, BoxError> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")?;
        let again = rpassword::prompt_password("Repeat it: ")?;
        if first != again {
            return Err("the two passwords differ".into());
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let trimmed = line.strip_suffix('\n').unwrap_or(&line);
        trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned()
    };
    validate_new_password(&password)?;
    Ok(password)
}
