//! The command line.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::NonEmptyStringValueParser;
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::{serve, Error};

/// The write key used when none is given: fine on a developer's machine, never in a shop.
pub const DEMO_WRITE_KEY: &str = "souk_demo_write_key";

/// souk-server: the reference merchant backend for souk.
#[derive(Debug, Parser)]
#[command(name = "souk-server", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and the demo storefront.
    Serve(ServeArgs),
}

/// Options of `souk-server serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (HOST:PORT); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// SQLite database file; created if missing.
    #[arg(long, default_value = "souk.db")]
    pub db: PathBuf,
    /// The shop's public write key, which the plugin sends with its events
    /// [default: the demo key `souk_demo_write_key`].
    #[arg(long, env = "SOUK_WRITE_KEY", hide_env_values = true, value_parser = NonEmptyStringValueParser::new())]
    pub write_key: Option<String>,
    /// The merchant's secret server key, which its own backend sends as
    /// `Authorization: Bearer <key>` (consent proofs); the endpoints that need it
    /// answer 403 while it is unset.
    #[arg(long, env = "SOUK_SERVER_KEY", hide_env_values = true, value_parser = NonEmptyStringValueParser::new())]
    pub server_key: Option<String>,
    /// Directory of the demo storefront, served at `/`.
    #[arg(long, default_value = "www")]
    pub www: PathBuf,
    /// Directory of the built plugin, served at `/dist`.
    #[arg(long, default_value = "dist")]
    pub dist: PathBuf,
}

impl Cli {
    /// Runs the chosen subcommand to completion.
    pub async fn run(self) -> Result<(), Error> {
        match self.command {
            Command::Serve(args) => serve::run(args).await,
        }
    }
}

/// Sends logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
