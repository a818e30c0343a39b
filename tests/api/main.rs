//! Black-box tests: each starts the real `latchkey` binary on a random port with its own
//! temporary SQLite file, and talks to it over HTTP like a browser or an attacker would.

mod common;
mod servers;

mod admin;
mod anonymous;
mod assets;
mod cli;
mod config;
mod connections;
mod faults;
mod fuzz;
mod load;
mod login;
mod logout;
mod metrics;
mod no_js;
mod pages;
mod passkeys;
mod restart;
mod security;
mod sessions;
mod stores;
mod throttle;
mod timeouts;
mod two_step;
