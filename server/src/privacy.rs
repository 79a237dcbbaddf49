//! A customer's rights of access and erasure (GDPR Articles 15, 17 and 20):
//! `souk-server customer export|erase`, `GET /v1/crm/customers/{key}/export` and
//! `DELETE /v1/crm/customers/{key}` (the CRM's merchant auth, [`Staff`]).
//!
//! # Whose data
//!
//! The key names the customer as the customer 360 does ([`customer::resolve`]: a
//! userId, else a profile id, followed through merges), else as an anonymousId, an
//! email or a phone the identity graph knows. The [`Subject`] is every identity of
//! that profile, plus the anonymousIds of devices that consented or chatted under one
//! of its userIds but never sent an event (the graph learns only from events). A key
//! the graph does not know is taken as it is, as a userId and an anonymousId (and an
//! email or a phone when it reads as one), so a device that only consented or
//! chatted can be exported and erased too.
//!
//! A row is the subject's when it names one of their userIds, or one of their
//! anonymousIds (or, in chat, emails) and no userId: the graph's own rule, so on a
//! shared computer the events another customer sent logged in stay theirs.
//!
//! # What an erasure does
//!
//! One write job, so one transaction: every [`STEPS`] entry in order, then a check
//! that none of them still finds a row of the subject (else everything rolls back),
//! and a row in the `erasures` log with the time, who asked, and each table's action
//! and row count, never an identifier. A table added later is one more step; the
//! export lists the same rows, so it covers the new table too.
//!
//! | table | erasure | why |
//! |---|---|---|
//! | `crm_customers` | deleted | name, email and phone; the next refresh scores the customers that remain (past runs' segment sizes in `crm_runs` are counts and stay) |
//! | `trigger_attempts`, `trigger_deliveries` | deleted | the webhooks fired about the customer carry their name, email, phone and order or cart; a pending one is never sent |
//! | `trigger_tiers` | deleted | the tier the `tier_change` trigger last saw, by userId |
//! | `events` | deleted | bodies are free-form JSON from browsers and backends (traits, page URLs with query strings, IPs, user agents, search terms, custom properties): nothing can be sure to anonymise them, and the ledger, not the events, is the merchant's record of sales |
//! | `consents` | pseudonymised | kept as proof (below) |
//! | `chat_reads` | the shopper's deleted | when the shopper read; the team's own mark stays |
//! | `chat_messages` | anonymised | text replaced by `[erased]` (the agents' replies too, since they address and quote the shopper), client-chosen id by `erased:<seq>`; author, agent, FAQ entry and times stay for the team's first-response times |
//! | `chat_conversations` | anonymised | owner replaced by a random `erased:` token; userId, email, page context and rating comment removed; open ones closed; status, agent, times and the 1–5 rating stay for the team's statistics |
//! | `loyalty_coupons` | anonymised | customer replaced by the ledger's token, order id removed; an issued code stays valid at checkout, like cash in hand |
//! | `loyalty_ledger` | anonymised | customer replaced by one random `erased:` token per erasure, so the account still adds up; order ids, the keys that name orders, refunds, adjustments and bonuses (`erased:<id>` instead), and adjustment reasons removed; points, amounts, currency and dates stay, so the books add up |
//! | `profile_merges`, `identity_links`, `identities` | deleted | the graph itself |
//!
//! # Consent proofs
//!
//! GDPR Art. 7(1) asks the merchant to be able to demonstrate that a customer
//! consented, and Art. 17(3)(e) lets them keep what they need for legal claims. So
//! each consent version stays with what was agreed and when (revision, language,
//! source, categories, GPC, first, updated and received times), but its
//! `consent_id`, `anonymous_id` and `user_id` become `erased-` + the first 16 bytes
//! (hex) of HMAC-SHA256(*key*, `<column>:<value>`), and its `body` is rebuilt from
//! the kept columns (a body as sent may hold anything). The consent record never
//! held an IP or a user agent, and the events that did are deleted. *key* is 32
//! random bytes made for this erasure, answered once as `consentProofKey` and never
//! stored: with it and an id the customer gives, the merchant can find and show
//! the proof; without it the rows name nobody and cannot be tied back by guessing
//! ids.
//!
//! # Leaving nothing in the file
//!
//! Deleted rows are not gone from a SQLite file: their bytes stay in free space
//! until something overwrites them, and the `-wal` file keeps earlier images of the
//! pages. So the job turns `PRAGMA secure_delete` on for itself (SQLite then zeroes
//! what it deletes or replaces, and the pages it frees), and after the commit
//! [`scrub`] runs `VACUUM` and a `TRUNCATE` checkpoint from a connection of its own.
//! `secure_delete` alone is not enough: when a table outgrows its root page, SQLite
//! moves the rows to a child page and leaves their old bytes in the root's unused
//! space, where no later delete reaches them (the tests found an erased userId
//! there). `VACUUM` rewrites every page from the rows that remain (keeping rowids,
//! which the coupons' order relies on), and the checkpoint copies the result into
//! the database file, cuts it to its new size and empties the `-wal` file. While it
//! runs, other writes wait (up to the store's busy timeout); the answer says whether
//! it finished.

use std::fs::File;
use std::io::{self, BufRead, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use clap::builder::NonEmptyStringValueParser;
use hmac::{Hmac, Mac};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{CachedStatement, Connection, OpenFlags, OptionalExtension};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use crate::crm::{customer, Staff};
use crate::fields::quote;
use crate::http::{ApiError, AppState};
use crate::identity::{self, normalize_email, normalize_phone, Lookup};
use crate::store::{self, Store};
use crate::{datetime, Error};

/// What replaces a chat message's text.
pub const ERASED_TEXT: &str = "[erased]";

/// How long [`scrub`] waits for the other connections' locks.
const SCRUB_WAIT: Duration = Duration::from_secs(5);

/// Why a `souk-server customer` command failed.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    /// Nothing is held about the key to export.
    #[error("{}", unknown(key))]
    NotFound {
        /// The key given.
        key: String,
    },
    /// Nothing is held about the key to erase: never known, or already erased.
    #[error("{}", nothing_to_erase(key))]
    NothingToErase {
        /// The key given.
        key: String,
    },
    /// Standard input is not a terminal to ask on, and `--yes` was not given.
    #[error("not erased: standard input is not a terminal to ask for confirmation on; add --yes to erase without being asked")]
    NeedsYes,
    /// The operator did not answer yes.
    #[error("not erased: the answer was not yes")]
    NotConfirmed,
    /// The confirmation could not be read.
    #[error("cannot read the confirmation from standard input: {0}")]
    Stdin(io::Error),
    /// The export could not be written.
    #[error("cannot write the export to {to}: {source}")]
    Output {
        /// The file, or standard output.
        to: String,
        /// What the operating system said.
        source: io::Error,
    },
}

fn unknown(key: &str) -> String {
    format!(
        "no customer has the userId, profile id, anonymousId, email or phone {}",
        quote(&json!(key))
    )
}

fn nothing_to_erase(key: &str) -> String {
    format!(
        "nothing to erase: souk-server holds nothing about the userId, profile id, anonymousId, email or phone {} (never known, or already erased)",
        quote(&json!(key))
    )
}

/// The customer an export or an erasure is about (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// Their profile in the identity graph, if the graph knows them.
    pub profile_id: Option<i64>,
    /// Their userIds.
    pub user_ids: Vec<String>,
    /// Their devices' anonymousIds.
    pub anonymous_ids: Vec<String>,
    /// Their emails, normalised.
    pub emails: Vec<String>,
    /// Their phones, normalised.
    pub phones: Vec<String>,
}

impl Subject {
    /// Who `key` names, or `None` when no table holds a row of theirs.
    pub fn find(conn: &Connection, key: &str) -> rusqlite::Result<Option<Subject>> {
        if key.is_empty() {
            return Ok(None);
        }
        let mut subject = match profile_of(conn, key)? {
            Some(profile_id) => Subject::of_profile(conn, profile_id)?,
            None => Subject {
                profile_id: None,
                user_ids: vec![key.to_owned()],
                anonymous_ids: vec![key.to_owned()],
                emails: normalize_email(key).into_iter().collect(),
                phones: normalize_phone(key).into_iter().collect(),
            },
        };
        subject.add_devices_without_events(conn)?;
        let bindings = subject.bindings();
        for step in STEPS {
            if step.count(conn, &bindings)? > 0 {
                return Ok(Some(subject));
            }
        }
        Ok(None)
    }

    /// The identities of profile `profile_id`.
    fn of_profile(conn: &Connection, profile_id: i64) -> rusqlite::Result<Subject> {
        let mut subject = Subject {
            profile_id: Some(profile_id),
            ..Subject::default()
        };
        let mut statement = conn.prepare_cached(
            "SELECT kind, value FROM identities WHERE profile_id = ?1 ORDER BY first_seen, id",
        )?;
        let mut rows = statement.query([profile_id])?;
        while let Some(row) = rows.next()? {
            let kind: String = row.get(0)?;
            let value: String = row.get(1)?;
            let list = match kind.as_str() {
                identity::USER_ID => &mut subject.user_ids,
                identity::ANONYMOUS_ID => &mut subject.anonymous_ids,
                identity::EMAIL => &mut subject.emails,
                identity::PHONE => &mut subject.phones,
                // Other kinds go with the profile's identities.
                _ => continue,
            };
            list.push(value);
        }
        Ok(subject)
    }

    /// Adds the devices that consented or chatted under one of the userIds but that
    /// the graph does not know (they never sent an event).
    fn add_devices_without_events(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let found: Vec<String> = conn
            .prepare_cached(
                "SELECT anonymous_id FROM consents
                 WHERE user_id IN (SELECT value FROM json_each(?1))
                 UNION
                 SELECT anonymous_id FROM chat_conversations
                 WHERE user_id IN (SELECT value FROM json_each(?1))",
            )?
            .query_map([json!(self.user_ids).to_string()], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut known =
            conn.prepare_cached("SELECT 1 FROM identities WHERE kind = ?1 AND value = ?2")?;
        for anonymous_id in found {
            if !self.anonymous_ids.contains(&anonymous_id)
                && !known.exists((identity::ANONYMOUS_ID, &anonymous_id))?
            {
                self.anonymous_ids.push(anonymous_id);
            }
        }
        Ok(())
    }

    /// The named parameters the steps' SQL reads: `:profile`, and the ids as JSON
    /// arrays (`:user_ids`, `:anonymous_ids`, `:emails`, `:phones`).
    fn bindings(&self) -> Vec<Binding> {
        let list = |ids: &[String]| SqlValue::Text(json!(ids).to_string());
        vec![
            (
                ":profile",
                self.profile_id.map_or(SqlValue::Null, SqlValue::Integer),
            ),
            (":user_ids", list(&self.user_ids)),
            (":anonymous_ids", list(&self.anonymous_ids)),
            (":emails", list(&self.emails)),
            (":phones", list(&self.phones)),
        ]
    }

    /// `{profileId, userIds, anonymousIds, emails, phones}`.
    pub fn to_json(&self) -> Value {
        json!({
            "profileId": self.profile_id,
            "userIds": self.user_ids,
            "anonymousIds": self.anonymous_ids,
            "emails": self.emails,
            "phones": self.phones,
        })
    }
}

/// The profile `key` names: [`customer::resolve`]'s userId or profile id, else an
/// anonymousId, email or phone of the graph.
fn profile_of(conn: &Connection, key: &str) -> rusqlite::Result<Option<i64>> {
    if let Some(profile_id) = customer::resolve(conn, key)? {
        return Ok(Some(profile_id));
    }
    let mut statement =
        conn.prepare_cached("SELECT profile_id FROM identities WHERE kind = ?1 AND value = ?2")?;
    for (kind, value) in [
        (identity::ANONYMOUS_ID, Some(key.to_owned())),
        (identity::EMAIL, normalize_email(key)),
        (identity::PHONE, normalize_phone(key)),
    ] {
        let Some(value) = value else { continue };
        let found = statement
            .query_row((kind, &value), |row| row.get(0))
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// A named SQL parameter and its value.
type Binding = (&'static str, SqlValue);

/// Prepares `sql` and binds those of `bindings` that it names.
fn prepare<'c>(
    conn: &'c Connection,
    sql: &str,
    bindings: &[Binding],
) -> rusqlite::Result<CachedStatement<'c>> {
    let mut statement = conn.prepare_cached(sql)?;
    for (name, value) in bindings {
        if let Some(index) = statement.parameter_index(name)? {
            statement.raw_bind_parameter(index, value)?;
        }
    }
    Ok(statement)
}

/// What an erasure does to a table's rows of the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The rows are deleted.
    Deleted,
    /// The rows stay, with everything that identifies the customer removed.
    Anonymised,
    /// The rows stay, with the customer's ids replaced by keyed hashes.
    Pseudonymised,
}

impl Action {
    /// `deleted`, `anonymised` or `pseudonymised`.
    pub fn name(self) -> &'static str {
        match self {
            Action::Deleted => "deleted",
            Action::Anonymised => "anonymised",
            Action::Pseudonymised => "pseudonymised",
        }
    }
}

/// How a step erases its rows.
enum Erase {
    /// `DELETE` them.
    Delete,
    /// `UPDATE … SET` this, with the subject's parameters and `:ledger_token`,
    /// `:chat_token`, `:erased_text` and `:now`.
    Update(&'static str),
    /// Row by row, in Rust: the step's condition, the parameters, the erasure.
    With(fn(&Connection, &str, &[Binding], &Erasing) -> rusqlite::Result<usize>),
}

/// One table's part in an export and an erasure.
struct Step {
    /// The table.
    table: &'static str,
    /// The subject's rows: an SQL condition on the table, over the parameters of
    /// [`Subject::bindings`].
    rows: &'static str,
    /// The export's order of the rows.
    order: &'static str,
    /// Columns holding JSON text, exported as JSON.
    json: &'static [&'static str],
    /// What happens to the rows.
    action: Action,
    /// How.
    erase: Erase,
}

/// The conversations of the subject.
macro_rules! conversations {
    () => {
        "user_id IN (SELECT value FROM json_each(:user_ids))
         OR (user_id IS NULL
             AND (anonymous_id IN (SELECT value FROM json_each(:anonymous_ids))
                  OR email IN (SELECT value FROM json_each(:emails))))"
    };
}

/// The webhooks fired for the subject's profile, or for a profile since merged into
/// it (a delivery keeps the profile it was fired for).
macro_rules! deliveries {
    () => {
        "profile_id IN (
             WITH RECURSIVE merged (id) AS (
                 SELECT :profile
                 UNION SELECT m.from_profile FROM profile_merges m
                       JOIN merged ON m.into_profile = merged.id)
             SELECT id FROM merged)"
    };
}

/// The links that touch an identity of the subject's profile.
macro_rules! links {
    () => {
        "from_id IN (SELECT id FROM identities WHERE profile_id = :profile)
         OR to_id IN (SELECT id FROM identities WHERE profile_id = :profile)"
    };
}

/// The tables that can hold a customer's data, in the order an erasure goes through
/// them: rows that refer to others before those. The export lists them the other
/// way round, the identity graph first. The module docs say why each is deleted or
/// anonymised.
const STEPS: &[Step] = &[
    Step {
        table: "crm_customers",
        rows: "profile_id = :profile OR user_id IN (SELECT value FROM json_each(:user_ids))",
        order: "profile_id",
        json: &[],
        action: Action::Deleted,
        erase: Erase::Delete,
    },
    Step {
        table: "trigger_attempts",
        rows: concat!(
            "delivery_id IN (SELECT id FROM trigger_deliveries WHERE ",
            deliveries!(),
            ")"
        ),
        order: "delivery_id, attempt",
        json: &[],
        action: Action::Deleted,
        erase: Erase::Delete,
    },
    Step {
        table: "trigger_deliveries",
        rows: deliveries!(),
        order: "id",
        json: &["body"],
        action: Action::Deleted,
        erase: Erase::Delete,
    },
    Step {
        table: "trigger_tiers",
        rows: "customer IN (SELECT value FROM json_each(:user_ids))",
        order: "customer",
        json: &[],
        action: Action::Deleted,
        erase: Erase::Delete,
    },
    Step {
        table: "events",
        rows: "user_id IN (SELECT value FROM json_each(:user_ids))
               OR (anonymous_id IN (SELECT value FROM json_each(:anonymous_ids))
                   AND user_id IS NULL)",
        order: "timestamp, received_at, message_id",
        json: &["body"],
        action: Action::Deleted,
        erase: Erase::Delete,
    },
    Step {
        table: "consents",
        rows: "user_id IN (SELECT value FROM json_each(:user_ids))
               OR (anonymous_id IN (SELECT value FROM json_each(:anonymous_ids))
                   AND user_id IS NULL)",
        order: "updated_at, id",
        json: &["body"],
        action: Action::Pseudonymised,
        erase: Erase::With(pseudonymise_consents),
    },
    Step {
        table: "chat_reads",
        rows: concat!(
            "reader = 'shopper' AND conversation_id IN (SELECT id FROM chat_conversations WHERE ",
            conversations!(),
            ")"
        ),
        order: "conversation_id, reader",
        json: &[],
        action: Action::Deleted,
        erase: Erase::Delete,
    },
    Step {
        table: "chat_messages",
        rows: concat!(
            "conversation_id IN (SELECT id FROM chat_conversations WHERE ",
            conversations!(),
            ")"
        ),
        order: "seq",
        json: &[],
        action: Action::Anonymised,
        erase: Erase::Update("text = :erased_text, id = 'erased:' || seq"),
    },
    Step {
        table: "chat_conversations",
        rows: conversations!(),
        order: "created_at, id",
        json: &["context"],
        action: Action::Anonymised,
        erase: Erase::Update(
            "anonymous_id = :chat_token, user_id = NULL, email = NULL, context = NULL,
             context_at = NULL, csat_comment = NULL,
             status = 'closed', closed_at = coalesce(closed_at, :now),
             close_seq = coalesce(close_seq, last_seq)",
        ),
    },
    Step {
        table: "loyalty_coupons",
        rows: "customer IN (SELECT value FROM json_each(:user_ids))",
        order: "issued_at, code",
        json: &["reward"],
        action: Action::Anonymised,
        erase: Erase::Update("customer = :ledger_token, order_id = NULL"),
    },
    Step {
        table: "loyalty_ledger",
        rows: "customer IN (SELECT value FROM json_each(:user_ids))",
        order: "id",
        json: &[],
        action: Action::Anonymised,
        // Redemption, release and expiry keys hold a random coupon code or a time;
        // the others name orders, refunds, adjustments, reviews or referred people.
        erase: Erase::Update(
            "customer = :ledger_token, order_id = NULL,
             key = CASE WHEN kind IN ('redemption', 'release', 'expiry') THEN key
                        ELSE 'erased:' || id END,
             reason = CASE WHEN reason IS NULL THEN NULL ELSE 'erased' END",
        ),
    },
    Step {
        table: "profile_merges",
        rows: concat!(
            "from_profile = :profile OR into_profile = :profile
             OR link_id IN (SELECT id FROM identity_links WHERE ",
            links!(),
            ")"
        ),
        order: "id",
        json: &[],
        action: Action::Deleted,
        erase: Erase::Delete,
    },
    Step {
        table: "identity_links",
        rows: links!(),
        order: "at, id",
        json: &[],
        action: Action::Deleted,
        erase: Erase::Delete,
    },
    Step {
        table: "identities",
        rows: "profile_id = :profile",
        order: "first_seen, id",
        json: &[],
        action: Action::Deleted,
        erase: Erase::Delete,
    },
];

impl Step {
    /// How many rows of the subject the table holds.
    fn count(&self, conn: &Connection, bindings: &[Binding]) -> rusqlite::Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {} WHERE {}", self.table, self.rows);
        let mut statement = prepare(conn, &sql, bindings)?;
        let mut rows = statement.raw_query();
        match rows.next()? {
            Some(row) => row.get(0),
            None => Ok(0),
        }
    }

    /// The subject's rows, each an object of its columns as stored (JSON text
    /// columns as JSON).
    fn export(&self, conn: &Connection, bindings: &[Binding]) -> rusqlite::Result<Vec<Value>> {
        let sql = format!(
            "SELECT * FROM {} WHERE {} ORDER BY {}",
            self.table, self.rows, self.order
        );
        let mut statement = prepare(conn, &sql, bindings)?;
        let names: Vec<String> = statement
            .column_names()
            .iter()
            .map(|name| (*name).to_owned())
            .collect();
        let mut rows = statement.raw_query();
        let mut found = Vec::new();
        while let Some(row) = rows.next()? {
            let mut object = Map::new();
            for (i, name) in names.iter().enumerate() {
                let value = cell_json(row.get_ref(i)?, self.json.contains(&name.as_str()));
                object.insert(name.clone(), value);
            }
            found.push(Value::Object(object));
        }
        Ok(found)
    }

    /// Erases the subject's rows; answers how many it deleted or changed.
    fn erase(
        &self,
        conn: &Connection,
        bindings: &[Binding],
        erasing: &Erasing,
    ) -> rusqlite::Result<usize> {
        let sql = match &self.erase {
            Erase::Delete => format!("DELETE FROM {} WHERE {}", self.table, self.rows),
            Erase::Update(set) => format!("UPDATE {} SET {set} WHERE {}", self.table, self.rows),
            Erase::With(erase) => return erase(conn, self.rows, bindings, erasing),
        };
        prepare(conn, &sql, bindings)?.raw_execute()
    }
}

/// A stored value as JSON: text as a string, or as the JSON it holds when `json`.
fn cell_json(value: ValueRef<'_>, json: bool) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => json!(n),
        ValueRef::Real(x) => json!(x),
        ValueRef::Text(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            match json.then(|| serde_json::from_str(&text)) {
                Some(Ok(parsed)) => parsed,
                _ => Value::String(text.into_owned()),
            }
        }
        ValueRef::Blob(bytes) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// The secrets of one erasure, made at random and never stored.
struct Erasing {
    /// The key of the consent proofs' pseudonyms.
    proof_key: [u8; 32],
}

/// `N` random bytes.
fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `erased:` and 32 random hex digits.
fn random_token() -> String {
    format!("erased:{}", hex(&random::<16>()))
}

/// `erased-` and the first 16 bytes, in hex, of HMAC-SHA256(`key`,
/// `<column>:<value>`): a consent id that is still a valid URL path segment.
pub fn pseudonym(key: &[u8], column: &str, value: &str) -> String {
    let mut mac = <Hmac<Sha256>>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(column.as_bytes());
    mac.update(b":");
    mac.update(value.as_bytes());
    format!("erased-{}", hex(&mac.finalize().into_bytes()[..16]))
}

/// The consents step: each version's ids become [`pseudonym`]s under the erasure's
/// key, and its body is rebuilt from the columns that prove the decision.
fn pseudonymise_consents(
    conn: &Connection,
    rows: &str,
    bindings: &[Binding],
    erasing: &Erasing,
) -> rusqlite::Result<usize> {
    let sql = format!(
        "SELECT id, consent_id, anonymous_id, user_id, revision, language, source,
                functional, analytics, personalization, marketing, gpc, first_at, updated_at
         FROM consents WHERE {rows}"
    );
    let mut versions = Vec::new();
    {
        let mut statement = prepare(conn, &sql, bindings)?;
        let mut found = statement.raw_query();
        while let Some(row) = found.next()? {
            let key = &erasing.proof_key;
            let consent_id = pseudonym(key, "consent_id", &row.get::<_, String>(1)?);
            let anonymous_id = pseudonym(key, "anonymous_id", &row.get::<_, String>(2)?);
            let user_id = row
                .get::<_, Option<String>>(3)?
                .map(|user| pseudonym(key, "user_id", &user));
            let body = json!({
                "consentId": consent_id,
                "anonymousId": anonymous_id,
                "userId": user_id,
                "revision": row.get::<_, String>(4)?,
                "language": row.get::<_, String>(5)?,
                "source": row.get::<_, String>(6)?,
                "categories": {
                    "necessary": true,
                    "functional": row.get::<_, bool>(7)?,
                    "analytics": row.get::<_, bool>(8)?,
                    "personalization": row.get::<_, bool>(9)?,
                    "marketing": row.get::<_, bool>(10)?,
                },
                "gpc": row.get::<_, bool>(11)?,
                "firstAt": row.get::<_, String>(12)?,
                "updatedAt": row.get::<_, String>(13)?,
            });
            versions.push((
                row.get::<_, i64>(0)?,
                consent_id,
                anonymous_id,
                user_id,
                body.to_string(),
            ));
        }
    }
    let mut update = conn.prepare_cached(
        "UPDATE consents SET consent_id = ?2, anonymous_id = ?3, user_id = ?4, body = ?5
         WHERE id = ?1",
    )?;
    let count = versions.len();
    for version in versions {
        update.execute(version)?;
    }
    Ok(count)
}

/// One table's part in an erasure, or in its preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touched {
    /// The table.
    pub table: &'static str,
    /// What was (or would be) done to its rows.
    pub action: Action,
    /// How many rows.
    pub rows: usize,
}

impl Touched {
    /// `{table, action, rows}`.
    pub fn to_json(&self) -> Value {
        json!({ "table": self.table, "action": self.action.name(), "rows": self.rows })
    }
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    /// Its row in the `erasures` log.
    pub erasure_id: i64,
    /// When it committed.
    pub at: String,
    /// Each table's action and row count, in the order done.
    pub tables: Vec<Touched>,
    /// The key of the consent proofs' pseudonyms, in hex, when there were any.
    pub consent_proof_key: Option<String>,
    /// Whether the database was vacuumed and its WAL emptied after the commit
    /// ([`scrub`]).
    pub scrubbed: bool,
}

impl Erased {
    /// `{erasureId, erasedAt, tables: [{table, action, rows}], consentProofKey,
    /// scrubbed}`.
    pub fn to_json(&self) -> Value {
        json!({
            "erasureId": self.erasure_id,
            "erasedAt": self.at,
            "tables": self.tables.iter().map(Touched::to_json).collect::<Vec<_>>(),
            "consentProofKey": self.consent_proof_key,
            "scrubbed": self.scrubbed,
        })
    }
}

/// `| table | action | rows |` as a Markdown table.
fn table(touched: &[Touched]) -> String {
    let mut out = String::from("| table | action | rows |\n|---|---|---:|\n");
    for t in touched {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            t.table,
            t.action.name(),
            t.rows
        ));
    }
    out
}

/// What erasing `key` would do, table by table; `None` when nothing is held.
pub fn preview(conn: &Connection, key: &str) -> rusqlite::Result<Option<Vec<Touched>>> {
    let snapshot = conn.unchecked_transaction()?;
    let Some(subject) = Subject::find(conn, key)? else {
        return Ok(None);
    };
    let bindings = subject.bindings();
    let touched = STEPS
        .iter()
        .map(|step| {
            Ok(Touched {
                table: step.table,
                action: step.action,
                rows: usize::try_from(step.count(conn, &bindings)?).unwrap_or(0),
            })
        })
        .collect::<rusqlite::Result<Vec<_>>>()?;
    snapshot.finish()?;
    Ok(Some(touched))
}

/// Everything held about `key`: `{exportedAt, key, subject, profile, tables}`, where
/// `profile` is the identity graph's view ([`identity::profile`]: identities, and
/// links with their reasons) and `tables` has each table's rows of the subject as
/// stored, the graph first. `None` when nothing is held.
pub fn export(conn: &Connection, key: &str) -> rusqlite::Result<Option<Value>> {
    let Some(subject) = Subject::find(conn, key)? else {
        return Ok(None);
    };
    // The graph's view reads in a snapshot of its own.
    let profile = match subject.profile_id {
        Some(profile_id) => graph(conn, profile_id)?,
        None => None,
    };
    let snapshot = conn.unchecked_transaction()?;
    let bindings = subject.bindings();
    let mut tables = Map::new();
    for step in STEPS.iter().rev() {
        tables.insert(
            step.table.to_owned(),
            Value::Array(step.export(conn, &bindings)?),
        );
    }
    snapshot.finish()?;
    Ok(Some(json!({
        "exportedAt": datetime::now(),
        "key": key,
        "subject": subject.to_json(),
        "profile": profile,
        "tables": tables,
    })))
}

/// [`identity::profile`] of profile `profile_id`, looked up by its first identity.
fn graph(conn: &Connection, profile_id: i64) -> rusqlite::Result<Option<Value>> {
    let first: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT kind, value FROM identities WHERE profile_id = ?1 ORDER BY id LIMIT 1",
        )?
        .query_row([profile_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((kind, value)) = first else {
        return Ok(None);
    };
    let Some(kind) = identity::LOOKUP_KINDS.iter().copied().find(|k| *k == kind) else {
        return Ok(None);
    };
    identity::profile(conn, &Lookup { kind, value })
}

/// Erases everything held about `key` (the module docs say how), logging it as
/// asked for by `requested_by`. Run it in one [`Store::write`] job: it is one
/// transaction. `None` when nothing is held.
pub fn erase(conn: &Connection, key: &str, requested_by: &str) -> store::Result<Option<Erased>> {
    let Some(subject) = Subject::find(conn, key)? else {
        return Ok(None);
    };
    let was: i64 = conn.pragma_query_value(None, "secure_delete", |row| row.get(0))?;
    conn.pragma_update_and_check(None, "secure_delete", 1, |row| row.get::<_, i64>(0))?;
    let erased = erase_subject(conn, &subject, requested_by);
    conn.pragma_update_and_check(None, "secure_delete", was, |row| row.get::<_, i64>(0))?;
    erased.map(Some)
}

fn erase_subject(
    conn: &Connection,
    subject: &Subject,
    requested_by: &str,
) -> store::Result<Erased> {
    let started_at = datetime::now();
    conn.prepare_cached("INSERT INTO erasures (started_at, requested_by) VALUES (?1, ?2)")?
        .execute((&started_at, requested_by))?;
    let erasure_id = conn.last_insert_rowid();
    let erasing = Erasing {
        proof_key: random(),
    };
    let mut bindings = subject.bindings();
    bindings.extend([
        (":ledger_token", SqlValue::Text(random_token())),
        (":chat_token", SqlValue::Text(random_token())),
        (":erased_text", SqlValue::Text(ERASED_TEXT.to_owned())),
        (":now", SqlValue::Text(started_at)),
    ]);
    let mut tables = Vec::with_capacity(STEPS.len());
    for step in STEPS {
        tables.push(Touched {
            table: step.table,
            action: step.action,
            rows: step.erase(conn, &bindings, &erasing)?,
        });
    }
    for step in STEPS {
        let left = step.count(conn, &bindings)?;
        if left > 0 {
            return Err(store::Error::Invariant(format!(
                "the erasure left {left} rows of the customer in {}",
                step.table
            )));
        }
    }
    let at = datetime::now();
    let log: Vec<Value> = tables.iter().map(Touched::to_json).collect();
    conn.prepare_cached("UPDATE erasures SET finished_at = ?2, tables = ?3 WHERE id = ?1")?
        .execute((erasure_id, &at, Value::Array(log).to_string()))?;
    let consents = tables
        .iter()
        .any(|t| t.action == Action::Pseudonymised && t.rows > 0);
    Ok(Erased {
        erasure_id,
        at,
        tables,
        consent_proof_key: consents.then(|| hex(&erasing.proof_key)),
        scrubbed: false,
    })
}

/// Erases `key` in one write job of `store`, then [`scrub`]s the file. `None` when
/// nothing is held.
pub async fn erase_in(
    store: &Store,
    key: &str,
    requested_by: String,
) -> store::Result<Option<Erased>> {
    let key = key.to_owned();
    let done = store
        .write(move |conn| {
            let erased = erase(conn, &key, &requested_by)?;
            Ok(erased.map(|erased| (erased, conn.path().map(PathBuf::from))))
        })
        .await?;
    let Some((mut erased, path)) = done else {
        return Ok(None);
    };
    if let Some(path) = path.filter(|p| !p.as_os_str().is_empty()) {
        let scrubbed = tokio::task::spawn_blocking(move || scrub(&path)).await;
        erased.scrubbed = match scrubbed {
            Ok(Ok(())) => true,
            Ok(Err(error)) => {
                tracing::warn!(%error, "the database could not be vacuumed after an erasure");
                false
            }
            Err(_) => false,
        };
    }
    Ok(Some(erased))
}

/// Rewrites the database at `path` without the free space that deleted rows leave
/// (`VACUUM`), then copies every page into the database file and empties the `-wal`
/// file (`PRAGMA wal_checkpoint(TRUNCATE)`), from a connection of its own. Fails
/// when another connection held its lock past [`SCRUB_WAIT`].
pub fn scrub(path: &Path) -> rusqlite::Result<()> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(SCRUB_WAIT)?;
    conn.execute_batch("VACUUM")?;
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
    if busy != 0 {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            Some("the WAL checkpoint was blocked by another connection".to_owned()),
        ));
    }
    Ok(())
}

/// The routes of the export and the erasure, to merge into the CRM's.
pub fn routes() -> Router<AppState> {
    // `/v1/crm/customers/{key}` is the CRM's too (GET), and its fallback answers 405.
    Router::new()
        .route("/v1/crm/customers/{key}", delete(erase_customer))
        .route(
            "/v1/crm/customers/{key}/export",
            get(export_customer).fallback(crate::http::method_not_allowed),
        )
}

fn path_key(key: Result<UrlPath<String>, PathRejection>) -> Result<String, ApiError> {
    key.map(|UrlPath(key)| key)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))
}

/// `GET /v1/crm/customers/{key}/export`: [`export`], or 404.
async fn export_customer(
    State(state): State<AppState>,
    _: Staff,
    key: Result<UrlPath<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let key = path_key(key)?;
    let wanted = key.clone();
    let answer = state
        .store
        .read(move |conn| Ok(export(conn, &wanted)?))
        .await?;
    answer
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, unknown(&key)))
}

/// `DELETE /v1/crm/customers/{key}`: [`erase`], answering [`Erased::to_json`], or
/// 404 when nothing is held (never known, or already erased).
async fn erase_customer(
    State(state): State<AppState>,
    staff: Staff,
    key: Result<UrlPath<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let key = path_key(key)?;
    let requested_by = match staff {
        Staff::ServerKey => "server key".to_owned(),
        Staff::Merchant { agent_id } => format!("staff {agent_id}"),
    };
    match erase_in(&state.store, &key, requested_by).await? {
        Some(erased) => Ok(Json(erased.to_json())),
        None => Err(ApiError::new(StatusCode::NOT_FOUND, nothing_to_erase(&key))),
    }
}

/// Options of `souk-server customer`.
#[derive(Debug, clap::Args)]
pub struct CustomerArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: CustomerCommand,
}

/// The `customer` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CustomerCommand {
    /// Write everything held about a customer as one JSON document (the right of
    /// access). `serve` may be running on the database.
    Export(ExportArgs),
    /// Delete or anonymise everything that identifies a customer, in one
    /// transaction, and print what was done per table (the right to erasure).
    /// `serve` may be running on the database.
    Erase(EraseArgs),
}

/// Options of `souk-server customer export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The customer: a userId, profile id, anonymousId, email or phone.
    #[arg(value_name = "ID", value_parser = NonEmptyStringValueParser::new())]
    pub id: String,
    /// SQLite database file of a souk-server; opened read-only.
    #[arg(long, default_value = "souk.db")]
    pub db: PathBuf,
    /// File to write (replaced if it exists) [default: standard output].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Options of `souk-server customer erase`.
#[derive(Debug, clap::Args)]
pub struct EraseArgs {
    /// The customer: a userId, profile id, anonymousId, email or phone.
    #[arg(value_name = "ID", value_parser = NonEmptyStringValueParser::new())]
    pub id: String,
    /// SQLite database file of a souk-server.
    #[arg(long, default_value = "souk.db")]
    pub db: PathBuf,
    /// Erase without asking; needed when standard input is not a terminal.
    #[arg(long)]
    pub yes: bool,
}

/// Runs `souk-server customer …`.
pub async fn run(args: CustomerArgs) -> Result<(), Error> {
    match args.command {
        CustomerCommand::Export(args) => export_cli(&args),
        CustomerCommand::Erase(args) => erase_cli(args).await,
    }
}

fn export_cli(args: &ExportArgs) -> Result<(), Error> {
    let conn = store::open_read_only(&args.db)?;
    let document = export(&conn, &args.id)
        .map_err(store::Error::from)?
        .ok_or_else(|| PrivacyError::NotFound {
            key: args.id.clone(),
        })?;
    let (to, mut out): (String, Box<dyn Write>) = match &args.out {
        Some(path) => {
            let to = path.display().to_string();
            let file = File::create(path).map_err(|source| PrivacyError::Output {
                to: to.clone(),
                source,
            })?;
            (to, Box::new(BufWriter::new(file)))
        }
        None => (
            "standard output".to_owned(),
            Box::new(BufWriter::new(io::stdout().lock())),
        ),
    };
    serde_json::to_writer_pretty(&mut out, &document)
        .map_err(io::Error::from)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush())
        .map_err(|source| PrivacyError::Output { to, source })?;
    Ok(())
}

async fn erase_cli(args: EraseArgs) -> Result<(), Error> {
    // Read-only first: a missing file is an error, not a new database.
    let conn = store::open_read_only(&args.db)?;
    if !args.yes {
        let touched = preview(&conn, &args.id)
            .map_err(store::Error::from)?
            .ok_or_else(|| PrivacyError::NothingToErase {
                key: args.id.clone(),
            })?;
        confirm(&args.id, &touched)?;
    }
    drop(conn);
    let store = Store::open(&args.db)?;
    let result = erase_in(&store, &args.id, "cli".to_owned()).await;
    store.close().await;
    let erased = result?.ok_or_else(|| PrivacyError::NothingToErase {
        key: args.id.clone(),
    })?;
    println!(
        "erased {} (erasure {} at {}):\n",
        quote(&json!(args.id)),
        erased.erasure_id,
        erased.at
    );
    print!("{}", table(&erased.tables));
    if let Some(key) = &erased.consent_proof_key {
        println!(
            "\nconsent proof key: {key}\nIt is stored nowhere: keep it with the record of this request. With it and an id the customer gives, the pseudonymised consent proofs can be found again (GDPR Art. 7(1)); without it they name nobody."
        );
    }
    if !erased.scrubbed {
        eprintln!("warning: the database was too busy to be vacuumed after the erasure, so the erased bytes may linger in its free space: run `sqlite3 {} VACUUM` when it is quiet", args.db.display());
    }
    Ok(())
}

/// Shows what erasing `key` does and asks on the terminal.
fn confirm(key: &str, touched: &[Touched]) -> Result<(), PrivacyError> {
    let stdin = io::stdin();
    if !stdin.is_terminal() {
        return Err(PrivacyError::NeedsYes);
    }
    eprint!(
        "Erasing {} will change these rows:\n\n{}\nThis cannot be undone. Type yes to erase: ",
        quote(&json!(key)),
        table(touched)
    );
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(PrivacyError::Stdin)?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(PrivacyError::NotConfirmed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_keyed_and_path_safe() {
        let a = pseudonym(&[1; 32], "user_id", "u-1");
        assert_eq!(a, pseudonym(&[1; 32], "user_id", "u-1"));
        assert_ne!(a, pseudonym(&[2; 32], "user_id", "u-1"));
        assert_ne!(a, pseudonym(&[1; 32], "anonymous_id", "u-1"));
        assert_eq!(a.len(), "erased-".len() + 32);
        assert!(crate::consent::check_consent_id(&a).is_ok(), "{a}");
    }

    /// The tables that hold no customer's data, so an erasure leaves them alone: staff
    /// accounts and their sessions and canned replies, the catalogue, the CRM's
    /// settings, shop-wide run totals and segment definitions, the triggers' set-up,
    /// the erasures log, and SQLite's AUTOINCREMENT counters.
    const NOT_PERSONAL: &[&str] = &[
        "agents",
        "agent_sessions",
        "chat_canned_responses",
        "catalog_products",
        "crm_settings",
        "crm_runs",
        "crm_run_segments",
        "crm_custom_segments",
        "triggers",
        "erasures",
        "sqlite_sequence",
    ];

    #[test]
    fn every_table_is_a_step_or_holds_no_customer_data() {
        let mut conn = Connection::open_in_memory().unwrap();
        store::migrations().to_latest(&mut conn).unwrap();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for table in &tables {
            assert!(
                STEPS.iter().any(|s| s.table == table) || NOT_PERSONAL.contains(&table.as_str()),
                "table {table} is new: add a step for it to privacy::STEPS (what an erasure does with a customer's rows), or list it in NOT_PERSONAL if it never holds a customer's data"
            );
        }
        for listed in NOT_PERSONAL {
            assert!(tables.iter().any(|t| t == listed), "{listed} is gone");
        }
    }

    #[test]
    fn every_step_names_a_table_of_the_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        store::migrations().to_latest(&mut conn).unwrap();
        let bindings = Subject {
            profile_id: Some(1),
            user_ids: vec!["u".into()],
            ..Subject::default()
        }
        .bindings();
        for step in STEPS {
            assert_eq!(step.count(&conn, &bindings).unwrap(), 0, "{}", step.table);
            assert!(step.export(&conn, &bindings).unwrap().is_empty());
        }
    }
}
