//! souk-server, the reference merchant backend for souk: it receives the plugin's
//! events and consent records, keeps them in one SQLite file and serves the demo
//! storefront.
//!
//! `main.rs` only parses the command line and reports errors; the commands live here.

use std::io;
use std::net::SocketAddr;

pub mod auth;
pub mod body;
pub mod catalog;
pub mod chat;
pub mod cli;
pub mod consent;
pub mod cors;
pub mod crm;
pub mod datetime;
pub mod demo;
pub mod eval;
pub mod export;
pub mod fields;
pub mod http;
pub mod identity;
pub mod ingest;
pub mod loyalty;
pub mod model;
pub mod pages;
pub mod pos;
pub mod privacy;
pub mod rules;
pub mod serve;
pub mod store;
pub mod triggers;

/// What can stop a souk-server command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database could not be opened, migrated or written.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The loyalty rules file was refused.
    #[error(transparent)]
    Rules(#[from] rules::RulesFileError),
    /// The catalogue file was refused.
    #[error(transparent)]
    Catalog(#[from] catalog::CatalogError),
    /// The POS sales file could not be imported.
    #[error(transparent)]
    Pos(#[from] pos::PosError),
    /// The recommendation model could not be built.
    #[error(transparent)]
    Model(#[from] model::BuildError),
    /// An evaluation could not run.
    #[error(transparent)]
    Eval(#[from] eval::EvalError),
    /// The FAQ file was refused.
    #[error(transparent)]
    Faq(#[from] chat::FaqFileError),
    /// An agent account could not be added.
    #[error(transparent)]
    Agent(#[from] chat::AgentError),
    /// A CRM command failed.
    #[error(transparent)]
    Crm(#[from] crm::CrmError),
    /// A customer export or erasure failed.
    #[error(transparent)]
    Privacy(#[from] privacy::PrivacyError),
    /// Something else already listens on the address.
    #[error("cannot listen on {addr}: the address is already in use (is another souk-server running? choose another --addr)")]
    AddrInUse {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The address could not be listened on for another reason.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        source: io::Error,
    },
    /// The shutdown signal handlers could not be installed.
    #[error("cannot watch for shutdown signals: {0}")]
    Signals(io::Error),
    /// The HTTP server stopped with an error.
    #[error("the HTTP server failed: {0}")]
    Serve(io::Error),
    /// An export could not be written.
    #[error("cannot write the events to {to}: {source}")]
    Output {
        /// The file, or standard output.
        to: String,
        /// What the operating system said.
        source: io::Error,
    },
}
