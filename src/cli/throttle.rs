//! `latchkey throttle clear`.

use super::shared::open;
use crate::api::context::throttle_key;
use crate::api::service::admin;
use crate::auth::throttle::Clear;
use crate::config::Config;
use crate::error::BoxError;
use clap::Subcommand;
use std::net::IpAddr;

#[derive(Debug, Subcommand)]
pub enum ThrottleCommand {
    /// Forget failed-login counts: one account's, one address's, or (with neither) all.
    Clear {
        /// The account, by user name (counts exist for names that have no account too).
        #[arg(long, conflicts_with = "address")]
        account: Option<String>,
        /// A client address (IPv6: its /64, as throttling counts it).
        #[arg(long)]
        address: Option<IpAddr>,
    },
}

pub async fn run(config: Config, cmd: ThrottleCommand) -> Result<(), BoxError> {
    let ThrottleCommand::Clear { account, address } = cmd;
    let address = address.map(throttle_key);
    let scope = match (&account, &address) {
        (Some(name), _) => Clear::Account(name),
        (None, Some(address)) => Clear::Address(address),
        (None, None) => Clear::All,
    };
    let state = open(config).await?;
    let cleared = admin::clear_throttle(&state, scope).await?;
    println!("cleared {cleared} throttle count(s)");
    Ok(())
}
