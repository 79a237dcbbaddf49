//! The command line.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::HeaderValue;
use clap::builder::NonEmptyStringValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use tracing_subscriber::EnvFilter;

use crate::{catalog, cors, eval, export, model, pos, serve, Error};

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
    Serve(Box<ServeArgs>),
    /// Write out the stored events, in the order received (then by messageId).
    Events(EventsArgs),
    /// Replace the stored catalogue with a JSON product feed.
    ImportCatalog(ImportCatalogArgs),
    /// Earn loyalty points for point-of-sale sales from a CSV file, like online
    /// orders; a sale already imported changes nothing.
    ImportPos(ImportPosArgs),
    /// Build the recommendation model file from the catalogue and the stored events.
    BuildModel(BuildModelArgs),
    /// Measure recommendation quality on a shop's invoice lines (the UCI Online
    /// Retail layout) against popularity, item-kNN and the `implicit` library.
    Eval(EvalArgs),
    /// Manage the chat agents who sign in to the console at /agent.
    Agent(crate::chat::AgentArgs),
    /// The merchant's CRM: refresh the RFM segments, change their settings, import a
    /// shop's invoices, and time it all.
    Crm(crate::crm::CrmArgs),
    /// A customer's rights: export everything held about them, or erase it.
    Customer(crate::privacy::CustomerArgs),
    /// Right-time triggers: evaluate them once and deliver their webhooks.
    Triggers(crate::triggers::TriggersArgs),
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
    /// `Authorization: Bearer <key>` (consent proofs, customer profiles); the
    /// endpoints that need it answer 403 while it is unset.
    #[arg(long, env = "SOUK_SERVER_KEY", hide_env_values = true, value_parser = NonEmptyStringValueParser::new())]
    pub server_key: Option<String>,
    /// The shop's identity secret: a shopper's `userHash` is the hex HMAC-SHA256 of
    /// their userId keyed with it. The shopper endpoints (`/v1/loyalty`) answer 403
    /// while it is unset.
    #[arg(long, env = "SOUK_IDENTITY_SECRET", hide_env_values = true, value_parser = NonEmptyStringValueParser::new())]
    pub identity_secret: Option<String>,
    /// The shop's loyalty rules, a JSON file (see `server/src/rules.rs`)
    /// [default: souk's default programme].
    #[arg(long, value_name = "FILE", env = "SOUK_LOYALTY_RULES")]
    pub loyalty_rules: Option<PathBuf>,
    /// An origin whose pages may call the browser endpoints and read their answers,
    /// such as `https://shop.example`; repeat the flag or separate origins with commas.
    /// Without any, every origin may (fine for the demo and localhost).
    #[arg(long = "allow-origin", value_name = "ORIGIN", env = "SOUK_ALLOWED_ORIGINS", value_delimiter = ',', value_parser = cors::parse_origin)]
    pub allow_origins: Vec<HeaderValue>,
    /// A catalogue (JSON product feed) to import at startup, replacing the stored
    /// one; see `souk-server import-catalog`.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// Rebuild the recommendation model this often (`30m`, `1h`, `1d`); without it,
    /// the model is built once at startup when a catalogue is stored.
    #[arg(long, value_name = "INTERVAL", value_parser = model::parse_every)]
    pub model_every: Option<std::time::Duration>,
    /// Serve the demo shop's own checkout backend, `POST /demo/checkout`, which
    /// prices orders from the catalogue, consumes loyalty codes and earns points.
    /// Only for the demo: it lets pages place orders.
    #[arg(long)]
    pub demo_shop: bool,
    /// The shop's FAQ, a JSON file of questions and answers in en and ar (format in
    /// `src/core/faq.rs`): a shopper's chat message that clearly asks one of them is
    /// answered at once, marked automatic. Without it, people answer everything.
    #[arg(long, value_name = "FILE", env = "SOUK_FAQ")]
    pub faq: Option<PathBuf>,
    /// The chat team's business hours, such as `sun-thu 09:00-18:00 +04:00` (rules
    /// separated by `;`, then the UTC offset); `GET /v1/chat/status` tells shoppers
    /// when the team is back. Without it the chat is always open.
    #[arg(long, value_name = "HOURS", env = "SOUK_CHAT_HOURS", value_parser = crate::chat::hours::parse)]
    pub chat_hours: Option<crate::chat::Hours>,
    /// Recompute the CRM's RFM segments, lifetime values and VIPs at least this often
    /// (`15m`, `1h`, `1d`), even when no new data came; they are also recomputed at
    /// startup, when new orders, identities or consents arrive, and on
    /// `POST /v1/crm/refresh`.
    #[arg(long, value_name = "INTERVAL", value_parser = model::parse_every)]
    pub crm_every: Option<std::time::Duration>,
    /// How often the CRM looks for new orders, identities and consents to recompute
    /// the segments (`10s`, `1m`).
    #[arg(long, value_name = "INTERVAL", default_value = "10s", value_parser = model::parse_every)]
    pub crm_watch: std::time::Duration,
    /// Evaluate the right-time triggers this often (`1m`, `30s`, `5m`); the webhooks
    /// they fire are delivered as soon as they are due.
    #[arg(long, value_name = "INTERVAL", default_value = "1m", value_parser = crate::triggers::parse_interval)]
    pub triggers_every: std::time::Duration,
    /// The wait before a failed webhook's first retry; each later one doubles it,
    /// plus jitter (`30s`; tests use milliseconds, such as `20ms`).
    #[arg(long, value_name = "INTERVAL", default_value = "30s", value_parser = crate::triggers::parse_interval)]
    pub triggers_retry_base: std::time::Duration,
    /// Directory of the demo storefront, served at `/`.
    #[arg(long, default_value = "www")]
    pub www: PathBuf,
    /// Directory of the built plugin, served at `/dist`.
    #[arg(long, default_value = "dist")]
    pub dist: PathBuf,
}

/// Options of `souk-server events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// SQLite database file of a souk-server; opened read-only, so `serve` may be
    /// running on it.
    #[arg(long, default_value = "souk.db")]
    pub db: PathBuf,
    /// The output format.
    #[arg(long, value_enum)]
    pub format: Format,
    /// File to write (replaced if it exists) [default: standard output].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Options of `souk-server import-catalog`.
#[derive(Debug, Args)]
pub struct ImportCatalogArgs {
    /// SQLite database file; created if missing. `serve` may be running on it.
    #[arg(long, default_value = "souk.db")]
    pub db: PathBuf,
    /// The catalogue: a JSON array of products, or an object with `products` (the
    /// format is described in `server/src/catalog.rs`).
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,
}

/// Options of `souk-server import-pos`.
#[derive(Debug, Args)]
pub struct ImportPosArgs {
    /// SQLite database file; created if missing. `serve` may be running on it.
    #[arg(long, default_value = "souk.db")]
    pub db: PathBuf,
    /// The sales: CSV with a header (the columns are described in
    /// `server/src/pos.rs`), amounts in minor units.
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,
    /// The shop's loyalty rules, a JSON file, as `serve` takes them
    /// [default: souk's default programme].
    #[arg(long, value_name = "FILE", env = "SOUK_LOYALTY_RULES")]
    pub loyalty_rules: Option<PathBuf>,
}

/// Options of `souk-server build-model`.
#[derive(Debug, Args)]
pub struct BuildModelArgs {
    /// SQLite database file of a souk-server; opened read-only, so `serve` may be
    /// running on it.
    #[arg(long, default_value = "souk.db")]
    pub db: PathBuf,
    /// The model file to write (replaced if it exists).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The most neighbours kept per product.
    #[arg(long, default_value_t = model::DEFAULT_K, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub k: u16,
    /// The age, in days, at which an event counts half as much as a new one.
    #[arg(long, default_value_t = model::DEFAULT_HALF_LIFE_DAYS, value_parser = parse_half_life)]
    pub half_life_days: f64,
    /// What makes the neighbour lists: EASE, item-kNN, or auto (EASE up to
    /// 15,000 products with signal, item-kNN above).
    #[arg(long, value_enum, default_value_t = model::Algorithm::Auto)]
    pub algorithm: model::Algorithm,
    /// EASE's L2 penalty λ, on the scale of the damped event weights.
    #[arg(long, default_value_t = model::DEFAULT_LAMBDA, value_parser = parse_lambda)]
    pub lambda: f64,
}

fn parse_lambda(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(lambda) if lambda.is_finite() && lambda > 0.0 => Ok(lambda),
        _ => Err(format!("{text:?} is not a number above 0, such as 50")),
    }
}

fn parse_half_life(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(days) if days.is_finite() && days > 0.0 => Ok(days),
        _ => Err(format!(
            "{text:?} is not a number of days above 0, such as 30 or 7.5"
        )),
    }
}

/// Options of `souk-server eval` (see `server/src/eval.rs`).
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The invoice lines: CSV, or gzip CSV when the name ends in `.gz`.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Train on what happened before this day (UTC); test on each customer's next
    /// invoice from it on.
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "2011-09-01")]
    pub cutoff: String,
    /// Only test on invoices before this day: with an earlier --cutoff, a
    /// validation split that never sees the test period.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub until: Option<String>,
    /// The most neighbours kept per product.
    #[arg(long, default_value_t = model::DEFAULT_K, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub k: u16,
    /// The age, in days, at which an event counts half as much as a new one.
    #[arg(long, default_value_t = model::DEFAULT_HALF_LIFE_DAYS, value_parser = parse_half_life)]
    pub half_life_days: f64,
    /// The co-occurrence shrinkage, in people.
    #[arg(long, default_value_t = model::SHRINK)]
    pub shrink: f32,
    /// The scorer's cap on picks from one category [default: the plugin's, 3];
    /// 0 for none.
    #[arg(long)]
    pub max_per_category: Option<usize>,
    /// What makes souk's neighbour lists, as `build-model --algorithm`; a list
    /// such as `ease,knn` gives a souk row for each.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "auto")]
    pub algorithm: Vec<model::Algorithm>,
    /// souk's EASE penalty, as `build-model --lambda` (on the damped event weights).
    #[arg(long, default_value_t = model::DEFAULT_LAMBDA, value_parser = parse_lambda)]
    pub lambda: f64,
    /// The dense EASE yardstick's L2 penalty λ (on invoice counts).
    #[arg(long, default_value_t = 100.0)]
    pub ease_lambda: f64,
    /// Skip the dense EASE yardstick, whose inversion grows with the cube of the
    /// products, above this many products.
    #[arg(long, default_value_t = 5000)]
    pub ease_max_products: usize,
    /// Skip the `implicit` baseline (no Python needed).
    #[arg(long)]
    pub no_implicit: bool,
    /// Keep the scratch directory (the SQLite file and the split's CSV files).
    #[arg(long)]
    pub keep: bool,
}

/// The export formats of `souk-server events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// JSON Lines: each stored message as compact JSON, one per line.
    Jsonl,
    /// CSV with a header: message_id, type, event, anonymous_id, user_id, timestamp,
    /// received_at.
    Csv,
}

impl Cli {
    /// Runs the chosen subcommand to completion.
    pub async fn run(self) -> Result<(), Error> {
        match self.command {
            Command::Serve(args) => serve::run(*args).await,
            Command::Events(args) => export::run(&args),
            Command::ImportCatalog(args) => catalog::run(&args).await,
            Command::ImportPos(args) => pos::run(&args).await,
            Command::BuildModel(args) => model::run(&args),
            Command::Eval(args) => eval::run(&args).await,
            Command::Agent(args) => crate::chat::agents::run(args).await,
            Command::Crm(args) => crate::crm::run(args).await,
            Command::Triggers(args) => crate::triggers::run(args).await,
            Command::Customer(args) => crate::privacy::run(args).await,
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
