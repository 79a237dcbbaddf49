//! Materialising the scores: a refresh reads every order on a read connection,
//! scores the customers ([`rfm`]) off the writer, then replaces `crm_customers` and
//! logs the run in one write job.
//!
//! Why a table and not the read path: a customer's segment depends on every other
//! customer (quintiles), so anything that shows a segment (the overview, a segment
//! page, a customer's scores, a CSV export) would read every order of the shop.
//! Measured by `souk-server crm bench` (release build, 2 cores), reading and scoring
//! everything takes 3 ms at 10k events, ~27 ms at 100k and ~265 ms at 1M, growing
//! with the orders; the real shop's year (512k events, 18,402 orders) takes
//! 160–260 ms. The table answers the segment sizes in ~1 ms and a customer's scores
//! in one row lookup at every size, and the write that replaces it (4–8k rows) takes
//! 11–24 ms of the writer's time. So a refresh runs at startup, every `serve
//! --crm-every`, on `POST /v1/crm/refresh` and on `souk-server crm refresh`, and
//! every read uses its table. Scores are as fresh as the last refresh; each answer
//! says when that was.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

use super::orders::{self, Scope};
use super::rfm::{self, Segment, VipRule};
use crate::datetime;
use crate::store::{self, Store};

/// The CRM's settings (`crm_settings`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// Who is a VIP.
    pub vip: VipRule,
    /// The currency RFM money is counted in; the one with the most orders when unset.
    pub currency: Option<String>,
    /// Score as of this time (stored form) instead of now.
    pub as_of: Option<String>,
}

impl Settings {
    /// The stored settings; a value that no longer reads is ignored, with a warning.
    pub fn load(conn: &Connection) -> rusqlite::Result<Settings> {
        let mut settings = Settings::default();
        let mut statement = conn.prepare_cached("SELECT key, value FROM crm_settings")?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (key, value) = row?;
            match key.as_str() {
                "vip" => match VipRule::parse(&value) {
                    Ok(rule) => settings.vip = rule,
                    Err(e) => tracing::warn!(%e, "the stored VIP rule was ignored"),
                },
                "currency" => settings.currency = Some(value),
                "as_of" => settings.as_of = Some(value),
                _ => {}
            }
        }
        Ok(settings)
    }

    /// Stores `self`, replacing every setting.
    pub fn save(&self, conn: &Connection) -> rusqlite::Result<()> {
        let now = datetime::now();
        let mut put = conn.prepare_cached(
            "INSERT INTO crm_settings (key, value, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )?;
        put.execute(params!["vip", self.vip.to_string(), now])?;
        let mut delete = conn.prepare_cached("DELETE FROM crm_settings WHERE key = ?1")?;
        for (key, value) in [("currency", &self.currency), ("as_of", &self.as_of)] {
            match value {
                Some(value) => put.execute(params![key, value, now])?,
                None => delete.execute([key])?,
            };
        }
        Ok(())
    }

    /// `{vip, currency, asOf}`.
    pub fn to_json(&self) -> Value {
        json!({ "vip": self.vip.to_string(), "currency": self.currency, "asOf": self.as_of })
    }
}

/// A currency setting: three letters, upper-cased.
pub fn parse_currency(text: &str) -> Result<String, String> {
    let currency = text.trim().to_ascii_uppercase();
    if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(currency)
    } else {
        Err(format!(
            "{text:?} is not an ISO 4217 currency code such as SAR or GBP"
        ))
    }
}

/// An as-of setting: a day `YYYY-MM-DD` means the end of that day (UTC), a date-time
/// that moment; answers the stored form.
pub fn parse_as_of(text: &str) -> Result<String, String> {
    let text = text.trim();
    if let Some(at) = datetime::normalize(text) {
        return Ok(at);
    }
    day_end(text).ok_or_else(|| {
        format!(
            "{text:?} is not a day such as 2011-12-09 or a date-time such as 2011-12-09T18:00:00Z"
        )
    })
}

/// The midnight after day `YYYY-MM-DD`, in the stored form.
pub fn day_end(day: &str) -> Option<String> {
    let start = datetime::to_ms(&format!("{day}T00:00:00Z"))?;
    if day.len() != 10 {
        return None;
    }
    Some(souk::core::time::iso8601(start + rfm::DAY_MS as u64))
}

/// What a refresh did.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Its id in `crm_runs`.
    pub id: i64,
    /// When it scored as of (stored form).
    pub as_of: String,
    /// When it finished.
    pub finished_at: String,
    /// The currency of the money.
    pub currency: Option<String>,
    /// Customers scored.
    pub customers: i64,
    /// Orders read (each once), and how many were online and in store.
    pub orders: i64,
    /// Online orders.
    pub online: i64,
    /// Store orders.
    pub store: i64,
    /// The lifetime model's numbers.
    pub lifetime: rfm::Lifetime,
    /// The VIP rule.
    pub vip_rule: String,
    /// VIPs found.
    pub vips: i64,
    /// Each segment's customers, monetary and lifetime value, best segment first.
    pub segments: Vec<(Segment, i64, i64, i64)>,
    /// Milliseconds spent reading, scoring and writing.
    pub read_ms: i64,
    /// Scoring.
    pub score_ms: i64,
    /// Writing.
    pub write_ms: i64,
}

impl Run {
    /// The run as the API shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "asOf": self.as_of,
            "finishedAt": self.finished_at,
            "currency": self.currency,
            "customers": self.customers,
            "orders": { "total": self.orders, "online": self.online, "store": self.store },
            "retention": self.lifetime.retention,
            "lifetimeYears": self.lifetime.years,
            "vip": { "rule": self.vip_rule, "customers": self.vips },
            "segments": self.segments.iter().map(|(s, n, m, l)| json!({
                "name": s.name(), "customers": n, "monetary": m, "ltv": l,
            })).collect::<Vec<_>>(),
            "ms": { "read": self.read_ms, "score": self.score_ms, "write": self.write_ms },
        })
    }
}

/// A customer's row, ready to write.
struct Row {
    scored: rfm::Scored,
    customer: rfm::Customer,
    user_id: Option<String>,
    contact: Contact,
}

/// A profile's name, email and phone, for search and export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    /// From identify traits: `name`, else first and last name.
    pub name: Option<String>,
    /// The profile's latest email identity.
    pub email: Option<String>,
    /// The profile's latest phone identity.
    pub phone: Option<String>,
}

/// The name in identify `traits`: `name`, else `firstName`/`first_name` and
/// `lastName`/`last_name` joined.
pub fn trait_name(traits: &Value) -> Option<String> {
    let get = |key: &str| {
        traits
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    if let Some(name) = get("name") {
        return Some(name.to_owned());
    }
    let first = get("firstName").or_else(|| get("first_name"));
    let last = get("lastName").or_else(|| get("last_name"));
    match (first, last) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(one), None) | (None, Some(one)) => Some(one.to_owned()),
        (None, None) => None,
    }
}

/// Every profile's user_id and contact details: one pass over the user ids, emails
/// and phones, and one over the identify calls (newest traits win).
fn contacts(conn: &Connection) -> rusqlite::Result<(HashMap<i64, String>, HashMap<i64, Contact>)> {
    let mut users = HashMap::new();
    let mut contacts: HashMap<i64, Contact> = HashMap::new();
    let mut statement = conn.prepare(
        "SELECT profile_id, kind, value FROM identities
         WHERE kind IN ('user_id', 'email', 'phone') ORDER BY first_seen, id",
    )?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let profile: i64 = row.get(0)?;
        let kind: String = row.get(1)?;
        let value: String = row.get(2)?;
        match kind.as_str() {
            "user_id" => {
                users.insert(profile, value);
            }
            "email" => contacts.entry(profile).or_default().email = Some(value),
            _ => contacts.entry(profile).or_default().phone = Some(value),
        }
    }
    let mut statement = conn.prepare(
        "SELECT e.body, coalesce(u.profile_id, a.profile_id) FROM events e
         LEFT JOIN identities u ON u.kind = 'user_id' AND u.value = e.user_id
         LEFT JOIN identities a ON a.kind = 'anonymous_id' AND a.value = e.anonymous_id
         WHERE e.type = 'identify' ORDER BY e.timestamp",
    )?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let Some(profile) = row.get::<_, Option<i64>>(1)? else {
            continue;
        };
        let body: String = row.get(0)?;
        let Ok(message) = serde_json::from_str::<Value>(&body) else {
            continue;
        };
        if let Some(name) = trait_name(&message["traits"]) {
            contacts.entry(profile).or_default().name = Some(name);
        }
    }
    Ok((users, contacts))
}

/// What one refresh computed, before it is written.
struct Computed {
    as_of: String,
    settings: Settings,
    currency: Option<String>,
    orders: i64,
    online: i64,
    store: i64,
    lifetime: rfm::Lifetime,
    rows: Vec<Row>,
    read_ms: i64,
    score_ms: i64,
}

/// Reads and scores (on a read connection); `as_of` overrides the setting.
fn compute(
    conn: &Connection,
    as_of: Option<String>,
    progress: &mut dyn FnMut(&str),
) -> rusqlite::Result<Computed> {
    let started = Instant::now();
    let snapshot = conn.unchecked_transaction()?;
    let settings = Settings::load(conn)?;
    let as_of = as_of
        .or_else(|| settings.as_of.clone())
        .unwrap_or_else(datetime::now);
    let as_of_ms = datetime::to_ms(&as_of).unwrap_or(0) as i64;
    let (orders, _) = orders::collect(conn, Scope::All, false, progress)?;
    let (users, mut contacts) = contacts(conn)?;
    snapshot.finish()?;
    let read_ms = started.elapsed().as_millis() as i64;
    progress(&format!(
        "read {} orders and the customers' contacts in {read_ms} ms",
        orders.len()
    ));

    let started = Instant::now();
    let currency = settings
        .currency
        .clone()
        .or_else(|| orders::main_currency(&orders));
    let customers = orders::customers(&orders, as_of_ms, currency.as_deref());
    let (scored, lifetime) = rfm::score(&customers, as_of_ms, &settings.vip);
    let kept = orders.iter().filter(|o| o.at_ms <= as_of_ms);
    let (online, store) = kept.fold((0, 0), |(on, st), o| match o.channel {
        orders::Channel::Online => (on + 1, st),
        orders::Channel::Store => (on, st + 1),
    });
    let rows = scored
        .into_iter()
        .zip(customers)
        .map(|(scored, customer)| Row {
            user_id: users.get(&customer.profile_id).cloned(),
            contact: contacts.remove(&customer.profile_id).unwrap_or_default(),
            scored,
            customer,
        })
        .collect::<Vec<_>>();
    let score_ms = started.elapsed().as_millis() as i64;
    progress(&format!(
        "scored {} customers as of {as_of} in {score_ms} ms",
        rows.len()
    ));
    Ok(Computed {
        as_of,
        settings,
        currency,
        orders: online + store,
        online,
        store,
        lifetime,
        rows,
        read_ms,
        score_ms,
    })
}

/// Writes a computed refresh: replaces `crm_customers`, logs the run.
fn write(conn: &Connection, computed: &Computed, started_at: &str) -> rusqlite::Result<Run> {
    let started = Instant::now();
    let mut sizes: HashMap<Segment, (i64, i64, i64)> = HashMap::new();
    for row in &computed.rows {
        let entry = sizes.entry(row.scored.segment).or_default();
        entry.0 += 1;
        entry.1 += row.customer.monetary;
        entry.2 += row.scored.ltv;
    }
    let vips = computed.rows.iter().filter(|r| r.scored.vip).count() as i64;
    conn.execute(
        "INSERT INTO crm_runs (started_at, finished_at, as_of, currency, customers, orders,
             online_orders, store_orders, retention, lifetime_years, vip_rule, vips, read_ms,
             score_ms, write_ms)
         VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 0)",
        params![
            started_at,
            computed.as_of,
            computed.currency,
            computed.rows.len() as i64,
            computed.orders,
            computed.online,
            computed.store,
            computed.lifetime.retention,
            computed.lifetime.years,
            computed.settings.vip.to_string(),
            vips,
            computed.read_ms,
            computed.score_ms,
        ],
    )?;
    let run_id = conn.last_insert_rowid();
    conn.execute("DELETE FROM crm_customers", [])?;
    // Scored on a snapshot: a customer erased since (`customer erase`) is not
    // written back.
    let mut insert = conn.prepare_cached(
        "INSERT INTO crm_customers (profile_id, user_id, name, email, phone, orders,
             online_orders, store_orders, first_order_at, last_order_at, recency_days,
             monetary, aov, r, f, m, segment, ltv, vip, run_id)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                ?18, ?19, ?20
         WHERE EXISTS (SELECT 1 FROM identities WHERE profile_id = ?1)",
    )?;
    for row in &computed.rows {
        let (c, s) = (&row.customer, &row.scored);
        insert.execute(params![
            c.profile_id,
            row.user_id,
            row.contact.name,
            row.contact.email,
            row.contact.phone,
            c.orders(),
            c.online,
            c.store,
            souk::core::time::iso8601(c.first_ms.max(0) as u64),
            souk::core::time::iso8601(c.last_ms.max(0) as u64),
            s.recency_days,
            c.monetary,
            s.aov,
            s.r,
            s.f,
            s.m,
            s.segment.name(),
            s.ltv,
            s.vip,
            run_id,
        ])?;
    }
    let segments: Vec<(Segment, i64, i64, i64)> = Segment::ALL
        .iter()
        .map(|s| {
            let (n, m, l) = sizes.get(s).copied().unwrap_or_default();
            (*s, n, m, l)
        })
        .collect();
    let mut insert = conn.prepare_cached(
        "INSERT INTO crm_run_segments (run_id, segment, customers, monetary, ltv)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (segment, n, m, l) in &segments {
        insert.execute(params![run_id, segment.name(), n, m, l])?;
    }
    let write_ms = started.elapsed().as_millis() as i64;
    let finished_at = datetime::now();
    conn.execute(
        "UPDATE crm_runs SET finished_at = ?2, write_ms = ?3 WHERE id = ?1",
        params![run_id, finished_at, write_ms],
    )?;
    Ok(Run {
        id: run_id,
        as_of: computed.as_of.clone(),
        finished_at,
        currency: computed.currency.clone(),
        customers: computed.rows.len() as i64,
        orders: computed.orders,
        online: computed.online,
        store: computed.store,
        lifetime: computed.lifetime,
        vip_rule: computed.settings.vip.to_string(),
        vips,
        segments,
        read_ms: computed.read_ms,
        score_ms: computed.score_ms,
        write_ms,
    })
}

/// A progress line's sink, shared with the blocking thread that reads.
pub type Progress = Arc<dyn Fn(&str) + Send + Sync>;

/// Recomputes the scores: reads and scores on a read connection, writes in one
/// write job. `as_of` overrides the setting for this run.
pub async fn refresh(
    store: &Store,
    as_of: Option<String>,
    progress: Progress,
) -> store::Result<Run> {
    let started_at = datetime::now();
    let reading = Arc::clone(&progress);
    let computed = store
        .read(move |conn| Ok(compute(conn, as_of, &mut |line| reading(line))?))
        .await?;
    let computed = Arc::new(computed);
    let writing = Arc::clone(&computed);
    let run = store
        .write(move |conn| Ok(write(conn, &writing, &started_at)?))
        .await?;
    progress(&format!(
        "wrote {} customers in {} ms (run {})",
        run.customers, run.write_ms, run.id
    ));
    Ok(run)
}

/// The latest run, if any: `crm_runs` and its segments.
pub fn latest(conn: &Connection) -> rusqlite::Result<Option<Run>> {
    let found = conn
        .prepare_cached(
            "SELECT id, as_of, currency, customers, orders, online_orders, store_orders,
                    retention, lifetime_years, vip_rule, vips, read_ms, score_ms, write_ms,
                    finished_at
             FROM crm_runs ORDER BY id DESC LIMIT 1",
        )?
        .query_row([], |row| {
            Ok(Run {
                id: row.get(0)?,
                as_of: row.get(1)?,
                finished_at: row.get(14)?,
                currency: row.get(2)?,
                customers: row.get(3)?,
                orders: row.get(4)?,
                online: row.get(5)?,
                store: row.get(6)?,
                lifetime: rfm::Lifetime {
                    retention: row.get(7)?,
                    years: row.get(8)?,
                },
                vip_rule: row.get(9)?,
                vips: row.get(10)?,
                segments: Vec::new(),
                read_ms: row.get(11)?,
                score_ms: row.get(12)?,
                write_ms: row.get(13)?,
            })
        })
        .optional()?;
    let Some(mut run) = found else {
        return Ok(None);
    };
    let sizes: HashMap<String, (i64, i64, i64)> = conn
        .prepare_cached(
            "SELECT segment, customers, monetary, ltv FROM crm_run_segments WHERE run_id = ?1",
        )?
        .query_map([run.id], |row| {
            Ok((row.get(0)?, (row.get(1)?, row.get(2)?, row.get(3)?)))
        })?
        .collect::<rusqlite::Result<_>>()?;
    run.segments = Segment::ALL
        .iter()
        .map(|s| {
            let (n, m, l) = sizes.get(s.name()).copied().unwrap_or_default();
            (*s, n, m, l)
        })
        .collect();
    Ok(Some(run))
}

/// What a refresh depends on, cheaply: the newest row of the events, the ledger
/// (online and store orders, refunds), the identity links and the consents. Rowid
/// maxima, so O(1) at any size.
fn fingerprint(conn: &Connection) -> rusqlite::Result<[i64; 4]> {
    conn.query_row(
        "SELECT (SELECT coalesce(max(rowid), 0) FROM events),
                (SELECT coalesce(max(rowid), 0) FROM loyalty_ledger),
                (SELECT coalesce(max(rowid), 0) FROM identity_links),
                (SELECT coalesce(max(rowid), 0) FROM consents)",
        [],
        |row| Ok([row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?]),
    )
}

/// Refreshes at startup, then whenever new data arrived (looked for every `watch`,
/// from this server or another process such as `import-pos`), and every `every`
/// even without (recency grows with the clock). Holds no strong reference while it
/// sleeps, so shutdown is not held up.
///
/// Why not per event: a customer's segment depends on every other customer's
/// (quintiles), so any order can move anyone. A full refresh takes 7 ms at 10k
/// events and ~420 ms at 1M (`souk-server crm bench`), so under steady traffic this
/// costs at most that every `watch` (10 s by default), and scores are that far
/// behind at most.
pub fn schedule(
    store: Weak<Store>,
    every: Option<Duration>,
    watch: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen: Option<[i64; 4]> = None;
        let mut last = Instant::now();
        loop {
            let Some(open) = store.upgrade() else { break };
            let now = match open.read(|conn| Ok(fingerprint(conn)?)).await {
                Ok(now) => Some(now),
                Err(store::Error::Closed) => break,
                Err(e) => {
                    tracing::error!(error = %e, "the CRM could not look for new data");
                    None
                }
            };
            let due = seen.is_none() || every.is_some_and(|every| last.elapsed() >= every);
            if due || (now.is_some() && now != seen) {
                let log: Progress = Arc::new(|line: &str| tracing::debug!("crm refresh: {line}"));
                match refresh(&open, None, log).await {
                    Ok(run) => tracing::info!(
                        run = run.id,
                        customers = run.customers,
                        orders = run.orders,
                        ms = run.read_ms + run.score_ms + run.write_ms,
                        "CRM segments refreshed"
                    ),
                    Err(store::Error::Closed) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "the CRM refresh failed; the previous scores stay")
                    }
                }
                seen = now.or(seen);
                last = Instant::now();
            }
            drop(open);
            tokio::time::sleep(watch).await;
        }
    })
}
