//! `latchkey session list|revoke`.

use super::shared::open;
use crate::api::service::admin;
use crate::config::Config;
use crate::error::BoxError;
use crate::users;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// List a user's live sessions: handle, browser, signed in, last active.
    List { name: String },
    /// End one session of a user (by the handle `session list` shows), or all of them.
    Revoke {
        name: String,
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        handle: Option<String>,
        /// End every session of the user.
        #[arg(long)]
        all: bool,
    },
}

pub async fn run(config: Config, cmd: SessionCommand) -> Result<(), BoxError> {
    let (SessionCommand::List { name } | SessionCommand::Revoke { name, .. }) = &cmd;
    users::validate_username(name)?;
    let state = open(config).await?;
    match cmd {
        SessionCommand::List { name } => {
            println!(
                "{:<64}  {:<28} {:<22} {:<22}",
                "HANDLE", "BROWSER", "SIGNED IN", "LAST ACTIVE"
            );
            for s in admin::sessions(&state, &name).await? {
                println!(
                    "{:<64}  {:<28} {:<22} {:<22}",
                    s.handle, s.browser, s.created, s.last_active
                );
            }
        }
        SessionCommand::Revoke { name, handle, all } => match (all, handle) {
            (true, _) => {
                let ended = admin::revoke_all(&state, &name).await?;
                println!("ended {ended} session(s) of {name:?}");
            }
            (false, Some(handle)) => {
                admin::revoke(&state, &name, &handle).await?;
                println!("ended the session {handle} of {name:?}");
            }
            (false, None) => return Err("give a session handle, or --all".into()),
        },
    }
    Ok(())
}
