//! `latchkey user add|passwd|delete|list|lock|unlock|passkeys|two-step`.

use super::shared::{open, when};
use crate::api::service::admin;
use crate::auth::password::validate_new_password;
use crate::config::Config;
use crate::error::BoxError;
use crate::store::SessionIndex;
use crate::users;
use clap::Subcommand;
use std::io::{BufRead, IsTerminal};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from stdin (prompted without echo on a terminal).
    Add { name: String },
    /// Set a user's password and end all of that user's sessions.
    Passwd { name: String },
    /// Delete a user and end all of its sessions at once, in every store.
    Delete { name: String },
    /// List the accounts: name, created, last login, locked, live sessions.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Refuse every login of a user (with the wrong-password answer) and end its sessions.
    Lock { name: String },
    /// Allow a locked user's logins again, and forget the account's throttle count.
    Unlock { name: String },
    /// List a user's passkeys: name, added, last used.
    Passkeys {
        name: String,
        /// Remove every passkey of the user (a lost device); sessions stay.
        #[arg(long)]
        remove_all: bool,
    },
    /// Show whether a user has two-step login on, and how many recovery codes are left.
    TwoStep {
        name: String,
        /// Turn it off (a lost phone and no recovery code); the password alone logs in again.
        #[arg(long)]
        disable: bool,
    },
}

pub async fn run(config: Config, cmd: UserCommand) -> Result<(), BoxError> {
    match cmd {
        UserCommand::List { json } => return list(config, json).await,
        UserCommand::Add { ref name }
        | UserCommand::Passwd { ref name }
        | UserCommand::Delete { ref name }
        | UserCommand::Lock { ref name }
        | UserCommand::Unlock { ref name }
        | UserCommand::Passkeys { ref name, .. }
        | UserCommand::TwoStep { ref name, .. } => {
            // Check the name before asking for a password the user would then have typed in
            // vain (or opening a database for nothing).
            users::validate_username(name)?;
        }
    }
    let state = open(config).await?;
    match cmd {
        UserCommand::Delete { name } => {
            let id = users::id_of(&state.db, &name).await?;
            let change = state.sessions.password_version_changing(id).await?;
            users::delete(&state.db, &name).await?;
            state.sessions.password_version_changed(change, None).await;
            // Its sessions may live in another store than the user (PostgreSQL, Redis).
            let ended = state.sessions.delete_user_sessions(id, None).await?;
            println!("deleted user {name:?}; ended {ended} session(s)");
        }
        UserCommand::Lock { name } => {
            let ended = admin::lock(&state, &name).await?;
            println!("locked user {name:?}; ended {ended} session(s)");
        }
        UserCommand::Unlock { name } => {
            admin::unlock(&state, &name).await?;
            println!("unlocked user {name:?}; its throttle count is cleared");
        }
        UserCommand::Add { name } => {
            let hash = state.hasher.hash(read_new_password()?).await?;
            users::create(&state.db, &name, &hash).await?;
            println!("created user {name:?}");
        }
        UserCommand::Passwd { name } => {
            let id = users::id_of(&state.db, &name).await?;
            let hash = state.hasher.hash(read_new_password()?).await?;
            let change = state.sessions.password_version_changing(id).await?;
            let (_, version) = users::set_password_hash(&state.db, &name, &hash).await?;
            state
                .sessions
                .password_version_changed(change, Some(version))
                .await;
            let ended = state.sessions.delete_user_sessions(id, None).await?;
            println!("changed the password of {name:?}; ended {ended} session(s)");
        }
        UserCommand::Passkeys { name, remove_all } => {
            let id = users::id_of(&state.db, &name).await?;
            if remove_all {
                let removed = users::passkeys::remove_all(&state.db, id).await?;
                println!("removed {removed} passkey(s) of {name:?}");
                return Ok(());
            }
            let passkeys = users::passkeys::list(&state.db, id).await?;
            println!("{:<32} {:<22} {:<22}", "NAME", "ADDED", "LAST USED");
            for p in passkeys {
                println!(
                    "{:<32} {:<22} {:<22}",
                    p.name,
                    when(Some(p.created_at)),
                    when(p.last_used_at)
                );
            }
        }
        UserCommand::TwoStep { name, disable } => {
            if disable {
                let done = admin::disable_two_step(&state, &name).await?;
                println!(
                    "{}",
                    if done {
                        format!("turned two-step login off for {name:?}")
                    } else {
                        format!("two-step login was already off for {name:?}")
                    }
                );
                return Ok(());
            }
            let id = users::id_of(&state.db, &name).await?;
            let row = users::two_step::get(&state.db, id)
                .await?
                .unwrap_or_default();
            match row.two_step_since {
                Some(since) => println!(
                    "two-step login: on since {}; {} recovery code(s) left",
                    when(Some(since)),
                    row.codes().count()
                ),
                None => println!("two-step login: off"),
            }
        }
        UserCommand::List { .. } => {}
    }
    Ok(())
}

async fn list(config: Config, json: bool) -> Result<(), BoxError> {
    let state = open(config).await?;
    let accounts = admin::accounts(&state).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&accounts)?);
        return Ok(());
    }
    println!(
        "{:<24} {:<22} {:<22} {:<6} {:>8}",
        "NAME", "CREATED", "LAST LOGIN", "LOCKED", "SESSIONS"
    );
    for a in accounts {
        let account = &a.account;
        println!(
            "{:<24} {:<22} {:<22} {:<6} {:>8}",
            account.username,
            when(Some(account.created_at)),
            when(account.last_login_at),
            if account.locked { "yes" } else { "no" },
            a.sessions
        );
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
