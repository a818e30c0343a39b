//! The `latchkey` binary: parse the command line, set up logging, hand over to `cli::run`.

use clap::Parser;

// mimalloc: the server allocates many small short-lived objects per request (SSR, headers,
// JSON); glibc malloc showed up as ~15% of CPU in profiles.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::io::IsTerminal;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = latchkey::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_sessions=warn,sqlx=warn".into()),
        )
        // The log goes to stderr: stdout is the commands' output (`user list --json`).
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match latchkey::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("latchkey: error: {err}");
            ExitCode::from(latchkey::cli::exit_code(err.as_ref()))
        }
    }
}
