//! Right-time triggers: webhooks to the merchant when a customer's moment comes,
//! signed, retried, logged, each sent once, and only with the customer's consent.
//!
//! | kind | fires when | parameter | consent by default | idempotency key |
//! |---|---|---|---|---|
//! | `abandoned_cart` | the cart holds items, and neither a cart event nor an order came for `minutes` | `minutes` 1–10080, default 30 (the plugin's cart idle time) | `marketing` (fixed) | `abandoned_cart:<profile>:<messageId of the last cart event>` |
//! | `first_purchase` | a customer's first order ever is placed | — | `marketing` | `first_purchase:<profile>:<order id>` |
//! | `tier_change` | the loyalty tier goes up or down | — | `functional` | `tier_change:<profile>:<n>`, the customer's n-th change |
//! | `win_back` | `days` have passed since the last order | `days` 1–730, default 90 | `marketing` (fixed) | `win_back:<profile>:<last order id>` |
//! | `birthday` | `days` before the identify trait `birthday` (UTC) | `days` 0–30, default 0 | `marketing` (fixed) | `birthday:<profile>:<year>` |
//!
//! A cart is what the shop's `Product Added`, `Product Removed`, `Cart Viewed` and
//! `Checkout Started` events made of it, replayed with the plugin's own cart rules
//! ([`souk::core::cart`]); an order (an `Order Completed` event, `POST /v1/orders` or a
//! POS sale) empties it. Orders are counted as the CRM counts them ([`crate::crm::orders`]).
//! The birthday is read from the newest identify call's `traits.birthday`
//! (`YYYY-MM-DD`, a date-time, or `--MM-DD`), once a calendar year (UTC), as the
//! loyalty birthday bonus is; 29 February falls on the 28th in other years.
//!
//! **Consent.** A trigger fires only for a customer whose *latest* consent record,
//! across every anonymousId and userId of their profile, grants the trigger's
//! category; no record means no consent (only `necessary` is implicit, and no trigger
//! may use it). `abandoned_cart`, `win_back` and `birthday` always need `marketing`;
//! `first_purchase` (a welcome may be service, not marketing) and `tier_change` may
//! name another category. A customer without consent leaves no trace: nothing is
//! stored or logged. Consent is checked again before every delivery attempt, and a
//! webhook whose customer withdrew meanwhile is marked failed, unsent. A trigger
//! fires only for a customer the merchant can reach: one with a userId, an email or
//! a phone.
//!
//! **Once.** Each firing has a deterministic idempotency key, kept UNIQUE in
//! `trigger_deliveries`, so repeated passes, restarts and concurrent passes (`serve`
//! beside `souk-server triggers run`) fire it once. Switching a trigger on never
//! replays the past: nothing that became due before it was switched on fires, and
//! nothing more than 7 days after it became due (a server that was down, old sales
//! imported late); a birthday fires only until the end of the day.
//!
//! **Delivery** ([`deliver`]): a JSON POST with `Souk-Signature: t=<unix
//! seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the trigger's secret>`,
//! `Idempotency-Key` and `Souk-Event: <kind>`. A 2xx delivers; a network error, a
//! timeout (10 s), a 429 or a 5xx is retried with exponential backoff and jitter
//! (`--triggers-retry-base` × 2ⁿ, at least what `Retry-After` asks), at most 8
//! attempts; any other answer fails it at once. Every attempt is logged.
//!
//! Evaluation runs in `serve` every `--triggers-every` (default 1m) and from
//! `souk-server triggers run`; the API is in [`api`].

pub mod api;
pub mod deliver;
pub mod evaluate;

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use rusqlite::{params, Connection};
use serde_json::{json, Value};
use souk::core::loyalty::Rules;
use tokio::sync::Notify;

use crate::crm::CrmError;
use crate::store::{self, Store};
use crate::{datetime, Error};

/// A kind of trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A cart left with items in it.
    AbandonedCart,
    /// A customer's first order.
    FirstPurchase,
    /// A loyalty tier reached or lost.
    TierChange,
    /// A customer who has not ordered for a while.
    WinBack,
    /// A customer's birthday.
    Birthday,
}

/// What a trigger's parameter counts, and what it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// `minutes` or `days`: the field's name in the API and the column's.
    pub name: &'static str,
    /// The smallest value.
    pub min: i64,
    /// The largest value.
    pub max: i64,
    /// The value of a new trigger.
    pub default: i64,
}

impl Kind {
    /// Every kind, in the order the API lists them.
    pub const ALL: [Kind; 5] = [
        Kind::AbandonedCart,
        Kind::FirstPurchase,
        Kind::TierChange,
        Kind::WinBack,
        Kind::Birthday,
    ];

    /// Its name in the API, the keys and `Souk-Event`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::AbandonedCart => "abandoned_cart",
            Kind::FirstPurchase => "first_purchase",
            Kind::TierChange => "tier_change",
            Kind::WinBack => "win_back",
            Kind::Birthday => "birthday",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Its parameter, if it takes one.
    pub fn param(self) -> Option<Param> {
        match self {
            Kind::AbandonedCart => Some(Param {
                name: "minutes",
                min: 1,
                max: 7 * 24 * 60,
                default: i64::from(souk::core::config::CART_IDLE_MINUTES),
            }),
            Kind::WinBack => Some(Param {
                name: "days",
                min: 1,
                max: 730,
                default: 90,
            }),
            Kind::Birthday => Some(Param {
                name: "days",
                min: 0,
                max: 30,
                default: 0,
            }),
            Kind::FirstPurchase | Kind::TierChange => None,
        }
    }

    /// The consent category a new trigger requires.
    pub fn default_consent(self) -> &'static str {
        match self {
            Kind::TierChange => "functional",
            _ => "marketing",
        }
    }

    /// Whether it is marketing whatever the merchant says, so it always requires
    /// `marketing`.
    pub fn marketing_only(self) -> bool {
        matches!(self, Kind::AbandonedCart | Kind::WinBack | Kind::Birthday)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A trigger as the merchant configured it (`triggers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// Its kind.
    pub kind: Kind,
    /// Whether it fires.
    pub enabled: bool,
    /// Its parameter's value, if its kind takes one.
    pub param: Option<i64>,
    /// The merchant's webhook receiver.
    pub url: Option<String>,
    /// The consent category it requires.
    pub consent: String,
    /// The key of its signatures.
    pub secret: Option<String>,
    /// When it was last switched on (stored form).
    pub enabled_at: Option<String>,
    /// When it was last configured (stored form).
    pub updated_at: String,
}

impl Trigger {
    /// Every trigger, in [`Kind::ALL`] order.
    pub fn load_all(conn: &Connection) -> rusqlite::Result<Vec<Trigger>> {
        Kind::ALL
            .into_iter()
            .map(|kind| Trigger::load(conn, kind))
            .collect()
    }

    /// The trigger of `kind`; the migration made one of each.
    pub fn load(conn: &Connection, kind: Kind) -> rusqlite::Result<Trigger> {
        conn.prepare_cached(
            "SELECT enabled, minutes, days, url, consent, secret, enabled_at, updated_at
             FROM triggers WHERE kind = ?1",
        )?
        .query_row([kind.name()], |row| {
            let param = match kind.param().map(|p| p.name) {
                Some("minutes") => row.get(1)?,
                Some(_) => row.get(2)?,
                None => None,
            };
            Ok(Trigger {
                kind,
                enabled: row.get(0)?,
                param,
                url: row.get(3)?,
                consent: row.get(4)?,
                secret: row.get(5)?,
                enabled_at: row.get(6)?,
                updated_at: row.get(7)?,
            })
        })
    }

    /// Stores `self`.
    pub fn save(&self, conn: &Connection) -> rusqlite::Result<()> {
        let (minutes, days) = match self.kind.param().map(|p| p.name) {
            Some("minutes") => (self.param, None),
            Some(_) => (None, self.param),
            None => (None, None),
        };
        conn.prepare_cached(
            "UPDATE triggers SET enabled = ?2, minutes = ?3, days = ?4, url = ?5, consent = ?6,
                 secret = ?7, enabled_at = ?8, updated_at = ?9
             WHERE kind = ?1",
        )?
        .execute(params![
            self.kind.name(),
            self.enabled,
            minutes,
            days,
            self.url,
            self.consent,
            self.secret,
            self.enabled_at,
            self.updated_at,
        ])?;
        Ok(())
    }

    /// `{kind, enabled, minutes | days, parameter: {name, min, max, default} | null,
    /// url, consent, consentFixed, secret, enabledAt, updatedAt}`, the secret masked
    /// to its last four characters; `parameter` and `consentFixed` say what the
    /// merchant may set.
    pub fn to_json(&self) -> Value {
        let mut value = json!({
            "kind": self.kind.name(),
            "enabled": self.enabled,
        });
        let param = self.kind.param();
        if let Some(param) = param {
            value[param.name] = json!(self.param.unwrap_or(param.default));
        }
        value["parameter"] = json!(param.map(|p| json!({
            "name": p.name, "min": p.min, "max": p.max, "default": p.default,
        })));
        value["url"] = json!(self.url);
        value["consent"] = json!(self.consent);
        value["consentFixed"] = json!(self.kind.marketing_only());
        value["secret"] = json!(self.secret.as_deref().map(mask));
        value["enabledAt"] = json!(self.enabled_at);
        value["updatedAt"] = json!(self.updated_at);
        value
    }
}

/// What every secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";

/// A fresh secret: [`SECRET_PREFIX`] and 32 random bytes in hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    [SECRET_PREFIX, &hex].concat()
}

/// `whsec_…` and the last four characters.
fn mask(secret: &str) -> String {
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{SECRET_PREFIX}…{tail}")
}

/// Parses an interval: a whole number and a unit, `ms`, `s`, `m`, `h` or `d` (`1m`,
/// `30s`, `200ms`).
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let ms: u64 = match unit.trim() {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(format!(
                "{text:?} is not an interval: write a whole number and a unit, ms, s, m, h or d, such as 1m, 30s or 200ms"
            ))
        }
    };
    match number.parse::<u64>() {
        Ok(n) if n > 0 => Ok(Duration::from_millis(n.saturating_mul(ms))),
        _ => Err(format!(
            "{text:?} is not an interval: the number must be a whole number above 0, such as 1m"
        )),
    }
}

/// Runs in `serve`: a pass at startup and then every `every`, and the courier that
/// delivers what the passes fired, retrying after `retry_base` × 2ⁿ. Neither holds
/// the store while it sleeps, so shutdown is not held up.
pub fn schedule(store: Weak<Store>, rules: Arc<Rules>, every: Duration, retry_base: Duration) {
    let fired = Arc::new(Notify::new());
    tokio::spawn(deliver::courier(
        store.clone(),
        retry_base,
        every,
        Arc::clone(&fired),
    ));
    tokio::spawn(async move {
        loop {
            let Some(open) = store.upgrade() else { break };
            match evaluate::pass(&open, Arc::clone(&rules), datetime::now_ms()).await {
                Ok(fired_now) => {
                    for f in &fired_now {
                        tracing::info!(key = %f.key, url = %f.url, "trigger fired");
                    }
                    if !fired_now.is_empty() {
                        fired.notify_one();
                    }
                }
                Err(store::Error::Closed) => break,
                Err(e) => tracing::error!(error = %e, "the trigger pass failed"),
            }
            drop(open);
            tokio::time::sleep(every).await;
        }
    });
}

/// Options of `souk-server triggers`.
#[derive(Debug, clap::Args)]
pub struct TriggersArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: TriggersCommand,
}

/// The `triggers` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TriggersCommand {
    /// Evaluate the switched-on triggers once, print what fired, and deliver what is
    /// due. `serve` may be running on the database: each situation fires once.
    Run(RunArgs),
}

/// Options of `souk-server triggers run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// SQLite database file of a souk-server.
    #[arg(long, default_value = "souk.db")]
    pub db: PathBuf,
    /// Evaluate as of this RFC 3339 date-time instead of the clock, to try a set-up
    /// (what fires is real and is delivered).
    #[arg(long, value_name = "DATE-TIME")]
    pub now: Option<String>,
    /// The shop's loyalty rules, a JSON file, as `serve` takes them (for tier_change)
    /// [default: souk's default programme].
    #[arg(long, value_name = "FILE", env = "SOUK_LOYALTY_RULES")]
    pub loyalty_rules: Option<PathBuf>,
    /// The first retry's delay; each later one doubles it, plus jitter.
    #[arg(long, value_name = "INTERVAL", default_value = "30s", value_parser = parse_interval)]
    pub retry_base: Duration,
    /// Keep delivering for up to this long, retrying failed attempts as they fall
    /// due [default: one attempt each; later retries are left to `serve` or the next
    /// run].
    #[arg(long, value_name = "INTERVAL", value_parser = parse_interval)]
    pub wait: Option<Duration>,
}

/// Runs `souk-server triggers …`.
pub async fn run(args: TriggersArgs) -> Result<(), Error> {
    match args.command {
        TriggersCommand::Run(args) => run_once(args).await,
    }
}

async fn run_once(args: RunArgs) -> Result<(), Error> {
    let now_ms = match args.now.as_deref() {
        None => datetime::now_ms(),
        Some(text) => datetime::to_ms(text).ok_or_else(|| CrmError::Setting {
            flag: "now",
            problem: format!("{text:?} is not an RFC 3339 date-time such as 2026-05-01T10:00:00Z"),
        })?,
    };
    let rules = match &args.loyalty_rules {
        Some(path) => crate::rules::load(path)?,
        None => Rules::default(),
    };
    let store = Store::open(&args.db)?;
    let result = run_with(&store, Arc::new(rules), now_ms, &args).await;
    store.close().await;
    let (fired, reports) = result?;
    let delivered = reports
        .iter()
        .filter(|r| r.state == deliver::State::Delivered)
        .count();
    let failed = reports
        .iter()
        .filter(|r| r.state == deliver::State::Failed)
        .count();
    println!(
        "{} fired, {} attempts: {delivered} delivered, {failed} failed",
        fired.len(),
        reports.len()
    );
    Ok(())
}

async fn run_with(
    store: &Store,
    rules: Arc<Rules>,
    now_ms: u64,
    args: &RunArgs,
) -> store::Result<(Vec<evaluate::Fired>, Vec<deliver::Report>)> {
    let fired = evaluate::pass(store, rules, now_ms).await?;
    for f in &fired {
        println!("fired {} {} -> {}", f.kind, f.key, f.url);
    }
    let until = args
        .wait
        .map(|wait| datetime::now_ms().saturating_add(wait.as_millis() as u64));
    let mut reports = Vec::new();
    loop {
        let round = deliver::deliver_due(store, args.retry_base).await?;
        for report in &round {
            println!("{report}");
        }
        reports.extend(round);
        let Some(until) = until else { break };
        let next = store
            .read(|conn| Ok(deliver::next_due(conn)?))
            .await?
            .filter(|next| *next <= until);
        let Some(next) = next else { break };
        let wait = next.saturating_sub(datetime::now_ms());
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
    Ok((fired, reports))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_names_params_and_consent() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.name()), Some(kind));
            if kind.marketing_only() {
                assert_eq!(kind.default_consent(), "marketing");
            }
        }
        assert_eq!(Kind::parse("abandoned-cart"), None);
        assert_eq!(Kind::AbandonedCart.param().unwrap().default, 30);
        assert_eq!(Kind::TierChange.default_consent(), "functional");
        assert_eq!(Kind::FirstPurchase.param(), None);
    }

    #[test]
    fn secrets_are_random_and_shown_masked() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), SECRET_PREFIX.len() + 64);
        let masked = mask(&a);
        assert!(masked.ends_with(&a[a.len() - 4..]), "{masked}");
        assert!(!masked.contains(&a[SECRET_PREFIX.len()..a.len() - 4]));
    }

    #[test]
    fn intervals_take_milliseconds_too() {
        assert_eq!(parse_interval("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_interval("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_interval("2d"), Ok(Duration::from_secs(172_800)));
        for bad in ["", "0s", "5", "1w", "-1s", "1.5m"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
